/*
 * test_app_lktoken.c - RoomService admin tokens of the app (app_livekit.c):
 * one token per room, reused while fresh, minted anew near expiry and after
 * a LiveKit secret rotation; and /ready reporting LiveKit refusing them.
 * The core's periodic ListParticipants produces the calls; a fake shell
 * records their Authorization headers and answers them.
 */
static const char *env_get(void *ud, const char *name);
#include "app_fix.h"

static const char *lk_secret = "livekit-secret-0123456789abcdef01234";

static const char *env_get(void *ud, const char *name) {
    static const char *const kv[][2] = {
        {"NODE_ENV", "test"},
        {"LIVEKIT_URL", "http://127.0.0.1:7880"},
        {"LIVEKIT_API_KEY", "devkey"},
        {"POLICY_SOCKET_JWT_SECRET", "policy-secret-0123456789abcdef012345"},
        {"EXTERNAL_SHARED_SECRET", "external-secret-0123456789abcdef0123"},
        {"LIVEKIT_RECONCILE_INTERVAL_MS", "60000"},
        {"SESSION_TOKEN_TTL_SECONDS", "3600"},
    };
    if (strcmp(name, "LIVEKIT_API_SECRET") == 0) return lk_secret;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (strcmp(kv[i][0], name) == 0) return kv[i][1];
    return NULL;
}

/* GET /ready, answering LiveKit's GET / probe with 200. Returns the status
 * and the body in body[0..cap). */
static int ready(char *body, size_t cap) {
    int first = n_subs;
    pvh_conn *c = conn_send("GET /ready HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(c);
    for (int i = first; i < n_subs; i++) {
        if (!subs[i].done) continue;
        pvhc_done_fn done = subs[i].done;
        subs[i].done = NULL;
        pvhc_result r = {.status = 200, .body = "OK", .body_len = 2};
        done(subs[i].ud, &r);
    }
    int status = status_of(c, body, cap);
    drop(c);
    return status;
}

/* POST /sessions for participant p in room r (creates the room). */
static void session(const char *room, const char *p) {
    char req[512], body[128];
    int n = snprintf(body, sizeof body, "{\"roomId\":\"%s\",\"participantId\":\"%s\"}", room, p);
    snprintf(req, sizeof req,
             "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Authorization: Bearer external-secret-0123456789abcdef0123\r\n"
             "Content-Length: %d\r\n\r\n%s",
             n, body);
    pvh_conn *c = conn_send(req);
    REQUIRE(c);
    CHECK_EQ_INT(status_of(c, NULL, 0), 200);
    drop(c);
}

static int answer_status = 200; /* what LiveKit answers the calls */

/* Runs ticks for ms, answering every ListParticipants with an empty room
 * (or answer_status); returns the index of the first call recorded in that
 * time (or n_subs). */
static int run(int64_t ms) {
    int first = n_subs;
    for (int64_t t = 0; t < ms; t += 250) {
        advance(250);
        for (int i = first; i < n_subs; i++) {
            if (!subs[i].done) continue;
            pvhc_done_fn done = subs[i].done;
            subs[i].done = NULL;
            static const char empty[] = "{\"participants\":[]}";
            static const char denied[] = "{\"code\":\"unauthenticated\",\"msg\":\"denied\"}";
            int ok = answer_status == 200;
            pvhc_result r = {.status = answer_status,
                             .body = ok ? empty : denied,
                             .body_len = ok ? sizeof empty - 1 : sizeof denied - 1};
            done(subs[i].ud, &r);
        }
    }
    return first;
}

/* The Authorization of the latest ListParticipants for room r since index from. */
static const char *last_auth(int from, const char *room) {
    char want[64];
    snprintf(want, sizeof want, "\"room\":\"%s\"", room);
    const char *a = NULL;
    for (int i = from; i < n_subs; i++)
        if (strstr(subs[i].url, "ListParticipants") && strstr(subs[i].body, want)) a = subs[i].auth;
    return a;
}

static void setup(void) {
    app_setup(PV_LOG_ERROR);
}

static void test_admin_token_reuse_and_refresh(void) {
    setup();
    session("room-a", "p1");
    session("room-b", "p2");
    /* the first list of each room (100 ms after it was created, minting
     * the admin token) and the periodic one at 1 min */
    int from = run(61000);
    char a1[1200], b1[1200];
    REQUIRE(last_auth(from, "room-a") && last_auth(from, "room-b"));
    snprintf(a1, sizeof a1, "%s", last_auth(from, "room-a"));
    snprintf(b1, sizeof b1, "%s", last_auth(from, "room-b"));
    CHECK(strcmp(a1, b1) != 0);   /* per room: video.room differs */
    for (int k = 0; k < 7; k++) { /* lists at 2..8 min: the same token */
        session("room-a", "p1");  /* keeps the session from idling out */
        from = run(60000);
        REQUIRE(last_auth(from, "room-a"));
        CHECK(strcmp(last_auth(from, "room-a"), a1) == 0);
    }
    session("room-a", "p1");
    from = run(60000); /* 9 min: within 60 s of the token's expiry -> a new one */
    REQUIRE(last_auth(from, "room-a"));
    CHECK(strcmp(last_auth(from, "room-a"), a1) != 0);
    char a2[1200];
    snprintf(a2, sizeof a2, "%s", last_auth(from, "room-a"));
    session("room-a", "p1");
    from = run(60000);
    CHECK(last_auth(from, "room-a") && strcmp(last_auth(from, "room-a"), a2) == 0);
    pvapp_free(app);
}

static void test_admin_token_after_secret_rotation(void) {
    setup();
    session("room-a", "p1");
    int from = run(61000);
    char a1[1200];
    REQUIRE(last_auth(from, "room-a"));
    snprintf(a1, sizeof a1, "%s", last_auth(from, "room-a"));
    lk_secret = "livekit-secret-rotated-0123456789abcdef";
    pvcfg cfg2;
    pvcfg_source src = {env_get, no_file, NULL};
    char err[PVCFG_ERR_MAX];
    REQUIRE(pvcfg_load(&cfg2, &src, err) == 0);
    cfg = cfg2; /* the app keeps a pointer to cfg */
    REQUIRE(pvapp_reload(app, &cfg, err) == 0);
    from = run(60000);
    REQUIRE(last_auth(from, "room-a"));
    CHECK(strcmp(last_auth(from, "room-a"), a1) != 0); /* signed with the new secret */
    lk_secret = "livekit-secret-0123456789abcdef01234";
    pvapp_free(app);
}

/* LiveKit reachable (GET / answers 200) but refusing our admin token: not
 * ready, with the reason; ready again after a RoomService call succeeds. */
static void test_ready_reports_rejected_admin_token(void) {
    setup();
    char body[512];
    CHECK_EQ_INT(ready(body, sizeof body), 200);
    CHECK(strstr(body, "\"livekitLastOkAgoMs\":-1") != NULL);
    session("room-a", "p1");
    answer_status = 401;
    run(61000);
    CHECK_EQ_INT(ready(body, sizeof body), 503);
    CHECK(strstr(body, "NOT_READY") && strstr(body, "HTTP 401") &&
          strstr(body, "LIVEKIT_API_SECRET"));
    answer_status = 200;
    session("room-a", "p1");
    run(60000);
    CHECK_EQ_INT(ready(body, sizeof body), 200);
    CHECK(strstr(body, "\"livekitFailuresInARow\":0") != NULL);
    CHECK(strstr(body, "\"livekitLastOkAgoMs\":-1") == NULL);
    pvapp_free(app);
}

int main(void) {
    T_RUN(test_admin_token_reuse_and_refresh);
    T_RUN(test_admin_token_after_secret_rotation);
    T_RUN(test_ready_reports_rejected_admin_token);
    return t_done("io app admin tokens and livekit health");
}
