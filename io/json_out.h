/*
 * json_out.h - JSON output into caller-owned bounded buffers.
 *
 * A pvbuf wraps memory the caller owns. Appending never writes past cap: on
 * the first write that does not fit, `overflow` is set, the content is
 * truncated at the last complete write, and every later write is a no-op, so
 * a writer can emit a whole document and check once at the end.
 *
 * Output rules: strings are escaped per RFC 8259 (", \, control characters as
 * \uXXXX, DEL and non-ASCII bytes passed through: callers give valid UTF-8);
 * doubles are written in the shortest "%.{15,16,17}g" form that reads back to
 * the same value, so they round-trip exactly; a non-finite double (a caller
 * bug) is written as 0 so the document stays valid JSON. Integers are decimal.
 *
 * MUST rules:
 *  - The buffer is NUL-terminated after each write when cap > 0 (len excludes
 *    the NUL), so cap must be at least 1 byte more than the longest document.
 *  - Writers return 0 on success or PV_EOVERFLOW when the document did not
 *    fit; the partial output must then not be sent.
 */
#ifndef PV_JSON_OUT_H
#define PV_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "pv.h"

typedef struct pvbuf {
    char *p;
    size_t len, cap;
    int overflow;
} pvbuf;

/* ---- primitives ---- */
void pvbuf_init(pvbuf *b, char *mem, size_t cap);
void pvbuf_reset(pvbuf *b);                          /* len = 0, overflow = 0 */
void pvbuf_raw(pvbuf *b, const char *s, size_t n);   /* bytes as given */
void pvbuf_cstr(pvbuf *b, const char *s);            /* raw NUL-terminated text */
void pvbuf_jstr(pvbuf *b, const char *s);            /* "escaped"; NULL -> null */
void pvbuf_jstrn(pvbuf *b, const char *s, size_t n); /* "escaped" n bytes */
void pvbuf_i64(pvbuf *b, int64_t v);
void pvbuf_u64(pvbuf *b, uint64_t v);
void pvbuf_double(pvbuf *b, double v);
/* 0, or PV_EOVERFLOW if any write so far did not fit. */
int pvbuf_status(const pvbuf *b);

/* ---- documents (each resets b first) ---- */

/* One extra field of an error's "details": a string or an integer. */
typedef struct pvjo_detail {
    const char *key;
    const char *str; /* non-NULL: string value; NULL: num */
    int64_t num;
} pvjo_detail;

/*
 * {"error":{"code":"<pv_api_error_name(code)>","message":message,
 *           "details":{...}}}   -- "details" only when n_details > 0.
 * Returns 0 or PV_EOVERFLOW.
 */
int pvjo_error(pvbuf *b, pv_api_error code, const char *message, const pvjo_detail *details,
               uint32_t n_details);

/* Values of the session reply that the core does not know. */
typedef struct pvjo_session_extra {
    const char *livekit_url;         /* LIVEKIT_URL as seen by browsers */
    const char *token;               /* LiveKit access token (pvtok_livekit_access) */
    int64_t token_expires_at_ms;     /* of the LiveKit token */
    const char *policy_socket_url;   /* PUBLIC_BASE_URL (ws form) + /policy-socket */
    const char *policy_socket_token; /* pvtok_policy_mint */
} pvjo_session_extra;

/*
 * VoiceSessionResponse (spec 7) for a successful reply (r->error == NONE):
 * {"roomId","participantId","livekitUrl","token","tokenExpiresAtMs",
 *  "policySocketUrl","policySocketToken","policyRevision"}.
 * Returns 0, PV_EOVERFLOW, or PV_EINVAL if r->error != PV_ERR_NONE (use
 * pvjo_error for those).
 */
int pvjo_session_reply(pvbuf *b, const pv_session_reply *r, const pvjo_session_extra *x);

/*
 * POST /policy/poses success body:
 * {"roomId":..,"accepted":n,"stale":n,"unknown":n,"revision":n}
 * room_id is the batch's room (the reply struct does not carry it).
 * Returns 0, PV_EOVERFLOW, or PV_EINVAL if r->error != PV_ERR_NONE.
 */
int pvjo_poses_reply(pvbuf *b, const char *room_id, const pv_poses_reply *r);

/*
 * A server -> client policy socket message (spec 9):
 *  SNAPSHOT  {"type":"policy.snapshot","roomId","participantId","revision","canHear":[..]}
 *  DELTA     {"type":"policy.audibility.delta","roomId","participantId","revision",
 *             "previousRevision","canHear":[..]}   (canHear = the full new set)
 *  AUDIENCE  {"type":"policy.audience","roomId","revision","audience":[..]}
 *  POSE_BATCH{"type":"policy.pose.batch","roomId","timestampMs","poses":[{"participantId",
 *             "position":{x,y,z},"orientation"?:{forward,up},"timestampMs"}]}
 *  ERROR     {"type":"policy.error","code":"<name>","message":..}
 * participantId is omitted when s->participant_id is NULL.
 * Returns 0, PV_EOVERFLOW, or PV_EINVAL for an unknown s->type.
 */
int pvjo_socket_send(pvbuf *b, const pv_socket_send *s);

/*
 * Body of a LiveKit RoomService call (Twirp JSON, snake_case):
 *  UPDATE_SUBSCRIPTIONS {"room","identity","track_sids":[..],"subscribe":bool}
 *  REMOVE_PARTICIPANT   {"room","identity"}
 *  LIST_PARTICIPANTS    {"room"}
 * Returns 0, PV_EOVERFLOW, or PV_EINVAL for an unknown method.
 */
int pvjo_livekit_call(pvbuf *b, const pv_livekit_call *c);

/* "/twirp/livekit.RoomService/<Method>" for a method, or NULL if unknown. */
const char *pvjo_livekit_path(pv_lk_method m);

#endif
