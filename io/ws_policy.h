/*
 * ws_policy.h - the policy socket endpoint (MVP-SPEC 9, docs/PROTOCOL.md):
 * GET /policy-socket upgrades and the glue between WebSocket connections
 * (ws_conn.h) and the core. libev-free: the shell (ev_ws.c) owns the file
 * descriptors and timers; tests and the fuzzer drive it without a loop.
 *
 * A socket's life:
 *  - upgrade: handshake checks (ws_hs.h; the app already refused a foreign
 *    Origin with 403), the socket cap (503), then the 101 answer;
 *  - pvwsp_open: PV_EV_SOCKET_OPEN; the core closes it 1008 "auth timeout"
 *    unless a valid auth arrives within socket_auth_deadline_ms;
 *  - each text message is parsed by pvj_parse_client_msg:
 *      auth (once): per-client-IP rate limit (policy.error RATE_LIMITED,
 *        close 1011), token check (UNAUTHORIZED, 1008), then
 *        PV_EV_SOCKET_AUTH; the core answers policy.snapshot +
 *        policy.audience (+ policy.pose.batch), or an error and 1008;
 *      policy.snapshot.request / policy.audience.ack: roomId must be the
 *        authenticated room (FORBIDDEN, 1008), then PV_EV_SOCKET_MESSAGE;
 *      anything before auth: UNAUTHORIZED, 1008; a malformed or unknown
 *        message after auth: INVALID_PAYLOAD, the socket stays open;
 *      more than PVWSP_MSGS_PER_SEC messages per second (burst
 *        PVWSP_MSG_BURST): RATE_LIMITED, 1008;
 *  - PV_FX_SOCKET_SEND becomes JSON (json_out.h) queued with its kind
 *    (ws_conn.h explains the bounded, coalescing queue); after an overflow
 *    the module asks the core for a fresh snapshot once the queue drained;
 *  - PV_FX_SOCKET_CLOSE closes with the core's code;
 *  - when the shell closed the socket: PV_EV_SOCKET_CLOSED.
 *
 * MUST rules:
 *  - Single-threaded; pvwsp_* are never called from inside a core step (the
 *    socket ops only queue).
 *  - The shell calls pvwsp_before_sleep() once per loop iteration after it
 *    wrote socket output, then writes again (the resync snapshots).
 *  - The shell calls pvwsp_closed() exactly once per opened socket, after
 *    closing its file descriptor, and never touches the socket afterwards.
 */
#ifndef PV_WS_POLICY_H
#define PV_WS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "log.h"
#include "ws_conn.h"

#define PVWSP_PATH         "/policy-socket"
#define PVWSP_MSGS_PER_SEC 20 /* client messages per second per socket */
#define PVWSP_MSG_BURST    40
#define PVWSP_CLOSE_RATE   1011 /* transient: auth attempts per IP exceeded, retry later */

typedef struct pvwsp pvwsp;
typedef struct pvwsp_sock pvwsp_sock;

typedef struct pvwsp_shell {
    void *ud;
    /* Handed to pvapp_upgrade(): the shell takes the file descriptor and
     * calls pvwsp_open(), or closes it when that returns NULL. */
    pvapp_upgraded_fn upgraded;
    /* s has output, a new deadline or is done: look at it before sleeping.
     * Never call back into pvwsp from here. */
    void (*wakeup)(void *ud, pvwsp_sock *s);
} pvwsp_shell;

typedef struct pvwsp_opts {
    pvws_limits limits;
    uint32_t max_sockets; /* open policy sockets; more upgrades get 503 */
} pvwsp_opts;

typedef struct pvwsp_stats {
    uint32_t sockets, authed;
    uint64_t opened, auth_ok, auth_failed, auth_rate_limited, msgs_rate_limited;
    uint64_t invalid_msgs, overflows, resyncs, unknown_conn_effects;
} pvwsp_stats;

/*
 * Register GET /policy-socket and the socket ops with app. Returns 0,
 * PV_EINVAL (options) or PV_ENOMEM. log may be NULL.
 */
int pvwsp_new(pvwsp **out, pvapp *app, pvlog *log, const pvwsp_opts *o, const pvwsp_shell *sh);
/* Frees every socket without events (the shell already closed the fds). */
void pvwsp_free(pvwsp *p);

/*
 * The socket of an upgraded connection: emits PV_EV_SOCKET_OPEN and handles
 * the bytes that followed the upgrade request. shell_sock is the shell's
 * own handle (pvwsp_sock_shell). Returns the socket, or NULL (refused: the
 * shell closes the file descriptor; no pvwsp_closed).
 */
pvwsp_sock *pvwsp_open(pvwsp *p, uint32_t conn_id, void *shell_sock, const char *leftover,
                       size_t len);
/* Bytes received on s / end of stream (the shell reads, we handle). */
void pvwsp_received(pvwsp *p, pvwsp_sock *s, const char *data, size_t len);
void pvwsp_eof(pvwsp *p, pvwsp_sock *s);
/* The shell closed s's descriptor: PV_EV_SOCKET_CLOSED, s is freed. */
void pvwsp_closed(pvwsp *p, pvwsp_sock *s);

/* Once per loop iteration: ask the core for the snapshots of sockets
 * whose dropped state has drained (see ws_conn.h). */
void pvwsp_before_sleep(pvwsp *p);
/* Shutdown: close every socket with 1001 "server shutting down". */
void pvwsp_drain(pvwsp *p);

pvws_conn *pvwsp_sock_conn(const pvwsp_sock *s);
void *pvwsp_sock_shell(const pvwsp_sock *s);
uint32_t pvwsp_sock_id(const pvwsp_sock *s);
/* The first socket and the next one (all open sockets, oldest first). */
pvwsp_sock *pvwsp_first(const pvwsp *p);
pvwsp_sock *pvwsp_next(const pvwsp_sock *s);
void pvwsp_get_stats(const pvwsp *p, pvwsp_stats *st);

#endif
