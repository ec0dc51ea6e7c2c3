/*
 * ev_shell.h - the libev shell: the event loop's clock, the HTTP server on
 * real sockets, and libcurl multi integrated with the loop.
 *
 * Loop discipline (Redis-like):
 *  - The clock (monotonic now_ms + wall_ms) is read once per loop iteration
 *    and handed to the app before any callback of that iteration uses it.
 *  - Callbacks only queue work: connections with output or buffered input go
 *    on a pending list; an ev_prepare watcher (the "before sleep" hook)
 *    parses buffered pipelined requests, writes all output, arms deadline
 *    timers, frees closed connections and flushes log lines. A writable
 *    watcher is installed only for output the socket did not take.
 *  - Connections are never freed inside their own callbacks.
 */
#ifndef PV_EV_SHELL_H
#define PV_EV_SHELL_H

#include <ev.h>
#include <stdint.h>

#include "app.h"
#include "config.h"
#include "http_client.h"
#include "http_conn.h"
#include "log.h"

/* ---- clock (ev_loop.c) ---- */
typedef struct pvs_clock {
    unsigned int iteration; /* ev_iteration() of the cached values */
    int valid;
    int64_t now_ms, wall_ms;
} pvs_clock;
/* Monotonic and wall milliseconds, read once per loop iteration. */
void pvs_clock_get(struct ev_loop *loop, pvs_clock *clk, int64_t *now_ms, int64_t *wall_ms);
/* Read the clocks now (outside the loop). */
void pvs_clock_read(int64_t *now_ms, int64_t *wall_ms);

/* ---- HTTP server (ev_server.c) ---- */
typedef struct pvs_server pvs_server;

typedef struct pvs_server_opts {
    const char *host;
    uint32_t port;
    uint32_t max_connections;
    uint32_t max_connections_per_ip; /* 0 = no per-IP limit */
    int loopback_exempt;             /* 1: loopback peers (a local proxy) are not limited */
    pvh_limits limits;
} pvs_server_opts;

/* Bind and listen. Returns 0, or -1 with a reason in err[0..PVCFG_ERR_MAX). */
int pvs_server_new(pvs_server **out, struct ev_loop *loop, const pvs_server_opts *o, pvapp *app,
                   pvlog *log, pvs_clock *clk, char *err);
void pvs_server_free(pvs_server *s);
/* The "before sleep" work (called from the shell's ev_prepare). */
void pvs_server_before_sleep(pvs_server *s);
/* Stop accepting, let in-flight requests finish, close idle connections. */
void pvs_server_drain(pvs_server *s);
uint32_t pvs_server_connections(const pvs_server *s);
/* Close every connection now (end of the shutdown grace). */
void pvs_server_close_all(pvs_server *s);

/* ---- libcurl multi on libev (ev_curl.c) ---- */
typedef struct pvhc_opts {
    uint32_t max_concurrency;
    uint32_t max_queued;
} pvhc_opts;

/* Returns 0, or -1 (curl could not be initialised). */
int pvhc_new(pvhc **out, struct ev_loop *loop, const pvhc_opts *o, pvs_clock *clk);
/* Completes every pending transfer with status 0 / "cancelled", then frees. */
void pvhc_free(pvhc *c);
/*
 * Start (or queue) a transfer. Returns 0 (done will be called exactly once,
 * later, from the loop), PV_EFULL (queue full) or PV_EINVAL / PV_ENOMEM; on
 * an error done is never called.
 */
int pvhc_submit(pvhc *c, const pvhc_request *r, pvhc_done_fn done, void *ud);
/* Transfers running / waiting, and connections opened so far (tests). */
void pvhc_counts(const pvhc *c, uint32_t *running, uint32_t *queued, uint64_t *connects);

#endif
