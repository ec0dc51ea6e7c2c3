/* test_core_determinism.c - the same event script gives the same effects,
 * byte for byte; a small effect budget splits the work over several steps
 * (wake_at_ms = now) without changing or losing any of it. */
#include "core_fix.h"

static uint64_t rng_state;
static uint32_t rng(void) { /* xorshift64*: the test's own, seeded PRNG */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* A randomized but seeded script: sessions, sockets, webhooks, moving
 * poses, acks, LiveKit results (some failing), closes. */
static void script(fx *f, uint64_t seed, int64_t end_ms) {
    rng_state = seed;
    const char *rooms[] = {"ra", "rb"};
    char ids[24][16];
    for (int i = 0; i < 24; i++)
        snprintf(ids[i], sizeof(ids[i]), "p%02d", i);
    for (int i = 0; i < 24; i++) {
        fx_session(f, (uint64_t)i, rooms[i % 2], ids[i]);
        fx_connect(f, (uint32_t)i + 1, rooms[i % 2], ids[i]);
        fx_webhook(f, PV_WH_PARTICIPANT_JOINED, rooms[i % 2], ids[i], NULL, 1);
        char sid[16];
        snprintf(sid, sizeof(sid), "TR_%s", ids[i]);
        fx_webhook(f, PV_WH_TRACK_PUBLISHED, rooms[i % 2], ids[i], sid, 1);
    }
    double x[24] = {0};
    while (f->now_ms < end_ms) {
        int64_t next = f->now_ms + 1 + (int64_t)(rng() % 120);
        fx_run_to(f, next);
        int i = (int)(rng() % 24);
        switch (rng() % 6) {
        case 0:
        case 1:
            x[i] += (double)((int)(rng() % 41) - 20);
            fx_pose(f, rooms[i % 2], ids[i], x[i], 0, 0);
            break;
        case 2: { /* answer the oldest LiveKit call still visible in this step */
            int c = FX_FIND_STEP(f, "CALL");
            if (c >= 0) fx_lk_result(f, fx_u64(f, c, "id"), rng() % 4 ? PV_LK_OK : PV_LK_FAILED);
            break;
        }
        case 3: {
            int a = FX_FIND_STEP(f, "AUDIENCE");
            if (a >= 0)
                fx_msg(f, (uint32_t)fx_u64(f, a, "conn"), PV_CMSG_AUDIENCE_ACK,
                       fx_u64(f, a, "rev"));
            break;
        }
        case 4:
            fx_msg(f, (uint32_t)i + 1, PV_CMSG_SNAPSHOT_REQUEST, 0);
            break;
        default:
            fx_pose(f, rooms[i % 2], ids[i], x[i] + 0.5, 0, 0);
            break;
        }
    }
}

static void test_same_script_same_effects(void) {
    fx a, b;
    fx_init(&a, NULL);
    fx_init(&b, NULL);
    script(&a, 42, 8000);
    script(&b, 42, 8000);
    CHECK(a.n_lines > 500);
    CHECK_EQ_INT(a.n_lines, b.n_lines);
    int same = a.n_lines == b.n_lines;
    for (int i = 0; same && i < a.n_lines; i++)
        same = strcmp(a.lines[i], b.lines[i]) == 0;
    CHECK(same);
    CHECK(FX_FIND(&a, "DELTA") >= 0);
    CHECK(FX_FIND(&a, "CALL", "UPDATE") >= 0);
    fx_fini(&a);
    fx_fini(&b);
}

/* n participants in each of 3 rooms, all connected and in range. */
static void crowd(fx *f) {
    const char *rooms[] = {"r1", "r2", "r3"};
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 6; i++) {
            char id[16];
            snprintf(id, sizeof(id), "q%d", i);
            fx_session(f, 1, rooms[r], id);
            fx_connect(f, (uint32_t)(r * 10 + i + 1), rooms[r], id);
            fx_pose(f, rooms[r], id, i, 0, 0);
        }
}

static void test_budget_continues_work(void) {
    /* One phase per round, so both cores run every room at t=250 and only
     * the effect budget differs (phases are tested in test_round_phases). */
    pv_config cfg, cfg_big;
    fx_cfg_small(&cfg);
    cfg.round_slices = 1;
    cfg_big = cfg;
    cfg.max_effects_per_step = 16;
    fx small, big;
    fx_init(&small, &cfg);
    fx_init(&big, &cfg_big);
    crowd(&small);
    crowd(&big);
    fx_run_to(&small, cfg.livekit_backoff_min_ms); /* the rooms' first lists, alike */
    fx_run_to(&big, cfg.livekit_backoff_min_ms);
    int s0 = small.n_lines, b0 = big.n_lines;
    fx_run_to(&big, 250);
    small.now_ms = 250;
    fx_tick(&small);
    int steps = 1;
    CHECK(small.out.count <= 16 + 16);
    while (small.out.wake_at_ms == small.now_ms) {
        CHECK(small.out.count <= 16 + 16);
        fx_tick(&small);
        steps++;
        REQUIRE(steps < 100);
    }
    CHECK(steps > 2);
    /* the same effects, in the same order, just spread over steps */
    CHECK_EQ_INT(small.n_lines - s0, big.n_lines - b0);
    int same = small.n_lines - s0 == big.n_lines - b0;
    for (int i = 0; same && i < small.n_lines - s0; i++)
        same = strcmp(small.lines[s0 + i], big.lines[b0 + i]) == 0;
    CHECK(same);
    CHECK_EQ_INT(pv_core_room_revision(small.core, "r3"), pv_core_room_revision(big.core, "r3"));
    fx_fini(&small);
    fx_fini(&big);
}

/* Rooms take turns: with 10 phases of 25 ms, room slot k is recomputed at
 * k*25 ms past each 250 ms boundary, every room exactly once per round, and a
 * core that wakes late by a whole round catches every room up at once. */
static void test_round_phases(void) {
    fx f;
    fx_init(&f, NULL);
    CHECK_EQ_INT(f.cfg.round_slices, 10);
    crowd(&f);
    uint64_t rev0[3], rev[3];
    const char *rooms[3] = {"r1", "r2", "r3"};
    for (int r = 0; r < 3; r++)
        rev0[r] = pv_core_room_revision(f.core, rooms[r]);
    int seen_at[3] = {-1, -1, -1};
    for (int t = 25; t <= 250; t += 25) {
        fx_run_to(&f, t);
        for (int r = 0; r < 3; r++) {
            rev[r] = pv_core_room_revision(f.core, rooms[r]);
            if (rev[r] != rev0[r] && seen_at[r] < 0) seen_at[r] = t;
        }
    }
    /* every room changed (the crowd is in range) exactly in its own phase */
    int distinct = 1;
    for (int r = 0; r < 3; r++) {
        CHECK(seen_at[r] > 0);
        for (int q = 0; q < r; q++)
            distinct &= seen_at[q] != seen_at[r];
    }
    CHECK(distinct);
    fx_fini(&f);
}

int main(void) {
    T_RUN(test_same_script_same_effects);
    T_RUN(test_budget_continues_work);
    T_RUN(test_round_phases);
    return t_done("core_determinism");
}
