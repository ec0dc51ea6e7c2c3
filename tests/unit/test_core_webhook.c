/* test_core_webhook.c - LiveKit webhooks: duplicates and late deliveries are
 * no-ops, same-second ties, track events of an older connection, room
 * finished, unknown rooms and participants. */
#include "core_fix.h"

/* Listener L hears speaker s (publishing TR1); L's subscription applied. */
static void setup(fx *f) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.audience_ack_deadline_ms = 100000000;
    fx_init(f, &cfg);
    fx_session(f, 1, "r1", "L");
    fx_session(f, 1, "r1", "s");
    fx_webhook(f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 10);
    fx_webhook(f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 10);
    fx_webhook(f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR1", 10);
    fx_pose(f, "r1", "L", 0, 0, 0);
    fx_pose(f, "r1", "s", 1, 0, 0);
    fx_run_to(f, 250);
    int c = FX_FIND(f, "CALL", "identity=L sub=1 ids=[TR1]");
    REQUIRE(c >= 0);
    fx_lk_result(f, fx_u64(f, c, "id"), PV_LK_OK);
    pv_lk_participant lp[2] = {{"L", NULL, NULL}, {"s", "TR1", NULL}}; /* the room's first list */
    fx_list_answer(f, FX_FIND(f, "CALL", "LIST room=r1"), lp, 2);
}

static void test_duplicates_are_noops(void) {
    fx f;
    setup(&f);
    int mark = f.n_lines;
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 10);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 10);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR1", 10);
    fx_run_to(&f, 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL") < 0); /* nothing re-subscribed */
    fx_fini(&f);
}

static void test_late_join_after_leave_ignored(void) {
    fx f;
    setup(&f);
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "L", NULL, 20);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 15); /* older: ignored */
    int64_t t = f.now_ms;
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms);
    CHECK(pv_core_can_hear(f.core, "r1", "L", NULL, 0) == PV_ENOTFOUND);
    fx_fini(&f);
}

static void test_same_second_leave_wins(void) {
    fx f;
    setup(&f);
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "L", NULL, 10); /* same second as the join */
    int mark = f.n_lines;
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 10); /* duplicate of the old join */
    fx_run_to(&f, 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "identity=L") < 0);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 11); /* a real rejoin */
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    fx_fini(&f);
}

static void test_old_track_events_ignored(void) {
    fx f;
    setup(&f);
    int mark = f.n_lines;
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 30); /* s reconnected: TR1 gone */
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR1", 12);   /* late, old connection */
    fx_run_to(&f, 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL") < 0); /* no resubscribe, no needless unsubscribe */
    fx_webhook(&f, PV_WH_TRACK_UNPUBLISHED, "r1", "s", "TRx", 31); /* not its track: ignored */
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR2", 30);
    int c = FX_FIND_AFTER(&f, mark, "CALL", "identity=L sub=1 ids=[TR2]");
    REQUIRE(c >= 0);
    fx_lk_result(&f, fx_u64(&f, c, "id"), PV_LK_OK);
    fx_webhook(&f, PV_WH_TRACK_UNPUBLISHED, "r1", "s", "TR2", 29); /* older than publish */
    fx_run_to(&f, 2000);
    CHECK(FX_FIND_AFTER(&f, c + 1, "CALL") < 0);
    fx_webhook(&f, PV_WH_TRACK_UNPUBLISHED, "r1", "s", "TR2", 40);
    fx_run_to(&f, 3000);
    CHECK(FX_FIND_AFTER(&f, c + 1, "CALL") < 0); /* track gone: no unsubscribe needed */
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR3", 41);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR3]") >= 0);
    fx_fini(&f);
}

static void test_room_finished(void) {
    fx f;
    setup(&f);
    fx_webhook(&f, PV_WH_ROOM_FINISHED, "r1", NULL, NULL, 50);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 45); /* before the finish */
    int64_t t = f.now_ms;
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms);
    CHECK_EQ_INT(pv_core_room_revision(f.core, "r1"), 0); /* everyone's grace ran out */
    fx_fini(&f);
}

static void test_unknown_targets_logged(void) {
    fx f;
    setup(&f);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "nope", "L", NULL, 60);
    CHECK(FX_FIND_STEP(&f, "LOG 0 webhook for an unknown room") >= 0);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "ghost", NULL, 60);
    CHECK(FX_FIND_STEP(&f, "LOG 0 webhook for an unknown participant") >= 0);
    fx_fini(&f);
}

/* sim BUG-1: leave and rejoin within one second. The rejoin loses the tie,
 * so the core asks ListParticipants soon instead of in 10 s; a publishing,
 * unacked speaker found that way gets the publish deadline. */
static void test_same_second_rejoin_lists_soon(void) {
    fx f;
    setup(&f);
    f.now_ms = 1000;
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "s", NULL, 20);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 20);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR2", 20);
    fx_run_to(&f, 1000 + f.cfg.livekit_backoff_min_ms);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    pv_lk_participant lp[2] = {{"L", NULL, NULL}, {"s", "TR2", NULL}};
    fx_list_answer(&f, lc, lp, 2);
    CHECK(FX_FIND_STEP(&f, "CALL", "identity=L sub=1 ids=[TR2]") >= 0);
    fx_run_to(&f, f.now_ms + 5000);
    CHECK(FX_FIND(&f, "REMOVE") < 0); /* this suite's ack deadline is huge */
    fx_fini(&f);
}

static void test_same_second_rejoin_unacked_speaker_removed(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "s");
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 20);
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "s", NULL, 21);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 21);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR2", 21);
    fx_run_to(&f, f.cfg.livekit_backoff_min_ms);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    pv_lk_participant lp[1] = {{"s", "TR2", NULL}};
    fx_list_answer(&f, lc, lp, 1);
    int64_t t = f.now_ms;
    fx_run_to(&f, t + f.cfg.audience_ack_deadline_ms - 1);
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    fx_run_to(&f, t + f.cfg.audience_ack_deadline_ms);
    CHECK(FX_FIND_STEP(&f, "CALL", "REMOVE room=r1 identity=s") >= 0);
    fx_fini(&f);
}

/* sim seed 1228: a ListParticipants in flight while a same-second rejoin
 * is dropped and a publish arrives: the list still sets the presence (only
 * the track, which a webhook changed meanwhile, is left alone). */
static void test_list_in_flight_during_tie(void) {
    fx f;
    setup(&f);
    f.now_ms = 1000;
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "s", NULL, 20);
    fx_run_to(&f, f.cfg.livekit_backoff_min_ms + f.cfg.livekit_reconcile_interval_ms);
    int lc = FX_FIND_STEP(&f, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    f.now_ms += 10;
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "s", NULL, 20); /* loses the tie */
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "s", "TR2", 21);
    pv_lk_participant lp[2] = {{"L", NULL, NULL}, {"s", "TR2", NULL}};
    fx_list_answer(&f, lc, lp, 2);
    int64_t t = f.now_ms;
    fx_run_to(&f, t + f.cfg.livekit_backoff_min_ms);
    CHECK(FX_FIND_STEP(&f, "CALL", "LIST room=r1") >= 0); /* listed again: it may predate */
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms + 1000);
    CHECK(pv_core_can_hear(f.core, "r1", "s", NULL, 0) >= 0); /* present: no grace expiry */
    fx_fini(&f);
}

/* sim BUG-7: LiveKit dropped L and L reconnected, but participant_left and
 * participant_joined were lost; only the new connection's track_published
 * (a new SID) arrives. The new connection has no subscriptions: the core
 * must treat it as fresh and subscribe L again. */
static void test_new_mic_sid_is_a_fresh_connection(void) {
    fx f;
    setup(&f);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "L", "TL1", 10);
    fx_run_to(&f, 1000);
    CHECK(FX_FIND(&f, "new microphone SID") < 0); /* a first mic is not a reconnection */
    int mark = f.n_lines;
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "L", "TL1", 11); /* duplicate SID: nothing */
    fx_run_to(&f, 1500);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL") < 0);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "L", "TL2", 12);
    CHECK(FX_FIND_STEP(&f, "LOG 1 new microphone SID") >= 0);
    fx_run_to(&f, 2000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    fx_fini(&f);
}

/* The same when the first track_published came before participant_joined
 * (webhooks reorder): that mic belongs to the connection too. */
static void test_new_mic_sid_after_publish_before_join(void) {
    fx f;
    setup(&f);
    fx_webhook(&f, PV_WH_PARTICIPANT_LEFT, "r1", "L", NULL, 20);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "L", "TL1", 21);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "L", NULL, 21);
    fx_run_to(&f, 1000);
    int c = FX_FIND(&f, "CALL", "identity=L sub=1 ids=[TR1]", "id=");
    int last = fx_find_last(&f, "identity=L sub=1 ids=[TR1]", NULL);
    REQUIRE(c >= 0 && last >= 0);
    fx_lk_result(&f, fx_u64(&f, last, "id"), PV_LK_OK);
    int mark = f.n_lines;
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "L", "TL2", 23); /* joins of L lost */
    CHECK(FX_FIND_STEP(&f, "LOG 1 new microphone SID") >= 0);
    fx_run_to(&f, 2000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    fx_fini(&f);
}

/* A webhook carrying LiveKit's participant SID (participant.sid). */
static void wh_sid(fx *f, pv_webhook_kind kind, const char *id, const char *track, int64_t t,
                   const char *psid) {
    pv_event ev = {.type = PV_EV_WEBHOOK};
    ev.u.webhook = (pv_webhook){kind, "r1", id, track, t, psid};
    REQUIRE(fx_step(f, &ev) == 0);
}

/* setup() with participant SIDs: L is connection PA_L1 and never published. */
static void setup_sid(fx *f) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.audience_ack_deadline_ms = 100000000;
    fx_init(f, &cfg);
    fx_session(f, 1, "r1", "L");
    fx_session(f, 1, "r1", "s");
    wh_sid(f, PV_WH_PARTICIPANT_JOINED, "L", NULL, 10, "PA_L1");
    wh_sid(f, PV_WH_PARTICIPANT_JOINED, "s", NULL, 10, "PA_s1");
    wh_sid(f, PV_WH_TRACK_PUBLISHED, "s", "TR1", 10, "PA_s1");
    fx_pose(f, "r1", "L", 0, 0, 0);
    fx_pose(f, "r1", "s", 1, 0, 0);
    fx_run_to(f, 250);
    int c = FX_FIND(f, "CALL", "identity=L sub=1 ids=[TR1]");
    REQUIRE(c >= 0);
    fx_lk_result(f, fx_u64(f, c, "id"), PV_LK_OK);
    pv_lk_participant lp[2] = {{"L", NULL, "PA_L1"}, {"s", "TR1", "PA_s1"}}; /* the first list */
    fx_list_answer(f, FX_FIND(f, "CALL", "LIST room=r1"), lp, 2);
}

/* BUG-7b: L's connection was re-made and its leave, join AND the old
 * connection's publish were lost: the first mic SID the core sees is the new
 * connection's, but its participant SID differs -> fresh, re-subscribed. */
static void test_new_participant_sid_in_webhook_is_fresh(void) {
    fx f;
    setup_sid(&f);
    int mark = f.n_lines;
    wh_sid(&f, PV_WH_TRACK_PUBLISHED, "L", "TL1", 10, "PA_L1"); /* same connection: nothing */
    fx_run_to(&f, 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL", "identity=L") < 0);
    fx_webhook(&f, PV_WH_TRACK_UNPUBLISHED, "r1", "L", "TL1", 11); /* no SID: as before */
    wh_sid(&f, PV_WH_TRACK_PUBLISHED, "L", "TL2", 12, "PA_L2");
    CHECK(FX_FIND_STEP(&f, "LOG 1 new participant SID") >= 0);
    fx_run_to(&f, 2000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    fx_fini(&f);
}

/* The same learned from ListParticipants (no webhook at all). */
static void test_new_participant_sid_in_list_is_fresh(void) {
    fx f;
    setup_sid(&f);
    int mark = f.n_lines;
    fx_run_to(&f, f.cfg.livekit_reconcile_interval_ms + 1000);
    int lc = FX_FIND_AFTER(&f, mark, "CALL", "LIST room=r1");
    REQUIRE(lc >= 0);
    pv_lk_participant lp[2] = {{"L", NULL, "PA_L1"}, {"s", "TR1", "PA_s1"}};
    fx_list_answer(&f, lc, lp, 2);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL", "identity=L") < 0); /* same connection */
    fx_run_to(&f, f.now_ms + f.cfg.livekit_reconcile_interval_ms + 1000);
    lc = fx_find_last(&f, "LIST room=r1", NULL);
    REQUIRE(lc > mark);
    lp[0].participant_sid = "PA_L2";
    fx_list_answer(&f, lc, lp, 2);
    CHECK(FX_FIND_STEP(&f, "LOG 1 new participant SID") >= 0);
    fx_run_to(&f, f.now_ms + 1000);
    CHECK(FX_FIND_AFTER(&f, mark, "CALL", "identity=L sub=1 ids=[TR1]") >= 0);
    fx_fini(&f);
}

/* A late participant_left of the OLD connection, in the same second as the
 * new connection's join, must not make the new one absent. */
static void test_late_leave_of_old_connection_ignored(void) {
    fx f;
    setup_sid(&f);
    wh_sid(&f, PV_WH_PARTICIPANT_JOINED, "L", NULL, 11, "PA_L2");
    wh_sid(&f, PV_WH_PARTICIPANT_LEFT, "L", NULL, 11, "PA_L1");
    wh_sid(&f, PV_WH_PARTICIPANT_JOINED, "L", NULL, 10, "PA_L1"); /* older join: no reset */
    int64_t t = f.now_ms;
    fx_run_to(&f, t + f.cfg.reconnect_grace_ms + 1000);
    CHECK(pv_core_can_hear(f.core, "r1", "L", NULL, 0) >= 0); /* still present */
    CHECK(FX_FIND(&f, "CALL", "LIST room=r1") >= 0);          /* LiveKit is asked */
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_new_participant_sid_in_webhook_is_fresh);
    T_RUN(test_new_participant_sid_in_list_is_fresh);
    T_RUN(test_late_leave_of_old_connection_ignored);
    T_RUN(test_new_mic_sid_is_a_fresh_connection);
    T_RUN(test_new_mic_sid_after_publish_before_join);
    T_RUN(test_list_in_flight_during_tie);
    T_RUN(test_same_second_rejoin_lists_soon);
    T_RUN(test_same_second_rejoin_unacked_speaker_removed);
    T_RUN(test_duplicates_are_noops);
    T_RUN(test_late_join_after_leave_ignored);
    T_RUN(test_same_second_leave_wins);
    T_RUN(test_old_track_events_ignored);
    T_RUN(test_room_finished);
    T_RUN(test_unknown_targets_logged);
    return t_done("core_webhook");
}
