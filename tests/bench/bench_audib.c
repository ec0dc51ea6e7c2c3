/*
 * bench_audib.c - cost of one audibility recompute of one room, GRID vs
 * NAIVE, with players moving between ticks (so hysteresis state is carried
 * forward exactly as the core does). A benchmark, not a test: it prints
 * numbers and fails only if the two modes disagree.
 *
 * Per scenario: a few warm-up ticks, then `runs` runs of `ticks` ticks each;
 * each compute is timed alone with CLOCK_MONOTONIC (movement is not timed);
 * a run's cost is its mean per tick; the report is the median run.
 */
#include "audib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct scenario {
    const char *name;
    uint32_t n;
    double size_m;   /* square arena side (x and z) */
    double y_span_m; /* y uniform in [0, y_span_m] */
    double step_m;   /* random walk per tick per axis: uniform [-step, step] */
    int naive_runs, naive_ticks;
} scenario;

static const scenario scenarios[] = {
    {"100 in 200x200 m, y 1.5 m", 100, 200, 1.5, 1.25, 9, 200},
    {"1,000 in 632x632 m, y 1.5 m", 1000, 632, 1.5, 1.25, 7, 20},
    {"10,000 in 2,000x2,000 m, y 1.5 m", 10000, 2000, 1.5, 1.25, 3, 2},
    {"1,000 in 200x200 m, y 0-60 m (3D)", 1000, 200, 60, 1.25, 7, 20},
    {"dense: 1,000 in 100x100 m, y 1.5 m", 1000, 100, 1.5, 1.25, 7, 20},
    {"dense: 200 in 30x30 m, y 1.5 m (all hear all)", 200, 30, 1.5, 1.25, 9, 100},
};

#define GRID_RUNS 9
#define MAX_PAIRS 640000 /* the core default: 64 * max_participants (10,000) */
#define CAP       12

typedef struct state {
    uint64_t (*lists)[PV_AUDIB_K];
    uint64_t **list_ptr;
    uint16_t *in_count;
    uint32_t *hear;
    uint8_t *hear_count;
    pv_audib_room room;
    pv_audib *au;
} state;

static uint64_t rng = 0x243F6A8885A308D3ull;
static double urand(double lo, double hi) { /* splitmix64 */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * ((double)(z >> 11) / 9007199254740992.0);
}

static void *b_alloc(void *ud, size_t size) {
    return calloc(1, size);
}
static void b_free(void *ud, void *p) {
    free(p);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench_audib: out of memory\n");
        exit(1);
    }
    return p;
}

static void state_init(state *s, uint32_t n, const pv_vec3 *pos, const uint64_t *uid) {
    static const pv_allocator a = {b_alloc, b_free, NULL};
    s->lists = xcalloc(n, sizeof(*s->lists));
    s->list_ptr = xcalloc(n, sizeof(*s->list_ptr));
    for (uint32_t i = 0; i < n; i++)
        s->list_ptr[i] = s->lists[i];
    s->in_count = xcalloc(n, sizeof(uint16_t));
    s->hear = xcalloc((size_t)n * CAP, sizeof(uint32_t));
    s->hear_count = xcalloc(n, 1);
    s->room = (pv_audib_room){n, pos, uid, s->list_ptr, s->in_count, s->hear, s->hear_count};
    if (pv_audib_new(&s->au, n, MAX_PAIRS, CAP, 24.0, 26.0, &a) != 0) {
        fprintf(stderr, "bench_audib: pv_audib_new failed\n");
        exit(1);
    }
}

static void state_free(state *s) {
    pv_audib_free(s->au);
    free(s->lists);
    free(s->list_ptr);
    free(s->in_count);
    free(s->hear);
    free(s->hear_count);
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static void move(const scenario *sc, pv_vec3 *pos) {
    for (uint32_t i = 0; i < sc->n; i++) {
        pos[i].x = clampd(pos[i].x + urand(-sc->step_m, sc->step_m), 0, sc->size_m);
        pos[i].z = clampd(pos[i].z + urand(-sc->step_m, sc->step_m), 0, sc->size_m);
        pos[i].y = clampd(pos[i].y + urand(-0.2, 0.2), 0, sc->y_span_m);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over runs of the mean compute time per tick, in microseconds. */
static double time_mode(const scenario *sc, state *s, pv_vec3 *pos, pv_audib_mode mode, int runs,
                        int ticks) {
    double per_run[16];
    for (int r = 0; r < runs; r++) {
        double sum = 0;
        for (int t = 0; t < ticks; t++) {
            move(sc, pos);
            double t0 = now_us();
            int rc = pv_audib_compute(s->au, &s->room, mode);
            sum += now_us() - t0;
            if (rc < 0) exit(1);
        }
        per_run[r] = sum / ticks;
    }
    qsort(per_run, (size_t)runs, sizeof(double), cmp_double);
    return per_run[runs / 2];
}

/* 1 if both states hold identical lists and canHear. */
static int same(const state *a, const state *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (a->in_count[i] != b->in_count[i] || a->hear_count[i] != b->hear_count[i]) return 0;
        if (memcmp(a->lists[i], b->lists[i], a->in_count[i] * sizeof(uint64_t))) return 0;
        if (memcmp(&a->hear[i * CAP], &b->hear[i * CAP], a->hear_count[i] * sizeof(uint32_t)))
            return 0;
    }
    return 1;
}

/* Returns 0, or 1 if grid and naive disagree on the same input. */
static int run(const scenario *sc, int grid_only) {
    pv_vec3 *pos = xcalloc(sc->n, sizeof(pv_vec3));
    uint64_t *uid = xcalloc(sc->n, sizeof(uint64_t));
    for (uint32_t i = 0; i < sc->n; i++) {
        pos[i] = (pv_vec3){urand(0, sc->size_m), urand(0, sc->y_span_m), urand(0, sc->size_m)};
        uid[i] = 1 + (i * 7919u) % sc->n; /* uid order != ID order */
    }
    state g, nv;
    state_init(&g, sc->n, pos, uid);
    state_init(&nv, sc->n, pos, uid);
    for (int t = 0; t < 4; t++)
        pv_audib_compute(g.au, &g.room, PV_AUDIB_GRID); /* warm-up */
    double grid_us = time_mode(sc, &g, pos, PV_AUDIB_GRID, GRID_RUNS, sc->naive_ticks * 10);
    double naive_us =
        grid_only ? NAN : time_mode(sc, &nv, pos, PV_AUDIB_NAIVE, sc->naive_runs, sc->naive_ticks);
    /* check: give grid the naive state, then step both twice in lockstep */
    memcpy(g.lists, nv.lists, sc->n * sizeof(*g.lists));
    memcpy(g.in_count, nv.in_count, sc->n * sizeof(uint16_t));
    int ok = 1;
    for (int t = 0; t < 2; t++) {
        move(sc, pos);
        int rg = pv_audib_compute(g.au, &g.room, PV_AUDIB_GRID);
        int rn = pv_audib_compute(nv.au, &nv.room, PV_AUDIB_NAIVE);
        ok = ok && rg == rn && same(&g, &nv, sc->n);
    }
    pv_audib_stats st;
    pv_audib_get_stats(g.au, &st);
    printf("%-46s %8llu %8llu %12.1f %12.1f %8.1fx %s\n", sc->name,
           (unsigned long long)st.pairs_in_range, (unsigned long long)st.candidates, grid_us,
           naive_us, naive_us / grid_us, ok ? "" : "MISMATCH");
    state_free(&g);
    state_free(&nv);
    free(pos);
    free(uid);
    return !ok;
}

/* Usage: bench_audib [SCENARIO_INDEX [grid]] (default: all, both modes). */
int main(int argc, char **argv) {
    int only = argc > 1 ? atoi(argv[1]) : -1, grid_only = argc > 2 && !strcmp(argv[2], "grid");
    printf("bench_audib: one room recompute, enter 24 m, exit 26 m, cap %d, max_pairs %d,\n"
           "random walk +-1.25 m/tick in x,z (5 m/s at 4 Hz); median of runs, us per tick\n",
           CAP, MAX_PAIRS);
    printf("%-46s %8s %8s %12s %12s %9s\n", "scenario", "pairs", "cand", "grid us", "naive us",
           "ratio");
    int bad = 0;
    for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++)
        if (only < 0 || (size_t)only == k) bad |= run(&scenarios[k], grid_only);
    return bad;
}
