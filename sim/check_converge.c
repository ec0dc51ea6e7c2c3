/*
 * check_converge.c - convergence at the end of the run and the malicious
 * speaker's removal.
 *
 * Convergence: when the converge phase (players standing still, no faults
 * for liveness_ms already) ends, every active client other than the
 * malicious speaker is ready, its applied canHear equals the core's, and for
 * every pair of ready clients the fake LiveKit forwards exactly the pairs the
 * core's canHear says (malicious speakers excluded).
 *
 * Malicious speaker: it never applies nor acknowledges an audience, and
 * never sets an allow-list (so LiveKit lets everyone subscribe). Once the
 * core sends it an audience that drops a listener, it must be gone from
 * LiveKit within audience_ack_deadline_ms + slack, counted from the later of
 * that send and settle_live_ms after the last fault.
 */
#include <stdio.h>

#include "sim.h"

static int listener_ok(sim *s, uint16_t l, char *why, size_t n) {
    const char *ids[PV_CAP_MAX];
    int k = pv_core_can_hear(s->core, s->room_id[s->pl[l].room], s->pl[l].id, ids, PV_CAP_MAX);
    sim_pset core = {{0}};
    for (int i = 0; i < k && i < PV_CAP_MAX; i++) {
        int p = sim_player_of(s, ids[i]);
        if (p >= 0) pset_add(&core, (unsigned)p);
    }
    if (k < 0 || !pset_eq(&core, &s->cl[l].hear)) {
        snprintf(why, n, "%s's applied canHear (rev %llu) differs from the core's (%d ids)",
                 s->pl[l].id, (unsigned long long)s->cl[l].rev, k);
        return 0;
    }
    for (uint16_t sp = 0; sp < s->o.players; sp++) {
        int64_t since;
        if (sp == l || s->cl[sp].role == ROLE_MAL_SPEAKER || !sim_pair_ready(s, l, sp, &since))
            continue;
        if (s->pl[sp].room != s->pl[l].room) continue;
        if (sim_lk_forwarded(s, l, sp) != pset_has(&core, sp)) {
            snprintf(why, n, "LiveKit forwards %s -> %s = %d but the core's canHear says %d",
                     s->pl[sp].id, s->pl[l].id, sim_lk_forwarded(s, l, sp), pset_has(&core, sp));
            return 0;
        }
    }
    return 1;
}

static int converged(sim *s, char *why, size_t n) {
    for (uint16_t p = 0; p < s->o.players; p++) {
        const sim_client *c = &s->cl[p];
        if (!c->active || c->role == ROLE_MAL_SPEAKER) continue;
        if (c->ready_since < 0) {
            snprintf(why, n, "client %s not ready (session %d socket %d livekit %d gap %d)",
                     s->pl[p].id, c->sess, c->sock, c->lk, c->gap);
            return 0;
        }
        if (!listener_ok(s, p, why, n)) return 0;
    }
    return 1;
}

void sim_check_converge_tick(sim *s) {
    char why[256];
    if (s->phase != PH_CONVERGE) return;
    int ok = converged(s, why, sizeof(why));
    if (ok && s->chk.converged_ms < 0) s->chk.converged_ms = s->now_ms;
    if (!ok) s->chk.converged_ms = -1;
    if (!ok && s->now_ms + SIM_CHECK_TICK_MS >= s->end_ms)
        sim_fail(s, "convergence: not converged %lld ms after faults stopped: %s",
                 (long long)(s->now_ms - s->liveness_start_ms), why);
}

void sim_check_malicious_tick(sim *s) {
    uint16_t m = s->o.mal_speaker;
    if (m == SIM_NOBODY || s->chk.mal_shrink_ms < 0) return;
    const sim_lk_part *lp = &s->lk.p[m];
    if (!lp->joined || lp->join_epoch != s->chk.mal_shrink_join) {
        s->chk.mal_shrink_ms = -1; /* removed (or gone): done */
        s->chk.n_mal++;
        pset_clear(&s->chk.mal_last_aud);
        return;
    }
    int64_t slack = s->o.lk_latency_max_ms + s->o.cfg.livekit_backoff_max_ms + 500;
    /* A fault can leave the core's view of LiveKit wrong until the next
     * ListParticipants: the clock starts settle_live_ms after the last one. */
    int64_t start = s->chk.mal_shrink_ms;
    if (s->last_fault_ms + s->o.settle_live_ms > start)
        start = s->last_fault_ms + s->o.settle_live_ms;
    if (s->now_ms > start + s->o.cfg.audience_ack_deadline_ms + slack)
        sim_fail(s,
                 "malicious: speaker %s (never acks) still in LiveKit %lld ms after a shrinking "
                 "audience was sent at %lld",
                 s->pl[m].id, (long long)(s->now_ms - s->chk.mal_shrink_ms),
                 (long long)s->chk.mal_shrink_ms);
}
