/*
 * jwt_helpers.h - test-only helpers: build HS256 tokens with arbitrary
 * headers and payloads (the library only signs its own fixed header), and
 * decode a token's payload for inspection.
 */
#ifndef PV_TEST_JWT_HELPERS_H
#define PV_TEST_JWT_HELPERS_H

#include <bearssl.h>
#include <string.h>

#include "b64.h"

/* "<b64url(header)>.<b64url(payload)>.<b64url(HMAC-SHA256(key, signing input))>" */
static inline int th_hs256(char *out, size_t cap, const char *header, const char *payload,
                           const void *key, size_t key_len) {
    int n = pvb64_encode(out, cap, header, strlen(header), PVB64_URL);
    if (n < 0 || (size_t)n + 2 >= cap) return -1;
    out[n++] = '.';
    int m = pvb64_encode(out + n, cap - (size_t)n, payload, strlen(payload), PVB64_URL);
    if (m < 0) return -1;
    n += m;
    br_hmac_key_context kc;
    br_hmac_context hc;
    unsigned char mac[32];
    br_hmac_key_init(&kc, &br_sha256_vtable, key, key_len);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, out, (size_t)n);
    br_hmac_out(&hc, mac);
    if ((size_t)n + 1 >= cap) return -1;
    out[n++] = '.';
    m = pvb64_encode(out + n, cap - (size_t)n, mac, 32, PVB64_URL);
    return m < 0 ? -1 : n + m;
}

/* Decodes the payload part of token into out (NUL-terminated). */
static inline int th_payload(const char *token, char *out, size_t cap) {
    const char *a = strchr(token, '.');
    const char *b = a ? strchr(a + 1, '.') : NULL;
    if (!b) return -1;
    int n = pvb64_decode(out, cap - 1, a + 1, (size_t)(b - a - 1), PVB64_URL);
    if (n >= 0) out[n] = '\0';
    return n;
}

/* Decodes the header part of token into out (NUL-terminated). */
static inline int th_header(const char *token, char *out, size_t cap) {
    const char *a = strchr(token, '.');
    if (!a) return -1;
    int n = pvb64_decode(out, cap - 1, token, (size_t)(a - token), PVB64_URL);
    if (n >= 0) out[n] = '\0';
    return n;
}

#endif
