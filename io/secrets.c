/*
 * secrets.c - secret values with a rotation window; constant-time compare.
 */
#include <string.h>

#include "pv.h"
#include "secrets.h"

int pv_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len) {
    const volatile unsigned char *pa = a, *pb = b;
    /* Lengths are not secret; contents are. Always walk the longer length so
     * a near-miss costs the same as a total miss. */
    size_t n = a_len > b_len ? a_len : b_len;
    unsigned diff = (unsigned)(a_len != b_len);
    for (size_t i = 0; i < n; i++) {
        unsigned ca = i < a_len ? pa[i] : 0, cb = i < b_len ? pb[i] : 0;
        diff |= ca ^ cb;
    }
    return diff == 0;
}

static int secret_len_ok(const char *s, size_t *len, const char **why, const char *what) {
    size_t n = strnlen(s, PVSECRET_MAX_BYTES + 1);
    if (n < PVSECRET_MIN_BYTES) {
        *why = what;
        return 0;
    }
    if (n > PVSECRET_MAX_BYTES) {
        *why = "secret longer than 256 bytes";
        return 0;
    }
    *len = n;
    return 1;
}

int pvsecret_set(pvsecret *s, const char *current, const char *previous,
                 int64_t previous_valid_until_wall_ms, const char **why) {
    const char *dummy;
    if (!why) why = &dummy;
    *why = NULL;
    size_t cur_len = 0, prev_len = 0;
    if (!s || !current) {
        *why = "secret missing";
        return PV_EINVAL;
    }
    if (!secret_len_ok(current, &cur_len, why, "secret shorter than 32 bytes")) return PV_EINVAL;
    if (previous && previous[0]) {
        if (!secret_len_ok(previous, &prev_len, why, "previous secret shorter than 32 bytes"))
            return PV_EINVAL;
        if (prev_len == cur_len && memcmp(previous, current, cur_len) == 0) {
            *why = "previous secret equals the current one";
            return PV_EINVAL;
        }
    }
    pvsecret_wipe(s);
    memcpy(s->current, current, cur_len);
    s->current_len = cur_len;
    if (prev_len) memcpy(s->previous, previous, prev_len);
    s->previous_len = prev_len;
    s->previous_valid_until_wall_ms = prev_len ? previous_valid_until_wall_ms : 0;
    return 0;
}

int pvsecret_previous_active(const pvsecret *s, int64_t now_wall_ms) {
    return s->previous_len > 0 && now_wall_ms < s->previous_valid_until_wall_ms;
}

int pvsecret_match(const pvsecret *s, const void *candidate, size_t len, int64_t now_wall_ms) {
    int cur = pv_ct_equal(candidate, len, s->current, s->current_len);
    /* Compare against previous even when inactive: timing then does not say
     * whether a rotation is in progress. */
    int prev = pv_ct_equal(candidate, len, s->previous, s->previous_len) && s->previous_len > 0;
    if (cur) return 1;
    if (prev && pvsecret_previous_active(s, now_wall_ms)) return 2;
    return 0;
}

void pvsecret_wipe(pvsecret *s) {
    volatile unsigned char *p = (volatile unsigned char *)s;
    for (size_t i = 0; i < sizeof *s; i++)
        p[i] = 0;
}
