/* test_core_livekit.c - the subscription reconciler: unsubscribe before
 * subscribe, one call in flight per listener, backoff, NOT_FOUND, the global
 * in-flight bound, unknown call ids, ListParticipants reconciliation. */
#include "core_fix.h"

/* Listener L (cap 1) with speakers s1 (near) and s2 (farther), all at
 * LiveKit, both speakers publishing. */
static void setup(fx *f) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.max_subscribed_voices = 1;
    cfg.audience_ack_deadline_ms = 100000000; /* no sockets here: keep speakers in */
    fx_init(f, &cfg);
    const char *ids[] = {"L", "s1", "s2"};
    for (int i = 0; i < 3; i++) {
        fx_session(f, 1, "r1", ids[i]);
        fx_webhook(f, PV_WH_PARTICIPANT_JOINED, "r1", ids[i], NULL, 10);
    }
    fx_webhook(f, PV_WH_TRACK_PUBLISHED, "r1", "s1", "TR1", 10);
    fx_webhook(f, PV_WH_TRACK_PUBLISHED, "r1", "s2", "TR2", 10);
    fx_pose(f, "r1", "L", 0, 0, 0);
    fx_pose(f, "r1", "s1", 1, 0, 0);
    fx_pose(f, "r1", "s2", 50, 0, 0);
    fx_run_to(f, 250);
    /* the room's first ListParticipants (livekit_backoff_min_ms after it was
     * created): LiveKit confirms what the webhooks said */
    int lc = FX_FIND(f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    pv_lk_participant lp[3] = {{"L", NULL, NULL}, {"s1", "TR1", NULL}, {"s2", "TR2", NULL}};
    fx_list_answer(f, lc, lp, 3);
}

static uint64_t call_id(fx *f, int line) {
    return fx_u64(f, line, "id");
}

static void test_unsubscribe_before_subscribe(void) {
    fx f;
    setup(&f);
    int sub1 = FX_FIND(&f, "CALL", "UPDATE room=r1 identity=L sub=1 ids=[TR1]");
    REQUIRE(sub1 >= 0);
    fx_lk_result(&f, call_id(&f, sub1), PV_LK_OK);
    CHECK(FX_FIND_STEP(&f, "CALL") < 0); /* converged */
    f.now_ms = 300;
    fx_pose(&f, "r1", "s2", -0.5, 0, 0); /* s2 is now nearer: L's set becomes [s2] */
    fx_run_to(&f, 500);
    int un = FX_FIND_STEP(&f, "CALL", "identity=L sub=0 ids=[TR1]");
    REQUIRE(un >= 0);
    CHECK(FX_FIND_STEP(&f, "sub=1") < 0); /* no subscribe while the unsubscribe is in flight */
    fx_run_to(&f, 1000);
    CHECK(FX_FIND_STEP(&f, "CALL") < 0);
    fx_lk_result(&f, call_id(&f, un), PV_LK_OK);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR2]") >= 0);
    fx_fini(&f);
}

static void test_backoff_then_success(void) {
    fx f;
    setup(&f);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1 ids=[TR1]");
    REQUIRE(c >= 0);
    int64_t t = 1000;
    f.now_ms = t;
    fx_lk_result(&f, call_id(&f, c), PV_LK_FAILED);
    CHECK(FX_FIND_STEP(&f, "LOG 2 livekit call failed", "pid=L") >= 0);
    int64_t expect[] = {100, 200, 400, 800, 1000, 1000};
    for (int i = 0; i < 6; i++) {
        fx_run_to(&f, t + expect[i] - 1);
        CHECK(FX_FIND_STEP(&f, "CALL") < 0);
        fx_run_to(&f, t + expect[i]);
        c = FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR1]");
        REQUIRE(c >= 0);
        t = f.now_ms;
        fx_lk_result(&f, call_id(&f, c), PV_LK_FAILED);
    }
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.livekit_failures, 7);
    fx_run_to(&f, t + 1000);
    c = FX_FIND_STEP(&f, "CALL", "identity=L sub=1");
    REQUIRE(c >= 0);
    fx_lk_result(&f, call_id(&f, c), PV_LK_OK);
    /* success resets the backoff: the next failure waits the minimum again */
    t = f.now_ms = f.now_ms + 10;
    fx_pose(&f, "r1", "s2", -0.5, 0, 0);
    fx_run_to(&f, pv_next_round(t, 250));
    c = FX_FIND_STEP(&f, "CALL", "identity=L sub=0");
    REQUIRE(c >= 0);
    t = f.now_ms;
    fx_lk_result(&f, call_id(&f, c), PV_LK_FAILED);
    fx_run_to(&f, t + f.cfg.livekit_backoff_min_ms);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=0 ids=[TR1]") >= 0);
    fx_fini(&f);
}

static void test_not_found_until_joined(void) {
    fx f;
    setup(&f);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1");
    REQUIRE(c >= 0);
    fx_lk_result(&f, call_id(&f, c), PV_LK_NOT_FOUND);
    fx_run_to(&f, 5000);
    CHECK(FX_FIND_STEP(&f, "identity=L") < 0);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 20);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    fx_fini(&f);
}

static void test_joined_resets_applied(void) {
    fx f;
    setup(&f);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1");
    REQUIRE(c >= 0);
    fx_lk_result(&f, call_id(&f, c), PV_LK_OK);
    /* LiveKit restarted: L and s1 join afresh; s1's track is unknown until
     * track_published, then L subscribes again */
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s1", NULL, 30);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 30);
    CHECK(FX_FIND_STEP(&f, "CALL") < 0);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s1", "TR1b", 30);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR1b]") >= 0);
    fx_fini(&f);
}

static void test_unknown_call_id_ignored(void) {
    fx f;
    setup(&f);
    pv_stats before, after;
    pv_core_stats(f.core, &before);
    fx_lk_result(&f, 987654, PV_LK_OK);
    fx_lk_result(&f, 0, PV_LK_FAILED);
    pv_core_stats(f.core, &after);
    CHECK_EQ_INT(after.inflight_calls, before.inflight_calls);
    CHECK_EQ_INT(after.livekit_failures, 0);
    fx_fini(&f);
}

static void test_inflight_bound_and_fairness(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.max_inflight_calls = 2;
    cfg.audience_ack_deadline_ms = 100000000;
    fx f;
    fx_init(&f, &cfg);
    const char *ids[] = {"a", "b", "c", "d", "s"};
    for (int i = 0; i < 5; i++) {
        fx_session(&f, 1, "r1", ids[i]);
        fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", ids[i], NULL, 1);
        fx_pose(&f, "r1", ids[i], i, 0, 0);
    }
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TRs", 1);
    fx_run_to(&f, f.cfg.livekit_backoff_min_ms); /* the room's first list: LiveKit agrees */
    pv_lk_participant lp[5] = {{"a", NULL, NULL},
                               {"b", NULL, NULL},
                               {"c", NULL, NULL},
                               {"d", NULL, NULL},
                               {"s", "TRs", NULL}};
    fx_list_answer(&f, FX_FIND(&f, "CALL", "LIST room=r1"), lp, 5);
    fx_run_to(&f, 250);
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.inflight_calls, 2);
    int ca = FX_FIND(&f, "CALL", "identity=a sub=1");
    int cb = FX_FIND(&f, "CALL", "identity=b sub=1");
    REQUIRE(ca >= 0 && cb > ca);
    CHECK(FX_FIND(&f, "identity=c") < 0);
    fx_lk_result(&f, call_id(&f, ca), PV_LK_OK);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=c sub=1") >= 0); /* next in order, not a again */
    fx_lk_result(&f, call_id(&f, cb), PV_LK_OK);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=d sub=1") >= 0);
    fx_fini(&f);
}

static void test_list_participants_reconciles(void) {
    fx f;
    setup(&f);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1");
    REQUIRE(c >= 0);
    fx_lk_result(&f, call_id(&f, c), PV_LK_OK);
    int64_t next = f.cfg.livekit_backoff_min_ms + f.cfg.livekit_reconcile_interval_ms;
    fx_run_to(&f, next - 1);
    CHECK(FX_FIND_STEP(&f, "LIST room=r1") < 0); /* one interval after the first list */
    fx_run_to(&f, next);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    /* LiveKit says: s1 now publishes TR9, s2 is gone (left webhook lost) */
    pv_lk_participant lp[2] = {{"L", NULL, NULL}, {"s1", "TR9", NULL}};
    fx_list_answer(&f, lc, lp, 2);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR9]") >= 0);
    /* s2 is absent now: never connected otherwise, so the grace starts */
    int64_t t = f.now_ms;
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms);
    CHECK(pv_core_can_hear(f.core, "r1", "s2", NULL, 0) == PV_ENOTFOUND);
    CHECK(pv_core_can_hear(f.core, "r1", "s1", NULL, 0) >= 0);
    fx_fini(&f);
}

static void test_call_sids_survive_same_step_change(void) {
    fx f;
    setup(&f);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1 ids=[TR1]");
    REQUIRE(c >= 0);
    f.now_ms = 1000;
    fx_lk_result(&f, fx_u64(&f, c, "id"), PV_LK_FAILED);
    /* the retry is due in the same step as a webhook that replaces TR1 */
    f.now_ms = 1000 + f.cfg.livekit_backoff_min_ms;
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s1", "TR1new", 20);
    REQUIRE(f.out.count >= 1);
    int found = 0;
    for (uint32_t i = 0; i < f.out.count; i++) {
        const pv_effect *e = &f.out.effects[i];
        if (e->type != PV_FX_LIVEKIT_CALL) continue;
        REQUIRE(e->u.call.track_count == 1);
        CHECK_STR(e->u.call.track_sids[0], "TR1"); /* what was decided, not what changed after */
        found = 1;
    }
    CHECK(found);
    fx_fini(&f);
}

/* sim BUG-4: a failed ListParticipants is retried with backoff. */
static void test_list_failure_backs_off(void) {
    fx f;
    setup(&f);
    fx_run_to(&f, f.cfg.livekit_backoff_min_ms + f.cfg.livekit_reconcile_interval_ms);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    int64_t t = f.now_ms;
    fx_lk_result(&f, fx_u64(&f, lc, "id"), PV_LK_FAILED);
    int64_t waits[] = {100, 200, 400};
    for (int i = 0; i < 3; i++) {
        fx_run_to(&f, t + waits[i] - 1);
        CHECK(FX_FIND_STEP(&f, "LIST room=r1") < 0);
        fx_run_to(&f, t + waits[i]);
        lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
        REQUIRE(lc >= 0);
        t = f.now_ms;
        fx_lk_result(&f, fx_u64(&f, lc, "id"), i < 2 ? PV_LK_FAILED : PV_LK_OK);
    }
    fx_run_to(&f, t + f.cfg.livekit_reconcile_interval_ms - 1);
    CHECK(FX_FIND_STEP(&f, "LIST room=r1") < 0); /* success: back to the interval */
    fx_fini(&f);
}

/* sim seed 1265: a timed-out unsubscribe may have been applied. When the
 * speaker becomes audible again the core must subscribe again, not assume
 * the old subscription is still there. */
static void test_failed_call_leaves_entries_uncertain(void) {
    fx f;
    setup(&f);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1 ids=[TR1]");
    REQUIRE(c >= 0);
    fx_lk_result(&f, fx_u64(&f, c, "id"), PV_LK_OK);
    f.now_ms = 300;
    fx_pose(&f, "r1", "s1", 100, 0, 0); /* s1 leaves range: L gets s2 (cap 1) */
    fx_run_to(&f, 500);
    int un = FX_FIND_STEP(&f, "CALL", "identity=L sub=0 ids=[TR1]");
    REQUIRE(un >= 0);
    f.now_ms = 600;
    fx_pose(&f, "r1", "s1", 0.5, 0, 0); /* back, nearest again (from the 750 recompute) */
    fx_run_to(&f, 740);
    fx_lk_result(&f, fx_u64(&f, un, "id"), PV_LK_FAILED); /* a timeout: applied or not */
    fx_run_to(&f, 2000);
    /* TR1 is wanted again and its state at LiveKit is unknown: subscribe */
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    CHECK(FX_FIND_STEP(&f, "sub=0") < 0);
    fx_fini(&f);
}

/* A restarted daemon: the players are still in LiveKit, but the webhooks
 * that announced them and their tracks went to the old process. The room's
 * first ListParticipants goes out livekit_backoff_min_ms after the room is
 * created (not a whole reconcile interval later), and a pair in range is
 * subscribed as soon as it answers. */
static void test_first_list_soon_after_room_created(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.audience_ack_deadline_ms = 100000000; /* no sockets here */
    fx f;
    fx_init(&f, &cfg);
    f.now_ms = 1000;
    fx_session(&f, 1, "r1", "L");
    fx_session(&f, 2, "r1", "s1");
    fx_pose(&f, "r1", "L", 0, 0, 0);
    fx_pose(&f, "r1", "s1", 3, 0, 0);
    fx_run_to(&f, 1000 + cfg.livekit_backoff_min_ms - 1);
    CHECK(FX_FIND(&f, "LIST room=r1") < 0);
    CHECK(FX_FIND(&f, "UPDATE") < 0); /* no track SID known yet */
    fx_run_to(&f, 1000 + cfg.livekit_backoff_min_ms);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    pv_lk_participant lp[2] = {{"L", "TRL", NULL}, {"s1", "TR7", NULL}};
    fx_list_answer(&f, lc, lp, 2);
    fx_run_to(&f, f.now_ms + cfg.recompute_interval_ms);
    CHECK(FX_FIND(&f, "CALL", "UPDATE room=r1 identity=L sub=1 ids=[TR7]") >= 0);
    CHECK(FX_FIND(&f, "CALL", "UPDATE room=r1 identity=s1 sub=1 ids=[TRL]") >= 0);
    /* then the regular interval */
    int64_t t = 1000 + cfg.livekit_backoff_min_ms;
    fx_run_to(&f, t + cfg.livekit_reconcile_interval_ms - 1);
    CHECK(fx_count_from(&f, 0, "LIST room=r1") == 1);
    fx_run_to(&f, t + cfg.livekit_reconcile_interval_ms);
    CHECK(fx_count_from(&f, 0, "LIST room=r1") == 2);
    fx_fini(&f);
}

/* After a restart a listener found by ListParticipants may hold
 * subscriptions the old process made. Once its canHear is computed it
 * unsubscribes every microphone it should not hear, in chunks of the cap,
 * then subscribes what it should; a failed chunk is sent again. */
static void test_list_found_listener_sweeps_unknown_subscriptions(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.max_subscribed_voices = 2;
    cfg.max_inflight_calls = 64;
    cfg.audience_ack_deadline_ms = 100000000;
    fx f;
    fx_init(&f, &cfg);
    const char *ids[] = {"L", "s1", "s2", "s3", "s4", "s5", "s6"};
    for (int i = 0; i < 7; i++) {
        fx_session(&f, 1, "r1", ids[i]);
        fx_pose(&f, "r1", ids[i], i == 0 ? 0 : i == 1 ? 1 : 100 + 100 * i, 0, 0);
    }
    fx_run_to(&f, cfg.livekit_backoff_min_ms);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    pv_lk_participant lp[7] = {{"L", NULL, NULL},  {"s1", "T1", NULL}, {"s2", "T2", NULL},
                               {"s3", "T3", NULL}, {"s4", "T4", NULL}, {"s5", "T5", NULL},
                               {"s6", "T6", NULL}};
    fx_list_answer(&f, lc, lp, 7);
    fx_run_to(&f, 250); /* the first recompute: L hears s1 */
    int a = FX_FIND(&f, "CALL", "UPDATE room=r1 identity=L sub=0 ids=[T2,T3]");
    REQUIRE(a >= 0);
    CHECK(FX_FIND(&f, "identity=L sub=1") < 0); /* unsubscribe first */
    fx_lk_result(&f, fx_u64(&f, a, "id"), PV_LK_FAILED);
    fx_run_to(&f, f.now_ms + cfg.livekit_backoff_min_ms);
    int b = FX_FIND_STEP(&f, "CALL", "UPDATE room=r1 identity=L sub=0 ids=[T2,T3]"); /* again */
    REQUIRE(b >= 0);
    fx_lk_result(&f, fx_u64(&f, b, "id"), PV_LK_OK);
    int c2 = FX_FIND_STEP(&f, "CALL", "UPDATE room=r1 identity=L sub=0 ids=[T4,T5]");
    REQUIRE(c2 >= 0);
    fx_lk_result(&f, fx_u64(&f, c2, "id"), PV_LK_OK);
    int c3 = FX_FIND_STEP(&f, "CALL", "UPDATE room=r1 identity=L sub=0 ids=[T6]");
    REQUIRE(c3 >= 0);
    fx_lk_result(&f, fx_u64(&f, c3, "id"), PV_LK_OK);
    int d = FX_FIND_STEP(&f, "CALL", "UPDATE room=r1 identity=L sub=1 ids=[T1]");
    REQUIRE(d >= 0);
    fx_lk_result(&f, fx_u64(&f, d, "id"), PV_LK_OK);
    /* done: a later join webhook of a fresh connection needs no sweep */
    int mark = f.n_lines;
    fx_run_to(&f, f.now_ms + 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "identity=L") < 0);
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "L", NULL, 50);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 51);
    fx_run_to(&f, f.now_ms + 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "identity=L sub=0") < 0);
    CHECK(FX_FIND_AFTER(&f, mark, "identity=L sub=1 ids=[T1]") >= 0);
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_list_found_listener_sweeps_unknown_subscriptions);
    T_RUN(test_first_list_soon_after_room_created);
    T_RUN(test_failed_call_leaves_entries_uncertain);
    T_RUN(test_list_failure_backs_off);
    T_RUN(test_call_sids_survive_same_step_change);
    T_RUN(test_unsubscribe_before_subscribe);
    T_RUN(test_backoff_then_success);
    T_RUN(test_not_found_until_joined);
    T_RUN(test_joined_resets_applied);
    T_RUN(test_unknown_call_id_ignored);
    T_RUN(test_inflight_bound_and_fairness);
    T_RUN(test_list_participants_reconciles);
    return t_done("core_livekit");
}
