/*
 * check_cap.c - the cap keeps the nearest. Run right after a step that
 * recomputed and left no deferred work (wake_at_ms > now_ms): every room is
 * then in step with the poses the core accepted, which are the oracle's.
 * Rooms where the oracle is unsure of someone's pose are skipped.
 */
#include "sim.h"

static int room_sure(const sim *s, uint8_t room) {
    for (uint16_t p = 0; p < s->o.players; p++)
        if (s->pl[p].room == room && s->oracle.unsure[p]) return 0;
    return 1;
}

/* The farthest member of l's canHear; -1 if some member cannot be judged. */
static double farthest_member(sim *s, uint16_t l, const char *const *ids, int n) {
    const char *room = s->room_id[s->pl[l].room];
    double worst = 0;
    for (int i = 0; i < n; i++) {
        int sp = sim_player_of(s, ids[i]);
        if (sp < 0 || !s->oracle.has[sp]) return -1;
        double d = sim_dist(&s->oracle.pos[l], &s->oracle.pos[sp]);
        if (d > 26.0 + SIM_EPS_M)
            sim_fail(s, "cap: %s hears %s at %.3f m right after a recompute", s->pl[l].id, ids[i],
                     d);
        if (pv_core_pair_in_range(s->core, room, s->pl[l].id, ids[i]) != 1)
            sim_fail(s, "cap: %s hears %s whose pair is not in range", s->pl[l].id, ids[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

static void check_listener(sim *s, uint16_t l) {
    const char *ids[PV_CAP_MAX];
    const char *room = s->room_id[s->pl[l].room];
    int n = pv_core_can_hear(s->core, room, s->pl[l].id, ids, PV_CAP_MAX);
    uint32_t cap = s->o.cfg.max_subscribed_voices;
    if (n < 0 || !s->oracle.has[l]) return;
    s->chk.n_cap++;
    if ((uint32_t)n > cap) sim_fail(s, "cap: %s hears %d > %u", s->pl[l].id, n, cap);
    double worst = farthest_member(s, l, ids, n);
    if (worst < 0) return;
    sim_pset hear = {{0}};
    for (int i = 0; i < n; i++)
        pset_add(&hear, (unsigned)sim_player_of(s, ids[i]));
    for (uint16_t p = 0; p < s->o.players && !s->failed; p++) {
        if (p == l || s->pl[p].room != s->pl[l].room || !s->oracle.has[p] || pset_has(&hear, p))
            continue;
        double d = sim_dist(&s->oracle.pos[l], &s->oracle.pos[p]);
        if (d > 26.0 + SIM_EPS_M) continue;
        int in = pv_core_pair_in_range(s->core, room, s->pl[l].id, s->pl[p].id);
        if (in == 0 && d <= 24.0 - SIM_EPS_M)
            sim_fail(s, "hysteresis: %s and %s %.3f m apart are not in range after a recompute",
                     s->pl[l].id, s->pl[p].id, d);
        if (in != 1) continue;
        if ((uint32_t)n < cap || d < worst - SIM_EPS_M)
            sim_fail(s, "cap: %s leaves out in-range %s at %.3f m (hears %d, farthest %.3f m)",
                     s->pl[l].id, s->pl[p].id, d, n, worst);
    }
}

void sim_check_cap(sim *s) {
    if (s->core_wake_ms <= s->now_ms) return; /* work deferred: rooms may lag */
    for (uint8_t r = 0; r < s->o.rooms; r++) {
        /* rooms take turns (round_slices): only rooms recomputed in this
         * step are in step with the oracle */
        if (pv_core_room_recomputed_at(s->core, s->room_id[r]) != s->now_ms) continue;
        if (!room_sure(s, r)) continue;
        for (uint16_t l = 0; l < s->o.players && !s->failed; l++)
            if (s->pl[l].room == r) check_listener(s, l);
    }
}
