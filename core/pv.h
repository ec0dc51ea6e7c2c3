/*
 * pv.h - the public interface of the proximity-voice control core.
 *
 * The core is a pure, deterministic state machine (sans-IO). A shell (the
 * production daemon in io/, or the simulator in sim/) feeds it timestamped
 * events with pv_core_step() and carries out the effects it returns.
 *
 * MUST rules for callers:
 *  - Every event carries now_ms (monotonic, never decreasing across calls) and
 *    wall_ms (Unix epoch ms, used only for pose staleness and token times).
 *  - The core never reads a clock, never calls rand(), never performs IO and
 *    never allocates after pv_core_new().
 *  - Effects and every pointer inside them (strings, arrays) are valid until
 *    the next call of pv_core_step() or pv_core_free() on the same core.
 *  - The core must not be re-entered from inside the shell's handling of an
 *    effect: collect the effects, then act on them.
 *  - After each step the shell arms ONE timer at out->wake_at_ms (or none if
 *    PV_NEVER) and delivers PV_EV_TICK when it fires.
 *  - Strings given to the core are NUL-terminated and already validated
 *    for length and charset by the shell (pv_id_valid() helps); the core
 *    re-checks and answers PV_ERR_INVALID_PAYLOAD rather than trusting them.
 *
 * Error convention: functions return 0 or a positive count on success and a
 * negative PV_E* code on failure; pv_strerror() names each code.
 */
#ifndef PV_H
#define PV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Limits (compile-time maxima; runtime values live in pv_config) ---- */
#define PV_ID_MAX         64        /* participantId / roomId / identity bytes, no NUL */
#define PV_NAME_MAX       128       /* displayName bytes */
#define PV_TRACK_SID_MAX  64        /* LiveKit track SID bytes */
#define PV_META_MAX_PAIRS 16        /* metadata entries per session */
#define PV_META_KEY_MAX   64        /* metadata key bytes */
#define PV_META_VALUE_MAX 256       /* metadata value bytes */
#define PV_CAP_MAX        64        /* upper bound for cfg.max_subscribed_voices */
#define PV_NEVER          INT64_MAX /* "no wake-up needed" */

/* ---- Error codes (negative) ---- */
enum {
    PV_OK = 0,
    PV_EINVAL = -1,    /* malformed event or argument */
    PV_ENOMEM = -2,    /* pv_core_new: allocation failed */
    PV_EFULL = -3,     /* a bounded pool is exhausted */
    PV_ENOTFOUND = -4, /* room / participant / connection unknown */
    PV_ESTATE = -5,    /* event not valid in the current state */
    PV_EOVERFLOW = -6, /* effect buffer exhausted (a core bug; asserted) */
};
const char *pv_strerror(int code);

/* ---- API error codes of MVP-SPEC section 18 (HTTP replies, policy.error) ---- */
typedef enum pv_api_error {
    PV_ERR_NONE = 0,
    PV_ERR_UNAUTHORIZED,
    PV_ERR_FORBIDDEN,
    PV_ERR_INVALID_PAYLOAD,
    PV_ERR_ROOM_NOT_FOUND,
    PV_ERR_PARTICIPANT_NOT_FOUND,
    PV_ERR_STALE_REVISION,
    PV_ERR_RATE_LIMITED,
    PV_ERR_INTERNAL_ERROR,
} pv_api_error;
/* "UNAUTHORIZED", ... as in the spec; "NONE" for PV_ERR_NONE. */
const char *pv_api_error_name(pv_api_error e);
/* HTTP status for an API error: 401, 403, 400, 404, 404, 409, 429, 500. */
int pv_api_error_status(pv_api_error e);

/* ---- Configuration ---- */
typedef struct pv_config {
    /* capacity (pools are sized from these at pv_core_new) */
    uint32_t max_rooms;             /* default 1024 */
    uint32_t max_participants;      /* all rooms together; default 10000 */
    uint32_t max_room_size;         /* MAX_ROOM_SIZE; default 200 */
    uint32_t max_connections;       /* policy sockets; default 10000 */
    uint32_t max_pairs;             /* in-range pairs tracked; default 64*max_participants */
    uint32_t max_inflight_calls;    /* LiveKit calls outstanding; default 64 */
    uint32_t max_subscribed_voices; /* cap per listener; default 12, <= PV_CAP_MAX */
    /* geometry, metres */
    double enter_radius_m; /* default 24 */
    double exit_radius_m;  /* default 26; must be >= enter */
    /* timing, milliseconds */
    int64_t recompute_interval_ms; /* default 250 (4 Hz) */
    int recompute_on_pose;         /* 1: also recompute on the tick after a pose batch; default 0 */
    int64_t pose_staleness_ms;     /* drop poses older than wall-this; default 2000 */
    int64_t pose_future_ms;        /* drop poses newer than wall+this; default 5000 */
    int64_t session_idempotency_ms; /* same participant+room within: same session; default 10000 */
    int64_t session_idle_ms;        /* issued, never connected, no pose: expire; default 600000 */
    int64_t reconnect_grace_ms;     /* default 20000 */
    int64_t audience_ack_deadline_ms; /* default 2000 */
    int64_t livekit_backoff_min_ms;   /* default 100 */
    int64_t livekit_backoff_max_ms;   /* default 1000 */
    int64_t pose_batch_interval_ms;   /* policy.pose.batch to clients; default 250 */
    int64_t socket_auth_deadline_ms;  /* open socket without auth is closed 1008; default 5000 */
    int64_t livekit_reconcile_interval_ms; /* ListParticipants per room; default 10000 */
    uint32_t max_effects_per_step;         /* effect budget; work beyond it continues at the next
                                              step (wake_at_ms = now); default 65536 */
    uint32_t round_slices;                 /* rooms take turns in this many phases of each recompute
                                              round, so recomputes are not one burst; room slot %
                                              slices picks the phase; 1..1000, default 10 (1 = all
                                              rooms at once). Pose-batch rounds follow pose ingest
                                              instead (posebatch.c) */
} pv_config;

/* Fill every field with its default. */
void pv_config_default(pv_config *cfg);
/* 0 if consistent, else PV_EINVAL and *why (static string) says which field. */
int pv_config_check(const pv_config *cfg, const char **why);

/* Injected memory. Only pv_core_new/pv_core_free call it. */
typedef struct pv_allocator {
    void *(*alloc)(void *ud, size_t size); /* zeroed memory or NULL */
    void (*free)(void *ud, void *p);
    void *ud;
} pv_allocator;

typedef struct pv_core pv_core;

/* Returns 0 and *out, or PV_EINVAL (bad config, or a == NULL) / PV_ENOMEM.
 * MUST: pass an allocator (a calloc/free pair lives in the shell: core/ may
 * not reference calloc, see check-core-purity). */
int pv_core_new(pv_core **out, const pv_config *cfg, const pv_allocator *a);
void pv_core_free(pv_core *core);

/* ---- Geometry ---- */
typedef struct pv_vec3 {
    double x, y, z;
} pv_vec3;
typedef struct pv_orient {
    pv_vec3 forward, up;
} pv_orient;

/* ---- Events ---- */
typedef enum pv_event_type {
    PV_EV_TICK = 1,        /* timer fired; do due work */
    PV_EV_SESSION_REQUEST, /* POST /sessions, authenticated and schema-checked */
    PV_EV_POSE_BATCH,      /* POST /policy/poses, authenticated and schema-checked */
    PV_EV_SOCKET_OPEN,     /* policy socket upgraded; not yet authenticated */
    PV_EV_SOCKET_AUTH,     /* token verified by the shell: binds conn to room+participant */
    PV_EV_SOCKET_MESSAGE,  /* a parsed client message on an authenticated socket */
    PV_EV_SOCKET_CLOSED,   /* peer closed or shell dropped the connection */
    PV_EV_LIVEKIT_RESULT,  /* completion of a PV_FX_LIVEKIT_CALL */
    PV_EV_WEBHOOK,         /* a verified LiveKit webhook */
} pv_event_type;

typedef struct pv_meta_pair {
    const char *key, *value;
} pv_meta_pair;

typedef struct pv_session_request {
    uint64_t request_id;                                 /* echoed in the reply effect */
    const char *room_id, *participant_id, *display_name; /* display_name may be NULL */
    const pv_meta_pair *metadata;
    uint32_t metadata_count;
} pv_session_request;

typedef struct pv_pose_in {
    const char *participant_id;
    pv_vec3 position;
    int has_orientation;
    pv_orient orientation;
    int64_t timestamp_ms; /* per-pose time, or the batch's timestampMs */
} pv_pose_in;

typedef struct pv_pose_batch {
    uint64_t request_id;
    const char *room_id;
    const pv_pose_in *poses;
    uint32_t count;
} pv_pose_batch;

typedef struct pv_socket_auth {
    uint32_t conn_id;
    const char *room_id, *participant_id; /* from the verified token */
    int64_t token_expires_wall_ms;
} pv_socket_auth;

typedef enum pv_client_msg_type {
    PV_CMSG_SNAPSHOT_REQUEST = 1, /* policy.snapshot.request */
    PV_CMSG_AUDIENCE_ACK,         /* policy.audience.ack {revision} */
} pv_client_msg_type;

typedef struct pv_socket_message {
    uint32_t conn_id;
    pv_client_msg_type type;
    uint64_t revision; /* lastAppliedRevision or the acked audience revision */
} pv_socket_message;

typedef enum pv_lk_method {
    PV_LK_UPDATE_SUBSCRIPTIONS = 1,
    PV_LK_REMOVE_PARTICIPANT,
    PV_LK_LIST_PARTICIPANTS,
} pv_lk_method;

typedef enum pv_lk_outcome {
    PV_LK_OK = 1,
    PV_LK_NOT_FOUND, /* room or participant unknown to LiveKit (404 / twirp not_found) */
    PV_LK_FAILED,    /* 5xx, timeout, transport error: retried with backoff */
} pv_lk_outcome;

typedef struct pv_lk_participant {
    const char *identity;
    const char *mic_track_sid; /* NULL when no microphone track is published */
    /* LiveKit's participant SID (ParticipantInfo.sid, "PA_..."): new for every
     * connection, so a different one means a re-made connection. NULL when
     * unknown; at most PV_TRACK_SID_MAX bytes. */
    const char *participant_sid;
} pv_lk_participant;

typedef struct pv_livekit_result {
    uint64_t call_id;
    pv_lk_outcome outcome;
    /* ListParticipants only: */
    const pv_lk_participant *participants;
    uint32_t participant_count;
} pv_livekit_result;

typedef enum pv_webhook_kind {
    PV_WH_PARTICIPANT_JOINED = 1,
    PV_WH_PARTICIPANT_LEFT,
    PV_WH_PARTICIPANT_ABORTED, /* participant_connection_aborted */
    PV_WH_TRACK_PUBLISHED,
    PV_WH_TRACK_UNPUBLISHED,
    PV_WH_ROOM_FINISHED,
} pv_webhook_kind;

typedef struct pv_webhook {
    pv_webhook_kind kind;
    const char *room_id;
    const char *identity;  /* participant events and track events */
    const char *track_sid; /* track events; only audio microphone tracks are passed */
    int64_t created_at_s;  /* webhook createdAt (seconds): orders late/duplicate deliveries */
    /* participant.sid of participant and track events (new for every LiveKit
     * connection; tells a late event of an old connection from one of a new
     * connection). NULL when unknown; at most PV_TRACK_SID_MAX bytes. */
    const char *participant_sid;
} pv_webhook;

typedef struct pv_event {
    pv_event_type type;
    int64_t now_ms;  /* monotonic */
    int64_t wall_ms; /* Unix epoch ms */
    union {
        pv_session_request session;
        pv_pose_batch poses;
        uint32_t conn_id; /* SOCKET_OPEN, SOCKET_CLOSED */
        pv_socket_auth auth;
        pv_socket_message msg;
        pv_livekit_result livekit;
        pv_webhook webhook;
    } u;
} pv_event;

/* ---- Effects ---- */
typedef enum pv_effect_type {
    PV_FX_SESSION_REPLY = 1, /* answer a PV_EV_SESSION_REQUEST */
    PV_FX_POSES_REPLY,       /* answer a PV_EV_POSE_BATCH */
    PV_FX_SOCKET_SEND,       /* a server->client policy message */
    PV_FX_SOCKET_CLOSE,      /* close a policy socket with a code */
    PV_FX_LIVEKIT_CALL,      /* call LiveKit's RoomService; answer with PV_EV_LIVEKIT_RESULT */
    PV_FX_LOG,               /* a structured log line */
} pv_effect_type;

typedef struct pv_session_reply {
    uint64_t request_id;
    pv_api_error error;  /* PV_ERR_NONE on success */
    const char *message; /* error message (static) or NULL */
    const char *room_id, *participant_id, *display_name;
    const pv_meta_pair *metadata;
    uint32_t metadata_count;
    uint64_t policy_revision; /* the room's current revision */
    /* Token times: identical for a repeat request inside the idempotency
     * window, so deterministic minting yields identical tokens. */
    int64_t issued_at_wall_ms;
    int created; /* 1 new session, 0 refreshed */
} pv_session_reply;

typedef struct pv_poses_reply {
    uint64_t request_id;
    pv_api_error error; /* ROOM_NOT_FOUND, INVALID_PAYLOAD, or NONE */
    const char *message;
    uint32_t accepted, stale, unknown; /* per-pose outcomes */
    uint64_t revision;                 /* room revision after the batch */
} pv_poses_reply;

typedef enum pv_server_msg_type {
    PV_SMSG_SNAPSHOT = 1, /* policy.snapshot {roomId, participantId, revision, canHear} */
    PV_SMSG_DELTA,      /* policy.audibility.delta {roomId, revision, previousRevision, canHear} */
    PV_SMSG_AUDIENCE,   /* policy.audience {roomId, revision, audience} */
    PV_SMSG_POSE_BATCH, /* policy.pose.batch {roomId, timestampMs, poses} */
    PV_SMSG_ERROR,      /* policy.error {code, message} */
} pv_server_msg_type;

typedef struct pv_pose_out {
    const char *participant_id;
    pv_vec3 position;
    int has_orientation;
    pv_orient orientation;
    int64_t timestamp_ms;
} pv_pose_out;

typedef struct pv_socket_send {
    uint32_t conn_id;
    pv_server_msg_type type;
    const char *room_id, *participant_id;
    uint64_t revision;
    uint64_t previous_revision; /* DELTA: the revision of this participant's previous set */
    const char *const *ids;     /* canHear (SNAPSHOT, DELTA) or audience (AUDIENCE), sorted */
    uint32_t id_count;
    const pv_pose_out *poses; /* POSE_BATCH */
    uint32_t pose_count;
    int64_t timestamp_ms; /* POSE_BATCH: wall time of the batch */
    pv_api_error error;   /* ERROR */
    const char *message;  /* ERROR */
} pv_socket_send;

typedef struct pv_socket_close {
    uint32_t conn_id;
    uint16_t code; /* 1008 policy/auth, 1011 transient, 1000 normal */
    const char *reason;
} pv_socket_close;

typedef struct pv_livekit_call {
    uint64_t call_id;
    pv_lk_method method;
    const char *room_id;
    const char *identity; /* UPDATE_SUBSCRIPTIONS: the listener; REMOVE: the participant */
    int subscribe;        /* UPDATE_SUBSCRIPTIONS: 1 subscribe, 0 unsubscribe */
    const char *const *track_sids;
    uint32_t track_count;
} pv_livekit_call;

typedef enum pv_log_level { PV_LOG_DEBUG = 0, PV_LOG_INFO, PV_LOG_WARN, PV_LOG_ERROR } pv_log_level;

typedef struct pv_log {
    pv_log_level level;
    const char *message;                  /* static text; details go in the fields below */
    const char *room_id, *participant_id; /* may be NULL */
    uint32_t conn_id;                     /* 0 = none */
    uint64_t request_id;                  /* 0 = none */
    int64_t value;                        /* an event-specific number (count, revision...) */
} pv_log;

typedef struct pv_effect {
    pv_effect_type type;
    union {
        pv_session_reply session;
        pv_poses_reply poses;
        pv_socket_send send;
        pv_socket_close close;
        pv_livekit_call call;
        pv_log log;
    } u;
} pv_effect;

typedef struct pv_out {
    const pv_effect *effects; /* valid until the next step */
    uint32_t count;
    int64_t wake_at_ms; /* deliver PV_EV_TICK at this now_ms; PV_NEVER if none */
} pv_out;

/*
 * Process one event. Returns 0, or:
 *  PV_EINVAL    the event is malformed (unknown type, time going backwards);
 *               nothing changed, *out holds no effects but a valid wake_at_ms.
 * Request-level problems (unknown room, full room, bad ids) are NOT errors of
 * this function: they come back as error replies / policy.error effects.
 */
int pv_core_step(pv_core *core, const pv_event *ev, pv_out *out);

/* ---- Introspection for tests, the simulator's checkers and /ready ---- */
typedef struct pv_stats {
    uint32_t rooms, participants, connections, pairs_in_range;
    uint32_t inflight_calls;
    uint64_t poses_accepted, poses_stale, recomputes, pairs_dropped_full;
    uint64_t livekit_failures, speakers_removed;
} pv_stats;
void pv_core_stats(const pv_core *core, pv_stats *st);

/* Room revision, or 0 if the room does not exist. */
uint64_t pv_core_room_revision(const pv_core *core, const char *room_id);
/* now_ms of the room's last recompute; -1 before the first or if the room
 * does not exist. Rooms take turns (cfg.round_slices), so a checker that
 * compares a room with its oracle right after a step must ask this. */
int64_t pv_core_room_recomputed_at(const pv_core *core, const char *room_id);
/* Copies the listener's current canHear (sorted by id) into ids[0..max);
 * returns the count, or PV_ENOTFOUND. Strings point into the core (valid
 * until the next step). */
int pv_core_can_hear(const pv_core *core, const char *room_id, const char *participant_id,
                     const char **ids, uint32_t max);
/* 1 if the symmetric hysteresis state of the pair is "in range", 0 if not,
 * PV_ENOTFOUND if either is unknown. */
int pv_core_pair_in_range(const pv_core *core, const char *room_id, const char *a, const char *b);

/* 1 if s is a valid id: 1..PV_ID_MAX bytes of [A-Za-z0-9_.:@-]. */
int pv_id_valid(const char *s);

#ifdef __cplusplus
}
#endif
#endif /* PV_H */
