/*
 * main.c - proximity-voice-control: configuration, the event loop and its
 * watchers, signals, graceful shutdown.
 *
 * Signals: SIGTERM/SIGINT stop accepting, let in-flight requests finish
 * (keep-alive connections close after their current response) and exit 0
 * once everything is answered or SHUTDOWN_TIMEOUT_MS passed. SIGHUP
 * re-reads the secrets given as files and the JWT key file; open
 * connections are untouched.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ev_shell.h"
#include "ev_ws.h"

#define VERSION "0.1.0"

typedef struct daemon {
    struct ev_loop *loop;
    pvcfg cfg;
    pvlog log;
    pvs_clock clk;
    pvapp *app;
    pvs_server *srv;
    pvws_ev *ws; /* policy sockets */
    pvhc *http;
    ev_prepare before_sleep;
    ev_timer core_timer, shutdown_timer;
    ev_signal sigterm, sigint, sighup;
    int64_t core_wake_ms;
    int draining;
} daemon_t;

static daemon_t D; /* large (config, log buffer): static, not on the stack */

static void times(daemon_t *d, int64_t *now, int64_t *wall) {
    pvs_clock_get(d->loop, &d->clk, now, wall);
    pvapp_set_time(d->app, *now, *wall);
}

static void log_line(daemon_t *d, pv_log_level lvl, const char *msg, const char *key,
                     const char *val) {
    int64_t now, wall;
    pvs_clock_get(d->loop, &d->clk, &now, &wall);
    if (!pvlog_begin(&d->log, wall, lvl, msg)) return;
    pvlog_str(&d->log, key, val);
    pvlog_end(&d->log);
}

/* ---- shell services for the app ---- */

static int shell_submit(void *ud, const pvhc_request *r, pvhc_done_fn done, void *done_ud) {
    daemon_t *d = ud;
    return pvhc_submit(d->http, r, done, done_ud);
}

static void shell_arm_timer(void *ud, int64_t wake_at_ms) {
    daemon_t *d = ud;
    if (wake_at_ms == PV_NEVER) {
        ev_timer_stop(d->loop, &d->core_timer);
        return;
    }
    if (ev_is_active(&d->core_timer) && d->core_wake_ms == wake_at_ms) return;
    int64_t now, wall;
    pvs_clock_get(d->loop, &d->clk, &now, &wall);
    ev_timer_stop(d->loop, &d->core_timer);
    double after = wake_at_ms > now ? (double)(wake_at_ms - now) / 1000.0 : 0.0;
    ev_timer_set(&d->core_timer, after, 0.0);
    ev_timer_start(d->loop, &d->core_timer);
    d->core_wake_ms = wake_at_ms;
}

/* ---- watchers ---- */

static void core_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    daemon_t *d = w->data;
    int64_t now, wall;
    times(d, &now, &wall);
    if (now < d->core_wake_ms) { /* libev woke us a little early */
        shell_arm_timer(d, d->core_wake_ms);
        return;
    }
    pvapp_tick(d->app);
}

static void before_sleep_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
    daemon_t *d = w->data;
    pvs_server_before_sleep(d->srv);
    if (d->draining && pvs_server_connections(d->srv) == 0 && pvws_ev_sockets(d->ws) == 0 &&
        !pvapp_busy(d->app)) {
        log_line(d, PV_LOG_INFO, "drained, exiting", NULL, NULL);
        ev_break(loop, EVBREAK_ALL);
    }
    pvlog_flush(&d->log);
}

static void shutdown_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    daemon_t *d = w->data;
    char n[16];
    snprintf(n, sizeof n, "%u", pvs_server_connections(d->srv));
    log_line(d, PV_LOG_WARN, "shutdown timeout, closing connections", "open", n);
    pvs_server_close_all(d->srv);
    pvws_ev_close_all(d->ws);
    ev_break(loop, EVBREAK_ALL);
}

static void sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    daemon_t *d = w->data;
    int64_t now, wall;
    times(d, &now, &wall);
    if (d->draining) return;
    d->draining = 1;
    log_line(d, PV_LOG_INFO, "shutting down: draining", "signal",
             w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    pvapp_drain(d->app);
    pvs_server_drain(d->srv);
    pvws_ev_drain(d->ws);
    ev_timer_set(&d->shutdown_timer, (double)d->cfg.shutdown_timeout_ms / 1000.0, 0.0);
    ev_timer_start(loop, &d->shutdown_timer);
}

static void sighup_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    daemon_t *d = w->data;
    int64_t now, wall;
    times(d, &now, &wall);
    pvcfg next = d->cfg;
    char err[PVCFG_ERR_MAX] = "";
    int changed = pvcfg_reload_secrets(&next, &pvcfg_source_process, err);
    if (changed >= 0 && pvapp_reload(d->app, &next, err) == 0) {
        d->cfg = next;
        char n[16];
        snprintf(n, sizeof n, "%d", changed);
        log_line(d, PV_LOG_INFO, "secrets reloaded", "changed", n);
    } else {
        log_line(d, PV_LOG_ERROR, "reload failed, keeping previous secrets", "reason", err);
    }
    memset(&next, 0, sizeof next);
}

/* ---- start-up ---- */

static int usage(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            pvcfg_print_help(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("proximity-voice-control %s\n", VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--check-config") != 0) {
            fprintf(stderr, "proximity-voice-control: unknown argument %s (try --help)\n", argv[i]);
            return 2;
        }
    }
    return -1;
}

static uint64_t seed64(void) {
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) {
        int64_t now, wall;
        pvs_clock_read(&now, &wall);
        s = (uint64_t)wall * 6364136223846793005u ^ (uint64_t)getpid();
    }
    return s;
}

static int start(daemon_t *d, char *err) {
    d->loop = ev_default_loop(EVFLAG_AUTO);
    if (!d->loop) return snprintf(err, PVCFG_ERR_MAX, "cannot create the event loop"), -1;
    int64_t now, wall;
    pvs_clock_get(d->loop, &d->clk, &now, &wall);
    pvhc_opts ho = {d->cfg.http_client_max_concurrency, d->cfg.http_client_max_queued};
    if (pvhc_new(&d->http, d->loop, &ho, &d->clk) < 0)
        return snprintf(err, PVCFG_ERR_MAX, "cannot initialise libcurl"), -1;
    pvapp_shell sh = {.ud = d, .http_submit = shell_submit, .arm_timer = shell_arm_timer};
    if (pvapp_new(&d->app, &d->cfg, &d->log, &sh, now, wall, seed64(), err) < 0) return -1;
    pvs_server_opts so = {.host = d->cfg.host,
                          .port = d->cfg.port,
                          .max_connections = d->cfg.max_connections,
                          .max_connections_per_ip = d->cfg.max_connections_per_ip,
                          .loopback_exempt = d->cfg.trust_proxy,
                          .limits = {.max_header_bytes = d->cfg.max_header_bytes,
                                     .max_body_bytes = d->cfg.max_body_bytes,
                                     .idle_timeout_ms = d->cfg.idle_timeout_ms,
                                     .request_timeout_ms = d->cfg.request_timeout_ms,
                                     .write_timeout_ms = d->cfg.write_timeout_ms}};
    if (pvs_server_new(&d->srv, d->loop, &so, d->app, &d->log, &d->clk, err) < 0) return -1;
    if (pvws_ev_new(&d->ws, d->loop, d->app, &d->log, &d->clk, &d->cfg, err) < 0) return -1;
    return 0;
}

static void watchers(daemon_t *d) {
    ev_prepare_init(&d->before_sleep, before_sleep_cb);
    ev_init(&d->core_timer, core_timer_cb);
    ev_init(&d->shutdown_timer, shutdown_timer_cb);
    ev_signal_init(&d->sigterm, sigterm_cb, SIGTERM);
    ev_signal_init(&d->sigint, sigterm_cb, SIGINT);
    ev_signal_init(&d->sighup, sighup_cb, SIGHUP);
    d->before_sleep.data = d->core_timer.data = d->shutdown_timer.data = d;
    d->sigterm.data = d->sigint.data = d->sighup.data = d;
    ev_prepare_start(d->loop, &d->before_sleep);
    ev_signal_start(d->loop, &d->sigterm);
    ev_signal_start(d->loop, &d->sigint);
    ev_signal_start(d->loop, &d->sighup);
}

static void log_start(daemon_t *d) {
    int64_t now, wall;
    pvs_clock_get(d->loop, &d->clk, &now, &wall);
    if (!pvlog_begin(&d->log, wall, PV_LOG_INFO, "listening")) return;
    pvlog_str(&d->log, "host", d->cfg.host);
    pvlog_int(&d->log, "port", d->cfg.port);
    pvlog_str(&d->log, "env", pvcfg_env_name(d->cfg.env));
    pvlog_str(&d->log, "authMode", d->cfg.auth_mode == PVCFG_AUTH_JWT ? "jwt" : "shared_secret");
    pvlog_str(&d->log, "version", VERSION);
    pvlog_end(&d->log);
}

int main(int argc, char **argv) {
    int rc = usage(argc, argv);
    if (rc >= 0) return rc;
    daemon_t *d = &D;
    char err[PVCFG_ERR_MAX] = "";
    if (pvcfg_load(&d->cfg, &pvcfg_source_process, err) < 0) {
        fprintf(stderr, "proximity-voice-control: invalid configuration: %s\n", err);
        return 2;
    }
    if (argc > 1) { /* --check-config */
        printf("configuration ok\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    pvlog_init(&d->log, STDOUT_FILENO, (pv_log_level)d->cfg.log_level);
    if (start(d, err) < 0) {
        fprintf(stderr, "proximity-voice-control: %s\n", err);
        return 1;
    }
    watchers(d);
    log_start(d);
    pvlog_flush(&d->log);
    ev_run(d->loop, 0);
    pvhc_free(d->http); /* completes pending calls with "cancelled" */
    pvs_server_free(d->srv);
    pvws_ev_free(d->ws);
    pvapp_free(d->app);
    log_line(d, PV_LOG_INFO, "stopped", NULL, NULL);
    pvlog_flush(&d->log);
    ev_loop_destroy(d->loop);
    return 0;
}
