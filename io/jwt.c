/*
 * jwt.c - JWS compact tokens: HS256 signing; HS256/RS256/ES256 verification
 * with per-key pinned algorithms; registered-claim checks. See jwt.h.
 */
#include <bearssl.h>
#include <string.h>

#include "b64.h"
#include "json_tok.h"
#include "jwt.h"

#define HEADER_MAX_BYTES  512
#define PAYLOAD_MAX_BYTES (PVJWT_MAX_BYTES * 3 / 4)
#define SIG_MAX_BYTES     PVJWT_RSA_MAX_BYTES
#define HEADER_TOKENS     32
#define PAYLOAD_TOKENS    512

const char *pvjwt_strerror(int code) {
    switch (code) {
    case 0:
        return "ok";
    case PVJWT_EFORMAT:
        return "jwt: malformed token";
    case PVJWT_EALG:
        return "jwt: algorithm not allowed";
    case PVJWT_EKEY:
        return "jwt: no key for this kid/alg";
    case PVJWT_ESIG:
        return "jwt: signature does not verify";
    case PVJWT_EEXPIRED:
        return "jwt: expired or no exp";
    case PVJWT_ENOTYET:
        return "jwt: not valid yet (nbf/iat)";
    case PVJWT_ECLAIM:
        return "jwt: claim invalid";
    case PVJWT_ETOOBIG:
        return "jwt: token too large";
    case PVJWT_EBADKEY:
        return "jwt: unusable key material";
    default:
        return pv_strerror(code);
    }
}

const char *pvjwt_alg_name(pvjwt_alg a) {
    switch (a) {
    case PVJWT_HS256:
        return "HS256";
    case PVJWT_RS256:
        return "RS256";
    case PVJWT_ES256:
        return "ES256";
    default:
        return NULL;
    }
}

pvjwt_alg pvjwt_alg_parse(const char *s) {
    for (int a = PVJWT_HS256; a <= PVJWT_ES256; a++)
        if (s && strcmp(s, pvjwt_alg_name((pvjwt_alg)a)) == 0) return (pvjwt_alg)a;
    return PVJWT_ALG_NONE;
}

int pvjwt_claims_has_aud(const pvjwt_claims *c, const char *aud) {
    for (uint32_t i = 0; i < c->aud_count; i++)
        if (strcmp(c->aud[i], aud) == 0) return 1;
    return 0;
}

/* The three dot-separated parts of a compact token. */
typedef struct parts {
    const char *h, *p, *s;
    size_t h_len, p_len, s_len;
} parts;

static int split(const char *tok, size_t len, parts *o) {
    const char *d1 = memchr(tok, '.', len);
    if (!d1) return PVJWT_EFORMAT;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok))) return PVJWT_EFORMAT;
    o->h = tok, o->h_len = (size_t)(d1 - tok);
    o->p = d1 + 1, o->p_len = (size_t)(d2 - d1 - 1);
    o->s = d2 + 1, o->s_len = len - (size_t)(d2 + 1 - tok);
    return o->h_len && o->p_len && o->s_len ? 0 : PVJWT_EFORMAT;
}

/* Decoded header: alg and kid. Rejects "crit" (we implement no extension). */
static int parse_header(const parts *pt, pvjwt_claims *c) {
    char json[HEADER_MAX_BYTES];
    jsmntok_t t[HEADER_TOKENS];
    pvj_err err;
    if (pt->h_len > HEADER_MAX_BYTES * 4 / 3) return PVJWT_EFORMAT;
    int n = pvb64_decode(json, sizeof json, pt->h, pt->h_len, PVB64_URL);
    if (n < 0) return PVJWT_EFORMAT;
    int nt = pvj_tokenize(json, (size_t)n, t, HEADER_TOKENS, &err);
    if (nt < 0 || t[0].type != JSMN_OBJECT) return PVJWT_EFORMAT;
    pvj_doc d = {json, t, nt, NULL, 0, 0, &err};
    static const char *const names[] = {"alg", "kid", "crit"};
    int f[3];
    if (pvj_fields(&d, 0, "header", names, 3, f, 0)) return PVJWT_EFORMAT;
    if (f[0] < 0 || f[2] >= 0) return PVJWT_EFORMAT;
    char alg[16];
    if (pvj_str_copy(&d, f[0], alg, sizeof alg) < 0) return PVJWT_EALG;
    c->alg = pvjwt_alg_parse(alg);
    if (c->alg == PVJWT_ALG_NONE) return PVJWT_EALG; /* "none", "HS512", ... */
    if (f[1] >= 0 && pvj_str_copy(&d, f[1], c->kid, sizeof c->kid) < 0) return PVJWT_EFORMAT;
    return 0;
}

static int hs256_check(const void *key, size_t key_len, const parts *pt, const uint8_t *sig) {
    br_hmac_key_context kc;
    br_hmac_context hc;
    uint8_t mac[32];
    br_hmac_key_init(&kc, &br_sha256_vtable, key, key_len);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, pt->h, (size_t)(pt->s - 1 - pt->h));
    br_hmac_out(&hc, mac);
    return pv_ct_equal(mac, 32, sig, 32);
}

static void sha256(const void *data, size_t n, uint8_t out[32]) {
    br_sha256_context sc;
    br_sha256_init(&sc);
    br_sha256_update(&sc, data, n);
    br_sha256_out(&sc, out);
}

/* 1 if sig verifies under key k; *prev = 1 if an HS256 previous secret did. */
static int key_verifies(const pvjwt_key *k, const parts *pt, const uint8_t *sig, size_t sig_len,
                        int64_t now_wall_ms, int *prev) {
    uint8_t h[32];
    *prev = 0;
    if (k->alg == PVJWT_HS256) {
        const pvsecret *s = k->secret;
        if (sig_len != 32) return 0;
        if (hs256_check(s->current, s->current_len, pt, sig)) return 1;
        if (!pvsecret_previous_active(s, now_wall_ms)) return 0;
        return *prev = hs256_check(s->previous, s->previous_len, pt, sig);
    }
    sha256(pt->h, (size_t)(pt->s - 1 - pt->h), h);
    if (k->alg == PVJWT_RS256) {
        uint8_t out[32];
        br_rsa_public_key pk = {(unsigned char *)k->n, k->n_len, (unsigned char *)k->e, k->e_len};
        if (sig_len != k->n_len) return 0;
        if (!br_rsa_pkcs1_vrfy_get_default()(sig, sig_len, BR_HASH_OID_SHA256, 32, &pk, out))
            return 0;
        return pv_ct_equal(out, 32, h, 32);
    }
    if (k->alg == PVJWT_ES256) {
        br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)k->q, 65};
        if (sig_len != 64) return 0;
        return br_ecdsa_vrfy_raw_get_default()(br_ec_get_default(), h, 32, &pk, sig, 64) == 1;
    }
    return 0;
}

/* Selects keys by kid/alg and checks the signature. */
static int verify_sig(const parts *pt, const pvjwt_key *keys, uint32_t n_keys, int64_t now_wall_ms,
                      pvjwt_claims *c) {
    uint8_t sig[SIG_MAX_BYTES];
    if (pt->s_len > (SIG_MAX_BYTES * 4 + 2) / 3) return PVJWT_ESIG;
    int sig_len = pvb64_decode(sig, sizeof sig, pt->s, pt->s_len, PVB64_URL);
    if (sig_len < 0) return PVJWT_EFORMAT;
    int candidates = 0;
    for (uint32_t i = 0; i < n_keys && i < PVJWT_MAX_KEYS; i++) {
        const pvjwt_key *k = &keys[i];
        if (c->kid[0] && strcmp(k->kid, c->kid) != 0) continue;
        if (k->alg != c->alg) {
            if (c->kid[0]) return PVJWT_EKEY; /* kid names a key pinned to another alg */
            continue;
        }
        candidates++;
        if (key_verifies(k, pt, sig, (size_t)sig_len, now_wall_ms, &c->key_previous)) {
            c->key_index = (int)i;
            return 0;
        }
    }
    if (candidates == 0) return c->kid[0] ? PVJWT_EKEY : PVJWT_EALG;
    return PVJWT_ESIG;
}

/* String claim into dst, or ECLAIM if not a string / too long. */
static int claim_str(const pvj_doc *d, int i, char *dst, size_t cap) {
    if (i < 0) return 0;
    return pvj_str_copy(d, i, dst, cap) < 0 ? PVJWT_ECLAIM : 0;
}

static int claim_time(const pvj_doc *d, int i, int64_t *out, int *has) {
    if (i < 0) return 0;
    if (pvj_get_int(d, i, "claim", 0, PVJ_MAX_SAFE_INT, out)) return PVJWT_ECLAIM;
    if (has) *has = 1;
    return 0;
}

static int claim_aud(const pvj_doc *d, int i, pvjwt_claims *c) {
    if (i < 0) return 0;
    if (d->t[i].type == JSMN_STRING) {
        c->aud_count = 1;
        return claim_str(d, i, c->aud[0], sizeof c->aud[0]);
    }
    if (d->t[i].type != JSMN_ARRAY || d->t[i].size > PVJWT_MAX_AUD) return PVJWT_ECLAIM;
    for (int m = 0, j = i + 1; m < d->t[i].size; m++, j = pvj_skip(d, j)) {
        if (claim_str(d, j, c->aud[m], sizeof c->aud[m]) || d->t[j].type != JSMN_STRING)
            return PVJWT_ECLAIM;
        c->aud_count++;
    }
    return 0;
}

static int parse_claims(const parts *pt, pvjwt_claims *c) {
    char json[PAYLOAD_MAX_BYTES]; /* ~16 KB of stack with the tokens: bounded */
    jsmntok_t t[PAYLOAD_TOKENS];
    static const char *const names[] = {"iss", "sub",  "aud",    "exp", "nbf",
                                        "iat", "room", "sha256", "jti"};
    pvj_err err;
    int f[9];
    int n = pvb64_decode(json, sizeof json, pt->p, pt->p_len, PVB64_URL);
    if (n < 0) return PVJWT_EFORMAT;
    int nt = pvj_tokenize(json, (size_t)n, t, PAYLOAD_TOKENS, &err);
    if (nt < 0 || t[0].type != JSMN_OBJECT) return PVJWT_EFORMAT;
    pvj_doc d = {json, t, nt, NULL, 0, 0, &err};
    if (pvj_fields(&d, 0, "claims", names, 9, f, 0)) return PVJWT_EFORMAT; /* duplicates */
    int rc = 0;
    rc = rc ? rc : claim_str(&d, f[0], c->iss, sizeof c->iss);
    rc = rc ? rc : claim_str(&d, f[1], c->sub, sizeof c->sub);
    rc = rc ? rc : claim_aud(&d, f[2], c);
    rc = rc ? rc : claim_time(&d, f[3], &c->exp_s, NULL);
    rc = rc ? rc : claim_time(&d, f[4], &c->nbf_s, &c->has_nbf);
    rc = rc ? rc : claim_time(&d, f[5], &c->iat_s, &c->has_iat);
    rc = rc ? rc : claim_str(&d, f[6], c->room, sizeof c->room);
    rc = rc ? rc : claim_str(&d, f[7], c->sha256, sizeof c->sha256);
    rc = rc ? rc : claim_str(&d, f[8], c->jti, sizeof c->jti);
    if (rc == 0 && f[3] < 0) rc = PVJWT_EEXPIRED; /* exp is required */
    return rc;
}

static int check_times(const pvjwt_claims *c, int64_t now_ms, int64_t leeway_ms) {
    if (now_ms >= c->exp_s * 1000 + leeway_ms) return PVJWT_EEXPIRED;
    if (c->has_nbf && now_ms + leeway_ms < c->nbf_s * 1000) return PVJWT_ENOTYET;
    if (c->has_iat && now_ms + leeway_ms < c->iat_s * 1000) return PVJWT_ENOTYET;
    return 0;
}

/* Leeway in 0..1 day keeps the time arithmetic far from overflow. */
static int64_t clamp_leeway(int64_t ms) {
    return ms < 0 ? 0 : ms > 86400000 ? 86400000 : ms;
}

int pvjwt_verify(const char *token, size_t len, const pvjwt_key *keys, uint32_t n_keys,
                 int64_t now_wall_ms, int64_t leeway_ms, pvjwt_claims *out) {
    parts pt;
    memset(out, 0, sizeof *out);
    out->key_index = -1;
    int rc = 0;
    if (!token || len > PVJWT_MAX_BYTES) rc = PVJWT_ETOOBIG;
    if (rc == 0) rc = split(token, len, &pt);
    if (rc == 0) rc = parse_header(&pt, out);
    if (rc == 0) rc = verify_sig(&pt, keys, n_keys, now_wall_ms, out);
    if (rc == 0) rc = parse_claims(&pt, out);
    if (rc == 0) rc = check_times(out, now_wall_ms, clamp_leeway(leeway_ms));
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        out->key_index = -1;
    }
    return rc;
}

int pvjwt_sign_hs256(pvbuf *b, const void *secret, size_t secret_len, const char *payload_json,
                     size_t payload_len) {
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char tmp[PVJWT_MAX_BYTES + 8];
    pvbuf_reset(b);
    if (!secret || payload_len > PAYLOAD_MAX_BYTES) return PV_EINVAL;
    int n = pvb64_encode(tmp, sizeof tmp, header, sizeof header - 1, PVB64_URL);
    pvbuf_raw(b, tmp, (size_t)n);
    pvbuf_raw(b, ".", 1);
    n = pvb64_encode(tmp, sizeof tmp, payload_json, payload_len, PVB64_URL);
    if (n < 0) return PV_EINVAL;
    pvbuf_raw(b, tmp, (size_t)n);
    if (b->overflow) return PV_EOVERFLOW;
    br_hmac_key_context kc;
    br_hmac_context hc;
    uint8_t mac[32];
    br_hmac_key_init(&kc, &br_sha256_vtable, secret, secret_len);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, b->p, b->len);
    br_hmac_out(&hc, mac);
    n = pvb64_encode(tmp, sizeof tmp, mac, sizeof mac, PVB64_URL);
    pvbuf_raw(b, ".", 1);
    pvbuf_raw(b, tmp, (size_t)n);
    if (b->len > PVJWT_MAX_BYTES) b->overflow = 1;
    return pvbuf_status(b);
}
