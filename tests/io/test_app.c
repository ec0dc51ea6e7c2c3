/*
 * test_app.c - the app (requests -> core events -> responses, LiveKit calls,
 * readiness) with a fake shell: outgoing HTTP is recorded and completed by
 * the test, the core timer is driven by hand. Covers the paths a black-box
 * run cannot force: request-slot exhaustion (INTERNAL_ERROR), Twirp outcome
 * mapping, calls refused at submission, connections dying mid-request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "http_conn.h"
#include "log.h"
#include "pv.h"
#include "t.h"

/* ---- fake shell ---- */

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

static void complete(sub *s, int status, const char *body) {
    pvhc_result r = {.status = status,
                     .error = status ? NULL : "refused",
                     .body = body,
                     .body_len = strlen(body)};
    s->completed = 1;
    s->done(s->ud, &r);
}

static const char *env_get(void *ud, const char *name) {
    static const char *const kv[][2] = {
        {"NODE_ENV", "test"},
        {"LIVEKIT_URL", "http://127.0.0.1:7880"},
        {"LIVEKIT_API_KEY", "devkey"},
        {"LIVEKIT_API_SECRET", "livekit-secret-0123456789abcdef01234"},
        {"POLICY_SOCKET_JWT_SECRET", "policy-secret-0123456789abcdef012345"},
        {"EXTERNAL_SHARED_SECRET", "external-secret-0123456789abcdef0123"},
        {"MAX_CONNECTIONS", "1"},
        {"LIVEKIT_RECONCILE_INTERVAL_MS", "1000"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (strcmp(kv[i][0], name) == 0) return kv[i][1];
    return NULL;
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

static void setup(void) {
    pvcfg_source src = {env_get, no_file, NULL};
    char err[PVCFG_ERR_MAX];
    REQUIRE(pvcfg_load(&cfg, &src, err) == 0);
    pvlog_init(&logger, -1, PV_LOG_DEBUG);
    pvapp_shell sh = {.http_submit = fake_submit, .arm_timer = fake_arm};
    REQUIRE(pvapp_new(&app, &cfg, &logger, &sh, now, wall, 7, err) == 0);
    n_subs = 0;
    refuse_submit = 0;
}

static void teardown(void) {
    pvapp_free(app);
    app = NULL;
}

static void advance(int64_t ms) {
    now += ms;
    wall += ms;
    pvapp_set_time(app, now, wall);
    if (wake_at != PV_NEVER && wake_at <= now) pvapp_tick(app);
}

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

static int status_of(pvh_conn *c, char *body, size_t cap) {
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

#define AUTH "Authorization: Bearer external-secret-0123456789abcdef0123\r\n"

/* Every request slot held by a /ready waiting on LiveKit: the next request
 * is refused with 503 INTERNAL_ERROR, and all waiters get their answer. */
static void test_slot_exhaustion_and_ready_waiters(void) {
    setup();
    enum { SLOTS = 2 * 1 + 64 };
    static pvh_conn *cs[SLOTS + 1];
    for (int i = 0; i < SLOTS; i++) {
        cs[i] = conn_send("GET /ready HTTP/1.1\r\nHost: a\r\n\r\n");
        REQUIRE(cs[i] != NULL);
        CHECK_EQ_INT(status_of(cs[i], NULL, 0), 0); /* waiting */
    }
    CHECK_EQ_INT(n_subs, 1); /* one probe for all of them */
    cs[SLOTS] = conn_send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
    char body[512];
    CHECK_EQ_INT(status_of(cs[SLOTS], body, sizeof body), 503);
    CHECK(strstr(body, "\"code\":\"INTERNAL_ERROR\"") != NULL);
    drop(cs[3]); /* a waiter's client goes away */
    CHECK(strstr(subs[0].url, "http://127.0.0.1:7880/") != NULL);
    complete(&subs[0], 200, "OK");
    for (int i = 0; i < SLOTS; i++) {
        if (i == 3) continue;
        CHECK_EQ_INT(status_of(cs[i], body, sizeof body), 200);
        CHECK(strstr(body, "\"status\":\"ready\"") != NULL);
    }
    for (int i = 0; i <= SLOTS; i++)
        if (i != 3) drop(cs[i]);
    CHECK_EQ_INT(pvapp_busy(app), 0); /* every slot came back */
    teardown();
}

static void test_ready_when_probe_refused(void) {
    setup();
    refuse_submit = 1;
    pvh_conn *c = conn_send("GET /ready HTTP/1.1\r\nHost: a\r\n\r\n");
    char body[512];
    CHECK_EQ_INT(status_of(c, body, sizeof body), 503);
    CHECK(strstr(body, "NOT_READY") && strstr(body, "cannot probe livekit"));
    drop(c);
    teardown();
}

static void create_session(const char *room, const char *who) {
    char req[512], body[160];
    int n = snprintf(body, sizeof body, "{\"participantId\":\"%s\",\"roomId\":\"%s\"}", who, room);
    snprintf(req, sizeof req,
             "POST /sessions HTTP/1.1\r\nHost: a\r\n" AUTH "Content-Type: application/json\r\n"
             "Content-Length: %d\r\n\r\n%s",
             n, body);
    pvh_conn *c = conn_send(req);
    CHECK_EQ_INT(status_of(c, NULL, 0), 200);
    drop(c);
}

static int find_sub(const char *method, int from) {
    for (int i = from; i < n_subs; i++)
        if (strstr(subs[i].url, method) && !subs[i].completed) return i;
    return -1;
}

/* Twirp calls: URL, admin bearer token, body; outcomes mapped; a refused
 * submission is answered FAILED after the step and retried by the core. */
static void test_twirp_calls_and_outcomes(void) {
    setup();
    create_session("tw", "a");
    advance(1100); /* the room's reconcile timer */
    int k = find_sub("/twirp/livekit.RoomService/ListParticipants", 0);
    REQUIRE(k >= 0);
    CHECK(strncmp(subs[k].auth, "Authorization: Bearer ey", 24) == 0);
    CHECK(strcmp(subs[k].body, "{\"room\":\"tw\"}") == 0);
    pvapp_stats st0, st1;
    pvapp_get_stats(app, &st0);
    complete(&subs[k], 500, "{\"code\":\"internal\"}");
    pvapp_get_stats(app, &st1);
    CHECK_EQ_INT(st1.livekit_failures, st0.livekit_failures + 1);
    /* the core retries with backoff; answer NOT_FOUND (room unknown to LiveKit) */
    for (int i = 0; i < 40 && (k = find_sub("ListParticipants", 0)) < 0; i++)
        advance(100);
    REQUIRE(k >= 0);
    complete(&subs[k], 404, "{\"code\":\"not_found\",\"msg\":\"room not found\"}");
    pvapp_get_stats(app, &st0);
    CHECK_EQ_INT(st0.livekit_failures, st1.livekit_failures); /* not a failure */
    /* refused at submission: counted, and the core asks again later */
    refuse_submit = 1;
    int before = n_subs;
    for (int i = 0; i < 30; i++)
        advance(100);
    pvapp_get_stats(app, &st1);
    CHECK(st1.livekit_failures > st0.livekit_failures);
    refuse_submit = 0;
    for (int i = 0; i < 40 && find_sub("ListParticipants", before) < 0; i++)
        advance(100);
    k = find_sub("ListParticipants", before);
    CHECK(k >= 0);
    if (k >= 0) complete(&subs[k], 200, "{\"participants\":[]}");
    teardown();
}

int main(void) {
    T_RUN(test_slot_exhaustion_and_ready_waiters);
    T_RUN(test_ready_when_probe_refused);
    T_RUN(test_twirp_calls_and_outcomes);
    return t_done("test_app");
}
