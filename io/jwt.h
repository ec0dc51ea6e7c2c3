/*
 * jwt.h - JSON Web Tokens (RFC 7519, JWS compact form RFC 7515): HS256
 * signing and verification, RS256 and ES256 verification, with BearSSL.
 *
 * Verification order (cheap and safe first): size limit -> three base64url
 * parts -> header JSON {"alg", "typ"?, "kid"?} -> key selection -> signature
 * over "header.payload" -> payload JSON -> time claims. Claims are read only
 * from a token whose signature verified.
 *
 * MUST rules / security decisions:
 *  - Every key has ONE pinned algorithm. A token is verified only with keys
 *    whose alg equals the token header's alg: "none", an unknown alg, and
 *    HS/RS/ES confusion (e.g. an RS256 public key used as an HMAC secret)
 *    are all rejected (PVJWT_EALG).
 *  - `kid` in the header selects the key with that kid (PVJWT_EKEY if none or
 *    if the alg differs). Without a kid every key of the header's alg is tried
 *    in order (bounded by PVJWT_MAX_KEYS).
 *  - `exp` is required. Expired when now_ms >= exp*1000 + leeway_ms; nbf in
 *    the future when now_ms + leeway_ms < nbf*1000; an `iat` later than
 *    now + leeway is rejected too. NumericDates must be integers in
 *    0..PVJ_MAX_SAFE_INT (fractions are rejected).
 *  - Tokens longer than PVJWT_MAX_BYTES are rejected before any decoding.
 *  - Duplicate header or claim names are rejected (RFC 7515 4: MUST reject
 *    or use the last; we reject), so no two parsers can disagree.
 *  - ES256 signatures are the JOSE raw form r||s (64 bytes), not DER.
 *  - RSA keys must be 2048..4096 bits.
 *
 * Times are wall-clock Unix epoch milliseconds passed in: nothing here reads
 * a clock. Nothing allocates and nothing is static: all buffers are
 * caller-owned or on the stack (pvjwt_verify uses about 24 KB of stack,
 * pvjwt_sign_hs256 about 9 KB), so the functions are reentrant.
 */
#ifndef PV_JWT_H
#define PV_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "json_out.h"
#include "secrets.h"

#define PVJWT_MAX_BYTES         8192 /* whole compact token */
#define PVJWT_MAX_KEYS          16   /* keys tried/configured */
#define PVJWT_KID_MAX           64   /* kid bytes */
#define PVJWT_CLAIM_STR_MAX     256  /* iss, sub, room, jti, sha256 bytes */
#define PVJWT_MAX_AUD           4    /* aud values kept */
#define PVJWT_RSA_MAX_BYTES     512  /* 4096-bit modulus */
#define PVJWT_DEFAULT_LEEWAY_MS 30000

/* Error codes (negative; distinct from pv.h's PV_E* range). */
enum {
    PVJWT_EFORMAT = -20,  /* not three base64url parts / bad header or payload JSON */
    PVJWT_EALG = -21,     /* alg none/unknown, or no key has this alg */
    PVJWT_EKEY = -22,     /* kid unknown, or kid names a key of another alg */
    PVJWT_ESIG = -23,     /* signature does not verify */
    PVJWT_EEXPIRED = -24, /* exp missing or passed */
    PVJWT_ENOTYET = -25,  /* nbf (or iat) in the future */
    PVJWT_ECLAIM = -26,   /* a claim has a wrong type or size, or an expected value differs */
    PVJWT_ETOOBIG = -27,  /* token longer than PVJWT_MAX_BYTES */
    PVJWT_EBADKEY = -28,  /* key material unusable (PEM/DER, size, curve) */
};
/* Name of a PVJWT_E* or PV_E* code, e.g. "jwt: signature does not verify". */
const char *pvjwt_strerror(int code);

typedef enum pvjwt_alg {
    PVJWT_ALG_NONE = 0, /* never valid; the value of an unset key */
    PVJWT_HS256 = 1,
    PVJWT_RS256 = 2,
    PVJWT_ES256 = 3,
} pvjwt_alg;
/* "HS256"/"RS256"/"ES256", or NULL. */
const char *pvjwt_alg_name(pvjwt_alg a);
/* Parses "HS256"/"RS256"/"ES256" (exact case); PVJWT_ALG_NONE otherwise. */
pvjwt_alg pvjwt_alg_parse(const char *s);

/* A verification key with its pinned algorithm. Fill with pvjwt_key_*(). */
typedef struct pvjwt_key {
    pvjwt_alg alg;
    char kid[PVJWT_KID_MAX + 1]; /* "" = no kid */
    /* HS256: a pvsecret (current + previous within its window) */
    const pvsecret *secret; /* borrowed; MUST outlive the key */
    /* RS256: modulus and public exponent, big-endian, no leading zeros */
    uint8_t n[PVJWT_RSA_MAX_BYTES];
    size_t n_len;
    uint8_t e[8];
    size_t e_len;
    /* ES256: uncompressed P-256 point 0x04 || X || Y */
    uint8_t q[65];
} pvjwt_key;

/* HS256 key over a pvsecret (borrowed). kid may be NULL. Returns 0 or PV_EINVAL. */
int pvjwt_key_hs256(pvjwt_key *k, const char *kid, const pvsecret *secret);

/*
 * RS256 or ES256 key from a SubjectPublicKeyInfo in PEM ("-----BEGIN PUBLIC
 * KEY-----") or DER. alg must match the key type (RSA -> RS256, EC P-256 ->
 * ES256). kid may be NULL. Returns 0, PV_EINVAL (bad arguments or alg/key
 * type mismatch) or PVJWT_EBADKEY (unparseable, wrong curve, RSA size out of
 * range).
 */
int pvjwt_key_public(pvjwt_key *k, pvjwt_alg alg, const char *kid, const void *pem_or_der,
                     size_t len);

/* Verified claims. Strings are NUL-terminated copies; "" when absent. */
typedef struct pvjwt_claims {
    pvjwt_alg alg;               /* from the header */
    char kid[PVJWT_KID_MAX + 1]; /* from the header */
    int key_index;               /* index of the key that verified */
    int key_previous;            /* 1 if an HS256 secret's previous value verified */
    char iss[PVJWT_CLAIM_STR_MAX + 1];
    char sub[PVJWT_CLAIM_STR_MAX + 1];
    char room[PVJWT_CLAIM_STR_MAX + 1];   /* policy socket token */
    char sha256[PVJWT_CLAIM_STR_MAX + 1]; /* LiveKit webhook */
    char jti[PVJWT_CLAIM_STR_MAX + 1];
    char aud[PVJWT_MAX_AUD][PVJWT_CLAIM_STR_MAX + 1]; /* string or array form */
    uint32_t aud_count;
    int64_t exp_s, nbf_s, iat_s; /* 0 when absent (exp is required) */
    int has_nbf, has_iat;
} pvjwt_claims;

/* 1 if `aud` is one of the token's audiences. */
int pvjwt_claims_has_aud(const pvjwt_claims *c, const char *aud);

/*
 * Verify a compact JWS against keys[0..n_keys) at now_wall_ms with leeway_ms.
 * Claims other than those in pvjwt_claims are ignored (but must be valid
 * JSON); a claim of those names with a wrong type, or a string longer than
 * PVJWT_CLAIM_STR_MAX, is PVJWT_ECLAIM.
 * Returns 0 (and *out), or PVJWT_ETOOBIG, PVJWT_EFORMAT, PVJWT_EALG,
 * PVJWT_EKEY, PVJWT_ESIG, PVJWT_ECLAIM, PVJWT_EEXPIRED, PVJWT_ENOTYET.
 * *out is zeroed on failure.
 */
int pvjwt_verify(const char *token, size_t len, const pvjwt_key *keys, uint32_t n_keys,
                 int64_t now_wall_ms, int64_t leeway_ms, pvjwt_claims *out);

/*
 * Sign payload_json (any JSON object text; the caller builds it) with HS256
 * using secret (the current value of a pvsecret, or any byte string) and
 * write "<b64url(header)>.<b64url(payload)>.<b64url(sig)>" into b (reset
 * first). The header is exactly {"alg":"HS256","typ":"JWT"}: the output is a
 * pure function of the inputs. Returns 0, PV_EOVERFLOW, or PV_EINVAL (payload
 * larger than PVJWT_MAX_BYTES).
 */
int pvjwt_sign_hs256(pvbuf *b, const void *secret, size_t secret_len, const char *payload_json,
                     size_t payload_len);

#endif
