/*
 * json_in.h - strict, bounded JSON input parsing with schema checks.
 *
 * Every parser here turns untrusted bytes (an HTTP body, a policy socket
 * message, a LiveKit webhook or RoomService reply) into the typed structs of
 * core/pv.h, or rejects them with a message naming the offending field, e.g.
 * "poses[3].position.x: must be a finite number".
 *
 * How: the bytes are first checked against the RFC 8259 grammar by our own
 * validator (jsmn alone accepts e.g. `{"a": }`, `[1 2]` and trailing commas),
 * with a nesting limit; then jsmn (JSMN_STRICT) tokenises them into the
 * context's bounded token array; then a schema walk reads the fields.
 *
 * Rules every parser applies:
 *  - The whole input is exactly one JSON value of the expected type; it must
 *    be valid UTF-8; strings hold no raw control characters (< 0x20); escapes
 *    are decoded (\uXXXX including surrogate pairs; a lone surrogate or
 *    \u0000 is rejected).
 *  - Duplicate keys are rejected in every object the schema reads.
 *  - Unknown fields: REJECTED in our own API inputs (session, poses, socket
 *    messages) so that typos such as "timestamp" fail loudly; IGNORED in
 *    LiveKit inputs (webhooks, RoomService replies), which carry many fields
 *    we do not need and gain new ones between versions.
 *  - Numbers: at most PVJ_MAX_NUMBER_CHARS characters; coordinates must be
 *    finite after conversion (1e999 is rejected) with |value| <= PVJ_MAX_COORD;
 *    timestamps and revisions are integers (no fraction, no exponent) in
 *    0..PVJ_MAX_SAFE_INT (JavaScript's safe integer range).
 *  - Ids (roomId, participantId) satisfy pv_id_valid(); displayName and
 *    metadata strings have bounded byte lengths (PV_NAME_MAX, PV_META_*).
 *
 * Memory: a pvj_ctx owns the token array, the string arena and the output
 * arrays. It is allocated once (pvj_ctx_new) and reused; parsing allocates
 * nothing. Strings in the outputs are NUL-terminated copies in the arena.
 *
 * MUST rules:
 *  - Outputs (and every pointer inside them) are valid until the next
 *    pvj_parse_* call on the same ctx or pvj_ctx_free(). Copy what you keep.
 *  - A ctx is not thread-safe; use one per thread (the daemon has one).
 *  - Fields the parser cannot know (request_id, conn_id) are left 0: the
 *    caller sets them.
 *  - Bodies longer than the ctx's max_body_bytes are rejected (the HTTP layer
 *    should refuse them earlier with 413 and never buffer them).
 *
 * Return convention: 0 on success; PV_EINVAL when the input is rejected, with
 * err->code = PV_ERR_INVALID_PAYLOAD and err->message set. err may be NULL.
 */
#ifndef PV_JSON_IN_H
#define PV_JSON_IN_H

#include <stddef.h>
#include <stdint.h>

#include "pv.h"

#define PVJ_MAX_BODY_BYTES      (1024 * 1024) /* hard cap of pvj_ctx_new's max_body_bytes */
#define PVJ_DEFAULT_BODY_BYTES  (256 * 1024)
#define PVJ_MAX_DEPTH           32  /* nesting of arrays/objects */
#define PVJ_MAX_NUMBER_CHARS    40  /* longest accepted number literal */
#define PVJ_MAX_COORD           1e6 /* |x|,|y|,|z| of positions and orientation vectors */
#define PVJ_MAX_SAFE_INT        9007199254740991LL /* 2^53 - 1 */
#define PVJ_MAX_POSES           1024 /* hard cap of a batch; MAX_POLICY_BATCH_SIZE <= this */
#define PVJ_MAX_LK_PARTICIPANTS 1024 /* ListParticipants reply entries kept */
#define PVJ_TOKEN_MAX_BYTES     8192 /* auth token in a socket message */
#define PVJ_META_TOTAL_MAX      1024 /* sum of metadata key+value bytes: keeps tokens < 8 KB */
#define PVJ_REASON_MAX          64   /* policy.snapshot.request reason bytes */
#define PVJ_ERR_MESSAGE_MAX     160

typedef struct pvj_err {
    pv_api_error code;                 /* PV_ERR_INVALID_PAYLOAD on rejection */
    char message[PVJ_ERR_MESSAGE_MAX]; /* "field.path: what is wrong", NUL-terminated */
} pvj_err;

typedef struct pvj_ctx pvj_ctx;

/*
 * Allocate a context able to parse bodies of up to max_body_bytes (0 =
 * PVJ_DEFAULT_BODY_BYTES; clamped to PVJ_MAX_BODY_BYTES). This is the only
 * allocation (calloc), done once at start-up. Returns NULL when out of memory.
 */
pvj_ctx *pvj_ctx_new(size_t max_body_bytes);
void pvj_ctx_free(pvj_ctx *ctx);

/*
 * POST /sessions body (VoiceSessionRequest):
 *   {"participantId": id, "roomId": id, "displayName"?: string <= PV_NAME_MAX bytes,
 *    "metadata"?: {string(1..PV_META_KEY_MAX): string(<= PV_META_VALUE_MAX)}
 *                 with <= PV_META_MAX_PAIRS entries, <= PVJ_META_TOTAL_MAX bytes of
 *                 keys+values together}
 * displayName, metadata keys and values must not contain control characters
 * (U+0000..U+001F, U+007F): they end up in LiveKit tokens and UIs.
 * displayName is NULL when absent; metadata keeps the request's order.
 * Returns 0 or PV_EINVAL.
 */
int pvj_parse_session(pvj_ctx *ctx, const char *body, size_t len, pv_session_request *out,
                      pvj_err *err);

/*
 * POST /policy/poses body:
 *   {"roomId": id, "timestampMs": int, "poses": [ {"participantId": id,
 *     "position": {"x","y","z": finite}, "orientation"?: {"forward": vec3, "up": vec3},
 *     "timestampMs"?: int}, ... ]}
 * At most min(max_poses, PVJ_MAX_POSES) poses (max_poses = MAX_POLICY_BATCH_SIZE).
 * A pose without its own timestampMs gets the batch's. Poses keep their order;
 * repeated participantIds are passed through (the core applies them in order).
 * Returns 0 or PV_EINVAL.
 */
int pvj_parse_poses(pvj_ctx *ctx, const char *body, size_t len, uint32_t max_poses,
                    pv_pose_batch *out, pvj_err *err);

/* A client -> server policy socket message. */
typedef enum pvj_client_kind {
    PVJ_CLIENT_AUTH = 1,             /* {"type":"auth","token": string} */
    PVJ_CLIENT_SNAPSHOT_REQUEST = 2, /* policy.snapshot.request */
    PVJ_CLIENT_AUDIENCE_ACK = 3,     /* policy.audience.ack */
} pvj_client_kind;

typedef struct pvj_client_msg {
    pvj_client_kind kind;
    const char *token;     /* AUTH: 1..PVJ_TOKEN_MAX_BYTES, JWT characters only */
    const char *room_id;   /* SNAPSHOT_REQUEST: required; AUDIENCE_ACK: optional
                              (NULL when absent); the shell MUST compare it with
                              the socket's authenticated room */
    const char *reason;    /* SNAPSHOT_REQUEST: optional (NULL), printable ASCII */
    pv_socket_message msg; /* SNAPSHOT_REQUEST / AUDIENCE_ACK: type and revision
                              (lastAppliedRevision / revision); conn_id = 0 */
} pvj_client_msg;

/*
 * One policy socket text message:
 *   {"type":"auth","token":"..."}
 *   {"type":"policy.snapshot.request","roomId":id,"lastAppliedRevision":int,"reason"?:string}
 *   {"type":"policy.audience.ack","revision":int,"roomId"?:id}
 * Unknown types and unknown fields are rejected. Returns 0 or PV_EINVAL.
 */
int pvj_parse_client_msg(pvj_ctx *ctx, const char *msg, size_t len, pvj_client_msg *out,
                         pvj_err *err);

/* A LiveKit webhook body, after pvtok_webhook_verify() accepted it. */
typedef struct pvj_webhook {
    int relevant;      /* 1: `wh` is filled and goes to the core; 0: an event
                          the core does not need (room_started, a video or
                          screen-share track, an unknown event) */
    const char *event; /* event name as received (never NULL on success) */
    const char *id;    /* LiveKit's event id, or NULL; for logs */
    pv_webhook wh;
} pvj_webhook;

/*
 * LiveKit webhook JSON (protojson, camelCase; int64 may be string or number):
 *   {"event": string, "room"?: {"name": id}, "participant"?: {"identity": id},
 *    "track"?: {"sid": string, "type"?: "AUDIO"|..., "source"?: "MICROPHONE"|...},
 *    "id"?: string, "createdAt"?: int64 seconds}
 * Mapped events: participant_joined, participant_left,
 * participant_connection_aborted, track_published / track_unpublished (only
 * when the track is audio -- type absent (proto default) or "AUDIO" -- and its
 * source is "MICROPHONE"), room_finished. A mapped event without the fields
 * it needs (room.name; participant.identity; track.sid) is rejected; one whose
 * room name or identity fails pv_id_valid() cannot be ours (we mint tokens for
 * valid ids only) and comes back with relevant = 0. Unknown fields are
 * ignored. Returns 0 (check out->relevant) or PV_EINVAL.
 */
int pvj_parse_webhook(pvj_ctx *ctx, const char *body, size_t len, pvj_webhook *out, pvj_err *err);

/*
 * LiveKit RoomService ListParticipants reply (Twirp JSON, snake_case or
 * camelCase): {"participants": [{"identity": s, "tracks": [{"sid": s,
 * "type"?: s|int, "source"?: s|int}, ...]}, ...]}.
 * For each participant whose identity passes pv_id_valid() (others are
 * skipped and counted in *skipped), mic_track_sid is the first audio
 * microphone track's sid or NULL. At most min(max, PVJ_MAX_LK_PARTICIPANTS)
 * entries; more is an error. *out points into the ctx.
 * Returns 0 or PV_EINVAL.
 */
int pvj_parse_lk_participants(pvj_ctx *ctx, const char *body, size_t len, uint32_t max,
                              const pv_lk_participant **out, uint32_t *count, uint32_t *skipped,
                              pvj_err *err);

/*
 * Grammar check only (RFC 8259, UTF-8, nesting <= PVJ_MAX_DEPTH, number
 * literal length). Returns 0, or PV_EINVAL with err->message giving the byte
 * offset. Used by the parsers above and by the JWT code.
 */
int pvj_validate(const char *s, size_t len, pvj_err *err);

#endif
