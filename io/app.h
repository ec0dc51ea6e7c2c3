/*
 * app.h - the daemon's application layer, libev-free: HTTP requests become
 * core events, core effects become HTTP responses, LiveKit calls and log
 * lines. The shell (io/ev_*.c) owns sockets, timers and the clock and calls
 * in here; tests and the fuzzer drive the same code with a fake shell.
 *
 * Request path: CORS check -> route lookup (404/405, OPTIONS preflight) ->
 * per-IP rate limit -> external authority auth (401) -> per-principal rate
 * limit (429 + Retry-After) -> Content-Type and JSON schema (415/400) ->
 * core step -> reply effect -> response. Every response carries
 * X-Request-Id; every answered request is logged with requestId.
 *
 * Extension points for other modules (the policy socket, LiveKit webhooks):
 *  - pvapp_route_add(): more routes, with the same auth/CORS/rate-limit flags;
 *  - pvapp_upgrade(): answer an Upgrade request and take over the socket;
 *  - pvapp_set_socket_ops(): receive PV_FX_SOCKET_SEND / _CLOSE effects;
 *  - pvapp_step(): feed any pv_event to the core with effects handled.
 *
 * MUST rules:
 *  - Single-threaded. The core is never re-entered: pvapp_step() must not be
 *    called from inside a socket_ops callback (queue the event instead).
 *  - pvapp_set_time() is called once per loop iteration before any other
 *    call of that iteration; now_ms never decreases.
 *  - The shell calls pvapp_conn_closed() before freeing a pvh_conn.
 */
#ifndef PV_APP_H
#define PV_APP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http_client.h"
#include "http_conn.h"
#include "log.h"
#include "pv.h"
#include "tokens.h"

typedef struct pvapp pvapp;

/* Services of the shell. */
typedef struct pvapp_shell {
    void *ud;
    /* Outgoing HTTP (http_client.h rules). Returns 0 or PV_EFULL / PV_EINVAL. */
    int (*http_submit)(void *ud, const pvhc_request *r, pvhc_done_fn done, void *done_ud);
    /* Arm the single core timer at wake_at_ms (monotonic), PV_NEVER = stop. */
    void (*arm_timer)(void *ud, int64_t wake_at_ms);
} pvapp_shell;

/*
 * Build the app: core, JSON context, auth, secrets, rate limiters, routes.
 * seed randomises rate-limit hashing and request ids (pass real entropy).
 * Returns 0, or -1 with a one-line reason in err[0..PVCFG_ERR_MAX).
 */
int pvapp_new(pvapp **out, const pvcfg *cfg, pvlog *log, const pvapp_shell *shell, int64_t now_ms,
              int64_t wall_ms, uint64_t seed, char *err);
void pvapp_free(pvapp *app);

void pvapp_set_time(pvapp *app, int64_t now_ms, int64_t wall_ms);
int64_t pvapp_now_ms(const pvapp *app);
int64_t pvapp_wall_ms(const pvapp *app);
/* The IMF-fixdate of the current second (stable pointer, for pvh_handler). */
const char *pvapp_date(const pvapp *app);

/* pvh_handler entry points (the shell forwards to these). */
void pvapp_on_request(pvapp *app, pvh_conn *c, const pvh_request *req);
void pvapp_on_refused(pvapp *app, pvh_conn *c, int status, const char *reason);
void pvapp_conn_closed(pvapp *app, pvh_conn *c);

/* The core timer fired. */
void pvapp_tick(pvapp *app);
/* SIGHUP: cfg holds re-read secrets; rotated-out values stay valid for
 * SECRET_ROTATION_GRACE_SECONDS. Re-reads EXTERNAL_JWT_KEYS_FILE. On error
 * nothing changes. Returns 0 or -1 with err. */
int pvapp_reload(pvapp *app, const pvcfg *cfg, char *err);
/* Shutdown began: /ready answers 503, responses carry Connection: close. */
void pvapp_drain(pvapp *app);
/* Work still pending (requests waiting for the core/LiveKit). */
int pvapp_busy(const pvapp *app);

/* ---- extension points ---- */

/* A request being handled; valid until answered (or its connection closed:
 * conn is then NULL and answers are dropped). */
typedef struct pvapp_req pvapp_req;
struct pvapp_req {
    pvapp *app;
    pvh_conn *conn;
    const pvh_request *http;
    uint64_t request_id;
    int64_t start_ms;
    char client_ip[64];
    char principal[96]; /* external authority, after PVAPP_AUTH_EXTERNAL */
    char room_id[PV_ID_MAX + 1];
    char headers[512]; /* X-Request-Id and CORS lines for the answer */
    const void *route;
    int in_use;
    int waiting_ready;
};

enum {
    PVAPP_AUTH_EXTERNAL = 1, /* Authorization: Bearer <external authority> */
    PVAPP_JSON_BODY = 2,     /* Content-Type: application/json, non-empty body */
    PVAPP_UPGRADE = 4,       /* the handler may call pvapp_upgrade() */
};
/* Which limiter pair protects a route. */
typedef enum pvapp_limit {
    PVAPP_LIMIT_NONE = 0,
    PVAPP_LIMIT_SESSIONS,
    PVAPP_LIMIT_POSES
} pvapp_limit;

typedef void (*pvapp_route_fn)(void *ud, pvapp_req *rq);

/* Register method+path (exact match). Returns 0, PV_EFULL or PV_EINVAL. */
int pvapp_route_add(pvapp *app, int method, const char *path, unsigned flags, pvapp_limit limit,
                    pvapp_route_fn fn, void *ud);

/* Answers (each ends the request; later calls are ignored). */
void pvapp_reply(pvapp_req *rq, int status, const char *content_type, const char *body, size_t len,
                 const char *extra_headers);
void pvapp_reply_api_error(pvapp_req *rq, pv_api_error e, const char *message,
                           const char *extra_headers);
void pvapp_reply_error(pvapp_req *rq, int status, const char *code, const char *message,
                       const char *extra_headers);

/* Take over the connection of an Upgrade request: queue response (the
 * 101), and once it is written the shell calls fn with the socket (which
 * fn now owns) and the bytes already received after the request. */
typedef void (*pvapp_upgraded_fn)(void *ud, int fd, uint32_t conn_id, const char *leftover,
                                  size_t len);
int pvapp_upgrade(pvapp_req *rq, const char *response, size_t len, pvapp_upgraded_fn fn, void *ud);
/* Shell: c is PVH_UPGRADED and flushed. Returns 0 if an owner took fd. */
int pvapp_take_upgraded(pvapp *app, pvh_conn *c, int fd);

/* Feed an event to the core (now/wall are filled in), handle its effects
 * and re-arm the timer. Returns pv_core_step's result. */
int pvapp_step(pvapp *app, pv_event *ev);

typedef struct pvapp_socket_ops {
    void *ud;
    void (*send)(void *ud, const pv_socket_send *s);
    void (*close)(void *ud, const pv_socket_close *c);
} pvapp_socket_ops;
void pvapp_set_socket_ops(pvapp *app, const pvapp_socket_ops *ops);

/* Policy socket auth attempts per client IP. Returns 1 allowed, 0 limited
 * (*retry_after_ms set). */
int pvapp_allow_socket_auth(pvapp *app, const char *client_ip, int64_t *retry_after_ms);

/* Verify a policy socket token (POLICY_SOCKET_JWT_SECRET: current, or the
 * previous value inside its rotation window) at the app's wall time.
 * Returns 0 and *out, or a PVJWT_E* code (all mean UNAUTHORIZED). */
int pvapp_verify_socket_token(pvapp *app, const char *token, size_t len, pvtok_policy_claims *out);

/* Counters for tests and /ready details. */
typedef struct pvapp_stats {
    uint64_t requests, responses_4xx, responses_5xx, rate_limited, auth_failures;
    uint64_t livekit_calls, livekit_failures, ready_probes;
} pvapp_stats;
void pvapp_get_stats(const pvapp *app, pvapp_stats *st);

#endif
