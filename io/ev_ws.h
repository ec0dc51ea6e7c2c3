/*
 * ev_ws.h - the policy socket on the libev loop: file descriptors, read and
 * write watchers and one deadline timer per socket around ws_policy.h.
 *
 * Loop discipline (the same as ev_server.c): callbacks only read and
 * queue; an ev_prepare watcher at EV_MINPRI (so after the HTTP server's
 * "before sleep", whose core steps may queue socket messages) writes every
 * socket's output, asks the core for resync snapshots, re-arms timers and
 * closes finished sockets. A writable watcher is installed only for output
 * the socket did not take.
 *
 * MUST rules: create after pvs_server_new (the route and socket ops are
 * registered on the app); free before pvapp_free.
 */
#ifndef PV_EV_WS_H
#define PV_EV_WS_H

#include <ev.h>
#include <stdint.h>

#include "app.h"
#include "config.h"
#include "ev_shell.h"
#include "log.h"
#include "ws_policy.h"

typedef struct pvws_ev pvws_ev;

/* Returns 0, or -1 with a reason in err[0..PVCFG_ERR_MAX). */
int pvws_ev_new(pvws_ev **out, struct ev_loop *loop, pvapp *app, pvlog *log, pvs_clock *clk,
                const pvcfg *cfg, char *err);
/* Shutdown: every policy socket closes with 1001 "server shutting down". */
void pvws_ev_drain(pvws_ev *w);
/* Open policy sockets (the daemon exits once this is 0 while draining). */
uint32_t pvws_ev_sockets(const pvws_ev *w);
/* Close every socket now (end of the shutdown grace). */
void pvws_ev_close_all(pvws_ev *w);
void pvws_ev_free(pvws_ev *w);
/* Counters of the socket module. */
void pvws_ev_stats(const pvws_ev *w, pvwsp_stats *st);

#endif
