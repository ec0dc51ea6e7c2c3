/* test_core_socket.c - policy sockets: auth, snapshot, delta chain,
 * snapshot.request, replacement, auth deadline, pose batches to clients. */
#include "core_fix.h"

/* Two participants 10 m apart, both connected. */
static void setup_pair(fx *f) {
    fx_session(f, 1, "r1", "a");
    fx_session(f, 2, "r1", "b");
    fx_pose(f, "r1", "a", 0, 0, 0);
    fx_pose(f, "r1", "b", 10, 0, 0);
    fx_connect(f, 1, "r1", "a");
    fx_connect(f, 2, "r1", "b");
}

static void test_auth_sends_snapshot_audience(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_open(&f, 9);
    fx_auth(&f, 9, "r1", "a");
    int s = FX_FIND_STEP(&f, "SEND conn=9 SNAPSHOT room=r1 pid=a", "ids=[]");
    int a = FX_FIND_STEP(&f, "SEND conn=9 AUDIENCE room=r1 pid=a", "ids=[]");
    REQUIRE(s >= 0 && a > s);
    CHECK(fx_u64(&f, s, "rev") == pv_core_room_revision(f.core, "r1"));
    CHECK(FX_FIND_STEP(&f, "LOG 1 socket auth ok", "conn=9") >= 0);
    CHECK(FX_FIND_STEP(&f, "POSE_BATCH") < 0); /* hears nobody */
    fx_fini(&f);
}

static void test_auth_failures(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_open(&f, 1);
    fx_auth(&f, 1, "nope", "a");
    CHECK(FX_FIND_STEP(&f, "SEND conn=1 ERROR code=ROOM_NOT_FOUND") >= 0);
    CHECK(FX_FIND_STEP(&f, "CLOSE conn=1 code=1008") >= 0);
    fx_open(&f, 2);
    fx_auth(&f, 2, "r1", "ghost");
    CHECK(FX_FIND_STEP(&f, "SEND conn=2 ERROR code=PARTICIPANT_NOT_FOUND") >= 0);
    CHECK(FX_FIND_STEP(&f, "CLOSE conn=2 code=1008") >= 0);
    /* messages on unknown / unauthenticated connections are ignored */
    fx_open(&f, 3);
    fx_msg(&f, 3, PV_CMSG_SNAPSHOT_REQUEST, 0);
    CHECK(FX_FIND_STEP(&f, "SEND") < 0);
    fx_msg(&f, 77, PV_CMSG_SNAPSHOT_REQUEST, 0);
    CHECK(FX_FIND_STEP(&f, "SEND") < 0);
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.connections, 1);
    fx_fini(&f);
}

static void test_auth_deadline(void) {
    fx f;
    fx_init(&f, NULL);
    f.now_ms = 100;
    fx_open(&f, 4);
    CHECK_EQ_INT(f.out.wake_at_ms, 100 + f.cfg.socket_auth_deadline_ms);
    fx_run_to(&f, 100 + f.cfg.socket_auth_deadline_ms - 1);
    CHECK(FX_FIND(&f, "CLOSE conn=4") < 0);
    fx_run_to(&f, 100 + f.cfg.socket_auth_deadline_ms);
    CHECK(FX_FIND_STEP(&f, "CLOSE conn=4 code=1008 reason=auth timeout") >= 0);
    fx_closed(&f, 4); /* the shell's close report for it is ignored */
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.connections, 0);
    fx_fini(&f);
}

static void test_snapshot_then_delta_chain(void) {
    fx f;
    fx_init(&f, NULL);
    setup_pair(&f);
    fx_run_to(&f, 250);
    int d = FX_FIND(&f, "SEND conn=1 DELTA", "ids=[b]");
    REQUIRE(d >= 0);
    int snap = FX_FIND(&f, "SEND conn=1 SNAPSHOT");
    CHECK_EQ_INT(fx_u64(&f, d, "prev"), fx_u64(&f, snap, "rev"));
    CHECK(fx_u64(&f, d, "rev") > fx_u64(&f, snap, "rev"));
    CHECK_EQ_INT(fx_u64(&f, d, "rev"), pv_core_room_revision(f.core, "r1"));
    int d2 = FX_FIND(&f, "SEND conn=2 DELTA", "ids=[a]");
    CHECK_EQ_INT(fx_u64(&f, d2, "rev"), fx_u64(&f, d, "rev")); /* one revision per recompute */
    /* b walks away: a second delta chains on the first */
    f.now_ms = 300;
    fx_pose(&f, "r1", "b", 100, 0, 0);
    fx_run_to(&f, 500);
    int d3 = FX_FIND_AFTER(&f, d + 1, "SEND conn=1 DELTA", "ids=[]");
    REQUIRE(d3 >= 0);
    CHECK_EQ_INT(fx_u64(&f, d3, "prev"), fx_u64(&f, d, "rev"));
    CHECK_EQ_INT(fx_u64(&f, d3, "rev"), fx_u64(&f, d, "rev") + 1);
    /* snapshot.request: the current set at the current revision */
    fx_msg(&f, 1, PV_CMSG_SNAPSHOT_REQUEST, 0);
    int s2 = FX_FIND_STEP(&f, "SEND conn=1 SNAPSHOT", "ids=[]");
    REQUIRE(s2 >= 0);
    CHECK_EQ_INT(fx_u64(&f, s2, "rev"), fx_u64(&f, d3, "rev"));
    fx_fini(&f);
}

static void test_replace_connection(void) {
    fx f;
    fx_init(&f, NULL);
    setup_pair(&f);
    fx_run_to(&f, 250);
    fx_open(&f, 11);
    fx_auth(&f, 11, "r1", "a");
    CHECK(FX_FIND_STEP(&f, "CLOSE conn=1 code=1008 reason=replaced") >= 0);
    CHECK(FX_FIND_STEP(&f, "SEND conn=11 SNAPSHOT", "ids=[b]") >= 0);
    CHECK(FX_FIND_STEP(&f, "SEND conn=11 POSE_BATCH", "poses=[b@10,0,0]") >= 0);
    fx_closed(&f, 1); /* late close of the replaced socket: no effect on a */
    f.now_ms = 300;
    fx_pose(&f, "r1", "b", 200, 0, 0);
    fx_run_to(&f, 500);
    CHECK(FX_FIND_STEP(&f, "SEND conn=11 DELTA", "ids=[]") >= 0 ||
          FX_FIND(&f, "SEND conn=11 DELTA", "ids=[]") >= 0);
    CHECK(FX_FIND(&f, "SEND conn=1 DELTA", "ids=[]") < 0);
    fx_fini(&f);
}

static void test_pose_batches_only_on_change(void) {
    fx f;
    fx_init(&f, NULL);
    setup_pair(&f);
    fx_run_to(&f, 250); /* recompute: a hears b */
    fx_run_to(&f, 500); /* first batch round after the set changed */
    int first = FX_FIND(&f, "SEND conn=1 POSE_BATCH", "poses=[b@10,0,0]");
    REQUIRE(first >= 0);
    int mark = f.n_lines;
    fx_run_to(&f, 1500); /* nothing moved: no batch */
    CHECK(FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH") < 0);
    f.now_ms = 1600;
    fx_pose(&f, "r1", "b", 11, 0, 0);
    fx_run_to(&f, 1750);
    CHECK(FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH", "poses=[b@11,0,0]") >= 0);
    fx_fini(&f);
}

/* A batch round follows the pose that calls for it, at a rate of one round
 * per pose_batch_interval_ms (250) with a tolerance of 125 ms (GCRA). */
static void test_pose_batch_follows_ingest(void) {
    fx f;
    fx_init(&f, NULL);
    setup_pair(&f);
    fx_run_to(&f, 250);  /* recompute: a hears b, batch round */
    fx_run_to(&f, 1130); /* the shell ticks whenever the core asks */
    int mark = f.n_lines;
    f.now_ms = 1130;
    fx_pose(&f, "r1", "b", 11, 0, 0);
    fx_run_to(&f, 1130);
    int b1 = FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH", "poses=[b@11,0,0]");
    REQUIRE(b1 >= 0);
    CHECK_EQ_INT(fx_u64(&f, b1, "ts") - FX_WALL0, 1130); /* no wait for a 4 Hz tick */
    fx_run_to(&f, 1200);
    mark = f.n_lines;
    f.now_ms = 1200; /* 70 ms later: the next round may come at 1130 + 250 - 125 */
    fx_pose(&f, "r1", "b", 12, 0, 0);
    fx_run_to(&f, 1254);
    CHECK(FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH") < 0);
    CHECK_EQ_INT(f.out.wake_at_ms, 1255);
    fx_run_to(&f, 1255);
    int b2 = FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH", "poses=[b@12,0,0]");
    REQUIRE(b2 >= 0);
    CHECK_EQ_INT(fx_u64(&f, b2, "ts") - FX_WALL0, 1255);
    /* the schedule never runs ahead: the third round waits for 1630 - 125 */
    fx_run_to(&f, 1260);
    mark = f.n_lines;
    f.now_ms = 1260;
    fx_pose(&f, "r1", "b", 13, 0, 0);
    f.now_ms = 1300; /* a second pose while one is scheduled rides with it */
    fx_pose(&f, "r1", "b", 14, 0, 0);
    fx_run_to(&f, 1504);
    CHECK(FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH") < 0);
    fx_run_to(&f, 1505);
    int b3 = FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH", "poses=[b@14,0,0]");
    REQUIRE(b3 >= 0);
    CHECK_EQ_INT(fx_u64(&f, b3, "ts") - FX_WALL0, 1505);
    CHECK(FX_FIND_AFTER(&f, b3 + 1, "SEND conn=1 POSE_BATCH") < 0);
    fx_fini(&f);
}

/* With recompute_on_pose, the recompute that follows each pose changes
 * canHear in the step its round starts: that change rides with the round,
 * so a game server posting every 250 ms gets every batch at once. */
static void test_pose_batch_steady_4hz(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.recompute_on_pose = 1;
    fx f;
    fx_init(&f, &cfg);
    setup_pair(&f);
    fx_run_to(&f, 1000);
    for (int k = 0; k < 8; k++) {
        int64_t t = 1003 + 250 * k; /* off the 25 ms recompute phases */
        fx_run_to(&f, t);
        f.now_ms = t;
        int mark = f.n_lines;
        /* alternate in and out of range: every recompute changes canHear */
        fx_pose(&f, "r1", "b", (k % 2) ? 10 : 30, 0, 0);
        fx_run_to(&f, t);
        int b = FX_FIND_AFTER(&f, mark, "SEND conn=1 POSE_BATCH");
        int d = FX_FIND_AFTER(&f, mark, "SEND conn=1 DELTA");
        CHECK(d >= 0);
        if (k % 2) { /* in range: a batch with b's new pose, at once */
            REQUIRE(b >= 0);
            CHECK_EQ_INT(fx_u64(&f, b, "ts") - FX_WALL0, t);
        }
    }
    fx_fini(&f);
}

static void test_wake_is_aligned(void) {
    fx f;
    fx_init(&f, NULL);
    f.now_ms = 1234;
    fx_session(&f, 1, "r1", "a");
    CHECK_EQ_INT(f.out.wake_at_ms, 1250);
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_auth_sends_snapshot_audience);
    T_RUN(test_auth_failures);
    T_RUN(test_auth_deadline);
    T_RUN(test_snapshot_then_delta_chain);
    T_RUN(test_replace_connection);
    T_RUN(test_pose_batches_only_on_change);
    T_RUN(test_pose_batch_follows_ingest);
    T_RUN(test_pose_batch_steady_4hz);
    T_RUN(test_wake_is_aligned);
    return t_done("core_socket");
}
