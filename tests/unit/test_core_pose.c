/* test_core_pose.c - pose ingest (validation, staleness, ordering, unknown)
 * and audibility through the core (hysteresis, cap, pose-less, epochs). */
#include <math.h>

#include "core_fix.h"

static void poses(fx *f, const char *room, pv_pose_in *p, uint32_t n) {
    pv_event ev = {.type = PV_EV_POSE_BATCH};
    ev.u.poses.request_id = 5;
    ev.u.poses.room_id = room;
    ev.u.poses.poses = p;
    ev.u.poses.count = n;
    REQUIRE(fx_step(f, &ev) == 0);
}

static pv_pose_in pose_at(const char *pid, double x, int64_t ts) {
    pv_pose_in p = {.participant_id = pid, .position = {x, 0, 0}, .timestamp_ms = ts};
    return p;
}

static void test_counts_and_staleness(void) {
    fx f;
    fx_init(&f, NULL);
    f.now_ms = 10000;
    fx_session(&f, 1, "r1", "a");
    fx_session(&f, 1, "r1", "b");
    int64_t w = FX_WALL0 + f.now_ms;
    pv_pose_in p[6] = {
        pose_at("a", 1, w),                               /* ok */
        pose_at("a", 2, w),                               /* not newer than a's latest */
        pose_at("b", 3, w - f.cfg.pose_staleness_ms - 1), /* too old */
        pose_at("b", 4, w + f.cfg.pose_future_ms + 1),    /* too far ahead */
        pose_at("zed", 5, w),                             /* unknown */
        pose_at("b", 6, w - f.cfg.pose_staleness_ms),     /* oldest accepted */
    };
    poses(&f, "r1", p, 6);
    int i = FX_FIND_STEP(&f, "POSES req=5 err=NONE acc=2 stale=3 unknown=1");
    REQUIRE(i >= 0);
    CHECK_EQ_INT(fx_u64(&f, i, "rev"), pv_core_room_revision(f.core, "r1"));
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.poses_accepted, 2);
    CHECK_EQ_INT(st.poses_stale, 3);
    pv_pose_in older = pose_at("a", 7, w - 5); /* older than a's latest: dropped */
    poses(&f, "r1", &older, 1);
    CHECK(FX_FIND_STEP(&f, "acc=0 stale=1") >= 0);
    fx_fini(&f);
}

static void test_invalid_batch_rejected_whole(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_session(&f, 1, "r1", "b");
    int64_t w = FX_WALL0 + f.now_ms;
    pv_pose_in p[2] = {pose_at("a", 1, w), pose_at("b", NAN, w)};
    poses(&f, "r1", p, 2);
    CHECK(FX_FIND_STEP(&f, "POSES req=5 err=INVALID_PAYLOAD acc=0") >= 0);
    p[1] = pose_at("b", 2e6, w);
    poses(&f, "r1", p, 2);
    CHECK(FX_FIND_STEP(&f, "POSES req=5 err=INVALID_PAYLOAD acc=0") >= 0);
    p[1] = pose_at("b", 1, w);
    p[1].has_orientation = 1;
    p[1].orientation.up.y = INFINITY;
    poses(&f, "r1", p, 2);
    CHECK(FX_FIND_STEP(&f, "POSES req=5 err=INVALID_PAYLOAD acc=0") >= 0);
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.poses_accepted, 0); /* a's valid pose was not applied either */
    poses(&f, "nope", p, 1);
    CHECK(FX_FIND_STEP(&f, "POSES req=5 err=ROOM_NOT_FOUND") >= 0);
    fx_fini(&f);
}

/* Moves b to x (a stays at 0) and runs to the next recompute. */
static void move_b(fx *f, double x) {
    f->now_ms += 10;
    fx_pose(f, "r1", "b", x, 0, 0);
    fx_run_to(f, pv_next_round(f->now_ms, f->cfg.recompute_interval_ms));
}

static void test_hysteresis_through_core(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_session(&f, 1, "r1", "b");
    fx_pose(&f, "r1", "a", 0, 0, 0);
    move_b(&f, 25); /* between radii, never in range: out */
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "b"), 0);
    move_b(&f, 24); /* enter */
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "b"), 1);
    const char *ids[4];
    CHECK_EQ_INT(pv_core_can_hear(f.core, "r1", "a", ids, 4), 1);
    CHECK_STR(ids[0], "b");
    move_b(&f, 26); /* still in: exit is at > 26 */
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "b"), 1);
    move_b(&f, 26.001);
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "b"), 0);
    CHECK_EQ_INT(pv_core_can_hear(f.core, "r1", "b", ids, 4), 0);
    move_b(&f, 25);
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "b"), 0);
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "nobody"), PV_ENOTFOUND);
    fx_fini(&f);
}

static void test_cap_prunes_farthest_ties_by_id(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.max_subscribed_voices = 3;
    fx f;
    fx_init(&f, &cfg);
    const char *ids[] = {"L", "s1", "s2", "s3", "s4", "s5"};
    double x[] = {0, 5, 1, 3, 3, 20};
    for (int i = 0; i < 6; i++)
        fx_session(&f, 1, "r1", ids[i]);
    for (int i = 0; i < 6; i++)
        fx_pose(&f, "r1", ids[i], x[i], 0, 0);
    fx_run_to(&f, 250);
    const char *out[8];
    REQUIRE(pv_core_can_hear(f.core, "r1", "L", out, 8) == 3);
    /* nearest three: s2 (1), then s3 and s4 tie at 3 -- both kept; sorted by id */
    CHECK_STR(out[0], "s2");
    CHECK_STR(out[1], "s3");
    CHECK_STR(out[2], "s4");
    CHECK(FX_FIND(&f, "SEND", "DELTA") < 0); /* nobody connected: no sends */
    pv_stats st;
    pv_core_stats(f.core, &st);
    CHECK_EQ_INT(st.pairs_in_range, 15); /* all 6 within 24 m of each other */
    fx_fini(&f);
}

static void test_cap_tie_break_by_id(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.max_subscribed_voices = 1;
    fx f;
    fx_init(&f, &cfg);
    fx_session(&f, 1, "r1", "m");
    fx_session(&f, 1, "r1", "zz");
    fx_session(&f, 1, "r1", "aa");
    fx_pose(&f, "r1", "m", 0, 0, 0);
    fx_pose(&f, "r1", "zz", 2, 0, 0);
    fx_pose(&f, "r1", "aa", -2, 0, 0);
    fx_run_to(&f, 250);
    const char *out[2];
    REQUIRE(pv_core_can_hear(f.core, "r1", "m", out, 2) == 1);
    CHECK_STR(out[0], "aa");
    fx_fini(&f);
}

static void test_poseless_hears_nobody(void) {
    fx f;
    fx_init(&f, NULL);
    fx_session(&f, 1, "r1", "a");
    fx_session(&f, 1, "r1", "b");
    fx_session(&f, 1, "r1", "c");
    fx_pose(&f, "r1", "a", 0, 0, 0);
    fx_pose(&f, "r1", "b", 1, 0, 0);
    fx_run_to(&f, 250);
    CHECK_EQ_INT(pv_core_can_hear(f.core, "r1", "a", NULL, 0), 1);
    CHECK_EQ_INT(pv_core_can_hear(f.core, "r1", "c", NULL, 0), 0);
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "c"), 0);
    fx_fini(&f);
}

static void test_recompute_on_pose(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.recompute_on_pose = 1;
    fx f;
    fx_init(&f, &cfg);
    fx_session(&f, 1, "r1", "a");
    fx_session(&f, 1, "r1", "b");
    f.now_ms = 10;
    fx_pose(&f, "r1", "a", 0, 0, 0);
    CHECK_EQ_INT(f.out.wake_at_ms, 10);
    fx_pose(&f, "r1", "b", 1, 0, 0);
    fx_tick(&f);
    CHECK_EQ_INT(pv_core_pair_in_range(f.core, "r1", "a", "b"), 1);
    CHECK(f.out.wake_at_ms > 10);
    fx_fini(&f);
}

static void test_revision_epoch_and_monotonic(void) {
    fx f;
    fx_init(&f, NULL);
    f.now_ms = 5;
    fx_session(&f, 1, "r1", "a");
    uint64_t r0 = pv_core_room_revision(f.core, "r1");
    CHECK_EQ_INT(r0, (uint64_t)(FX_WALL0 + 5) * 1000);
    CHECK(r0 < (1ull << 53));
    fx_session(&f, 1, "r1", "b");
    uint64_t last = r0;
    for (int i = 1; i < 20; i++) {
        f.now_ms += 10;
        fx_pose(&f, "r1", "a", 0, 0, 0);
        fx_pose(&f, "r1", "b", i % 2 ? 1 : 100, 0, 0);
        fx_run_to(&f, f.now_ms + 250);
        uint64_t r = pv_core_room_revision(f.core, "r1");
        CHECK(r == last + 1);
        last = r;
    }
    fx_fini(&f);
}

static void test_recreated_room_revision_above_old(void) {
    pv_config cfg;
    fx_cfg_small(&cfg);
    cfg.session_idle_ms = 1;
    fx f;
    fx_init(&f, &cfg);
    f.now_ms = 0;
    fx_session(&f, 1, "r1", "a");
    fx_session(&f, 1, "r1", "b");
    fx_pose(&f, "r1", "a", 0, 0, 0);
    fx_pose(&f, "r1", "b", 1, 0, 0);
    fx_run_to(&f, 0); /* same ms */
    uint64_t before = pv_core_room_revision(f.core, "r1");
    fx_run_to(&f, 1); /* idle expiry removes both: room gone */
    CHECK_EQ_INT(pv_core_room_revision(f.core, "r1"), 0);
    fx_session(&f, 2, "r1", "a");
    CHECK(pv_core_room_revision(f.core, "r1") > before);
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_counts_and_staleness);
    T_RUN(test_invalid_batch_rejected_whole);
    T_RUN(test_hysteresis_through_core);
    T_RUN(test_cap_prunes_farthest_ties_by_id);
    T_RUN(test_cap_tie_break_by_id);
    T_RUN(test_poseless_hears_nobody);
    T_RUN(test_recompute_on_pose);
    T_RUN(test_revision_epoch_and_monotonic);
    T_RUN(test_recreated_room_revision_above_old);
    return t_done("core_pose");
}
