/*
 * test_app.c - the app (requests -> core events -> responses, LiveKit calls,
 * readiness) with a fake shell: outgoing HTTP is recorded and completed by
 * the test, the core timer is driven by hand. Covers the paths a black-box
 * run cannot force: request-slot exhaustion (INTERNAL_ERROR), Twirp outcome
 * mapping, calls refused at submission, connections dying mid-request.
 */
static const char *env_get(void *ud, const char *name);
#include "app_fix.h"

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
static void setup(void) {
    app_setup(PV_LOG_DEBUG);
}

static void teardown(void) {
    pvapp_free(app);
    app = NULL;
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
    advance(1100); /* the room's first ListParticipants (100 ms after it was created) */
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

/* A ListParticipants answer far larger than any request body (MAX_BODY_BYTES,
 * 64 KB here): 150 participants of ~1.4 KB each, as a busy room's answer is.
 * It must parse (found by test-livekit-scale: after a daemon restart a
 * 100-player room's list failed, nobody was seen present, and the grace
 * removed everyone). */
static void test_large_list_participants_answer(void) {
    setup();
    create_session("big", "p0");
    advance(200);
    int k = find_sub("ListParticipants", 0);
    REQUIRE(k >= 0);
    enum { N = 150 };
    static char body[N * 1500 + 64];
    char pad[1201];
    memset(pad, 'm', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    size_t n = (size_t)snprintf(body, sizeof body, "{\"participants\":[");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(
            body + n, sizeof body - n,
            "%s{\"sid\":\"PA_%d\", \"identity\":\"p%d\", \"state\":\"ACTIVE\", "
            "\"metadata\":\"%s\", \"tracks\":[{\"sid\":\"TR_%d\", \"type\":\"AUDIO\", "
            "\"source\":\"MICROPHONE\"}]}",
            i ? "," : "", i, i, pad, i);
    n += (size_t)snprintf(body + n, sizeof body - n, "]}");
    REQUIRE(n > 4 * 65536 / 2 && n < sizeof body);
    pvapp_stats st0, st1;
    pvapp_get_stats(app, &st0);
    complete(&subs[k], 200, body);
    pvapp_get_stats(app, &st1);
    CHECK_EQ_INT(st1.livekit_failures, st0.livekit_failures);
    teardown();
}

int main(void) {
    T_RUN(test_large_list_participants_answer);
    T_RUN(test_slot_exhaustion_and_ready_waiters);
    T_RUN(test_ready_when_probe_refused);
    T_RUN(test_twirp_calls_and_outcomes);
    return t_done("test_app");
}
