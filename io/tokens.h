/*
 * tokens.h - the tokens this daemon mints and the ones it checks:
 *  - LiveKit access token for a player (HS256, LIVEKIT_API_SECRET),
 *  - LiveKit admin token for RoomService calls on ONE room,
 *  - policy socket token (HS256, POLICY_SOCKET_JWT_SECRET) and its verifier,
 *  - LiveKit webhook authentication.
 *
 * Minting is deterministic: the same inputs give the same bytes (claims are
 * written in a fixed order, times come from the caller). The core hands out
 * the same issued_at for repeated /sessions requests inside the idempotency
 * window, so a retried request gets the identical token.
 *
 * MUST rules:
 *  - Minting always uses secret->current; verification accepts an active
 *    previous value (see secrets.h).
 *  - TTLs are bounded: PVTOK_TTL_MIN_S..PVTOK_TTL_MAX_S (spec 14: 5-15 min for
 *    session tokens; the bounds here are wider so tests and admin tokens fit).
 *  - Player tokens grant exactly: roomJoin, canPublish with sources
 *    ["microphone"] only, canSubscribe, no data publishing, and never
 *    roomAdmin / roomCreate / roomList / recorder / hidden.
 *  - All times are Unix epoch wall milliseconds; JWT claims carry seconds
 *    (floor(issued_at_wall_ms / 1000)).
 *
 * Return convention: 0 on success; PV_EINVAL for bad arguments (invalid ids,
 * TTL out of range, NULL secret); PV_EOVERFLOW if b is smaller than
 * PVTOK_BUF_BYTES or, for access tokens, if metadata beyond the session
 * parser's limits (PVJ_META_TOTAL_MAX) makes the token exceed PVJWT_MAX_BYTES;
 * verifiers return PVJWT_E* codes (jwt.h), all
 * of which the caller maps to UNAUTHORIZED.
 */
#ifndef PV_TOKENS_H
#define PV_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "pv.h"
#include "json_out.h"
#include "jwt.h"
#include "secrets.h"

#define PVTOK_TTL_MIN_S   10
#define PVTOK_TTL_MAX_S   86400
#define PVTOK_POLICY_AUD  "policy-socket"
#define PVTOK_API_KEY_MAX 128
#define PVTOK_BUF_BYTES   (PVJWT_MAX_BYTES + 64) /* enough for any token minted here */

/* Inputs of a player's LiveKit access token. */
typedef struct pvtok_livekit {
    const char *api_key;          /* iss; 1..PVTOK_API_KEY_MAX printable ASCII */
    const char *room_id;          /* video.room; pv_id_valid */
    const char *participant_id;   /* sub (LiveKit identity); pv_id_valid */
    const char *display_name;     /* name; NULL or "" to omit */
    const pv_meta_pair *metadata; /* serialised as a JSON object string in `metadata` */
    uint32_t metadata_count;      /* 0: claim omitted */
    int64_t issued_at_wall_ms;    /* nbf = iat = floor(ms/1000) */
    int64_t ttl_s;                /* exp = iat + ttl_s */
} pvtok_livekit;

/*
 * Claims, in this order: iss, sub, nbf, iat, exp, name?, metadata?,
 * video{room, roomJoin:true, canPublish:true, canPublishSources:["microphone"],
 *       canSubscribe:true, canPublishData:false}.
 * *expires_at_ms (may be NULL) = exp * 1000. Returns 0, PV_EINVAL, PV_EOVERFLOW.
 */
int pvtok_livekit_access(pvbuf *b, const pvsecret *api_secret, const pvtok_livekit *t,
                         int64_t *expires_at_ms);

/*
 * RoomService token for one room: iss, nbf, iat, exp, video{room, roomAdmin:true}.
 * LiveKit requires video.room to equal the request's room, so the shell keeps
 * one per room and re-mints it before exp (e.g. ttl 600 s, re-mint at 300 s).
 * Returns 0, PV_EINVAL, PV_EOVERFLOW.
 */
int pvtok_livekit_admin(pvbuf *b, const char *api_key, const pvsecret *api_secret,
                        const char *room_id, int64_t issued_at_wall_ms, int64_t ttl_s,
                        int64_t *expires_at_ms);

/*
 * Policy socket token: {"sub":participant,"room":room,"aud":"policy-socket",
 * "iat":s,"exp":s+ttl}. Returns 0, PV_EINVAL, PV_EOVERFLOW.
 */
int pvtok_policy_mint(pvbuf *b, const pvsecret *secret, const char *room_id,
                      const char *participant_id, int64_t issued_at_wall_ms, int64_t ttl_s,
                      int64_t *expires_at_ms);

typedef struct pvtok_policy_claims {
    char room_id[PV_ID_MAX + 1];
    char participant_id[PV_ID_MAX + 1];
    int64_t expires_wall_ms; /* exp * 1000: pv_socket_auth.token_expires_wall_ms */
} pvtok_policy_claims;

/*
 * Verify a policy socket token: HS256 under secret (current, or previous in
 * its window), aud must contain "policy-socket", sub and room must pass
 * pv_id_valid, exp required, nbf/iat within leeway_ms.
 * Returns 0 and *out, or a PVJWT_E* code (PVJWT_ECLAIM for aud/sub/room).
 */
int pvtok_policy_verify(const char *token, size_t len, const pvsecret *secret, int64_t now_wall_ms,
                        int64_t leeway_ms, pvtok_policy_claims *out);

/*
 * Authenticate a LiveKit webhook request. authorization is the raw value of
 * the Authorization header: the JWT itself (LiveKit sends no "Bearer "
 * prefix; one is tolerated and skipped). Checks: HS256 under api_secret,
 * iss == api_key, exp/nbf within leeway_ms, and claim sha256 == standard
 * padded base64 of SHA-256(body[0..body_len)), compared in constant time.
 * Returns 0, or a PVJWT_E* code (PVJWT_ECLAIM for iss or sha256 mismatch, or
 * a missing sha256). Every failure means HTTP 401 UNAUTHORIZED.
 */
int pvtok_webhook_verify(const char *authorization, size_t auth_len, const char *api_key,
                         const pvsecret *api_secret, const void *body, size_t body_len,
                         int64_t now_wall_ms, int64_t leeway_ms);

/*
 * Mint a webhook token exactly as LiveKit does (for tests and the simulator's
 * fake LiveKit): iss = api_key, nbf, iat, exp = iat + ttl_s, sha256 = base64
 * of SHA-256(body). Returns 0, PV_EINVAL, PV_EOVERFLOW.
 */
int pvtok_webhook_mint(pvbuf *b, const char *api_key, const pvsecret *api_secret, const void *body,
                       size_t body_len, int64_t issued_at_wall_ms, int64_t ttl_s);

#endif
