/* test_core_session.c - sessions: idempotency, refresh, room full, capacity,
 * idle expiry, reconnect grace, allocation only at init. */
#include "core_fix.h"

static void test_create_and_idempotent_repeat(void) {
    fx f;
    fx_init(&f, NULL);
    f.now_ms = 1000;
    fx_session(&f, 7, "r1", "alice");
    int i = FX_FIND_STEP(&f, "SESSION req=7 err=NONE", "room=r1 pid=alice", "created=1");
    REQUIRE(i >= 0);
    uint64_t issued = fx_u64(&f, i, "issued");
    CHECK_EQ_INT(issued, FX_WALL0 + 1000);
    CHECK(fx_u64(&f, i, "rev") == pv_core_room_revision(f.core, "r1"));
    f.now_ms = 1000 + f.cfg.session_idempotency_ms - 1;
    fx_session(&f, 8, "r1", "alice");
    i = FX_FIND_STEP(&f, "SESSION req=8 err=NONE", "created=0");
    REQUIRE(i >= 0);
    CHECK_EQ_INT(fx_u64(&f, i, "issued"), issued);
    f.now_ms = 1000 + f.cfg.session_idempotency_ms;
    fx_session(&f, 9, "r1", "alice");
    i = FX_FIND_STEP(&f, "SESSION req=9 err=NONE", "created=0");
    REQUIRE(i >= 0);
    CHECK_EQ_INT(fx_u64(&f, i, "issued"), FX_WALL0 + f.now_ms);
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.rooms, 1);
    CHECK_EQ_INT(st.participants, 1);
    fx_fini(&f);
}

static void test_metadata_and_display_name_echoed(void) {
    fx f;
    fx_init(&f, NULL);
    pv_meta_pair meta[2] = {{"role", "default"}, {"team", "red"}};
    char name[] = "Player 1";
    pv_event ev = {.type = PV_EV_SESSION_REQUEST};
    ev.u.session = (pv_session_request){1, "r1", "p1", name, meta, 2};
    REQUIRE(fx_step(&f, &ev) == 0);
    name[0] = 'X'; /* the reply must not point into the request */
    const pv_session_reply *r = &f.out.effects[0].u.session;
    REQUIRE(f.out.effects[0].type == PV_FX_SESSION_REPLY);
    CHECK_STR(r->display_name, "Player 1");
    REQUIRE(r->metadata_count == 2);
    CHECK_STR(r->metadata[1].key, "team");
    CHECK_STR(r->metadata[1].value, "red");
    ev.u.session = (pv_session_request){2, "r1", "p1", "Renamed", NULL, 0};
    REQUIRE(fx_step(&f, &ev) == 0);
    CHECK_STR(f.out.effects[0].u.session.display_name, "Renamed");
    fx_fini(&f);
}

static void test_invalid_request(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "bad room", "p1");
    CHECK(FX_FIND_STEP(&f, "SESSION req=1 err=INVALID_PAYLOAD") >= 0);
    fx_session(&f, 2, "r1", "");
    CHECK(FX_FIND_STEP(&f, "SESSION req=2 err=INVALID_PAYLOAD") >= 0);
    pv_meta_pair meta[1] = {{"k", NULL}};
    pv_event ev = {.type = PV_EV_SESSION_REQUEST};
    ev.u.session = (pv_session_request){3, "r1", "p1", NULL, meta, 1};
    REQUIRE(fx_step(&f, &ev) == 0);
    CHECK(FX_FIND_STEP(&f, "SESSION req=3 err=INVALID_PAYLOAD") >= 0);
    CHECK_EQ_INT(pv_core_room_revision(f.core, "r1"), 0);
    fx_fini(&f);
}

static void test_room_full_and_capacity(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.max_room_size = 3;
    cfg.max_participants = 4;
    cfg.max_rooms = 2;
    fx f;
    fx_init(&f, &cfg);
    const char *ids[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        fx_session(&f, 1, "r1", ids[i]);
    fx_session(&f, 2, "r1", "d");
    CHECK(FX_FIND_STEP(&f, "SESSION req=2 err=FORBIDDEN msg=room is full") >= 0);
    CHECK_EQ_INT(pv_api_error_status(PV_ERR_FORBIDDEN), 403);
    fx_session(&f, 3, "r2", "a"); /* same participant id, other room: a new session */
    CHECK(FX_FIND_STEP(&f, "SESSION req=3 err=NONE", "room=r2 pid=a", "created=1") >= 0);
    fx_session(&f, 4, "r3", "x"); /* participant pool (4) is full */
    CHECK(FX_FIND_STEP(&f, "SESSION req=4 err=FORBIDDEN msg=server at capacity") >= 0);
    CHECK_EQ_INT(pv_core_room_revision(f.core, "r3"), 0);
    fx_fini(&f);
}

static void test_idle_session_expires(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "idle");
    fx_session(&f, 2, "r1", "keeper");
    fx_connect(&f, 5, "r1", "keeper");
    fx_run_to(&f, f.cfg.session_idle_ms - 1);
    CHECK(pv_core_can_hear(f.core, "r1", "idle", NULL, 0) == 0);
    fx_run_to(&f, f.cfg.session_idle_ms);
    CHECK(pv_core_can_hear(f.core, "r1", "idle", NULL, 0) == PV_ENOTFOUND);
    CHECK(FX_FIND(&f, "LOG 1 session expired", "pid=idle") >= 0);
    CHECK(pv_core_can_hear(f.core, "r1", "keeper", NULL, 0) == 0);
    fx_fini(&f);
}

static void test_refresh_restarts_idle_clock(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "p");
    fx_run_to(&f, 500000);
    fx_session(&f, 2, "r1", "p");
    fx_run_to(&f, 500000 + f.cfg.session_idle_ms - 1);
    CHECK(pv_core_room_revision(f.core, "r1") != 0);
    fx_run_to(&f, 500000 + f.cfg.session_idle_ms);
    CHECK(pv_core_room_revision(f.core, "r1") == 0); /* last participant gone: room removed */
    fx_fini(&f);
}

static void test_reconnect_grace(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "p");
    fx_session(&f, 1, "r1", "q");
    fx_connect(&f, 1, "r1", "p");
    fx_connect(&f, 2, "r1", "q");
    f.now_ms = 3000;
    fx_closed(&f, 1);
    fx_run_to(&f, 3000 + f.cfg.reconnect_grace_ms - 1);
    CHECK(pv_core_can_hear(f.core, "r1", "p", NULL, 0) == 0);
    /* reconnect inside the grace: kept */
    fx_connect(&f, 3, "r1", "p");
    fx_run_to(&f, 3000 + 3 * f.cfg.reconnect_grace_ms);
    CHECK(pv_core_can_hear(f.core, "r1", "p", NULL, 0) == 0);
    int64_t t = f.now_ms;
    fx_closed(&f, 3);
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms);
    CHECK(pv_core_can_hear(f.core, "r1", "p", NULL, 0) == PV_ENOTFOUND);
    CHECK(FX_FIND(&f, "reconnect grace expired", "pid=p") >= 0);
    fx_fini(&f);
}

static void test_livekit_presence_counts_as_connected(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "p");
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "p", NULL, 100);
    fx_run_to(&f, f.cfg.session_idle_ms * 2);
    CHECK(pv_core_can_hear(f.core, "r1", "p", NULL, 0) == 0);
    int64_t t = f.now_ms;
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "p", NULL, 200);
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms - 1);
    CHECK(pv_core_can_hear(f.core, "r1", "p", NULL, 0) == 0);
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms);
    CHECK(pv_core_can_hear(f.core, "r1", "p", NULL, 0) == PV_ENOTFOUND);
    fx_fini(&f);
}

static void test_no_allocation_after_init(void) {
    fx f;
    fx_init(&f, NULL);
    long before = f.allocs;
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%d", i);
        fx_session(&f, 1, i % 2 ? "r1" : "r2", id);
        fx_pose(&f, i % 2 ? "r1" : "r2", id, i, 0, 0);
        fx_connect(&f, (uint32_t)i + 1, i % 2 ? "r1" : "r2", id);
    }
    fx_run_to(&f, 60000);
    CHECK_EQ_INT(f.allocs, before);
    fx_fini(&f);
}

static void test_config_check(void) {
    pv_config cfg;
    const char *why = NULL;
    pv_config_default(&cfg);
    CHECK_EQ_INT(pv_config_check(&cfg, &why), 0);
    CHECK_EQ_INT(cfg.max_subscribed_voices, 12);
    CHECK_EQ_INT(cfg.reconnect_grace_ms, 20000);
    cfg.exit_radius_m = 20;
    CHECK_EQ_INT(pv_config_check(&cfg, &why), PV_EINVAL);
    CHECK_STR(why, "exit_radius_m");
    pv_config_default(&cfg);
    cfg.max_subscribed_voices = PV_CAP_MAX + 1;
    CHECK_EQ_INT(pv_config_check(&cfg, &why), PV_EINVAL);
    pv_core *c = NULL;
    pv_allocator a = {fx_alloc_fn, fx_free_fn, NULL};
    CHECK_EQ_INT(pv_core_new(&c, &cfg, &a), PV_EINVAL);
    CHECK(c == NULL);
    CHECK_STR(pv_strerror(PV_EFULL), "pool full");
}

static void test_time_backwards_rejected(void) {
    fx f;
    fx_init(&f, NULL);
    f.now_ms = 1000;
    fx_session(&f, 1, "r1", "p");
    int64_t wake = f.out.wake_at_ms;
    f.now_ms = 999;
    pv_event ev = {.type = PV_EV_TICK};
    CHECK_EQ_INT(fx_step(&f, &ev), PV_EINVAL);
    CHECK_EQ_INT(f.out.count, 0);
    CHECK_EQ_INT(f.out.wake_at_ms, wake);
    f.now_ms = 1000;
    ev.type = (pv_event_type)99;
    CHECK_EQ_INT(fx_step(&f, &ev), PV_EINVAL);
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_create_and_idempotent_repeat);
    T_RUN(test_metadata_and_display_name_echoed);
    T_RUN(test_invalid_request);
    T_RUN(test_room_full_and_capacity);
    T_RUN(test_idle_session_expires);
    T_RUN(test_refresh_restarts_idle_clock);
    T_RUN(test_reconnect_grace);
    T_RUN(test_livekit_presence_counts_as_connected);
    T_RUN(test_no_allocation_after_init);
    T_RUN(test_config_check);
    T_RUN(test_time_backwards_rejected);
    return t_done("core_session");
}
