/*
 * audib.h - the audibility engine (internal to core/).
 *
 * Given the poses of the participants of ONE room and the previous pair
 * state, it computes the new symmetric in-range pair state (hysteresis:
 * enter at d <= enter radius, leave at d > exit radius, keep state between)
 * and each listener's capped canHear (the `cap` nearest in-range peers,
 * ties broken by participant ID).
 *
 * Participant order: the caller passes participants sorted by participant
 * ID (strcmp order). Index order therefore IS the ID order, and every tie is
 * broken by the smaller index.
 *
 * Pair state lives with the participants (in_uids lists, sorted ascending,
 * capacity PV_AUDIB_K), so it survives joins and leaves; uids are never
 * reused. A pair counts as "was in range" if either side's list holds the
 * other. When a participant has more than PV_AUDIB_K in-range peers, its list
 * keeps the PV_AUDIB_K nearest (distance, then index) and the overflow is
 * counted in pv_audib_stats.lists_truncated (a documented limit; canHear is
 * still exact because the cap is far below PV_AUDIB_K).
 *
 * Two candidate finders give identical results (a property test proves it):
 *  - PV_AUDIB_GRID: a uniform grid with cells of exit-radius size;
 *  - PV_AUDIB_NAIVE: all n*(n-1)/2 pairs.
 *
 * MUST: no allocation after pv_audib_init; scratch is sized for
 * max_room_size participants and max_pairs in-range pairs.
 *
 * Details fixed by core/audib.c (additive to the above):
 *  - pv_audib_new MUST get an allocator with alloc and free (core/ never
 *    calls malloc): a == NULL gives PV_EINVAL. It allocates ONE block of
 *    about 24 * max_pairs + 100 * max_room_size bytes, freed by pv_audib_free.
 *  - Valid arguments: 1 <= max_room_size <= 2^24, 1 <= max_pairs <= 2^28,
 *    1 <= cap <= PV_CAP_MAX, 0 <= enter <= exit, 1e-3 <= exit <= 1e9 (metres).
 *  - Pair budget: when more than max_pairs pairs are in range, the kept ones
 *    are the max_pairs smallest by (d2, lower index, higher index) ("nearest
 *    pairs win"); the others are out of range for this compute (and so
 *    forget their hysteresis) and are counted in pairs_dropped.
 *  - lists_truncated counts participants whose list was cut, per compute.
 *  - candidates counts pairs with d2 <= exit^2 (the same in both modes).
 *  - n == 0 is valid and the arrays may then be NULL. Every in_uids list
 *    MUST be strictly ascending with in_count <= PV_AUDIB_K (else PV_EINVAL);
 *    uids MUST be distinct (not checked). hear rows are n rows of `cap`.
 *  - A NaN or infinite coordinate puts nobody in range of that participant;
 *    coordinates beyond ~1e6 cells from the origin are handled exactly but
 *    tested against everyone (slow path).
 */
#ifndef PV_AUDIB_H
#define PV_AUDIB_H

#include "pv.h"

#define PV_AUDIB_K 64 /* tracked in-range neighbours per participant */

typedef enum pv_audib_mode { PV_AUDIB_GRID = 0, PV_AUDIB_NAIVE = 1 } pv_audib_mode;

typedef struct pv_audib_room {
    uint32_t n;               /* participants with a pose, <= max_room_size */
    const pv_vec3 *pos;       /* [n], sorted by participant ID */
    const uint64_t *uid;      /* [n], unique, never reused */
    uint64_t *const *in_uids; /* [n] -> each participant's list of PV_AUDIB_K slots:
                                 read as the previous state, overwritten with the new */
    uint16_t *in_count;       /* [n] entries used in each list */
    uint32_t *hear;           /* out: [n * cap] canHear indices per listener, ascending */
    uint8_t *hear_count;      /* out: [n] */
} pv_audib_room;

typedef struct pv_audib_stats {
    uint64_t computes;
    uint64_t candidates;      /* pairs within exit radius examined, last compute */
    uint64_t pairs_in_range;  /* last compute */
    uint64_t pairs_dropped;   /* in-range pairs beyond max_pairs, cumulative */
    uint64_t lists_truncated; /* neighbour lists cut to PV_AUDIB_K, cumulative */
} pv_audib_stats;

typedef struct pv_audib pv_audib;

/* Returns 0 and *out, PV_EINVAL (cap > PV_CAP_MAX, radii invalid, sizes 0)
 * or PV_ENOMEM. */
int pv_audib_new(pv_audib **out, uint32_t max_room_size, uint32_t max_pairs, uint32_t cap,
                 double enter_radius_m, double exit_radius_m, const pv_allocator *a);
void pv_audib_free(pv_audib *au);

/* Computes one room. Returns the number of in-range pairs (>= 0), or
 * PV_EINVAL (n > max_room_size, NULL arrays). Deterministic: the same input
 * gives the same output in either mode. */
int pv_audib_compute(pv_audib *au, pv_audib_room *room, pv_audib_mode mode);

void pv_audib_get_stats(const pv_audib *au, pv_audib_stats *st);

#endif /* PV_AUDIB_H */
