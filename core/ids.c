/*
 * ids.c - identifier validation and bounded string copies.
 */
#include <string.h>

#include "state.h"

static int id_char_ok(unsigned char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return 1;
    return ch == '_' || ch == '.' || ch == ':' || ch == '@' || ch == '-';
}

/* Returns 1 if s is 1..PV_ID_MAX bytes of [A-Za-z0-9_.:@-], else 0. */
int pv_id_valid(const char *s) {
    if (!s) return 0;
    size_t i = 0;
    for (; s[i] != '\0'; i++) {
        if (i >= PV_ID_MAX || !id_char_ok((unsigned char)s[i])) return 0;
    }
    return i > 0;
}

/* Copies a valid id into dst (PV_ID_MAX + 1 bytes). Returns 0 or PV_EINVAL. */
int pv_copy_id(char *dst, const char *src) {
    if (!pv_id_valid(src)) return PV_EINVAL;
    size_t n = strlen(src);
    memcpy(dst, src, n + 1);
    return 0;
}

/* Copies src (at most cap_bytes - 1 bytes) into dst. Returns 0, or
 * PV_EINVAL when src is NULL or too long (dst is then left empty). */
int pv_copy_str(char *dst, size_t cap_bytes, const char *src) {
    PV_ASSERT(cap_bytes > 0);
    dst[0] = '\0';
    if (!src) return PV_EINVAL;
    const char *end = memchr(src, '\0', cap_bytes);
    if (!end) return PV_EINVAL;
    memcpy(dst, src, (size_t)(end - src) + 1);
    return 0;
}
