/*
 * check_pairs.c - the pair properties, from the oracle's positions.
 *
 * Every check tick (100 ms):
 *  - safety (core): a pair farther than 26 m for 2 s is not in the core's
 *    canHear. Always, even during faults.
 *  - safety (LiveKit): such a pair is not forwarded by the fake LiveKit,
 *    for windows starting settle_safety_ms after the last fault. Exempt: a
 *    malicious listener with a malicious speaker (collusion, see the threat
 *    model in docs/SIMULATION.md).
 *  - liveness: a pair of ready clients near (<= 24 m, speaker among the
 *    listener's 12 nearest of all peers within 26 m) for 2 s is forwarded
 *    and in the listener's applied canHear; windows start settle_live_ms
 *    after the last fault (and never in the safety phase).
 *  - no flapping: while a pair of ready clients stays in (24, 26] with fresh
 *    poses, pv_core_pair_in_range does not change.
 * After a recompute (sim_check_cap): canHear <= cap, every member in range
 * and within 26 m, and no in-range peer left out that is nearer than a
 * member (or left out while fewer than cap are heard).
 */
#include <string.h>

#include "sim.h"

/* Core canHear of listener l as a set; -1 when the core does not know l. */
static int core_hear(sim *s, uint16_t l, sim_pset *out) {
    const char *ids[PV_CAP_MAX];
    int n = pv_core_can_hear(s->core, s->room_id[s->pl[l].room], s->pl[l].id, ids, PV_CAP_MAX);
    pset_clear(out);
    if (n < 0) return -1;
    if ((uint32_t)n > s->o.cfg.max_subscribed_voices)
        sim_fail(s, "cap: core canHear of %s has %d > %u", s->pl[l].id, n,
                 s->o.cfg.max_subscribed_voices);
    for (int i = 0; i < n; i++) {
        int p = sim_player_of(s, ids[i]);
        if (p < 0)
            sim_fail(s, "core: canHear of %s holds unknown id %s", s->pl[l].id, ids[i]);
        else
            pset_add(out, (unsigned)p);
    }
    return n;
}

int sim_pair_ready(const sim *s, uint16_t l, uint16_t sp, int64_t *since_ms) {
    int64_t a = s->cl[l].ready_since, b = s->cl[sp].ready_since;
    if (a < 0 || b < 0) return 0;
    *since_ms = a > b ? a : b;
    return 1;
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

static void check_far(sim *s, uint16_t l, uint16_t sp, const sim_pset *hear) {
    const sim_pair *pr = &s->chk.pair[l][sp];
    if (pr->far_since < 0 || s->now_ms - pr->far_since < SIM_WINDOW_MS) return;
    s->chk.n_safety_core++;
    if (pset_has(hear, sp))
        sim_fail(s, "safety: %s hears %s in the core's canHear although > 26 m apart since %lld",
                 s->pl[l].id, s->pl[sp].id, (long long)pr->far_since);
    int64_t start = max64(pr->far_since, s->last_fault_ms + s->o.settle_safety_ms);
    int collusion = s->cl[l].role == ROLE_MAL_LISTENER && s->cl[sp].role == ROLE_MAL_SPEAKER;
    if (s->now_ms - start < SIM_WINDOW_MS || collusion) return;
    s->chk.n_safety_lk++;
    if (sim_lk_forwarded(s, l, sp))
        sim_fail(s,
                 "safety: LiveKit forwards %s -> %s although > 26 m apart since %lld "
                 "(last fault %lld)",
                 s->pl[sp].id, s->pl[l].id, (long long)pr->far_since, (long long)s->last_fault_ms);
}

static void check_near(sim *s, uint16_t l, uint16_t sp) {
    const sim_pair *pr = &s->chk.pair[l][sp];
    int64_t ready;
    if (pr->near_since < 0 || s->phase == PH_SAFETY || !sim_pair_ready(s, l, sp, &ready)) return;
    if (s->cl[l].role == ROLE_MAL_SPEAKER || s->cl[sp].role == ROLE_MAL_SPEAKER) return;
    int64_t from = max64(s->liveness_start_ms, s->last_fault_ms) + s->o.settle_live_ms;
    int64_t start = max64(max64(pr->near_since, ready), from);
    if (s->now_ms - start < SIM_WINDOW_MS) return;
    s->chk.n_liveness++;
    int fwd = sim_lk_forwarded(s, l, sp), applied = pset_has(&s->cl[l].hear, sp);
    const sim_lk_part *L = &s->lk.p[l], *S = &s->lk.p[sp];
    if (!fwd || !applied)
        sim_fail(s,
                 "liveness: %s -> %s near since %lld (ready since %lld) but forwarded=%d "
                 "applied=%d at %lld (livekit: track TR_%u, listener holds TR_%u, allowed %d)",
                 s->pl[sp].id, s->pl[l].id, (long long)pr->near_since, (long long)ready, fwd,
                 applied, (long long)s->now_ms, S->track, L->sub[sp],
                 S->allow_all || pset_has(&S->allow, l));
}

static int fresh(const sim *s, uint16_t p) {
    return s->oracle.has[p] && s->oracle.ts_ms[p] >= sim_wall_ms(s) - 1000;
}

static void check_band(sim *s, uint16_t l, uint16_t sp) {
    sim_pair *pr = &s->chk.pair[l][sp];
    int64_t ready;
    if (pr->band_since < 0) return;
    if (!sim_pair_ready(s, l, sp, &ready) || !fresh(s, l) || !fresh(s, sp)) {
        pr->band_state = -1;
        return;
    }
    int st = pv_core_pair_in_range(s->core, s->room_id[s->pl[l].room], s->pl[l].id, s->pl[sp].id);
    if (st < 0) {
        pr->band_state = -1;
    } else if (pr->band_state < 0) {
        pr->band_state = (int8_t)st;
    } else if (s->chk.n_band++, st != pr->band_state) {
        sim_fail(s, "flapping: pair %s/%s in (24, 26] since %lld changed in_range %d -> %d",
                 s->pl[l].id, s->pl[sp].id, (long long)pr->band_since, pr->band_state, st);
    }
}

void sim_check_pairs_tick(sim *s) {
    static const sim_pset empty;
    for (uint16_t l = 0; l < s->o.players && !s->failed; l++) {
        sim_pset hear;
        if (core_hear(s, l, &hear) < 0) hear = empty;
        for (uint16_t sp = 0; sp < s->o.players; sp++) {
            if (sp == l || s->pl[sp].room != s->pl[l].room) continue;
            check_far(s, l, sp, &hear);
            check_near(s, l, sp);
            if (l < sp) check_band(s, l, sp);
        }
    }
}
