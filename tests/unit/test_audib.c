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

int main(void) {
    T_RUN(test_hysteresis_boundaries_naive);
    T_RUN(test_hysteresis_boundaries_grid);
    T_RUN(test_distance_is_3d);
    T_RUN(test_was_in_from_one_side);
    T_RUN(test_symmetry);
    T_RUN(test_cap_keeps_nearest_with_id_tiebreak);
    T_RUN(test_lists_truncated);
    T_RUN(test_pairs_dropped_at_max_pairs);
    T_RUN(test_empty_and_single);
    T_RUN(test_new_einval);
    T_RUN(test_compute_einval);

    return t_done("test_audib");
}
