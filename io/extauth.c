/*
 * extauth.c - authenticating the external authority (see extauth.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "extauth.h"
#include "pv.h"

pvea_mode pvea_mode_parse(const char *s) {
    if (s && strcmp(s, "shared_secret") == 0) return PVEA_SHARED_SECRET;
    if (s && strcmp(s, "jwt") == 0) return PVEA_JWT;
    return (pvea_mode)0;
}

int pvea_init_shared(pvextauth *a, const char *current, const char *previous,
                     int64_t previous_valid_until_wall_ms, const char **why) {
    memset(a, 0, sizeof *a);
    a->mode = PVEA_SHARED_SECRET;
    return pvsecret_set(&a->shared, current, previous, previous_valid_until_wall_ms, why);
}

/* One line of the key file: [start, end) without the newline. */
typedef struct line {
    const char *p;
    size_t n;
} line;

static int next_line(const char **s, const char *end, line *l) {
    if (*s >= end) return 0;
    const char *nl = memchr(*s, '\n', (size_t)(end - *s));
    const char *e = nl ? nl : end;
    l->p = *s;
    l->n = (size_t)(e - *s);
    while (l->n && (l->p[l->n - 1] == '\r' || l->p[l->n - 1] == ' '))
        l->n--;
    *s = nl ? nl + 1 : end;
    return 1;
}

static int kid_ok(const char *k) {
    size_t n = strlen(k);
    if (n == 0 || n > PVJWT_KID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '@' || c == '-'))
            return 0;
    }
    return 1;
}

static int fail_line(char *why, size_t cap, int lineno, const char *msg) {
    if (why && cap) snprintf(why, cap, "line %d: %s", lineno, msg);
    return PV_EINVAL;
}

/* Parses "key <kid> <alg>[ <secret>]" from l. */
static int key_line(const line *l, char *kid, char *alg, const char **secret) {
    char buf[PVJWT_KID_MAX + 32];
    if (l->n < 4 || memcmp(l->p, "key ", 4) != 0) return -1;
    const char *rest = l->p + 4;
    size_t rn = l->n - 4;
    const char *sp = memchr(rest, ' ', rn);
    if (!sp || (size_t)(sp - rest) > PVJWT_KID_MAX) return -1;
    memcpy(kid, rest, (size_t)(sp - rest));
    kid[sp - rest] = '\0';
    size_t an = rn - (size_t)(sp + 1 - rest);
    const char *ap = sp + 1, *sp2 = memchr(ap, ' ', an);
    size_t alen = sp2 ? (size_t)(sp2 - ap) : an;
    if (alen >= sizeof buf || alen > 15) return -1;
    memcpy(alg, ap, alen);
    alg[alen] = '\0';
    *secret = sp2 ? sp2 + 1 : NULL;
    return 0;
}

/* Collects a PEM block starting at *s (the BEGIN line follows the key line). */
static int pem_block(const char **s, const char *end, int *lineno, const char **pem, size_t *n) {
    line l;
    *pem = *s;
    while (next_line(s, end, &l)) {
        (*lineno)++;
        if (l.n >= 24 && memcmp(l.p, "-----END PUBLIC KEY-----", 24) == 0) {
            *n = (size_t)(l.p + l.n - *pem);
            return 0;
        }
    }
    return -1;
}

static int add_key(pvextauth *a, const char **s, const char *end, const line *l, int *lineno,
                   char *why, size_t cap) {
    char kid[PVJWT_KID_MAX + 1], alg_s[16], secret[PVSECRET_MAX_BYTES + 1];
    const char *sec, *pem, *msg = NULL;
    size_t pem_len;
    if (key_line(l, kid, alg_s, &sec))
        return fail_line(why, cap, *lineno, "expected 'key <kid> <alg>'");
    if (!kid_ok(kid)) return fail_line(why, cap, *lineno, "bad kid");
    for (uint32_t i = 0; i < a->n_keys; i++)
        if (strcmp(a->keys[i].kid, kid) == 0) return fail_line(why, cap, *lineno, "duplicate kid");
    if (a->n_keys == PVJWT_MAX_KEYS) return fail_line(why, cap, *lineno, "too many keys");
    pvjwt_alg alg = pvjwt_alg_parse(alg_s);
    pvjwt_key *k = &a->keys[a->n_keys];
    if (alg == PVJWT_HS256) {
        size_t n = sec ? (size_t)(l->p + l->n - sec) : 0;
        if (n > PVSECRET_MAX_BYTES) return fail_line(why, cap, *lineno, "secret too long");
        memcpy(secret, sec ? sec : "", n);
        secret[n] = '\0';
        pvsecret *ps = &a->hs_secrets[a->n_keys];
        if (pvsecret_set(ps, secret, NULL, 0, &msg)) return fail_line(why, cap, *lineno, msg);
        if (pvjwt_key_hs256(k, kid, ps)) return fail_line(why, cap, *lineno, "bad HS256 key");
    } else if (alg == PVJWT_RS256 || alg == PVJWT_ES256) {
        if (sec) return fail_line(why, cap, *lineno, "unexpected text after the alg");
        int start = *lineno;
        if (pem_block(s, end, lineno, &pem, &pem_len))
            return fail_line(why, cap, start, "PEM block without END line");
        int rc = pvjwt_key_public(k, alg, kid, pem, pem_len);
        if (rc)
            return fail_line(why, cap, start,
                             rc == PV_EINVAL ? "key type does not match alg"
                                             : "unusable public key");
    } else {
        return fail_line(why, cap, *lineno, "unknown alg (HS256, RS256, ES256)");
    }
    a->n_keys++;
    return 0;
}

int pvea_init_jwt(pvextauth *a, const char *keys_text, size_t len, const char *iss, const char *aud,
                  char *why, size_t why_cap) {
    memset(a, 0, sizeof *a);
    a->mode = PVEA_JWT;
    a->leeway_ms = PVJWT_DEFAULT_LEEWAY_MS;
    if ((iss && strlen(iss) > PVEA_CLAIM_MAX) || (aud && strlen(aud) > PVEA_CLAIM_MAX))
        return fail_line(why, why_cap, 0, "iss/aud too long");
    if (iss) strcpy(a->iss, iss);
    if (aud) strcpy(a->aud, aud);
    const char *s = keys_text, *end = keys_text ? keys_text + len : NULL;
    line l;
    int lineno = 0;
    while (s && next_line(&s, end, &l)) {
        lineno++;
        if (l.n == 0 || l.p[0] == '#') continue;
        if (add_key(a, &s, end, &l, &lineno, why, why_cap)) return PV_EINVAL;
    }
    if (a->n_keys == 0) return fail_line(why, why_cap, lineno, "no keys");
    return (int)a->n_keys;
}

static void put_principal(char *out, size_t cap, const char *a, const char *b) {
    if (out && cap) snprintf(out, cap, "%s%s", a, b);
}

int pvea_check(const pvextauth *a, const char *authorization, size_t len, int64_t now_wall_ms,
               char *principal, size_t cap) {
    if (principal && cap) principal[0] = '\0';
    if (!authorization || len < 8 || len > PVEA_MAX_AUTH_BYTES) return PV_EINVAL;
    if (strncasecmp(authorization, "Bearer ", 7) != 0) return PV_EINVAL;
    const char *cred = authorization + 7;
    size_t n = len - 7;
    if (a->mode == PVEA_SHARED_SECRET) {
        int m = pvsecret_match(&a->shared, cred, n, now_wall_ms);
        if (m == 0) return PVJWT_ESIG;
        put_principal(principal, cap, "secret:", m == 1 ? "current" : "previous");
        return 0;
    }
    if (a->mode != PVEA_JWT) return PV_EINVAL;
    pvjwt_claims c;
    int rc = pvjwt_verify(cred, n, a->keys, a->n_keys, now_wall_ms, a->leeway_ms, &c);
    if (rc) return rc;
    if (a->iss[0] && strcmp(c.iss, a->iss) != 0) return PVJWT_ECLAIM;
    if (a->aud[0] && !pvjwt_claims_has_aud(&c, a->aud)) return PVJWT_ECLAIM;
    const pvjwt_key *k = &a->keys[c.key_index];
    if (k->kid[0])
        put_principal(principal, cap, "jwt:", k->kid);
    else if (principal && cap)
        snprintf(principal, cap, "jwt:#%d", c.key_index);
    return 0;
}
