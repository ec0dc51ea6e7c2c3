/*
 * app_fix.h - the fake shell the app's unit tests share (test_app.c,
 * test_app_lktoken.c): outgoing HTTP is recorded in subs[] and completed by
 * the test, the core timer is driven by hand (advance), requests arrive on
 * in-memory connections (conn_send). Include once per test program, after
 * declaring the program's configuration:
 *
 *     static const char *env_get(void *ud, const char *name);
 */
#ifndef PV_TESTS_APP_FIX_H
#define PV_TESTS_APP_FIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "http_conn.h"
#include "log.h"
#include "pv.h"
#include "t.h"

/* Limit: calls recorded per test (a minute of failing lists retried at
 * <= 1 s is ~65). */
#define MAX_SUB 256
typedef struct sub {
    char url[256], auth[1200], body[1024];
    pvhc_done_fn done;
    void *ud;
    int completed;
} sub;
static sub subs[MAX_SUB];
static int n_subs, refuse_submit;
static int64_t wake_at = PV_NEVER, now = 5000000, wall = 1760000000000;

static int fake_submit(void *ud, const pvhc_request *r, pvhc_done_fn done, void *done_ud) {
    if (refuse_submit || n_subs == MAX_SUB) return PV_EFULL;
    sub *s = &subs[n_subs++];
    memset(s, 0, sizeof *s);
    snprintf(s->url, sizeof s->url, "%s", r->url);
    for (int i = 0; i < PVHC_MAX_HEADERS && r->headers[i]; i++)
        if (strncmp(r->headers[i], "Authorization: ", 15) == 0)
            snprintf(s->auth, sizeof s->auth, "%s", r->headers[i]);
    snprintf(s->body, sizeof s->body, "%.*s", (int)r->body_len, r->body ? r->body : "");
    s->done = done;
    s->ud = done_ud;
    return 0;
}
static void fake_arm(void *ud, int64_t w) {
    wake_at = w;
}
static int no_file(void *ud, const char *p, char *b, size_t c, const char **why) {
    *why = "none";
    return -1;
}

static pvcfg cfg;
static pvlog logger;
static pvapp *app;

static void on_request(void *ud, pvh_conn *c, const pvh_request *req) {
    pvapp_on_request(app, c, req);
}
static pvh_handler H = {.on_request = on_request};
static pvh_limits LIM = {2048, 16384, 5000, 5000, 5000};

/* A new app on the program's env_get configuration, nothing recorded yet. */
static void app_setup(int log_level) {
    pvcfg_source src = {env_get, no_file, NULL};
    char err[PVCFG_ERR_MAX];
    REQUIRE(pvcfg_load(&cfg, &src, err) == 0);
    pvlog_init(&logger, -1, log_level);
    pvapp_shell sh = {.http_submit = fake_submit, .arm_timer = fake_arm};
    REQUIRE(pvapp_new(&app, &cfg, &logger, &sh, now, wall, 7, err) == 0);
    n_subs = 0;
    refuse_submit = 0;
}

/* Advances both clocks; delivers the core's tick when due. */
static void advance(int64_t ms) {
    now += ms;
    wall += ms;
    pvapp_set_time(app, now, wall);
    if (wake_at != PV_NEVER && wake_at <= now) pvapp_tick(app);
}

/* Sends a raw request on a new connection; returns it (free it with drop),
 * or NULL when no connection could be made. */
static pvh_conn *conn_send(const char *req) {
    pvh_conn *c;
    if (pvh_conn_init(&c, &LIM, &H, 1, now) < 0) return NULL;
    pvh_conn_set_peer(c, "192.0.2.7");
    size_t space;
    char *dst = pvh_conn_read_space(c, &space);
    memcpy(dst, req, strlen(req));
    pvh_conn_received(c, strlen(req), now);
    return c;
}

/* The status of the reply written on c so far (0: none yet); its body into
 * body[0..cap) when body is not NULL. */
static int status_of(pvh_conn *c, char *body, size_t cap) {
    if (body && cap) body[0] = '\0';
    size_t len;
    const char *o = pvh_conn_output(c, &len);
    if (len < 12) return 0;
    const char *b = strstr(o, "\r\n\r\n");
    if (body && b) snprintf(body, cap, "%.*s", (int)(len - (size_t)(b + 4 - o)), b + 4);
    return atoi(o + 9);
}

static void drop(pvh_conn *c) {
    pvapp_conn_closed(app, c);
    pvh_conn_free(c);
}

#endif
