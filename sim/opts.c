/*
 * opts.c - seed -> options. Each fault class is switched on for about half
 * of the seeds (swarm testing: a run with only some faults finds bugs that
 * a run with every fault at once hides), and its rate is drawn from a range.
 */
#include <math.h>
#include <stdio.h>

#include "sim_opts.h"
#include "sim_prng.h"

/* A rate in [lo, hi] ppm for half of the seeds, else 0. */
static uint32_t maybe_ppm(sim_rng *r, uint32_t lo, uint32_t hi) {
    if (!sim_rng_ppm(r, SIM_PPM / 2)) return 0;
    return (uint32_t)sim_rng_range(r, lo, hi);
}

static void derive_population(sim_opts *o, sim_rng *r) {
    /* Many small runs and some full ones: 1/4 of seeds use 100 players. */
    o->players = sim_rng_ppm(r, SIM_PPM / 4) ? 100 : (uint32_t)sim_rng_range(r, 2, 100);
    o->rooms = (uint32_t)sim_rng_range(r, 1, o->players >= 6 ? 3 : 1);
    double per_room = (double)o->players / o->rooms;
    o->area_m = sqrt(per_room) * (double)sim_rng_range(r, 8, 30) + 30.0;
    o->hover_pairs = (uint32_t)sim_rng_range(r, 0, o->players / 4 < 6 ? o->players / 4 : 6);
    o->teleport_ppm = (uint32_t)sim_rng_range(r, 0, 4000);
    o->run_toggle_ppm = (uint32_t)sim_rng_range(r, 0, 50000);
    o->leave_ppm = maybe_ppm(r, 1000, 30000);
    o->rejoin_min_ms = sim_rng_range(r, 200, 3000);
    o->rejoin_max_ms = o->rejoin_min_ms + sim_rng_range(r, 0, 8000);
    o->mal_listener = SIM_NOBODY;
    o->mal_speaker = SIM_NOBODY;
    if (o->players >= 4 && sim_rng_ppm(r, SIM_PPM / 4))
        o->mal_listener = (uint16_t)sim_rng_below(r, o->players);
    if (o->players >= 4 && sim_rng_ppm(r, SIM_PPM / 4)) {
        uint16_t m = (uint16_t)sim_rng_below(r, o->players);
        if (m != o->mal_listener) o->mal_speaker = m;
    }
}

static void derive_network(sim_opts *o, sim_rng *r) {
    o->http_delay_min_ms = sim_rng_range(r, 1, 30);
    o->http_delay_max_ms = o->http_delay_min_ms + sim_rng_range(r, 0, 200);
    o->sock_delay_min_ms = sim_rng_range(r, 1, 30);
    o->sock_delay_max_ms = o->sock_delay_min_ms + sim_rng_range(r, 0, 150);
    o->wh_delay_min_ms = sim_rng_range(r, 1, 50);
    o->wh_delay_max_ms = o->wh_delay_min_ms + sim_rng_range(r, 0, 250);
    o->lk_latency_min_ms = sim_rng_range(r, 2, 40);
    o->lk_latency_max_ms = o->lk_latency_min_ms + sim_rng_range(r, 0, 300);
    o->lk_signal_min_ms = sim_rng_range(r, 5, 30);
    o->lk_signal_max_ms = o->lk_signal_min_ms + sim_rng_range(r, 0, 120);
}

static void derive_faults(sim_opts *o, sim_rng *r) {
    o->pose_loss_ppm = maybe_ppm(r, 10000, 300000);
    o->pose_dup_ppm = maybe_ppm(r, 10000, 200000);
    o->pose_late_ppm = maybe_ppm(r, 10000, 200000);
    o->session_loss_ppm = maybe_ppm(r, 10000, 300000);
    o->wh_loss_ppm = maybe_ppm(r, 10000, 200000);
    o->wh_dup_ppm = maybe_ppm(r, 10000, 300000);
    o->wh_late_ppm = maybe_ppm(r, 10000, 300000);
    o->wh_late_max_ms = sim_rng_range(r, 1000, 10000);
    o->lk_fail_ppm = maybe_ppm(r, 10000, 300000);
    o->lk_timeout_ppm = maybe_ppm(r, 5000, 100000);
    o->lk_timeout_ms = sim_rng_range(r, 500, 3000);
    o->disconnect_ppm = maybe_ppm(r, 500, 20000);
    o->lk_drop_ppm = maybe_ppm(r, 200, 5000);
    o->lk_restarts = sim_rng_ppm(r, SIM_PPM / 3) ? (uint32_t)sim_rng_range(r, 1, 2) : 0;
    o->lk_down_min_ms = sim_rng_range(r, 100, 1000);
    o->lk_down_max_ms = o->lk_down_min_ms + sim_rng_range(r, 0, 3000);
    o->storm_min_ms = sim_rng_range(r, 500, 3000);
    o->storm_max_ms = o->storm_min_ms + sim_rng_range(r, 0, 8000);
    o->calm_min_ms = sim_rng_range(r, 0, 2000);
    o->calm_max_ms = o->calm_min_ms + sim_rng_range(r, 0, 10000);
}

static void derive_core(sim_opts *o, sim_rng *r) {
    static const int64_t reconcile_ms[] = {1000, 2000, 3000, 5000, 10000};
    pv_config *c = &o->cfg;
    pv_config_default(c);
    c->max_rooms = 8;
    c->max_participants = 512;
    c->max_room_size = 200;
    c->max_connections = 1024;
    c->max_pairs = 64u * c->max_participants;
    c->recompute_on_pose = (int)sim_rng_below(r, 2);
    c->livekit_reconcile_interval_ms = reconcile_ms[sim_rng_below(r, 5)];
    /* A small effect budget for 1/4 of the seeds exercises deferred work. */
    if (sim_rng_ppm(r, SIM_PPM / 4)) c->max_effects_per_step = (uint32_t)sim_rng_range(r, 16, 256);
}

/* Settle times are derived, not drawn: they are the documented bounds of
 * docs/SIMULATION.md ("safety at LiveKit" and "liveness"). */
static void derive_phases(sim_opts *o, sim_rng *r, int64_t safety_override) {
    const pv_config *c = &o->cfg;
    o->safety_ms = safety_override >= 0 ? safety_override : sim_rng_range(r, 4000, 15000);
    o->settle_safety_ms = 5000 + c->audience_ack_deadline_ms + c->livekit_backoff_max_ms +
                          o->lk_timeout_ms + 2 * o->lk_latency_max_ms + 1000;
    o->settle_live_ms = o->settle_safety_ms + c->livekit_reconcile_interval_ms;
    o->liveness_ms = o->settle_live_ms + sim_rng_range(r, 3000, 6000);
    o->converge_ms = 5000;
}

void sim_opts_derive(sim_opts *o, uint64_t seed, int64_t safety_ms_override) {
    sim_rng r;
    uint64_t st = seed;
    sim_rng_seed(&r, sim_splitmix64(&st)); /* sub-seed 0: options */
    *o = (sim_opts){0};
    o->seed = seed;
    derive_population(o, &r);
    derive_network(o, &r);
    derive_faults(o, &r);
    derive_core(o, &r);
    derive_phases(o, &r, safety_ms_override);
    /* Options added later are drawn last, so older seeds keep their runs. */
    o->delta_drop_ppm = maybe_ppm(&r, 200000, 1000000);
    o->stall_ppm = maybe_ppm(&r, 1000, 20000);
    o->stall_max_ms = sim_rng_range(&r, 300, 2500);
    static const uint32_t slices[] = {1, 2, 5, 10}; /* rooms taking turns per round */
    o->cfg.round_slices = slices[sim_rng_below(&r, 4)];
}

void sim_opts_print(const sim_opts *o) {
    printf("options: players=%u rooms=%u area=%.0fm hover_pairs=%u teleport=%uppm leave=%uppm "
           "mal_listener=%d mal_speaker=%d\n",
           o->players, o->rooms, o->area_m, o->hover_pairs, o->teleport_ppm, o->leave_ppm,
           o->mal_listener == SIM_NOBODY ? -1 : o->mal_listener,
           o->mal_speaker == SIM_NOBODY ? -1 : o->mal_speaker);
    printf("options: delay http=%lld..%lld sock=%lld..%lld webhook=%lld..%lld lk=%lld..%lld ms\n",
           (long long)o->http_delay_min_ms, (long long)o->http_delay_max_ms,
           (long long)o->sock_delay_min_ms, (long long)o->sock_delay_max_ms,
           (long long)o->wh_delay_min_ms, (long long)o->wh_delay_max_ms,
           (long long)o->lk_latency_min_ms, (long long)o->lk_latency_max_ms);
    printf("options: faults(ppm) pose loss=%u dup=%u late=%u session_loss=%u webhook loss=%u "
           "dup=%u late=%u lk fail=%u timeout=%u disconnect=%u lk_drop=%u lk_restarts=%u "
           "delta_drop=%u stall=%u\n",
           o->pose_loss_ppm, o->pose_dup_ppm, o->pose_late_ppm, o->session_loss_ppm, o->wh_loss_ppm,
           o->wh_dup_ppm, o->wh_late_ppm, o->lk_fail_ppm, o->lk_timeout_ppm, o->disconnect_ppm,
           o->lk_drop_ppm, o->lk_restarts, o->delta_drop_ppm, o->stall_ppm);
    printf("options: phases safety=%lld liveness=%lld converge=%lld settle safety=%lld "
           "live=%lld ms; core recompute_on_pose=%d reconcile=%lld effects/step=%u "
           "round_slices=%u\n",
           (long long)o->safety_ms, (long long)o->liveness_ms, (long long)o->converge_ms,
           (long long)o->settle_safety_ms, (long long)o->settle_live_ms, o->cfg.recompute_on_pose,
           (long long)o->cfg.livekit_reconcile_interval_ms, o->cfg.max_effects_per_step,
           o->cfg.round_slices);
}
