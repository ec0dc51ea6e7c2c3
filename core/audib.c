/*
 * audib.c - the audibility engine: hysteresis pair state and capped canHear
 * for the participants of one room (see audib.h for the contract).
 *
 * One compute runs in three phases, the same in both modes except phase 1:
 *  1. find the in-range pairs (i < j): every pair with d2 <= exit^2 is a
 *     candidate; it is in range if d2 <= enter^2, or if it was in range
 *     before (either side's previous in_uids list holds the other).
 *     NAIVE tests all n*(n-1)/2 pairs; GRID tests only pairs in neighbouring
 *     cells of exit-radius size, each pair exactly once (half stencil). A
 *     compact room uses a dense cell array where a row's cells x-1..x+1 are
 *     one contiguous range; a spread-out room hashes its occupied cells. A
 *     flat room (two cell layers in y at most) uses a 2D grid. Both modes
 *     feed the same pair buffer.
 *  2. index the kept pairs per participant (counting sort, CSR).
 *  3. per participant: the PV_AUDIB_K nearest become its new in_uids list
 *     (sorted by uid), the `cap` nearest its canHear (sorted by index).
 * Phases 2 and 3 never depend on the order in which pairs were found, which
 * is why the two modes agree exactly.
 *
 * Pair budget: at most max_pairs pairs are kept. Beyond it the rule is
 * "nearest pairs win": the kept set is the max_pairs smallest pairs by
 * (d2, i, j), a total order, so it does not depend on discovery order. The
 * rest are counted in pairs_dropped (they are treated as out of range, so
 * their hysteresis memory is lost too).
 *
 * Distances: d2 = dx*dx + dy*dy + dz*dz with dx = a.x - b.x, computed by the
 * one function au_d2() in both modes. IEEE subtraction is exactly
 * antisymmetric, so d2(a, b) == d2(b, a) bit for bit. Both modes must round
 * alike: -std=c11 keeps gcc from contracting into FMAs, and baseline x86-64
 * has none; a build with -mfma/-march=native must add -ffp-contract=off.
 */
#include "audib.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define AU_ROOM_MAX   (1u << 24) /* max_room_size limit */
#define AU_PAIRS_MAX  (1u << 28) /* max_pairs limit (int return value, sizes) */
#define AU_RADIUS_MAX 1e9        /* metres; keeps exit^2 and the grid finite */
#define AU_RADIUS_MIN 1e-3       /* metres; keeps 1 / exit^2 finite */
/* Grid cells are a hair larger than the exit radius so that rounding in
 * x / cell can never put a pair within the exit radius two cells apart
 * (the rounding error at AU_CELL_LIMIT cells is ~3e-10 cells). */
#define AU_CELL_MARGIN 1e-6
/* Cell coordinates are bounded so that a key packs three of them in 21 bits
 * each. Participants beyond it (or with NaN/infinite coordinates) are
 * "outliers", tested against everyone like in NAIVE mode. */
#define AU_CELL_LIMIT 1000000.0
#define AU_CELL_BIAS  (1 << 20)
#define AU_KEY_EMPTY  UINT64_MAX
#define AU_NO_CELL    UINT32_MAX
#define AU_ALIGN      64
#define AU_BINS       128 /* d2 histogram bins for picking the K nearest */

typedef struct au_pair {
    double d2;
    uint32_t i, j; /* i < j */
} au_pair;

typedef struct au_near {
    double d2;
    uint32_t idx;
} au_near;

typedef struct au_slot {
    uint64_t key;
    uint32_t cell;
} au_slot;

struct pv_audib {
    pv_allocator a;
    uint32_t max_room_size, max_pairs, cap, table_max, dense_max;
    double enter2, exit2, inv_cell, inv_bin;
    /* per compute */
    uint32_t pair_count;
    int heaped; /* pairs[] is a max-heap (budget exceeded) */
    uint64_t candidates_now, dropped_now, truncated_now;
    /* phase 1 and 2 scratch */
    au_pair *pairs;   /* [max_pairs] */
    uint32_t *nbr;    /* [2 * max_pairs] pair indices grouped by participant */
    uint32_t *start;  /* [max_room_size + 1] CSR offsets into nbr */
    au_near *all;     /* [max_room_size] one participant's peers */
    uint32_t *cursor; /* [max_room_size] */
    /* grid scratch */
    int32_t *cxyz;        /* [3 * max_room_size] cell coordinates per participant */
    uint32_t *cell_of;    /* [max_room_size] cell id or AU_NO_CELL (outlier) */
    uint64_t *cell_key;   /* [max_room_size] */
    uint32_t *cell_start; /* [max_room_size + 1] offsets into order/spos */
    uint32_t *order;      /* [max_room_size] participants grouped by cell */
    pv_vec3 *spos;        /* [max_room_size] positions in that order */
    uint32_t *outliers;   /* [max_room_size] */
    uint32_t *scell;      /* [max_room_size] dense: cell of each position in order */
    uint32_t *dense;      /* [dense_max + 1] dense: cell starts */
    au_slot *table;       /* [table_max] hashed: cell key -> cell id */
    /* phase 3 scratch */
    au_near near[PV_AUDIB_K];
    uint64_t uids[PV_AUDIB_K];
    uint32_t idxs[PV_AUDIB_K];
    pv_audib_stats stats;
};

/* ---- allocation ---- */

static size_t au_align(size_t n) {
    return (n + AU_ALIGN - 1) & ~(size_t)(AU_ALIGN - 1);
}

#define AU_CARVE(field, count)                                                                     \
    do {                                                                                           \
        if (base) au->field = (void *)(base + off);                                                \
        off = au_align(off + (size_t)(count) * sizeof(*au->field));                                \
    } while (0)

/* Lays the scratch arrays out behind the struct. With base == NULL it only
 * returns the total size in bytes; else it also sets au's pointers. */
static size_t au_layout(pv_audib *au, char *base, uint32_t n_max, uint32_t p_max, uint32_t t_max,
                        uint32_t d_max) {
    size_t off = au_align(sizeof(pv_audib));
    AU_CARVE(pairs, p_max);
    AU_CARVE(nbr, 2 * (size_t)p_max);
    AU_CARVE(start, (size_t)n_max + 1);
    AU_CARVE(all, n_max);
    AU_CARVE(cursor, n_max);
    AU_CARVE(cxyz, 3 * (size_t)n_max);
    AU_CARVE(cell_of, n_max);
    AU_CARVE(cell_key, n_max);
    AU_CARVE(cell_start, (size_t)n_max + 1);
    AU_CARVE(order, n_max);
    AU_CARVE(spos, n_max);
    AU_CARVE(outliers, n_max);
    AU_CARVE(scell, n_max);
    AU_CARVE(dense, (size_t)d_max + 1);
    AU_CARVE(table, t_max);
    return off;
}

/* Smallest power of two >= 2n, at least 16: the hash table size for n cells. */
static uint32_t au_table_size(uint32_t n) {
    uint32_t t = 16;
    while (t < 2 * n)
        t *= 2;
    return t;
}

int pv_audib_new(pv_audib **out, uint32_t max_room_size, uint32_t max_pairs, uint32_t cap,
                 double enter_radius_m, double exit_radius_m, const pv_allocator *a) {
    if (!out || !a || !a->alloc || !a->free) return PV_EINVAL;
    *out = NULL;
    if (max_room_size == 0 || max_room_size > AU_ROOM_MAX) return PV_EINVAL;
    if (max_pairs == 0 || max_pairs > AU_PAIRS_MAX) return PV_EINVAL;
    if (cap == 0 || cap > PV_CAP_MAX) return PV_EINVAL;
    if (!(enter_radius_m >= 0) || !(exit_radius_m > 0) || !(enter_radius_m <= exit_radius_m) ||
        !(exit_radius_m >= AU_RADIUS_MIN) || !(exit_radius_m <= AU_RADIUS_MAX))
        return PV_EINVAL;
    uint32_t t_max = au_table_size(max_room_size);
    uint32_t d_max = 4 * max_room_size + 256; /* see au_dense_fits */
    size_t size = au_layout(NULL, NULL, max_room_size, max_pairs, t_max, d_max);
    char *base = a->alloc(a->ud, size);
    if (!base) return PV_ENOMEM;
    pv_audib *au = (pv_audib *)base;
    memset(au, 0, sizeof(*au));
    au->a = *a;
    au->max_room_size = max_room_size;
    au->max_pairs = max_pairs;
    au->cap = cap;
    au->table_max = t_max;
    au->enter2 = enter_radius_m * enter_radius_m;
    au->exit2 = exit_radius_m * exit_radius_m;
    au->inv_cell = 1.0 / (exit_radius_m * (1.0 + AU_CELL_MARGIN));
    au->inv_bin = AU_BINS / au->exit2;
    au->dense_max = d_max;
    au_layout(au, base, max_room_size, max_pairs, t_max, d_max);
    *out = au;
    return 0;
}

void pv_audib_free(pv_audib *au) {
    if (!au) return;
    pv_allocator a = au->a;
    a.free(a.ud, au);
}

void pv_audib_get_stats(const pv_audib *au, pv_audib_stats *st) {
    *st = au->stats;
}

/* ---- phase 1: pair test and the pair budget ---- */

static inline double au_d2(const pv_vec3 *p, const pv_vec3 *q) {
    double dx = p->x - q->x, dy = p->y - q->y, dz = p->z - q->z;
    return dx * dx + dy * dy + dz * dz;
}

/* 1 if the sorted list holds uid (binary search). */
static int au_list_has(const uint64_t *list, uint32_t count, uint64_t uid) {
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (list[mid] < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && list[lo] == uid;
}

static int au_was_in(const pv_audib_room *r, uint32_t i, uint32_t j) {
    return au_list_has(r->in_uids[i], r->in_count[i], r->uid[j]) ||
           au_list_has(r->in_uids[j], r->in_count[j], r->uid[i]);
}

/* Total order of pairs for the budget: nearer first, then by (i, j). */
static inline int au_pair_less(const au_pair *a, const au_pair *b) {
    if (a->d2 != b->d2) return a->d2 < b->d2;
    if (a->i != b->i) return a->i < b->i;
    return a->j < b->j;
}

static void au_pair_sift_down(au_pair *h, uint32_t n, uint32_t k) {
    for (;;) {
        uint32_t big = k, l = 2 * k + 1, r = l + 1;
        if (l < n && au_pair_less(&h[big], &h[l])) big = l;
        if (r < n && au_pair_less(&h[big], &h[r])) big = r;
        if (big == k) return;
        au_pair t = h[k];
        h[k] = h[big];
        h[big] = t;
        k = big;
    }
}

/* The budget is full: keep the max_pairs smallest pairs in a max-heap. */
static void au_pair_overflow(pv_audib *au, const au_pair *p) {
    if (!au->heaped) {
        for (uint32_t k = au->max_pairs / 2; k-- > 0;)
            au_pair_sift_down(au->pairs, au->max_pairs, k);
        au->heaped = 1;
    }
    au->dropped_now++;
    if (au_pair_less(p, &au->pairs[0])) {
        au->pairs[0] = *p;
        au_pair_sift_down(au->pairs, au->max_pairs, 0);
    }
}

/* Tests one pair of participant indices a != b at squared distance d2. */
static inline void au_consider(pv_audib *au, const pv_audib_room *r, uint32_t a, uint32_t b,
                               double d2) {
    if (!(d2 <= au->exit2)) return; /* also rejects NaN */
    au->candidates_now++;
    uint32_t i = a < b ? a : b, j = a < b ? b : a;
    if (d2 <= au->enter2 || au_was_in(r, i, j)) {
        au_pair p = {d2, i, j};
        if (au->pair_count < au->max_pairs)
            au->pairs[au->pair_count++] = p;
        else
            au_pair_overflow(au, &p);
    }
}

static void au_find_naive(pv_audib *au, const pv_audib_room *r) {
    for (uint32_t i = 0; i < r->n; i++)
        for (uint32_t j = i + 1; j < r->n; j++)
            au_consider(au, r, i, j, au_d2(&r->pos[i], &r->pos[j]));
}

/* ---- phase 1, GRID mode ---- */

static inline uint64_t au_pack(const int32_t c[3]) {
    return ((uint64_t)(c[0] + AU_CELL_BIAS) << 42) | ((uint64_t)(c[1] + AU_CELL_BIAS) << 21) |
           (uint64_t)(c[2] + AU_CELL_BIAS);
}

/* 1 if the cell coordinate c (already floored) is usable; 0 for outliers. */
static inline int au_cell_ok(double c) {
    return c >= -AU_CELL_LIMIT && c <= AU_CELL_LIMIT;
}

/* The room's extent in cells, found by au_grid_scan. */
typedef struct au_extent {
    int32_t lo[3], hi[3]; /* min and max cell coordinate per axis (x, y, z) */
    uint32_t n_in, n_out; /* participants in the grid / outliers */
    int flat;             /* y is left out of the cell: a 2D grid */
} au_extent;

/* Computes each participant's cell coordinates (cxyz) or marks it an
 * outlier (cell_of = AU_NO_CELL), and the room's extent. The room is flat
 * when everybody lies within two layers of cells in y: then y is left out
 * of the cell (a 2D grid) and the exact d2 test rejects the few extra
 * candidates, which is cheaper than visiting 3x more cells. */
static void au_grid_scan(pv_audib *au, const pv_audib_room *r, au_extent *e) {
    for (int k = 0; k < 3; k++) {
        e->lo[k] = INT32_MAX;
        e->hi[k] = INT32_MIN;
    }
    e->n_in = e->n_out = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        double c[3] = {floor(r->pos[i].x * au->inv_cell), floor(r->pos[i].y * au->inv_cell),
                       floor(r->pos[i].z * au->inv_cell)};
        if (!au_cell_ok(c[0]) || !au_cell_ok(c[1]) || !au_cell_ok(c[2])) {
            au->cell_of[i] = AU_NO_CELL;
            au->outliers[e->n_out++] = i;
            continue;
        }
        au->cell_of[i] = 0;
        e->n_in++;
        for (int k = 0; k < 3; k++) {
            int32_t v = (int32_t)c[k];
            au->cxyz[3 * (size_t)i + k] = v;
            e->lo[k] = v < e->lo[k] ? v : e->lo[k];
            e->hi[k] = v > e->hi[k] ? v : e->hi[k];
        }
    }
    e->flat = e->n_in == 0 || e->hi[1] - e->lo[1] <= 1;
    if (!e->flat) return;
    e->lo[1] = e->hi[1] = 0;
    for (uint32_t i = 0; i < r->n; i++)
        au->cxyz[3 * (size_t)i + 1] = 0;
}

/* Tests participant a (a position in order/spos) against positions b0..b1. */
static inline void au_range(pv_audib *au, const pv_audib_room *r, uint32_t a, uint32_t b0,
                            uint32_t b1) {
    for (uint32_t b = b0; b < b1; b++)
        au_consider(au, r, au->order[a], au->order[b], au_d2(&au->spos[a], &au->spos[b]));
}

/* -- dense grid: used when the room's extent is small (the usual case) --
 * Cells live in one array, x fastest, then z, then y, padded by one empty
 * cell on each side in x and z and one layer on top in y, so that every
 * forward neighbour of a real cell exists and the cells x-1..x+1 of a row
 * are contiguous: one range per neighbouring row, no hashing. */
typedef struct au_dense {
    uint32_t w, d, h, cells; /* sizes in x, z, y; w * d * h */
} au_dense;

/* 1 and *g if the room fits the dense grid (a few cells per participant). */
static int au_dense_fits(const pv_audib *au, const au_extent *e, au_dense *g) {
    uint64_t w = (uint64_t)((int64_t)e->hi[0] - e->lo[0]) + 3;
    uint64_t d = (uint64_t)((int64_t)e->hi[2] - e->lo[2]) + 3;
    uint64_t h = e->flat ? 1 : (uint64_t)((int64_t)e->hi[1] - e->lo[1]) + 2;
    if (w > au->dense_max || d > au->dense_max || h > au->dense_max) return 0;
    uint64_t cells = w * d * h;
    if (cells > au->dense_max || cells > 4 * (uint64_t)e->n_in + 256) return 0;
    *g = (au_dense){(uint32_t)w, (uint32_t)d, (uint32_t)h, (uint32_t)cells};
    return 1;
}

/* Counting sort of the participants into the dense cells (stable, so a
 * cell lists its members by ascending index). Afterwards cell c holds
 * positions dense[c] .. dense[c + 1] of order/spos. */
static void au_dense_build(pv_audib *au, const pv_audib_room *r, const au_extent *e,
                           const au_dense *g) {
    uint32_t *cs = au->dense;
    memset(cs, 0, ((size_t)g->cells + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < r->n; i++) {
        if (au->cell_of[i] == AU_NO_CELL) continue;
        const int32_t *c = &au->cxyz[3 * (size_t)i];
        uint32_t kx = (uint32_t)(c[0] - e->lo[0]) + 1, kz = (uint32_t)(c[2] - e->lo[2]) + 1;
        uint32_t ky = (uint32_t)(c[1] - e->lo[1]);
        au->cell_of[i] = (ky * g->d + kz) * g->w + kx;
        cs[au->cell_of[i] + 1]++;
    }
    uint32_t sum = 0;
    for (uint32_t c = 0; c < g->cells; c++) {
        uint32_t t = cs[c + 1];
        cs[c + 1] = sum;
        sum += t;
    }
    for (uint32_t i = 0; i < r->n; i++) {
        if (au->cell_of[i] == AU_NO_CELL) continue;
        uint32_t k = cs[au->cell_of[i] + 1]++;
        au->order[k] = i;
        au->spos[k] = r->pos[i];
        au->scell[k] = au->cell_of[i];
    }
}

/* Each participant meets the rest of its cell and x+1 in one range, the
 * row z+1 (x-1..x+1) in another and, in 3D, the three rows of layer y+1:
 * the 13 forward neighbours, so each pair is examined once. */
static void au_dense_sweep(pv_audib *au, const pv_audib_room *r, const au_dense *g, uint32_t n_in,
                           int flat) {
    const uint32_t *cs = au->dense;
    uint32_t w = g->w, plane = g->w * g->d;
    for (uint32_t a = 0; a < n_in; a++) {
        uint32_t c = au->scell[a];
        au_range(au, r, a, a + 1, cs[c + 2]);
        au_range(au, r, a, cs[c + w - 1], cs[c + w + 2]);
        if (flat) continue;
        for (uint32_t c2 = c + plane - w; c2 <= c + plane + w; c2 += w)
            au_range(au, r, a, cs[c2 - 1], cs[c2 + 2]);
    }
}

/* -- hashed grid: for rooms spread too far for the dense array -- */

static inline uint32_t au_hash(uint64_t key, uint32_t bits) {
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

/* Cell id of key, or AU_NO_CELL. */
static inline uint32_t au_lookup(const pv_audib *au, uint32_t bits, uint64_t key) {
    uint32_t mask = (1u << bits) - 1;
    for (uint32_t h = au_hash(key, bits);; h = (h + 1) & mask) {
        if (au->table[h].key == key) return au->table[h].cell;
        if (au->table[h].key == AU_KEY_EMPTY) return AU_NO_CELL;
    }
}

/* Cell id of key, inserting a new cell (ids in first-seen order). */
static uint32_t au_intern(pv_audib *au, uint32_t bits, uint64_t key, uint32_t *n_cells) {
    uint32_t mask = (1u << bits) - 1;
    for (uint32_t h = au_hash(key, bits);; h = (h + 1) & mask) {
        if (au->table[h].key == key) return au->table[h].cell;
        if (au->table[h].key == AU_KEY_EMPTY) {
            au->table[h].key = key;
            au->table[h].cell = *n_cells;
            au->cell_key[*n_cells] = key;
            return (*n_cells)++;
        }
    }
}

/* Builds cells (hash table, then a stable counting sort of participants by
 * cell id). Returns the cell count. */
static uint32_t au_hashed_build(pv_audib *au, const pv_audib_room *r, uint32_t bits) {
    uint32_t n_cells = 0, size = 1u << bits;
    for (uint32_t h = 0; h < size; h++)
        au->table[h].key = AU_KEY_EMPTY;
    for (uint32_t i = 0; i < r->n; i++) {
        if (au->cell_of[i] == AU_NO_CELL) continue;
        uint64_t key = au_pack(&au->cxyz[3 * (size_t)i]);
        au->cell_of[i] = au_intern(au, bits, key, &n_cells);
    }
    memset(au->cell_start, 0, ((size_t)n_cells + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < r->n; i++)
        if (au->cell_of[i] != AU_NO_CELL) au->cell_start[au->cell_of[i] + 1]++;
    for (uint32_t c = 0; c < n_cells; c++)
        au->cell_start[c + 1] += au->cell_start[c];
    memcpy(au->cursor, au->cell_start, (size_t)n_cells * sizeof(uint32_t));
    for (uint32_t i = 0; i < r->n; i++) {
        if (au->cell_of[i] == AU_NO_CELL) continue;
        uint32_t k = au->cursor[au->cell_of[i]]++;
        au->order[k] = i;
        au->spos[k] = r->pos[i];
    }
    return n_cells;
}

/* Half of the 26 neighbour offsets (dx, dy, dz): the lexicographically
 * positive ones, so each pair of neighbouring cells is visited once. The
 * first 4 have dy == 0 and form the 2D half stencil. */
static const int8_t au_half[13][3] = {
    {1, 0, -1}, {1, 0, 0}, {1, 0, 1}, {0, 0, 1},   {1, 1, -1}, {1, 1, 0},  {1, 1, 1},
    {0, 1, -1}, {0, 1, 0}, {0, 1, 1}, {-1, 1, -1}, {-1, 1, 0}, {-1, 1, 1},
};

static inline int64_t au_offset(const int8_t o[3]) {
    return (int64_t)o[0] * ((int64_t)1 << 42) + (int64_t)o[1] * ((int64_t)1 << 21) + o[2];
}

/* Tests the pairs inside cell c and between c and its forward neighbours. */
static void au_hashed_cell(pv_audib *au, const pv_audib_room *r, uint32_t bits, uint32_t c,
                           uint32_t n_offsets) {
    uint32_t a0 = au->cell_start[c], a1 = au->cell_start[c + 1];
    for (uint32_t a = a0; a < a1; a++)
        au_range(au, r, a, a + 1, a1);
    for (uint32_t o = 0; o < n_offsets; o++) {
        uint64_t key = (uint64_t)((int64_t)au->cell_key[c] + au_offset(au_half[o]));
        uint32_t c2 = au_lookup(au, bits, key);
        if (c2 == AU_NO_CELL) continue;
        for (uint32_t a = a0; a < a1; a++)
            au_range(au, r, a, au->cell_start[c2], au->cell_start[c2 + 1]);
    }
}

/* Outliers are tested against every other participant (outlier pairs once). */
static void au_grid_outliers(pv_audib *au, const pv_audib_room *r, uint32_t n_out) {
    for (uint32_t k = 0; k < n_out; k++) {
        uint32_t o = au->outliers[k];
        for (uint32_t p = 0; p < r->n; p++) {
            if (p == o || (au->cell_of[p] == AU_NO_CELL && p < o)) continue;
            au_consider(au, r, o, p, au_d2(&r->pos[o], &r->pos[p]));
        }
    }
}

static void au_find_grid(pv_audib *au, const pv_audib_room *r) {
    au_extent e;
    au_dense g;
    au_grid_scan(au, r, &e);
    if (au_dense_fits(au, &e, &g)) {
        au_dense_build(au, r, &e, &g);
        au_dense_sweep(au, r, &g, e.n_in, e.flat);
    } else {
        uint32_t bits = 4;
        while ((1u << bits) < 2 * r->n)
            bits++;
        assert((1u << bits) <= au->table_max);
        uint32_t n_cells = au_hashed_build(au, r, bits);
        for (uint32_t c = 0; c < n_cells; c++)
            au_hashed_cell(au, r, bits, c, e.flat ? 4 : 13);
    }
    au_grid_outliers(au, r, e.n_out);
}

/* ---- phase 2: per-participant index of the kept pairs ---- */

static void au_index_pairs(pv_audib *au, uint32_t n) {
    memset(au->start, 0, ((size_t)n + 1) * sizeof(uint32_t));
    for (uint32_t q = 0; q < au->pair_count; q++) {
        au->start[au->pairs[q].i + 1]++;
        au->start[au->pairs[q].j + 1]++;
    }
    for (uint32_t p = 0; p < n; p++)
        au->start[p + 1] += au->start[p];
    memcpy(au->cursor, au->start, (size_t)n * sizeof(uint32_t));
    for (uint32_t q = 0; q < au->pair_count; q++) {
        au->nbr[au->cursor[au->pairs[q].i]++] = q;
        au->nbr[au->cursor[au->pairs[q].j]++] = q;
    }
}

/* ---- phase 3: lists and canHear ---- */

static inline int au_near_less(const au_near *a, const au_near *b) {
    return a->d2 < b->d2 || (a->d2 == b->d2 && a->idx < b->idx);
}

/* Histogram bin of a squared distance in [0, exit^2]: monotone in d2. */
static inline uint32_t au_bin(const pv_audib *au, double d2) {
    uint32_t b = (uint32_t)(d2 * au->inv_bin);
    return b < AU_BINS ? b : AU_BINS - 1;
}

/* Moves the cap nearest of v[0..m) to v[0..cap), in (d2, idx) order: an
 * insertion sort that keeps only a prefix of cap, so most entries cost one
 * comparison with the current cap-th. */
static void au_top_cap(au_near *v, uint32_t m, uint32_t cap) {
    uint32_t h = 0;
    for (uint32_t k = 0; k < m; k++) {
        au_near t = v[k];
        if (h == cap && !au_near_less(&t, &v[cap - 1])) continue;
        uint32_t e = h < cap ? h++ : cap - 1;
        for (; e > 0 && au_near_less(&t, &v[e - 1]); e--)
            v[e] = v[e - 1];
        v[e] = t;
    }
}

/* Fills au->near with participant p's min(deg, K) nearest in-range peers
 * (unordered). Returns their count. Above K peers, a histogram of d2 over
 * AU_BINS equal bins (monotone, so it keeps the order) finds the bin where
 * the K-th nearest lies: the bins below are taken whole and only that bin
 * is ranked exactly, in at most O(deg * K) even if everybody is in it. */
static uint32_t au_select(pv_audib *au, uint32_t p) {
    uint32_t s = au->start[p], deg = au->start[p + 1] - s, m = 0;
    au_near *all = deg <= PV_AUDIB_K ? au->near : au->all;
    for (uint32_t k = 0; k < deg; k++) {
        const au_pair *q = &au->pairs[au->nbr[s + k]];
        all[k] = (au_near){q->d2, q->i ^ q->j ^ p};
    }
    if (deg <= PV_AUDIB_K) return deg;
    au->truncated_now++;
    uint32_t bins[AU_BINS] = {0};
    for (uint32_t k = 0; k < deg; k++)
        bins[au_bin(au, all[k].d2)]++;
    uint32_t edge = 0, below = 0;
    while (below + bins[edge] < PV_AUDIB_K)
        below += bins[edge++];
    uint32_t n_edge = 0;
    for (uint32_t k = 0; k < deg; k++) {
        uint32_t b = au_bin(au, all[k].d2);
        if (b < edge)
            au->near[m++] = all[k];
        else if (b == edge)
            all[n_edge++] = all[k]; /* n_edge <= k: in place */
    }
    assert(m == below);
    au_top_cap(all, n_edge, PV_AUDIB_K - m);
    for (uint32_t k = 0; m < PV_AUDIB_K; k++)
        au->near[m++] = all[k];
    return m;
}

/* Small sorts of distinct values from src into dst. Up to AU_RANK_MAX
 * values, each goes straight to its rank (the count of smaller ones): O(m^2)
 * but branch-free, which beats insertion sort's mispredictions for the few
 * peers a participant usually has. Larger sets use insertion sort. */
#define AU_RANK_MAX 16

#define AU_DEFINE_SORT(name, T)                                                                    \
    static void name(T *dst, const T *src, uint32_t m) {                                           \
        if (m <= AU_RANK_MAX) {                                                                    \
            for (uint32_t a = 0; a < m; a++) {                                                     \
                uint32_t rank = 0;                                                                 \
                for (uint32_t b = 0; b < m; b++)                                                   \
                    rank += src[b] < src[a];                                                       \
                dst[rank] = src[a];                                                                \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        for (uint32_t k = 0; k < m; k++) {                                                         \
            T t = src[k];                                                                          \
            uint32_t e = k;                                                                        \
            for (; e > 0 && t < dst[e - 1]; e--)                                                   \
                dst[e] = dst[e - 1];                                                               \
            dst[e] = t;                                                                            \
        }                                                                                          \
    }

AU_DEFINE_SORT(au_sort_u64, uint64_t) /* in_uids lists */
AU_DEFINE_SORT(au_sort_u32, uint32_t) /* hear lists (indexes) */

/* Writes participant p's new in_uids list and canHear. */
static void au_emit(pv_audib *au, pv_audib_room *r, uint32_t p) {
    uint32_t m = au_select(au, p);
    for (uint32_t k = 0; k < m; k++)
        au->uids[k] = r->uid[au->near[k].idx];
    au_sort_u64(r->in_uids[p], au->uids, m);
    r->in_count[p] = (uint16_t)m;
    if (m > au->cap) au_top_cap(au->near, m, au->cap); /* only the cap nearest are heard */
    uint32_t h = m < au->cap ? m : au->cap;
    for (uint32_t k = 0; k < h; k++)
        au->idxs[k] = au->near[k].idx;
    au_sort_u32(&r->hear[(size_t)p * au->cap], au->idxs, h);
    r->hear_count[p] = (uint8_t)h;
}

/* ---- compute ---- */

/* 0 if the room is well formed: arrays present, lists within capacity and
 * strictly ascending. */
static int au_check_room(const pv_audib *au, const pv_audib_room *r) {
    if (r->n > au->max_room_size) return PV_EINVAL;
    if (r->n == 0) return 0;
    if (!r->pos || !r->uid || !r->in_uids || !r->in_count || !r->hear || !r->hear_count)
        return PV_EINVAL;
    for (uint32_t i = 0; i < r->n; i++) {
        const uint64_t *l = r->in_uids[i];
        if (!l || r->in_count[i] > PV_AUDIB_K) return PV_EINVAL;
        for (uint32_t k = 1; k < r->in_count[i]; k++)
            if (!(l[k - 1] < l[k])) return PV_EINVAL;
    }
    return 0;
}

int pv_audib_compute(pv_audib *au, pv_audib_room *room, pv_audib_mode mode) {
    if (!au || !room || (mode != PV_AUDIB_GRID && mode != PV_AUDIB_NAIVE)) return PV_EINVAL;
    int rc = au_check_room(au, room);
    if (rc < 0) return rc;
    au->pair_count = 0;
    au->heaped = 0;
    au->candidates_now = au->dropped_now = au->truncated_now = 0;
    if (mode == PV_AUDIB_NAIVE)
        au_find_naive(au, room);
    else
        au_find_grid(au, room);
    au_index_pairs(au, room->n);
    for (uint32_t p = 0; p < room->n; p++)
        au_emit(au, room, p);
    au->stats.computes++;
    au->stats.candidates = au->candidates_now;
    au->stats.pairs_in_range = au->pair_count;
    au->stats.pairs_dropped += au->dropped_now;
    au->stats.lists_truncated += au->truncated_now;
    assert(au->pair_count <= au->max_pairs);
    return (int)au->pair_count;
}
