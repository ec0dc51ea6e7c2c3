/*
 * app_int.h - private state of the app, shared by app.c (lifecycle, core
 * stepping, effects), app_routes.c (request path, built-in endpoints) and
 * app_livekit.c (Twirp calls, readiness probe).
 */
#ifndef PV_APP_INT_H
#define PV_APP_INT_H

#include "app.h"
#include "cors.h"
#include "extauth.h"
#include "json_in.h"
#include "json_out.h"
#include "ratelimit.h"
#include "secrets.h"

#define PVAPP_MAX_ROUTES     16
#define PVAPP_REQ_BITS       20 /* low bits of a request id: its slot */
#define PVAPP_MAX_READY_WAIT 256
#define PVAPP_DEFERRED_MAX   1024
#define PVAPP_RESP_BYTES     16384 /* largest JSON answer built here */

typedef struct pvapp_route {
    int method;
    char path[64];
    unsigned flags;
    pvapp_limit limit;
    pvapp_route_fn fn;
    void *ud;
} pvapp_route;

/* A cached RoomService admin token of one room (app_livekit.c). */
#define PVAPP_ADMIN_TOKENS      64  /* rooms whose admin token is kept */
#define PVAPP_ADMIN_TOKEN_BYTES 512 /* longer tokens are not cached */
typedef struct pvapp_admin_token {
    char room_id[PV_ID_MAX + 1]; /* "" = free */
    char token[PVAPP_ADMIN_TOKEN_BYTES];
    int64_t expires_wall_ms;
    uint64_t secret_fp; /* fingerprint of the secret it was signed with */
} pvapp_admin_token;

/* One outstanding LiveKit call. */
typedef struct pvapp_lkcall {
    pvapp *app;
    uint64_t call_id;
    pv_lk_method method;
    int in_use;
} pvapp_lkcall;

typedef struct pvapp_upgrade_owner {
    pvapp_upgraded_fn fn;
    void *ud;
} pvapp_upgrade_owner;

struct pvapp {
    const pvcfg *cfg; /* the shell's copy, updated on reload */
    pvlog *log;
    pvapp_shell shell;
    pv_core *core;
    pvj_ctx *json;   /* request bodies: MAX_BODY_BYTES */
    pvj_ctx *lkjson; /* LiveKit answers: up to PVHC_MAX_RESPONSE_BYTES (a
                      * ListParticipants of a full room is far larger than any
                      * request body we accept) */
    int64_t now_ms, wall_ms, start_wall_ms;
    char date[30];
    int64_t date_sec;
    int draining;
    int in_step; /* re-entrancy guard */

    /* secrets and auth */
    pvsecret lk_secret, policy_secret;
    pvextauth *auth;
    pvcors cors;
    char lk_http_url[PVCFG_STR_MAX + 1];
    char lk_client_url[PVCFG_STR_MAX + 1];
    char policy_socket_url[PVCFG_STR_MAX + 32];

    /* rate limiters (NULL slots = disabled) */
    pvrl rl_sessions_ip, rl_sessions_key, rl_poses_ip, rl_poses_key, rl_socket_ip;
    pvrl_slot *rl_mem[5];
    int rl_on[5];

    /* routes */
    pvapp_route routes[PVAPP_MAX_ROUTES];
    uint32_t n_routes;

    /* request slots: request_id = counter << PVAPP_REQ_BITS | slot */
    pvapp_req *reqs;
    uint32_t n_reqs, reqs_used;
    uint32_t *free_reqs;
    uint32_t n_free_reqs;
    uint64_t req_counter;

    /* upgrade owners, by request slot */
    pvapp_upgrade_owner *upgrade_owner;

    /* LiveKit calls */
    pvapp_lkcall *lkcalls;
    uint32_t n_lkcalls;
    pvapp_admin_token admin_tokens[PVAPP_ADMIN_TOKENS];
    uint64_t deferred_failed[PVAPP_DEFERRED_MAX]; /* call ids failed at submit */
    uint32_t n_deferred;
    int running_deferred;

    /* readiness */
    int ready_probe_inflight;
    int ready_ok; /* last probe: 1 reachable */
    int ready_probed;
    int64_t ready_checked_ms;
    char ready_reason[160];
    /* RoomService health (app_livekit.c): LiveKit reachable is not enough,
     * it must also accept our admin tokens */
    int lk_rejected;                           /* last RoomService answer was 401/403 */
    int lk_last_status;                        /* HTTP status of the last answer, 0 = transport */
    int64_t lk_last_ok_ms;                     /* monotonic time of the last 200, 0 = never */
    uint64_t lk_failed_row;                    /* RoomService failures since the last 200 */
    uint32_t ready_wait[PVAPP_MAX_READY_WAIT]; /* request slots */
    uint32_t n_ready_wait;

    pvapp_socket_ops socket_ops;
    pvapp_stats stats;

    char resp[PVAPP_RESP_BYTES]; /* answer body scratch */
};

/* app.c */
pvapp_req *pvapp_req_by_id(pvapp *app, uint64_t request_id);
pvapp_req *pvapp_req_begin(pvapp *app, pvh_conn *c, const pvh_request *http);
void pvapp_reply_raw(pvapp_req *rq, int status, const char *body, size_t len,
                     const char *extra_headers, const char *code);
void pvapp_log_answer(pvapp_req *rq, int status, const char *code);

/* app_routes.c */
int pvapp_routes_builtin(pvapp *app);
void pvapp_answer_session(pvapp *app, const pv_session_reply *r);
void pvapp_answer_poses(pvapp *app, const pv_poses_reply *r);

/* app_webhook.c */
int pvapp_route_webhook(pvapp *app);

/* app_livekit.c */
void pvapp_livekit_call(pvapp *app, const pv_livekit_call *call);
void pvapp_run_deferred(pvapp *app);
void pvapp_ready_request(pvapp *app, pvapp_req *rq);
int pvapp_ready_registry(pvapp *app, char *why, size_t cap);

#endif
