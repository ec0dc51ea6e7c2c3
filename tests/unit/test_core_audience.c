/* test_core_audience.c - the speaker allow-list protocol: AUDIENCE on
 * change, acks, the shrink deadline and REMOVE_PARTICIPANT. */
#include "core_fix.h"

/* Speaker a (publishing, acked) and listener b in range; both connected. */
static void setup(fx *f) {
    fx_session(f, 1, "r1", "a");
    fx_session(f, 1, "r1", "b");
    fx_connect(f, 1, "r1", "a");
    fx_connect(f, 2, "r1", "b");
    fx_ack_last_audience(f, 1);
    fx_webhook(f, PV_WH_PARTICIPANT_JOINED, "r1", "a", NULL, 1);
    fx_webhook(f, PV_WH_TRACK_PUBLISHED, "r1", "a", "TR_a", 1);
    fx_pose(f, "r1", "a", 0, 0, 0);
    fx_pose(f, "r1", "b", 5, 0, 0);
    fx_run_to(f, 250);
    fx_ack_last_audience(f, 1); /* the audience [b], re-sent for the fresh connection */
}

static int64_t shrink(fx *f, int *audience_line) {
    f->now_ms = 260;
    fx_pose(f, "r1", "b", 500, 0, 0);
    fx_run_to(f, 500);
    *audience_line = FX_FIND_STEP(f, "SEND conn=1 AUDIENCE", "ids=[]");
    return 500;
}

static void test_growth_sends_audience_no_deadline(void) {
    fx f;
    fx_init(&f, NULL);
    setup(&f);
    int au = FX_FIND(&f, "SEND conn=1 AUDIENCE", "ids=[b]");
    REQUIRE(au >= 0);
    CHECK_EQ_INT(fx_u64(&f, au, "rev"), pv_core_room_revision(f.core, "r1"));
    fx_run_to(&f, 10000); /* never acked: growth needs no ack */
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    fx_fini(&f);
}

static void test_shrink_acked_in_time(void) {
    fx f;
    fx_init(&f, NULL);
    setup(&f);
    int au;
    int64_t t = shrink(&f, &au);
    REQUIRE(au >= 0);
    fx_run_to(&f, t + f.cfg.audience_ack_deadline_ms - 1);
    fx_msg(&f, 1, PV_CMSG_AUDIENCE_ACK, fx_u64(&f, au, "rev"));
    fx_run_to(&f, t + 10 * f.cfg.audience_ack_deadline_ms);
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.speakers_removed, 0);
    fx_fini(&f);
}

static void test_shrink_not_acked_removes_speaker(void) {
    fx f;
    fx_init(&f, NULL);
    setup(&f);
    int au;
    int64_t t = shrink(&f, &au);
    REQUIRE(au >= 0);
    /* an ack of an older revision does not count */
    fx_msg(&f, 1, PV_CMSG_AUDIENCE_ACK, fx_u64(&f, au, "rev") - 1);
    fx_run_to(&f, t + f.cfg.audience_ack_deadline_ms - 1);
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    fx_run_to(&f, t + f.cfg.audience_ack_deadline_ms);
    int rm = FX_FIND_STEP(&f, "CALL", "REMOVE room=r1 identity=a");
    REQUIRE(rm >= 0);
    CHECK_EQ_INT(f.now_ms, t + f.cfg.audience_ack_deadline_ms);
    CHECK(FX_FIND_STEP(&f, "LOG 2 speaker removed: audience not acknowledged", "pid=a") >= 0);
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.speakers_removed, 1);
    fx_lk_result(&f, fx_u64(&f, rm, "id"), PV_LK_OK);
    fx_run_to(&f, t + 20000);
    CHECK_EQ_INT(fx_count_from(&f, 0, "REMOVE room"), 1);
    fx_fini(&f);
}

static void test_publish_without_ack_has_deadline(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_connect(&f, 1, "r1", "a");
    f.now_ms = 100;
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "a", NULL, 1);
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "a", "TR_a", 1);
    fx_run_to(&f, 100 + f.cfg.audience_ack_deadline_ms - 1);
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    fx_run_to(&f, 100 + f.cfg.audience_ack_deadline_ms);
    CHECK(FX_FIND_STEP(&f, "REMOVE room=r1 identity=a") >= 0);
    fx_fini(&f);
}

static void test_publish_after_ack_no_deadline(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_connect(&f, 1, "r1", "a");
    int au = FX_FIND(&f, "SEND conn=1 AUDIENCE", "ids=[]");
    REQUIRE(au >= 0);
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "a", NULL, 1);
    fx_run_to(&f, 250); /* fresh connection: the audience comes again, newer revision */
    int au2 = FX_FIND_STEP(&f, "SEND conn=1 AUDIENCE", "ids=[]");
    REQUIRE(au2 >= 0);
    CHECK(fx_u64(&f, au2, "rev") > fx_u64(&f, au, "rev"));
    fx_msg(&f, 1, PV_CMSG_AUDIENCE_ACK, fx_u64(&f, au2, "rev"));
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "a", "TR_a", 1);
    fx_run_to(&f, 30000);
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    /* acks of revisions never sent are ignored with a warning */
    fx_msg(&f, 1, PV_CMSG_AUDIENCE_ACK, fx_u64(&f, au, "rev") + 1000);
    CHECK(FX_FIND_STEP(&f, "audience ack for an unknown revision") >= 0);
    fx_fini(&f);
}

static void test_audience_lists_sorted_listeners(void) {
    fx f;
    fx_init(&f, NULL);
    const char *ids[] = {"s", "l3", "l1", "l2"};
    for (int i = 0; i < 4; i++)
        fx_session(&f, 1, "r1", ids[i]);
    fx_connect(&f, 1, "r1", "s");
    for (int i = 0; i < 4; i++)
        fx_pose(&f, "r1", ids[i], i, 0, 0);
    fx_run_to(&f, 250);
    CHECK(FX_FIND(&f, "SEND conn=1 AUDIENCE room=r1 pid=s", "ids=[l1,l2,l3]") >= 0);
    fx_fini(&f);
}

/* sim BUG-3: LiveKit keeps allow-lists per connection. After a fresh
 * connection (LiveKit restart) the speaker gets its audience again under a
 * new revision and, publishing, must ack it. */
static void test_fresh_connection_resends_audience(void) {
    fx f;
    fx_init(&f, NULL);
    setup(&f);
    f.now_ms = 1000;
    int mark = f.n_lines;
    fx_webhook(&f, PV_WH_PARTICIPANT_JOINED, "r1", "a", NULL, 50); /* a restart */
    fx_webhook(&f, PV_WH_TRACK_PUBLISHED, "r1", "a", "TR_a2", 50);
    fx_run_to(&f, 1250);
    int au = FX_FIND_AFTER(&f, mark, "SEND conn=1 AUDIENCE", "ids=[b]");
    REQUIRE(au >= 0);
    CHECK_EQ_INT(fx_u64(&f, au, "rev"), pv_core_room_revision(f.core, "r1"));
    fx_run_to(&f, 1250 + f.cfg.audience_ack_deadline_ms - 1);
    CHECK(FX_FIND_AFTER(&f, mark, "REMOVE") < 0);
    fx_run_to(&f, 1250 + f.cfg.audience_ack_deadline_ms);
    CHECK(FX_FIND_STEP(&f, "CALL", "REMOVE room=r1 identity=a") >= 0);
    fx_fini(&f);
}

/* sim BUG-2: a deadline that started while the speaker had no socket counts
 * from the AUDIENCE sent at its reconnect (once). */
static void test_deadline_counts_from_reconnect(void) {
    fx f;
    fx_init(&f, NULL);
    setup(&f);
    f.now_ms = 1000;
    fx_closed(&f, 1); /* a loses its socket, stays in LiveKit, publishing */
    fx_pose(&f, "r1", "b", 500, 0, 0);
    fx_run_to(&f, 1250); /* a's audience shrinks while it has no socket */
    f.now_ms = 3000;
    fx_connect(&f, 3, "r1", "a"); /* back, 1750 ms into the 2000 ms deadline */
    int au = FX_FIND_STEP(&f, "SEND conn=3 AUDIENCE", "ids=[]");
    REQUIRE(au >= 0);
    fx_run_to(&f, 3000 + f.cfg.audience_ack_deadline_ms - 1);
    CHECK(FX_FIND(&f, "REMOVE") < 0);
    /* reconnecting again does not stretch it a second time */
    fx_closed(&f, 3);
    fx_connect(&f, 4, "r1", "a");
    fx_run_to(&f, 3000 + f.cfg.audience_ack_deadline_ms);
    CHECK(FX_FIND_STEP(&f, "CALL", "REMOVE room=r1 identity=a") >= 0);
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_fresh_connection_resends_audience);
    T_RUN(test_deadline_counts_from_reconnect);
    T_RUN(test_growth_sends_audience_no_deadline);
    T_RUN(test_shrink_acked_in_time);
    T_RUN(test_shrink_not_acked_removes_speaker);
    T_RUN(test_publish_without_ack_has_deadline);
    T_RUN(test_publish_after_ack_no_deadline);
    T_RUN(test_audience_lists_sorted_listeners);
    return t_done("core_audience");
}
