/*
 * bench_core.c - the core through pv_core_step(), no IO: how many poses per
 * second the core applies (schema-checked batches of 100, as the HTTP
 * endpoint hands them over) and what a full 4 Hz room tick costs (recompute,
 * deltas, audiences, pose batches to every connected socket).
 *
 * A benchmark, not a test: it prints numbers (median of several runs) and
 * never fails on speed. Usage: bench_core [rooms players_per_room]
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pv.h"

#define WALL0_MS 1760000000000LL
#define BATCH    100
#define RUNS     5

typedef struct bench {
    pv_core *core;
    uint32_t rooms, per_room;
    int64_t now_ms;
    char (*room_ids)[16];
    char (*ids)[16];
    pv_pose_in *poses;
    uint64_t rng;
} bench;

static void *alloc_fn(void *ud, size_t n) {
    return calloc(1, n);
}
static void free_fn(void *ud, void *p) {
    free(p);
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* splitmix64: positions only; the core never sees this generator. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double uniform(uint64_t *s, double span) {
    return (double)(next_u64(s) >> 11) / 9007199254740992.0 * span;
}

static pv_out step(bench *b, pv_event *ev) {
    pv_out out;
    ev->now_ms = b->now_ms;
    ev->wall_ms = WALL0_MS + b->now_ms;
    if (pv_core_step(b->core, ev, &out) != 0) {
        fprintf(stderr, "bench_core: step failed\n");
        exit(1);
    }
    return out;
}

static void setup(bench *b) {
    pv_config cfg;
    pv_config_default(&cfg);
    cfg.max_rooms = b->rooms;
    cfg.max_participants = b->rooms * b->per_room;
    cfg.max_room_size = b->per_room;
    cfg.max_connections = b->rooms * b->per_room;
    pv_allocator a = {alloc_fn, free_fn, NULL};
    if (pv_core_new(&b->core, &cfg, &a) != 0) {
        fprintf(stderr, "bench_core: pv_core_new failed\n");
        exit(1);
    }
    uint32_t n = b->rooms * b->per_room;
    b->room_ids = calloc(b->rooms, sizeof(*b->room_ids));
    b->ids = calloc(n, sizeof(*b->ids));
    b->poses = calloc(BATCH, sizeof(*b->poses));
    for (uint32_t r = 0; r < b->rooms; r++)
        snprintf(b->room_ids[r], sizeof(b->room_ids[r]), "room%u", r);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(b->ids[i], sizeof(b->ids[i]), "p%05u", i);
        pv_event ev = {.type = PV_EV_SESSION_REQUEST};
        ev.u.session.request_id = i + 1;
        ev.u.session.room_id = b->room_ids[i / b->per_room];
        ev.u.session.participant_id = b->ids[i];
        step(b, &ev);
        pv_event op = {.type = PV_EV_SOCKET_OPEN};
        op.u.conn_id = i + 1;
        step(b, &op);
        pv_event au = {.type = PV_EV_SOCKET_AUTH};
        au.u.auth =
            (pv_socket_auth){i + 1, b->room_ids[i / b->per_room], b->ids[i], WALL0_MS + 600000};
        step(b, &au);
    }
}

/* Posts one batch of up to BATCH poses of room r (players first..first+count). */
static uint32_t post_batch(bench *b, uint32_t r, uint32_t first, uint32_t count, double side_m) {
    for (uint32_t k = 0; k < count; k++) {
        pv_pose_in *p = &b->poses[k];
        memset(p, 0, sizeof(*p));
        p->participant_id = b->ids[r * b->per_room + first + k];
        p->position = (pv_vec3){uniform(&b->rng, side_m), 1.7, uniform(&b->rng, side_m)};
        p->timestamp_ms = WALL0_MS + b->now_ms;
    }
    pv_event ev = {.type = PV_EV_POSE_BATCH};
    ev.u.poses = (pv_pose_batch){1, b->room_ids[r], b->poses, count};
    pv_out out = step(b, &ev);
    return out.count;
}

/* One 250 ms round: every room posts its poses, then ticks run until the
 * core has nothing due. Returns pose-ingest and tick nanoseconds. */
static void round_once(bench *b, double side_m, int64_t *ingest_ns, int64_t *tick_ns,
                       uint64_t *poses) {
    /* The tick first: any step runs the core's due work, so a tick measured
     * after the poses would be hidden inside the first pose batch. */
    b->now_ms += 250;
    int64_t t0 = mono_ns();
    pv_event tick = {.type = PV_EV_TICK};
    pv_out out = step(b, &tick);
    for (int guard = 0; out.wake_at_ms <= b->now_ms && guard < 1000; guard++)
        out = step(b, &tick);
    int64_t t1 = mono_ns();
    for (uint32_t r = 0; r < b->rooms; r++)
        for (uint32_t f = 0; f < b->per_room; f += BATCH) {
            uint32_t c = b->per_room - f < BATCH ? b->per_room - f : BATCH;
            post_batch(b, r, f, c, side_m);
            *poses += c;
        }
    *tick_ns += t1 - t0;
    *ingest_ns += mono_ns() - t1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void run(uint32_t rooms, uint32_t per_room, double side_m) {
    bench b = {.rooms = rooms, .per_room = per_room, .rng = 42};
    setup(&b);
    for (int w = 0; w < 8; w++) { /* warm-up: pairs form, sockets get snapshots */
        int64_t i = 0, t = 0;
        uint64_t p = 0;
        round_once(&b, side_m, &i, &t, &p);
    }
    int64_t rate[RUNS], tick_us[RUNS];
    for (int run_i = 0; run_i < RUNS; run_i++) {
        int64_t ingest = 0, tick = 0;
        uint64_t poses = 0;
        for (int k = 0; k < 20; k++)
            round_once(&b, side_m, &ingest, &tick, &poses);
        rate[run_i] = (int64_t)((double)poses * 1e9 / (double)ingest);
        tick_us[run_i] = tick / 20 / 1000;
    }
    qsort(rate, RUNS, sizeof(rate[0]), cmp_i64);
    qsort(tick_us, RUNS, sizeof(tick_us[0]), cmp_i64);
    pv_stats st;
    pv_core_stats(b.core, &st);
    printf("| %u x %u | %.0f x %.0f m | %" PRId64 " | %" PRId64 " | %u |\n", rooms, per_room,
           side_m, side_m, rate[RUNS / 2], tick_us[RUNS / 2], st.pairs_in_range);
    pv_core_free(b.core);
    free(b.room_ids);
    free(b.ids);
    free(b.poses);
}

int main(int argc, char **argv) {
    printf("core through pv_core_step (batches of %d poses, all participants on sockets, every "
           "player\n"
           "re-placed at random each 250 ms round: the worst case for deltas)\n",
           BATCH);
    printf("| rooms x players | arena | poses applied/s (median) | round tick us (median) | "
           "pairs in range |\n|---|---|---|---|---|\n");
    if (argc == 3) {
        run((uint32_t)atoi(argv[1]), (uint32_t)atoi(argv[2]), 200);
        return 0;
    }
    run(1, 100, 200);
    run(10, 100, 200);
    run(1, 1000, 632);
    run(100, 100, 200);
    return 0;
}
