/*
 * faults.c - when faults happen. The safety phase alternates storms (every
 * enabled fault class fires at its rate) and calms (none), so that LiveKit-
 * level safety, which is only checked a settle time after the last fault,
 * also gets checked inside the safety phase. LiveKit restarts are scheduled
 * at seed-chosen times of the safety phase.
 */
#include <stdio.h>

#include "sim.h"

static void schedule_toggle(sim *s) {
    int64_t d = s->storm ? sim_rng_range(&s->rng_fault, s->o.storm_min_ms, s->o.storm_max_ms)
                         : sim_rng_range(&s->rng_fault, s->o.calm_min_ms, s->o.calm_max_ms);
    if (s->now_ms + d >= s->o.safety_ms) return;
    sim_ev ev = {.kind = K_STORM_TOGGLE};
    sim_schedule(s, s->now_ms + d, &ev);
}

void sim_faults_start(sim *s) {
    s->storm = 1;
    schedule_toggle(s);
    for (uint32_t i = 0; i < s->o.lk_restarts && s->o.safety_ms > 1500; i++) {
        sim_ev ev = {.kind = K_LK_RESTART};
        sim_schedule(s, sim_rng_range(&s->rng_fault, 1000, s->o.safety_ms - 500), &ev);
    }
}

void sim_faults_on_event(sim *s, const sim_ev *ev) {
    (void)ev;
    if (s->phase != PH_SAFETY) return;
    s->storm = !s->storm;
    sim_log(s, "storm %s", s->storm ? "on" : "off");
    schedule_toggle(s);
}

/* Per check tick: socket disconnects and LiveKit link drops. */
void sim_faults_check_tick(sim *s) {
    if (!sim_faults_on(s)) return;
    for (uint16_t p = 0; p < s->o.players; p++) {
        sim_client *c = &s->cl[p];
        if ((c->sock == SK_AUTHING || c->sock == SK_LIVE) &&
            sim_rng_ppm(&s->rng_fault, s->o.disconnect_ppm)) {
            sim_note_fault(s);
            s->disconnects++;
            sim_sock_kill(s, c->conn_id);
        }
        if ((c->sock == SK_AUTHING || c->sock == SK_LIVE) &&
            sim_rng_ppm(&s->rng_fault, s->o.stall_ppm)) {
            sim_note_fault(s);
            sim_sock_stall(s, c->conn_id, sim_rng_range(&s->rng_fault, 200, s->o.stall_max_ms));
        }
        if (s->lk.p[p].joined && sim_rng_ppm(&s->rng_fault, s->o.lk_drop_ppm)) {
            sim_note_fault(s);
            int aborted = (int)sim_rng_below(&s->rng_fault, 2);
            sim_lk_kick(s, p, aborted ? PV_WH_PARTICIPANT_ABORTED : PV_WH_PARTICIPANT_LEFT);
        }
    }
}
