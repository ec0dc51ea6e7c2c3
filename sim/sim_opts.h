/*
 * sim_opts.h - everything one seed decides (swarm testing, as in
 * TigerBeetle's VOPR): population, movement, network ranges, which fault
 * classes are on and how often, phase lengths and the core's configuration.
 * sim_opts_derive() is the only place that maps a seed to options; the
 * derivation order is fixed, so a seed means the same run forever (until
 * this file changes; tests/sim-seeds.txt notes that caveat).
 */
#ifndef SIM_OPTS_H
#define SIM_OPTS_H

#include <stdint.h>

#include "pv.h"

#define SIM_PLAYERS_MAX 100
#define SIM_ROOMS_MAX   3
#define SIM_NOBODY      0xffffu

typedef struct sim_opts {
    uint64_t seed;
    /* population and movement */
    uint32_t players, rooms;
    double area_m;           /* side of each room's square playfield */
    uint32_t hover_pairs;    /* players kept between 24 and 26 m of a partner */
    uint32_t teleport_ppm;   /* per player per game tick */
    uint32_t run_toggle_ppm; /* per player per game tick */
    uint32_t leave_ppm;      /* per in-game player per second */
    int64_t rejoin_min_ms, rejoin_max_ms;
    uint16_t mal_listener, mal_speaker; /* player index or SIM_NOBODY */
    /* normal network (always on) */
    int64_t http_delay_min_ms, http_delay_max_ms;
    int64_t sock_delay_min_ms, sock_delay_max_ms;
    int64_t wh_delay_min_ms, wh_delay_max_ms;
    int64_t lk_latency_min_ms, lk_latency_max_ms;
    int64_t lk_signal_min_ms, lk_signal_max_ms; /* client <-> LiveKit signalling */
    /* faults: only during storms of the safety phase */
    uint32_t pose_loss_ppm, pose_dup_ppm, pose_late_ppm;
    uint32_t session_loss_ppm;
    uint32_t wh_loss_ppm, wh_dup_ppm, wh_late_ppm;
    int64_t wh_late_max_ms;
    uint32_t lk_fail_ppm, lk_timeout_ppm;
    int64_t lk_timeout_ms;
    uint32_t disconnect_ppm; /* per connected socket per check tick (100 ms) */
    uint32_t delta_drop_ppm; /* a stalled consumer: the shell drops a queued older DELTA */
    uint32_t stall_ppm;      /* per connected socket per check tick: delivery stalls */
    int64_t stall_max_ms;
    uint32_t lk_drop_ppm; /* per joined client per check tick: its LiveKit link drops */
    uint32_t lk_restarts; /* LiveKit restarts in the safety phase */
    int64_t lk_down_min_ms, lk_down_max_ms;
    int64_t storm_min_ms, storm_max_ms, calm_min_ms, calm_max_ms;
    /* phases */
    int64_t safety_ms;        /* faults (in storms) */
    int64_t liveness_ms;      /* no faults, players move: 2-second guarantee checked */
    int64_t converge_ms;      /* players stand still: everything must agree by its end */
    int64_t settle_safety_ms; /* after the last fault before LiveKit-level safety is checked */
    int64_t settle_live_ms;   /* after the last fault before liveness is checked */
    /* the core */
    pv_config cfg;
} sim_opts;

/* Fills *o from seed. safety_ms_override >= 0 replaces the safety phase
 * length (--duration-ms / test mode). */
void sim_opts_derive(sim_opts *o, uint64_t seed, int64_t safety_ms_override);
/* Prints the options on one or more lines to stdout. */
void sim_opts_print(const sim_opts *o);

#endif /* SIM_OPTS_H */
