/*
 * audib.c - the audibility engine: hysteresis pair state and capped canHear
 * for the participants of one room (see audib.h for the contract).
 *
 * One compute runs in three phases, the same in both modes except phase 1:
 *  1. find the in-range pairs (i < j): every pair with d2 <= exit^2 is a
 *     candidate; it is in range if d2 <= enter^2, or if it was in range
 *     before (either side's previous in_uids list holds the other).
 *     NAIVE tests all n*(n-1)/2 pairs; GRID tests only pairs in neighbouring
 *     cells (each pair exactly once). Both feed the same pair buffer.
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
 * antisymmetric, so d2(a, b) == d2(b, a) bit for bit. The build uses
 * -std=c11, which keeps gcc from contracting it into FMAs.
 */
#include "audib.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define AU_ROOM_MAX   (1u << 24) /* max_room_size limit */
#define AU_PAIRS_MAX  (1u << 28) /* max_pairs limit (int return value, sizes) */
#define AU_RADIUS_MAX 1e9        /* metres; keeps exit^2 and the grid finite */
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
    uint32_t max_room_size, max_pairs, cap, table_max;
    double enter2, exit2, inv_cell;
    /* per compute */
    uint32_t pair_count;
    int heaped; /* pairs[] is a max-heap (budget exceeded) */
    uint64_t candidates_now, dropped_now, truncated_now;
    /* phase 1 and 2 scratch */
    au_pair *pairs;   /* [max_pairs] */
    uint32_t *nbr;    /* [2 * max_pairs] pair indices grouped by participant */
    uint32_t *start;  /* [max_room_size + 1] CSR offsets into nbr */
    uint32_t *cursor; /* [max_room_size] */
    /* grid scratch */
    uint64_t *pkey;       /* [max_room_size] cell key per participant */
    uint32_t *cell_of;    /* [max_room_size] cell id or AU_NO_CELL (outlier) */
    uint64_t *cell_key;   /* [max_room_size] */
    uint32_t *cell_start; /* [max_room_size + 1] offsets into order/spos */
    uint32_t *order;      /* [max_room_size] participants grouped by cell */
    pv_vec3 *spos;        /* [max_room_size] positions in that order */
    uint32_t *outliers;   /* [max_room_size] */
    au_slot *table;       /* [table_max] open addressing: cell key -> cell id */
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
static size_t au_layout(pv_audib *au, char *base, uint32_t n_max, uint32_t p_max, uint32_t t_max) {
    size_t off = au_align(sizeof(pv_audib));
    AU_CARVE(pairs, p_max);
    AU_CARVE(nbr, 2 * (size_t)p_max);
    AU_CARVE(start, (size_t)n_max + 1);
    AU_CARVE(cursor, n_max);
    AU_CARVE(pkey, n_max);
    AU_CARVE(cell_of, n_max);
    AU_CARVE(cell_key, n_max);
    AU_CARVE(cell_start, (size_t)n_max + 1);
    AU_CARVE(order, n_max);
    AU_CARVE(spos, n_max);
    AU_CARVE(outliers, n_max);
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
        !(exit_radius_m <= AU_RADIUS_MAX))
        return PV_EINVAL;
    uint32_t t_max = au_table_size(max_room_size);
    size_t size = au_layout(NULL, NULL, max_room_size, max_pairs, t_max);
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
    au_layout(au, base, max_room_size, max_pairs, t_max);
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

static inline uint64_t au_pack(double cx, double cy, double cz) {
    return ((uint64_t)((int64_t)cx + AU_CELL_BIAS) << 42) |
           ((uint64_t)((int64_t)cy + AU_CELL_BIAS) << 21) | (uint64_t)((int64_t)cz + AU_CELL_BIAS);
}

/* 1 if the cell coordinate c (already floored) is usable; 0 for outliers. */
static inline int au_cell_ok(double c) {
    return c >= -AU_CELL_LIMIT && c <= AU_CELL_LIMIT;
}

/* Assigns each participant a cell key (pkey) or marks it an outlier.
 * Returns 1 if the room is flat (all usable participants within two layers
 * of cells in y): then y is left out of the key, giving a 2D grid whose
 * extra candidates are rejected by the exact d2 test. */
static int au_grid_keys(pv_audib *au, const pv_audib_room *r, uint32_t *n_out) {
    double ymin = INFINITY, ymax = -INFINITY, inv = au->inv_cell;
    uint32_t n_out_ = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        double cx = floor(r->pos[i].x * inv), cy = floor(r->pos[i].y * inv);
        double cz = floor(r->pos[i].z * inv);
        if (!au_cell_ok(cx) || !au_cell_ok(cy) || !au_cell_ok(cz)) {
            au->cell_of[i] = AU_NO_CELL;
            au->outliers[n_out_++] = i;
            continue;
        }
        au->cell_of[i] = 0;
        ymin = cy < ymin ? cy : ymin;
        ymax = cy > ymax ? cy : ymax;
    }
    int flat = !(ymax - ymin > 1.0);
    for (uint32_t i = 0; i < r->n; i++) {
        if (au->cell_of[i] == AU_NO_CELL) continue;
        double cy = flat ? 0.0 : floor(r->pos[i].y * inv);
        au->pkey[i] = au_pack(floor(r->pos[i].x * inv), cy, floor(r->pos[i].z * inv));
    }
    *n_out = n_out_;
    return flat;
}

/* Builds cells (hash table, counting sort of participants by cell, stable so
 * each cell lists its members by ascending index). Returns the cell count. */
static uint32_t au_grid_build(pv_audib *au, const pv_audib_room *r, uint32_t bits) {
    uint32_t n_cells = 0, size = 1u << bits;
    for (uint32_t h = 0; h < size; h++)
        au->table[h].key = AU_KEY_EMPTY;
    for (uint32_t i = 0; i < r->n; i++) {
        if (au->cell_of[i] == AU_NO_CELL) continue;
        uint32_t c = au_intern(au, bits, au->pkey[i], &n_cells);
        au->cell_of[i] = c;
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
static void au_grid_cell(pv_audib *au, const pv_audib_room *r, uint32_t bits, uint32_t c,
                         uint32_t n_offsets) {
    uint32_t a0 = au->cell_start[c], a1 = au->cell_start[c + 1];
    for (uint32_t a = a0; a < a1; a++)
        for (uint32_t b = a + 1; b < a1; b++)
            au_consider(au, r, au->order[a], au->order[b], au_d2(&au->spos[a], &au->spos[b]));
    for (uint32_t o = 0; o < n_offsets; o++) {
        uint64_t key = (uint64_t)((int64_t)au->cell_key[c] + au_offset(au_half[o]));
        uint32_t c2 = au_lookup(au, bits, key);
        if (c2 == AU_NO_CELL) continue;
        uint32_t b0 = au->cell_start[c2], b1 = au->cell_start[c2 + 1];
        for (uint32_t a = a0; a < a1; a++)
            for (uint32_t b = b0; b < b1; b++)
                au_consider(au, r, au->order[a], au->order[b], au_d2(&au->spos[a], &au->spos[b]));
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
    uint32_t n_out = 0, bits = 4;
    int flat = au_grid_keys(au, r, &n_out);
    while ((1u << bits) < 2 * r->n)
        bits++;
    assert((1u << bits) <= au->table_max);
    uint32_t n_cells = au_grid_build(au, r, bits);
    uint32_t n_offsets = flat ? 4 : 13;
    for (uint32_t c = 0; c < n_cells; c++)
        au_grid_cell(au, r, bits, c, n_offsets);
    au_grid_outliers(au, r, n_out);
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

static void au_near_sift_down(au_near *h, uint32_t n, uint32_t k) {
    for (;;) {
        uint32_t big = k, l = 2 * k + 1, r = l + 1;
        if (l < n && au_near_less(&h[big], &h[l])) big = l;
        if (r < n && au_near_less(&h[big], &h[r])) big = r;
        if (big == k) return;
        au_near t = h[k];
        h[k] = h[big];
        h[big] = t;
        k = big;
    }
}

/* Fills au->near with participant p's min(deg, K) nearest in-range peers
 * (unordered). Returns their count. */
static uint32_t au_select(pv_audib *au, uint32_t p) {
    uint32_t s = au->start[p], deg = au->start[p + 1] - s, m = 0;
    for (uint32_t k = 0; k < deg; k++) {
        const au_pair *q = &au->pairs[au->nbr[s + k]];
        au_near e = {q->d2, q->i ^ q->j ^ p};
        if (m < PV_AUDIB_K) {
            au->near[m++] = e;
            if (m == PV_AUDIB_K && deg > PV_AUDIB_K)
                for (uint32_t h = PV_AUDIB_K / 2; h-- > 0;)
                    au_near_sift_down(au->near, PV_AUDIB_K, h);
        } else if (au_near_less(&e, &au->near[0])) {
            au->near[0] = e;
            au_near_sift_down(au->near, PV_AUDIB_K, 0);
        }
    }
    if (deg > PV_AUDIB_K) au->truncated_now++;
    return m;
}

static void au_sort_near(au_near *v, uint32_t n) {
    for (uint32_t k = 1; k < n; k++) {
        au_near t = v[k];
        uint32_t m = k;
        for (; m > 0 && au_near_less(&t, &v[m - 1]); m--)
            v[m] = v[m - 1];
        v[m] = t;
    }
}

static void au_sort_u64(uint64_t *v, uint32_t n) {
    for (uint32_t k = 1; k < n; k++) {
        uint64_t t = v[k];
        uint32_t m = k;
        for (; m > 0 && t < v[m - 1]; m--)
            v[m] = v[m - 1];
        v[m] = t;
    }
}

static void au_sort_u32(uint32_t *v, uint32_t n) {
    for (uint32_t k = 1; k < n; k++) {
        uint32_t t = v[k];
        uint32_t m = k;
        for (; m > 0 && t < v[m - 1]; m--)
            v[m] = v[m - 1];
        v[m] = t;
    }
}

/* Writes participant p's new in_uids list and canHear. */
static void au_emit(pv_audib *au, pv_audib_room *r, uint32_t p) {
    uint32_t m = au_select(au, p);
    uint64_t *list = r->in_uids[p];
    for (uint32_t k = 0; k < m; k++)
        list[k] = r->uid[au->near[k].idx];
    au_sort_u64(list, m);
    r->in_count[p] = (uint16_t)m;
    if (m > au->cap) au_sort_near(au->near, m); /* only the cap nearest are heard */
    uint32_t h = m < au->cap ? m : au->cap;
    uint32_t *hear = &r->hear[(size_t)p * au->cap];
    for (uint32_t k = 0; k < h; k++)
        hear[k] = au->near[k].idx;
    au_sort_u32(hear, h);
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
