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
    T_RUN(test_wake_is_aligned);
    return t_done("core_socket");
}
