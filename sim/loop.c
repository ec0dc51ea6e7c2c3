/*
 * loop.c - the run: initialisation, the event loop and dispatch.
 *
 * The clock is simulated: now_ms jumps to whichever comes first, the
 * earliest queued event or the core's wake_at_ms (the core wins a tie, so a
 * timer due at t runs before messages arriving at t; either rule would be
 * deterministic, this one is documented in docs/SIMULATION.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_SAME_TIME_STEPS_MAX 100000 /* core ticks at one now_ms: a livelock */

void sim_fail(sim *s, const char *fmt, ...) {
    if (s->failed) return; /* the first failure is the one to reproduce */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
    va_end(ap);
    s->failed = 1;
}

void sim_log(const sim *s, const char *fmt, ...) {
    if (!s->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    printf("%8lld ", (long long)s->now_ms);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

void sim_note_fault(sim *s) {
    s->faults++;
    s->last_fault_ms = s->now_ms;
}

int sim_faults_on(const sim *s) {
    return s->phase == PH_SAFETY && s->storm;
}

int64_t sim_wall_ms(const sim *s) {
    return SIM_EPOCH_WALL_MS + s->now_ms;
}

void sim_schedule(sim *s, int64_t at_ms, const sim_ev *ev) {
    if (at_ms < s->now_ms) at_ms = s->now_ms;
    if (sim_queue_push(&s->q, at_ms, ev) != 0)
        sim_fail(s, "simulator limit: event queue full (%u entries)", s->q.cap);
}

uint32_t sim_list_new(sim *s) {
    uint32_t h = sim_pool_get(&s->lists);
    if (h == UINT32_MAX) sim_fail(s, "simulator limit: list pool exhausted (%u)", s->lists.cap);
    return h;
}

sim_list *sim_list_at(sim *s, uint32_t h) {
    return sim_pool_ptr(&s->lists, h);
}

void sim_list_free(sim *s, uint32_t h) {
    if (h != SIM_NO_BLOB) sim_pool_put(&s->lists, h);
}

/* The core's memory: allocated once at pv_core_new (the shell may use the
 * C heap; the core itself may not). */
static void *heap_alloc(void *ud, size_t size) {
    (void)ud;
    return calloc(1, size);
}

static void heap_free(void *ud, void *p) {
    (void)ud;
    free(p);
}

static void seed_streams(sim *s, uint64_t seed) {
    uint64_t st = seed;
    (void)sim_splitmix64(&st); /* sub-seed 0 went to the options */
    sim_rng_seed(&s->rng_game, sim_splitmix64(&st));
    sim_rng_seed(&s->rng_net, sim_splitmix64(&st));
    sim_rng_seed(&s->rng_lk, sim_splitmix64(&st));
    sim_rng_seed(&s->rng_client, sim_splitmix64(&st));
    sim_rng_seed(&s->rng_fault, sim_splitmix64(&st));
}

static void schedule_run(sim *s) {
    sim_ev ev = {0};
    s->liveness_start_ms = s->o.safety_ms;
    s->converge_start_ms = s->o.safety_ms + s->o.liveness_ms;
    s->end_ms = s->converge_start_ms + s->o.converge_ms;
    ev.kind = K_PHASE_LIVENESS;
    sim_schedule(s, s->liveness_start_ms, &ev);
    ev.kind = K_PHASE_CONVERGE;
    sim_schedule(s, s->converge_start_ms, &ev);
    ev.kind = K_END;
    sim_schedule(s, s->end_ms, &ev);
    ev.kind = K_CHECK_TICK;
    sim_schedule(s, SIM_CHECK_TICK_MS, &ev);
}

int sim_init(sim *s, uint64_t seed, int64_t safety_ms_override, int verbose, uint32_t sabotage) {
    memset(s, 0, sizeof(*s));
    sim_opts_derive(&s->o, seed, safety_ms_override);
    s->verbose = verbose;
    s->sabotage = sabotage;
    s->trace = 0xcbf29ce484222325ull;
    s->core_wake_ms = PV_NEVER;
    s->last_fault_ms = -1000000;
    s->next_conn_id = 1;
    s->chk.converged_ms = -1;
    s->lk.up = 1;
    for (uint32_t p = 0; p < SIM_PLAYERS_MAX; p++)
        s->cl[p].pend_aud = SIM_NO_BLOB;
    seed_streams(s, seed);
    if (sim_queue_init(&s->q, SIM_QUEUE_CAP) != 0) return -1;
    if (sim_pool_init(&s->batches, SIM_BATCH_POOL, sizeof(sim_batch)) != 0) return -1;
    if (sim_pool_init(&s->lists, SIM_LIST_POOL, sizeof(sim_list)) != 0) return -1;
    s->conns = calloc(SIM_CONN_MAX, sizeof(*s->conns));
    if (!s->conns) return -1;
    static const pv_allocator heap = {heap_alloc, heap_free, NULL};
    int rc = pv_core_new(&s->core, &s->o.cfg, &heap);
    if (rc != 0) {
        fprintf(stderr, "pv_core_new: %s\n", pv_strerror(rc));
        return -1;
    }
    for (uint32_t r = 0; r < s->o.rooms; r++)
        snprintf(s->room_id[r], 8, "room%u", r % 10u);
    sim_check_init(s);
    schedule_run(s);
    sim_game_start(s);
    sim_faults_start(s);
    return 0;
}

void sim_free(sim *s) {
    if (s->core) pv_core_free(s->core);
    s->core = NULL;
    sim_queue_free(&s->q);
    sim_pool_free(&s->batches);
    sim_pool_free(&s->lists);
    free(s->conns);
    s->conns = NULL;
}

static void on_phase(sim *s, const sim_ev *ev) {
    if (ev->kind == K_PHASE_LIVENESS) {
        s->phase = PH_LIVENESS;
        s->storm = 0;
    } else if (ev->kind == K_PHASE_CONVERGE) {
        s->phase = PH_CONVERGE;
    } else {
        s->phase = PH_DONE;
    }
    sim_log(s, "phase %d", s->phase);
}

static void dispatch(sim *s, const sim_ev *ev) {
    switch (ev->kind) {
    case K_GAME_TICK:
    case K_PLAYER_JOIN:
    case K_PLAYER_LEAVE:
        sim_game_on_event(s, ev);
        break;
    case K_CORE_SESSION:
    case K_CORE_POSES:
    case K_CORE_SOCK_OPEN:
    case K_CORE_SOCK_AUTH:
    case K_CORE_SOCK_MSG:
    case K_CORE_SOCK_CLOSED:
    case K_CORE_LK_RESULT:
    case K_CORE_WEBHOOK:
        sim_core_deliver(s, ev);
        break;
    case K_CL_SESSION_REPLY:
    case K_CL_SESSION_TIMEOUT:
    case K_CL_SOCK_RETRY:
    case K_CL_SOCK_OPENED:
    case K_CL_SOCK_MSG:
    case K_CL_SOCK_CLOSED:
    case K_CL_LK_RETRY:
    case K_CL_LK_LOST:
    case K_CL_LK_JOINED:
    case K_CL_ALLOW_DONE:
        sim_client_on_event(s, ev);
        break;
    case K_LK_JOIN:
    case K_LK_PUBLISH:
    case K_LK_SET_ALLOW:
    case K_LK_LEAVE:
    case K_LK_CALL_APPLY:
    case K_LK_RESTART:
    case K_LK_UP:
    case K_LK_ROOM_EMPTY:
        sim_lk_on_event(s, ev);
        break;
    case K_STORM_TOGGLE:
        sim_faults_on_event(s, ev);
        break;
    case K_CHECK_TICK:
        sim_check_tick(s);
        break;
    case K_PHASE_LIVENESS:
    case K_PHASE_CONVERGE:
    case K_END:
        on_phase(s, ev);
        break;
    default:
        sim_fail(s, "simulator bug: unknown event kind %u", ev->kind);
    }
}

/* One iteration: the core's timer or the earliest queued event. Returns 0
 * when the run is over. */
static int step_once(sim *s) {
    int64_t tq = sim_queue_peek_ms(&s->q);
    int64_t t = tq < s->core_wake_ms ? tq : s->core_wake_ms;
    if (t == INT64_MAX || s->phase == PH_DONE) return 0;
    if (t < s->now_ms) t = s->now_ms; /* a wake-up in the past is due now */
    s->same_time_steps = t == s->now_ms ? s->same_time_steps + 1 : 0;
    if (s->same_time_steps > SIM_SAME_TIME_STEPS_MAX) {
        sim_fail(s, "livelock: %u steps at now_ms=%lld", s->same_time_steps, (long long)t);
        return 0;
    }
    s->now_ms = t;
    uint64_t lk_changes = s->lk.changes;
    if (s->core_wake_ms <= tq) {
        sim_core_tick(s);
    } else {
        sim_qent e;
        sim_queue_pop(&s->q, &e);
        dispatch(s, &e.ev);
    }
    if (s->lk.changes != lk_changes) sim_metrics_scan(s);
    return !s->failed;
}

int sim_run(sim *s) {
    while (step_once(s)) {
    }
    if (!s->failed && s->phase != PH_DONE) sim_fail(s, "simulator bug: run ended early");
    return s->failed ? 1 : 0;
}
