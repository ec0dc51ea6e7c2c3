/*
 * extauth.h - authentication of the external authority (the game server)
 * on POST /sessions and POST /policy/poses (spec 8.1).
 *
 * Two modes, chosen by EXTERNAL_AUTH_MODE:
 *  - shared_secret: "Authorization: Bearer <EXTERNAL_SHARED_SECRET>". The
 *    secret is compared in constant time against the current value and, in a
 *    rotation window, the previous one (secrets.h).
 *  - jwt: "Authorization: Bearer <JWT>" verified with configured keys, each
 *    with a pinned alg (RS256, ES256 or HS256) and an optional kid; optional
 *    required iss and aud; exp required; leeway PVJWT_DEFAULT_LEEWAY_MS.
 *
 * On success the caller gets a "principal": a short stable string naming the
 * credential ("secret:current", "secret:previous", "jwt:<kid>" or
 * "jwt:#<index>" for a key without kid). Use it as the rate-limit key and in
 * logs; it never contains secret material.
 *
 * Key file format (pvea_load_keys; the shell reads the file, this parses
 * its text; '#' starts a comment line; blank lines ignored):
 *     key <kid> RS256
 *     -----BEGIN PUBLIC KEY-----
 *     ...base64 SubjectPublicKeyInfo...
 *     -----END PUBLIC KEY-----
 *     key <kid> ES256
 *     -----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----
 *     key <kid> HS256 <secret text, >= 32 bytes, to end of line>
 * kid: 1..PVJWT_KID_MAX bytes of [A-Za-z0-9_.:@-], unique in the file.
 *
 * MUST rules:
 *  - The pvextauth struct owns copies of everything; it is large (keys hold
 *    RSA moduli) -- keep it static or heap-allocated, not on a small stack.
 *  - Do not copy a pvextauth after pvea_init_jwt(): HS256 keys point at
 *    secrets stored inside it.
 *  - Every failure is HTTP 401 UNAUTHORIZED with a generic message; the
 *    specific reason (pvjwt_strerror) goes to logs only.
 *  - Pure: now_wall_ms is a parameter; no file or env access here.
 */
#ifndef PV_EXTAUTH_H
#define PV_EXTAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "jwt.h"
#include "secrets.h"

#define PVEA_PRINCIPAL_MAX  80
#define PVEA_CLAIM_MAX      128
#define PVEA_MAX_AUTH_BYTES (PVJWT_MAX_BYTES + 16) /* Authorization header value */

typedef enum pvea_mode {
    PVEA_SHARED_SECRET = 1,
    PVEA_JWT = 2,
} pvea_mode;

typedef struct pvextauth {
    pvea_mode mode;
    pvsecret shared; /* PVEA_SHARED_SECRET */
    /* PVEA_JWT */
    pvjwt_key keys[PVJWT_MAX_KEYS];
    pvsecret hs_secrets[PVJWT_MAX_KEYS]; /* storage for HS256 keys' secrets */
    uint32_t n_keys;
    char iss[PVEA_CLAIM_MAX + 1]; /* "" = not checked */
    char aud[PVEA_CLAIM_MAX + 1]; /* "" = not checked */
    int64_t leeway_ms;
} pvextauth;

/* "shared_secret" / "jwt" -> mode; 0 for anything else. */
pvea_mode pvea_mode_parse(const char *s);

/*
 * Shared-secret mode. previous may be NULL. Returns 0 or PV_EINVAL (*why set:
 * secret too short/long, see secrets.h).
 */
int pvea_init_shared(pvextauth *a, const char *current, const char *previous,
                     int64_t previous_valid_until_wall_ms, const char **why);

/*
 * JWT mode: parse a key file's text (format above). iss/aud may be NULL or
 * "" (not checked). Returns the number of keys (>= 1), or PV_EINVAL with a
 * message in why[0..why_cap) naming the line ("line 7: unknown alg").
 */
int pvea_init_jwt(pvextauth *a, const char *keys_text, size_t len, const char *iss, const char *aud,
                  char *why, size_t why_cap);

/*
 * Check an Authorization header value (authorization[0..len), without the
 * header name; NULL or len 0 = header absent). The scheme "Bearer" is
 * matched case-insensitively, followed by exactly one space.
 * Returns 0 and writes the principal into principal[0..cap) (NUL-terminated,
 * may be NULL), or a negative code: PV_EINVAL (no header / not Bearer /
 * oversize), PVJWT_ESIG (shared secret mismatch) or any PVJWT_E* of
 * pvjwt_verify(), PVJWT_ECLAIM for iss/aud mismatch.
 */
int pvea_check(const pvextauth *a, const char *authorization, size_t len, int64_t now_wall_ms,
               char *principal, size_t cap);

#endif
