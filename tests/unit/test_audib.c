/*
 * test_audib.c - unit and property tests of the audibility engine.
 *
 * The property test replays with PV_SEED=<n> (printed on every run); the
 * number of random rooms can be changed with PV_AUDIB_ROOMS.
 */
#include "audib.h"
#include "t.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

/* ---- fixture: one room with its own state ---- */

#define FX_MAX 512

typedef struct fx {
    uint32_t cap;
    pv_vec3 pos[FX_MAX];
    uint64_t uid[FX_MAX];
    uint64_t lists[FX_MAX][PV_AUDIB_K];
    uint64_t *list_ptr[FX_MAX];
    uint16_t in_count[FX_MAX];
    uint32_t hear[FX_MAX * PV_CAP_MAX];
    uint8_t hear_count[FX_MAX];
    pv_audib_room room;
} fx;

static void *t_alloc(void *ud, size_t size) {
    (void)ud;
    return calloc(1, size);
}
static void t_free(void *ud, void *p) {
    (void)ud;
    free(p);
}
static const pv_allocator t_allocator = {t_alloc, t_free, NULL};

static void *t_alloc_fail(void *ud, size_t size) {
    (void)ud;
    (void)size;
    return NULL;
}

/* A heap-allocated fixture for n participants with uids 1000+i. */
static fx *fx_new(uint32_t n, uint32_t cap) {
    fx *f = calloc(1, sizeof(*f));
    if (!f) abort();
    f->cap = cap;
    for (uint32_t i = 0; i < FX_MAX; i++) {
        f->list_ptr[i] = f->lists[i];
        f->uid[i] = 1000 + i;
    }
    f->room.n = n;
    f->room.pos = f->pos;
    f->room.uid = f->uid;
    f->room.in_uids = f->list_ptr;
    f->room.in_count = f->in_count;
    f->room.hear = f->hear;
    f->room.hear_count = f->hear_count;
    return f;
}

static pv_audib *au_make(uint32_t max_room, uint32_t max_pairs, uint32_t cap, double enter,
                         double exit_m) {
    pv_audib *au = NULL;
    int rc = pv_audib_new(&au, max_room, max_pairs, cap, enter, exit_m, &t_allocator);
    if (rc != 0 || !au) {
        fprintf(stderr, "pv_audib_new failed: %d\n", rc);
        abort();
    }
    return au;
}

static int fx_hears(const fx *f, uint32_t listener, uint32_t peer) {
    for (uint32_t k = 0; k < f->hear_count[listener]; k++)
        if (f->hear[listener * f->cap + k] == peer) return 1;
    return 0;
}

static int fx_list_has(const fx *f, uint32_t i, uint64_t uid) {
    for (uint32_t k = 0; k < f->in_count[i]; k++)
        if (f->lists[i][k] == uid) return 1;
    return 0;
}

static pv_vec3 v3(double x, double y, double z) {
    pv_vec3 v = {x, y, z};
    return v;
}

/* ---- hysteresis ---- */

/* Moves participant 1 to distance d (along x) from participant 0 and
 * computes in both modes; returns the in-range pair count. */
static int step_at(pv_audib *au, fx *f, double d, pv_audib_mode mode) {
    f->pos[0] = v3(0, 0, 0);
    f->pos[1] = v3(d, 0, 0);
    return pv_audib_compute(au, &f->room, mode);
}

static void check_pair_state(const fx *f, int in) {
    CHECK_EQ_INT(f->in_count[0], in);
    CHECK_EQ_INT(f->in_count[1], in);
    CHECK_EQ_INT(f->hear_count[0], in);
    CHECK_EQ_INT(f->hear_count[1], in);
    if (in) {
        CHECK(f->lists[0][0] == f->uid[1]);
        CHECK(f->lists[1][0] == f->uid[0]);
        CHECK_EQ_INT(f->hear[0 * f->cap], 1);
        CHECK_EQ_INT(f->hear[1 * f->cap], 0);
    }
}

static void hysteresis_in_mode(pv_audib_mode mode) {
    pv_audib *au = au_make(8, 16, 12, 24.0, 26.0);
    fx *f = fx_new(2, 12);
    /* from out: 24.5 stays out, 23.9 enters */
    CHECK_EQ_INT(step_at(au, f, 24.5, mode), 0);
    check_pair_state(f, 0);
    CHECK_EQ_INT(step_at(au, f, 23.9, mode), 1);
    check_pair_state(f, 1);
    /* from in: 24.5 and exactly 26.0 stay in, 26.01 leaves */
    CHECK_EQ_INT(step_at(au, f, 24.5, mode), 1);
    check_pair_state(f, 1);
    CHECK_EQ_INT(step_at(au, f, 26.0, mode), 1);
    check_pair_state(f, 1);
    CHECK_EQ_INT(step_at(au, f, 26.01, mode), 0);
    check_pair_state(f, 0);
    /* out again: 24.5 stays out, exactly 24.0 enters */
    CHECK_EQ_INT(step_at(au, f, 24.5, mode), 0);
    check_pair_state(f, 0);
    CHECK_EQ_INT(step_at(au, f, 24.0, mode), 1);
    check_pair_state(f, 1);
    /* far away and back into the band: out */
    CHECK_EQ_INT(step_at(au, f, 1e5, mode), 0);
    CHECK_EQ_INT(step_at(au, f, 25.0, mode), 0);
    free(f);
    pv_audib_free(au);
}

static void test_hysteresis_boundaries_naive(void) {
    hysteresis_in_mode(PV_AUDIB_NAIVE);
}
static void test_hysteresis_boundaries_grid(void) {
    hysteresis_in_mode(PV_AUDIB_GRID);
}

/* 3D distance: y counts, so a pair 20 m apart in x and 15 m in y is 25 m. */
static void test_distance_is_3d(void) {
    pv_audib *au = au_make(8, 16, 12, 24.0, 26.0);
    fx *f = fx_new(2, 12);
    for (int mode = 0; mode < 2; mode++) {
        f->in_count[0] = f->in_count[1] = 0;
        f->pos[0] = v3(0, 0, 0);
        f->pos[1] = v3(20, 15, 0); /* 25 m: in the band, from out */
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 0);
        f->pos[1] = v3(0, -24, 0);
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 1);
        f->pos[1] = v3(0, 25.9, 0.5); /* 25.9048 m: stays in */
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 1);
        f->pos[1] = v3(0, 26.0, 0.5);
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 0);
    }
    free(f);
    pv_audib_free(au);
}

/* "Was in" if EITHER side's list holds the other (lists may be truncated). */
static void test_was_in_from_one_side(void) {
    pv_audib *au = au_make(8, 16, 12, 24.0, 26.0);
    fx *f = fx_new(3, 12);
    for (int mode = 0; mode < 2; mode++) {
        f->pos[0] = v3(0, 0, 0);
        f->pos[1] = v3(25, 0, 0);
        f->pos[2] = v3(-25, 0, 0);
        f->in_count[0] = 1;
        f->lists[0][0] = f->uid[1]; /* only 0 remembers 1 */
        f->in_count[1] = 0;
        f->in_count[2] = 1;
        f->lists[2][0] = f->uid[0]; /* only 2 remembers 0 */
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 2);
        CHECK(fx_list_has(f, 1, f->uid[0]) && fx_list_has(f, 0, f->uid[1]));
        CHECK(fx_list_has(f, 2, f->uid[0]) && fx_list_has(f, 0, f->uid[2]));
        CHECK_EQ_INT(f->in_count[0], 2);
        /* list is sorted by uid and hear by index */
        CHECK(f->lists[0][0] == f->uid[1] && f->lists[0][1] == f->uid[2]);
        CHECK_EQ_INT(f->hear[0], 1);
        CHECK_EQ_INT(f->hear[1], 2);
    }
    free(f);
    pv_audib_free(au);
}

/* ---- symmetry and cap pruning ---- */

static void test_symmetry(void) {
    enum { N = 60 };
    pv_audib *au = au_make(N, 4096, 64, 24.0, 26.0);
    fx *f = fx_new(N, 64);
    uint64_t s = 12345;
    for (int step = 0; step < 20; step++) {
        for (uint32_t i = 0; i < N; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            f->pos[i] =
                v3((double)(s >> 40) / (1 << 24) * 60, 0, (double)(s & 0xffff) / 65536 * 60);
        }
        int rc = pv_audib_compute(au, &f->room, (pv_audib_mode)(step & 1));
        REQUIRE(rc >= 0);
        int sum = 0;
        for (uint32_t i = 0; i < N; i++) {
            sum += f->in_count[i];
            for (uint32_t j = 0; j < N; j++)
                if (i != j) CHECK(fx_list_has(f, i, f->uid[j]) == fx_list_has(f, j, f->uid[i]));
            /* cap 64 > N: canHear is the whole in-range set */
            CHECK_EQ_INT(f->hear_count[i], f->in_count[i]);
        }
        CHECK_EQ_INT(sum, 2 * rc);
    }
    free(f);
    pv_audib_free(au);
}

/* Listener at index 2; peers 0,1,3,4 all at 5 m; peer 5 at 4 m, 6 at 6 m.
 * cap 3: nearest first (5), then ties by ID (index): 0, 1. */
static void test_cap_keeps_nearest_with_id_tiebreak(void) {
    pv_audib *au = au_make(8, 64, 3, 24.0, 26.0);
    fx *f = fx_new(7, 3);
    for (int mode = 0; mode < 2; mode++) {
        f->pos[2] = v3(0, 0, 0);
        f->pos[0] = v3(5, 0, 0);
        f->pos[1] = v3(-5, 0, 0);
        f->pos[3] = v3(0, 0, 5);
        f->pos[4] = v3(0, 0, -5);
        f->pos[5] = v3(0, 4, 0);
        f->pos[6] = v3(0, -6, 0);
        for (uint32_t i = 0; i < 7; i++)
            f->in_count[i] = 0;
        REQUIRE(pv_audib_compute(au, &f->room, (pv_audib_mode)mode) == 21);
        REQUIRE(f->hear_count[2] == 3);
        CHECK_EQ_INT(f->hear[2 * 3 + 0], 0);
        CHECK_EQ_INT(f->hear[2 * 3 + 1], 1);
        CHECK_EQ_INT(f->hear[2 * 3 + 2], 5);
        CHECK_EQ_INT(f->in_count[2], 6); /* the pair state is not capped */
        /* move 5 away to 5 m too: now pure ID order 0, 1, 3 */
        f->pos[5] = v3(0, 5, 0);
        REQUIRE(pv_audib_compute(au, &f->room, (pv_audib_mode)mode) == 21);
        CHECK_EQ_INT(f->hear[2 * 3 + 0], 0);
        CHECK_EQ_INT(f->hear[2 * 3 + 1], 1);
        CHECK_EQ_INT(f->hear[2 * 3 + 2], 3);
    }
    free(f);
    pv_audib_free(au);
}

/* 71 participants all within 24 m of each other: every list has 70 peers and
 * is cut to the PV_AUDIB_K nearest; canHear stays exact. */
static void test_lists_truncated(void) {
    enum { N = 71 };
    pv_audib *au = au_make(N, 4096, 12, 24.0, 26.0);
    fx *f = fx_new(N, 12);
    for (uint32_t i = 0; i < N; i++)
        f->uid[i] = 5000 - 7 * i; /* uid order != index order */
    for (int mode = 0; mode < 2; mode++) {
        f->pos[0] = v3(0, 0, 0);
        for (uint32_t k = 1; k < N; k++) {
            double r = 5.0 + 0.1 * k, a = 0.7 * k, b = 0.3 * k;
            f->pos[k] = v3(r * cos(a) * cos(b), r * sin(b), r * sin(a) * cos(b));
        }
        for (uint32_t i = 0; i < N; i++)
            f->in_count[i] = 0;
        pv_audib_stats st0, st1;
        pv_audib_get_stats(au, &st0);
        REQUIRE(pv_audib_compute(au, &f->room, (pv_audib_mode)mode) == N * (N - 1) / 2);
        pv_audib_get_stats(au, &st1);
        CHECK_EQ_INT(st1.lists_truncated - st0.lists_truncated, N);
        CHECK_EQ_INT(st1.pairs_in_range, N * (N - 1) / 2);
        REQUIRE(f->in_count[0] == PV_AUDIB_K);
        /* listener 0 keeps peers 1..64 (nearest), not 65..70 */
        for (uint32_t k = 1; k < N; k++)
            CHECK(fx_list_has(f, 0, f->uid[k]) == (k <= PV_AUDIB_K));
        for (uint32_t k = 1; k < PV_AUDIB_K; k++)
            CHECK(f->lists[0][k - 1] < f->lists[0][k]);
        REQUIRE(f->hear_count[0] == 12);
        for (uint32_t k = 0; k < 12; k++)
            CHECK_EQ_INT(f->hear[k], k + 1);
    }
    free(f);
    pv_audib_free(au);
}

/* Points on the x axis at 0, 1, 3, 6: six pairs, max_pairs 3. Kept: the
 * nearest by (d2, i, j): (0,1) d1, (1,2) d2, (0,2) d3 beats (2,3) d3. */
static void test_pairs_dropped_at_max_pairs(void) {
    pv_audib *au = au_make(8, 3, 12, 24.0, 26.0);
    fx *f = fx_new(4, 12);
    for (int mode = 0; mode < 2; mode++) {
        f->pos[0] = v3(0, 0, 0);
        f->pos[1] = v3(1, 0, 0);
        f->pos[2] = v3(3, 0, 0);
        f->pos[3] = v3(6, 0, 0);
        for (uint32_t i = 0; i < 4; i++)
            f->in_count[i] = 0;
        pv_audib_stats st0, st1;
        pv_audib_get_stats(au, &st0);
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 3);
        pv_audib_get_stats(au, &st1);
        CHECK_EQ_INT(st1.pairs_dropped - st0.pairs_dropped, 3);
        CHECK_EQ_INT(st1.candidates, 6);
        CHECK_EQ_INT(st1.pairs_in_range, 3);
        CHECK(fx_hears(f, 0, 1) && fx_hears(f, 1, 2) && fx_hears(f, 0, 2));
        CHECK(!fx_hears(f, 2, 3) && !fx_hears(f, 3, 2));
        CHECK_EQ_INT(f->hear_count[3], 0);
        CHECK_EQ_INT(f->in_count[3], 0);
    }
    free(f);
    pv_audib_free(au);
}

/* Budget ties: equal d2 and equal i are ordered by j. Participant 0 at the
 * origin, 1 and 2 at 1 m on either side; max_pairs 1 keeps (0, 1). */
static void test_pairs_dropped_tie_break(void) {
    pv_audib *au = au_make(8, 1, 12, 24.0, 26.0);
    fx *f = fx_new(3, 12);
    for (int mode = 0; mode < 2; mode++) {
        f->pos[0] = v3(0, 0, 0);
        f->pos[1] = v3(1, 0, 0);
        f->pos[2] = v3(-1, 0, 0);
        for (uint32_t i = 0; i < 3; i++)
            f->in_count[i] = 0;
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 1);
        CHECK(fx_hears(f, 0, 1) && fx_hears(f, 1, 0));
        CHECK_EQ_INT(f->hear_count[2], 0);
        /* now 2 is the one at +1 m and 1 at -1 m: still (0, 1) by index */
        f->pos[1] = v3(-1, 0, 0);
        f->pos[2] = v3(1, 0, 0);
        CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)mode), 1);
        CHECK(fx_hears(f, 0, 1) && !fx_hears(f, 0, 2));
    }
    pv_audib_stats st;
    pv_audib_get_stats(au, &st);
    CHECK_EQ_INT(st.pairs_dropped, 4 * 2);
    free(f);
    pv_audib_free(au);
}

/* ---- edges and errors ---- */

static void test_empty_and_single(void) {
    pv_audib *au = au_make(4, 4, 12, 24.0, 26.0);
    pv_audib_room empty;
    memset(&empty, 0, sizeof(empty)); /* n = 0: arrays may be NULL */
    CHECK_EQ_INT(pv_audib_compute(au, &empty, PV_AUDIB_GRID), 0);
    CHECK_EQ_INT(pv_audib_compute(au, &empty, PV_AUDIB_NAIVE), 0);
    fx *f = fx_new(1, 12);
    f->in_count[0] = 1;
    f->lists[0][0] = 77; /* a peer that left: forgotten */
    f->hear_count[0] = 9;
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), 0);
    CHECK_EQ_INT(f->in_count[0], 0);
    CHECK_EQ_INT(f->hear_count[0], 0);
    pv_audib_stats st;
    pv_audib_get_stats(au, &st);
    CHECK_EQ_INT(st.computes, 3);
    free(f);
    pv_audib_free(au);
}

static void test_new_einval(void) {
    pv_audib *au = (pv_audib *)1;
    const pv_allocator *a = &t_allocator;
    pv_allocator no_alloc = {NULL, t_free, NULL};
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 24, 26, NULL), PV_EINVAL);
    CHECK(au == (pv_audib *)1 || au == NULL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 24, 26, &no_alloc), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(NULL, 8, 8, 12, 24, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 0, 8, 12, 24, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 0, 12, 24, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 0, 24, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, PV_CAP_MAX + 1, 24, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 27, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, -1, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 0, 0, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 0, 1e-4, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, NAN, 26, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 24, NAN, a), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 24, INFINITY, a), PV_EINVAL);
    pv_allocator fail = {t_alloc_fail, t_free, NULL};
    CHECK_EQ_INT(pv_audib_new(&au, 8, 8, 12, 24, 26, &fail), PV_ENOMEM);
    /* valid edge values */
    REQUIRE(pv_audib_new(&au, 1, 1, PV_CAP_MAX, 0, 26, a) == 0);
    pv_audib_free(au);
    pv_audib_free(NULL);
}

static void test_compute_einval(void) {
    pv_audib *au = au_make(4, 8, 12, 24.0, 26.0);
    fx *f = fx_new(5, 12);
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), PV_EINVAL); /* n > max */
    f->room.n = 2;
    CHECK_EQ_INT(pv_audib_compute(NULL, &f->room, PV_AUDIB_GRID), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_compute(au, NULL, PV_AUDIB_GRID), PV_EINVAL);
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, (pv_audib_mode)7), PV_EINVAL);
    f->room.pos = NULL;
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), PV_EINVAL);
    f->room.pos = f->pos;
    f->room.hear = NULL;
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_NAIVE), PV_EINVAL);
    f->room.hear = f->hear;
    f->in_count[1] = PV_AUDIB_K + 1;
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), PV_EINVAL);
    f->in_count[1] = 2;
    f->lists[1][0] = 9;
    f->lists[1][1] = 3; /* unsorted */
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), PV_EINVAL);
    f->lists[1][1] = 9; /* duplicate */
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), PV_EINVAL);
    f->lists[1][1] = 10;
    f->pos[0] = v3(0, 0, 0);
    f->pos[1] = v3(1, 0, 0);
    CHECK_EQ_INT(pv_audib_compute(au, &f->room, PV_AUDIB_GRID), 1);
    pv_audib_stats st;
    pv_audib_get_stats(au, &st);
    CHECK_EQ_INT(st.computes, 1); /* failed calls are not counted */
    free(f);
    pv_audib_free(au);
}

/* ---- property test: GRID == NAIVE == a simple model, step after step ---- */

static uint64_t prng_s[4];

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static void prng_seed(uint64_t seed) {
    for (int k = 0; k < 4; k++)
        prng_s[k] = splitmix64(&seed);
}
static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}
static uint64_t prng_next(void) { /* xoshiro256** */
    uint64_t r = rotl(prng_s[1] * 5, 7) * 9, t = prng_s[1] << 17;
    prng_s[2] ^= prng_s[0];
    prng_s[3] ^= prng_s[1];
    prng_s[1] ^= prng_s[2];
    prng_s[0] ^= prng_s[3];
    prng_s[2] ^= t;
    prng_s[3] = rotl(prng_s[3], 45);
    return r;
}
static double urand(double lo, double hi) {
    return lo + (hi - lo) * ((double)(prng_next() >> 11) / 9007199254740992.0);
}
static uint32_t irand(uint32_t n) {
    return n ? (uint32_t)(prng_next() % n) : 0;
}
static int chance(double p) {
    return urand(0, 1) < p;
}

/* The scenario of one random room. */
typedef struct scen {
    double enter, exit_m, size_m, y_span_m;
    pv_vec3 center;
    uint32_t cap, max_pairs, steps, n_clusters;
    pv_vec3 clusters[8];
    double odd_rate; /* NaN / infinite / far-away coordinates */
} scen;

static pv_vec3 scen_point(const scen *s) {
    if (chance(s->odd_rate)) {
        const double odd[] = {NAN, INFINITY, -INFINITY, 1e13, -1e15, 1e300};
        pv_vec3 v = s->center;
        double o = odd[irand(6)];
        switch (irand(3)) {
        case 0:
            v.x = o;
            break;
        case 1:
            v.y = o;
            break;
        default:
            v.z = o;
            break;
        }
        return v;
    }
    pv_vec3 c = s->center;
    double spread = s->size_m / 2;
    if (s->n_clusters) {
        c = s->clusters[irand(s->n_clusters)];
        spread = urand(1, 3) * s->exit_m;
    }
    pv_vec3 v = {c.x + urand(-spread, spread), c.y + urand(0, s->y_span_m),
                 c.z + urand(-spread, spread)};
    if (chance(0.1)) { /* on a cell boundary, exactly or one ulp off */
        double cell = s->exit_m * (chance(0.5) ? 1.0 : 1.000001);
        v.x = floor(v.x / cell) * cell;
        if (chance(0.5)) v.x = nextafter(v.x, chance(0.5) ? INFINITY : -INFINITY);
        if (chance(0.5)) v.z = floor(v.z / cell) * cell;
    }
    return v;
}

/* A point in or near the hysteresis band around anchor. */
static pv_vec3 band_point(const scen *s, pv_vec3 anchor) {
    double r =
        chance(0.3) ? (chance(0.5) ? s->enter : s->exit_m) : urand(s->enter - 0.3, s->exit_m + 0.3);
    double a = urand(0, 6.283185307179586), yy = chance(0.5) ? 0 : urand(-0.5, 0.5);
    pv_vec3 v = {anchor.x + r * cos(a), anchor.y + yy, anchor.z + r * sin(a)};
    if (chance(0.3)) v = (pv_vec3){anchor.x + r, anchor.y, anchor.z}; /* axis-aligned */
    return v;
}

static void scen_new(scen *s) {
    memset(s, 0, sizeof(*s));
    if (chance(0.75)) {
        s->enter = 24.0;
        s->exit_m = 26.0;
    } else {
        s->enter = urand(0.3, 40);
        s->exit_m = chance(0.1) ? s->enter : s->enter * urand(1.0, 1.3);
    }
    const double sizes[] = {10, 60, 200, 1000, 3000};
    s->size_m = sizes[irand(5)];
    const double yspans[] = {0, 0, 1.5, 1.5, 10, 80};
    s->y_span_m = yspans[irand(6)];
    if (chance(0.3)) s->center = (pv_vec3){urand(-1e6, 1e6), urand(-1e3, 1e3), urand(-1e6, 1e6)};
    const uint32_t caps[] = {1, 2, 3, 12, 12, 12, 64, 1 + irand(64)};
    s->cap = caps[irand(8)];
    s->max_pairs = chance(0.2) ? 1 + irand(400) : 200000;
    s->steps = 4 + irand(8);
    if (chance(0.4)) {
        s->n_clusters = 1 + irand(8);
        for (uint32_t k = 0; k < s->n_clusters; k++)
            s->clusters[k] = scen_point(s);
    }
    s->odd_rate = chance(0.15) ? 0.03 : 0;
}

/* Model: the obvious O(n^2 log n) reading of audib.h. */
typedef struct model_pair {
    double d2;
    uint32_t i, j;
} model_pair;

static int model_pair_cmp(const void *pa, const void *pb) {
    const model_pair *a = pa, *b = pb;
    if (a->d2 != b->d2) return a->d2 < b->d2 ? -1 : 1;
    if (a->i != b->i) return a->i < b->i ? -1 : 1;
    return a->j < b->j ? -1 : a->j > b->j;
}
static int u64_cmp(const void *pa, const void *pb) {
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : a > b;
}
static int u32_cmp(const void *pa, const void *pb) {
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* Computes the expected next state of f into m (a fixture used as output). */
static int model_compute(const scen *s, const fx *f, fx *m, model_pair *pairs) {
    uint32_t n = f->room.n, np = 0;
    double enter2 = s->enter * s->enter, exit2 = s->exit_m * s->exit_m;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            double dx = f->pos[i].x - f->pos[j].x, dy = f->pos[i].y - f->pos[j].y;
            double dz = f->pos[i].z - f->pos[j].z, d2 = dx * dx + dy * dy + dz * dz;
            int was = fx_list_has(f, i, f->uid[j]) || fx_list_has(f, j, f->uid[i]);
            if (d2 <= enter2 || (was && d2 <= exit2)) pairs[np++] = (model_pair){d2, i, j};
        }
    qsort(pairs, np, sizeof(*pairs), model_pair_cmp);
    if (np > s->max_pairs) np = s->max_pairs;
    for (uint32_t p = 0; p < n; p++) {
        uint32_t h = 0;
        uint32_t near_idx[FX_MAX];
        double near_d2[FX_MAX];
        for (uint32_t q = 0; q < np; q++) {
            if (pairs[q].i != p && pairs[q].j != p) continue;
            near_idx[h] = pairs[q].i == p ? pairs[q].j : pairs[q].i;
            near_d2[h++] = pairs[q].d2;
        }
        for (uint32_t a = 1; a < h; a++) /* stable insertion sort by (d2, idx) */
            for (uint32_t b = a;
                 b > 0 && (near_d2[b] < near_d2[b - 1] ||
                           (near_d2[b] == near_d2[b - 1] && near_idx[b] < near_idx[b - 1]));
                 b--) {
                double td = near_d2[b];
                near_d2[b] = near_d2[b - 1];
                near_d2[b - 1] = td;
                uint32_t ti = near_idx[b];
                near_idx[b] = near_idx[b - 1];
                near_idx[b - 1] = ti;
            }
        uint32_t k = h < PV_AUDIB_K ? h : PV_AUDIB_K;
        for (uint32_t e = 0; e < k; e++)
            m->lists[p][e] = f->uid[near_idx[e]];
        qsort(m->lists[p], k, sizeof(uint64_t), u64_cmp);
        m->in_count[p] = (uint16_t)k;
        uint32_t hc = h < s->cap ? h : s->cap;
        for (uint32_t e = 0; e < hc; e++)
            m->hear[p * s->cap + e] = near_idx[e];
        qsort(&m->hear[p * s->cap], hc, sizeof(uint32_t), u32_cmp);
        m->hear_count[p] = (uint8_t)hc;
    }
    return (int)np;
}

/* 1 if a and b differ, 0 if they hold the same lists and canHear for all n participants. */
static int fx_differ(const fx *a, const fx *b, uint32_t n, uint32_t cap) {
    for (uint32_t i = 0; i < n; i++) {
        if (a->in_count[i] != b->in_count[i] || a->hear_count[i] != b->hear_count[i]) return 1;
        if (memcmp(a->lists[i], b->lists[i], a->in_count[i] * sizeof(uint64_t))) return 1;
        if (memcmp(&a->hear[i * cap], &b->hear[i * cap], a->hear_count[i] * sizeof(uint32_t)))
            return 1;
    }
    return 0;
}

/* Inserts a participant at index k (keeping ID order) or removes index k. */
static void fx_insert(fx *f, uint32_t k, uint64_t uid, pv_vec3 pos) {
    uint32_t n = f->room.n;
    memmove(&f->pos[k + 1], &f->pos[k], (n - k) * sizeof(pv_vec3));
    memmove(&f->uid[k + 1], &f->uid[k], (n - k) * sizeof(uint64_t));
    memmove(&f->in_count[k + 1], &f->in_count[k], (n - k) * sizeof(uint16_t));
    memmove(&f->lists[k + 1], &f->lists[k], (n - k) * sizeof(f->lists[0]));
    f->pos[k] = pos;
    f->uid[k] = uid;
    f->in_count[k] = 0;
    f->room.n = n + 1;
}
static void fx_remove(fx *f, uint32_t k) {
    uint32_t n = f->room.n;
    memmove(&f->pos[k], &f->pos[k + 1], (n - k - 1) * sizeof(pv_vec3));
    memmove(&f->uid[k], &f->uid[k + 1], (n - k - 1) * sizeof(uint64_t));
    memmove(&f->in_count[k], &f->in_count[k + 1], (n - k - 1) * sizeof(uint16_t));
    memmove(&f->lists[k], &f->lists[k + 1], (n - k - 1) * sizeof(f->lists[0]));
    f->room.n = n - 1;
}

/* Moves everybody: random walk, teleports, hovering in the band, joins and
 * leaves (same in both fixtures). */
static void scen_move(const scen *s, fx *g, fx *nv, uint64_t *next_uid) {
    uint32_t n = g->room.n;
    for (uint32_t i = 0; i < n; i++) {
        pv_vec3 *p = &g->pos[i];
        if (chance(0.05))
            *p = scen_point(s);
        else if (chance(0.15) && n > 1)
            *p = band_point(s, g->pos[irand(n)]);
        else if (chance(0.7)) {
            p->x += urand(-3, 3);
            p->z += urand(-3, 3);
            if (s->y_span_m > 0) p->y += urand(-0.5, 0.5);
        }
    }
    if (n > 0 && chance(0.3)) {
        uint32_t k = irand(n);
        fx_remove(g, k);
        fx_remove(nv, k);
    }
    if (g->room.n < FX_MAX && chance(0.3)) {
        uint32_t k = irand(g->room.n + 1);
        pv_vec3 p = scen_point(s);
        fx_insert(g, k, *next_uid, p);
        fx_insert(nv, k, *next_uid, p);
        (*next_uid)++;
    }
    memcpy(nv->pos, g->pos, g->room.n * sizeof(pv_vec3));
}

/* Runs one room; returns 0 or the failing step + 1. */
static int prop_room(const scen *s, uint32_t n0, fx *g, fx *nv, fx *m, model_pair *pairs,
                     uint64_t *uid) {
    pv_audib *ag = au_make(FX_MAX, s->max_pairs, s->cap, s->enter, s->exit_m);
    pv_audib *an = au_make(FX_MAX, s->max_pairs, s->cap, s->enter, s->exit_m);
    g->room.n = nv->room.n = 0;
    g->cap = nv->cap = m->cap = s->cap;
    for (uint32_t i = 0; i < n0; i++) {
        pv_vec3 p = scen_point(s);
        fx_insert(g, i, *uid, p);
        fx_insert(nv, i, (*uid)++, p);
    }
    int fail = 0;
    for (uint32_t step = 0; step < s->steps && !fail; step++) {
        uint32_t n = g->room.n;
        int rm = n <= 160 ? model_compute(s, nv, m, pairs) : -1;
        pv_audib_stats sg0, sn0, sg, sn;
        pv_audib_get_stats(ag, &sg0);
        pv_audib_get_stats(an, &sn0);
        int rg = pv_audib_compute(ag, &g->room, PV_AUDIB_GRID);
        int rn = pv_audib_compute(an, &nv->room, PV_AUDIB_NAIVE);
        pv_audib_get_stats(ag, &sg);
        pv_audib_get_stats(an, &sn);
        int ok =
            rg >= 0 && rg == rn && !fx_differ(g, nv, n, s->cap) && sg.candidates == sn.candidates &&
            sg.pairs_in_range == sn.pairs_in_range &&
            sg.pairs_dropped - sg0.pairs_dropped == sn.pairs_dropped - sn0.pairs_dropped &&
            sg.lists_truncated - sg0.lists_truncated == sn.lists_truncated - sn0.lists_truncated;
        if (ok && rm >= 0) ok = rm == rn && !fx_differ(m, nv, n, s->cap);
        if (!ok) {
            fprintf(stderr, "  step %u n %u: grid %d naive %d model %d\n", step, n, rg, rn, rm);
            fail = (int)step + 1;
        }
        scen_move(s, g, nv, uid);
    }
    pv_audib_free(ag);
    pv_audib_free(an);
    return fail;
}

static void test_property_grid_equals_naive(void) {
    const char *env = getenv("PV_SEED"), *rooms_env = getenv("PV_AUDIB_ROOMS");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eed0000ull + (uint64_t)time(NULL);
    uint32_t rooms = rooms_env ? (uint32_t)strtoul(rooms_env, NULL, 0) : 400;
    printf("test_audib: property seed PV_SEED=%llu rooms %u\n", (unsigned long long)seed, rooms);
    prng_seed(seed);
    fx *g = fx_new(0, 1), *nv = fx_new(0, 1), *m = fx_new(0, 1);
    model_pair *pairs = malloc(sizeof(model_pair) * FX_MAX * FX_MAX / 2);
    REQUIRE(pairs);
    uint64_t uid = 1;
    for (uint32_t r = 0; r < rooms; r++) {
        scen s;
        scen_new(&s);
        uint32_t n0 = chance(0.1) ? irand(4) : irand(chance(0.2) ? FX_MAX - 20 : 200);
        int fail = prop_room(&s, n0, g, nv, m, pairs, &uid);
        if (fail) {
            fprintf(stderr, "  room %u failed at step %d (enter %g exit %g cap %u max_pairs %u)\n",
                    r, fail - 1, s.enter, s.exit_m, s.cap, s.max_pairs);
            CHECK(!fail);
            break;
        }
    }
    free(pairs);
    free(g);
    free(nv);
    free(m);
}

int main(void) {
    T_RUN(test_hysteresis_boundaries_naive);
    T_RUN(test_hysteresis_boundaries_grid);
    T_RUN(test_distance_is_3d);
    T_RUN(test_was_in_from_one_side);
    T_RUN(test_symmetry);
    T_RUN(test_cap_keeps_nearest_with_id_tiebreak);
    T_RUN(test_lists_truncated);
    T_RUN(test_pairs_dropped_at_max_pairs);
    T_RUN(test_pairs_dropped_tie_break);
    T_RUN(test_empty_and_single);
    T_RUN(test_new_einval);
    T_RUN(test_compute_einval);
    T_RUN(test_property_grid_equals_naive);

    return t_done("test_audib");
}
