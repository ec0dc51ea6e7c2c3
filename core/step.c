/*
 * step.c - pv_core_step(): one event in, effects and one wake-up time out.
 *
 * Order inside a step: due work first (everything due at or before now_ms
 * happened before the event), then the event, then LiveKit calls the event
 * made necessary. Due work = timers in (due, id) order, the recompute round,
 * the pose-batch round, LiveKit calls. When the effect budget stops it, the
 * step asks to be called again at once (wake_at_ms = now_ms).
 */
#include "state.h"
#include "slice.h"

#define TIMER_UNIT_EFFECTS 4 /* a timer firing emits at most a close/call and logs */

static void fire_timer(pv_core *c, uint32_t id) {
    uint32_t parts_end = c->cfg.max_participants * PV_PART_TIMERS;
    uint32_t conns_end = parts_end + c->cfg.max_connections;
    if (id < parts_end) {
        uint32_t slot = id / PV_PART_TIMERS;
        switch ((pv_ptimer)(id % PV_PART_TIMERS)) {
        case PV_PT_PRESENCE:
            pv_on_presence_timer(c, slot);
            return;
        case PV_PT_ACK:
            pv_on_ack_timer(c, slot);
            return;
        case PV_PT_LK:
            pv_on_lk_timer(c, slot);
            return;
        }
        PV_ASSERT(0);
    } else if (id < conns_end) {
        pv_on_auth_timer(c, id - parts_end);
    } else if (id < conns_end + c->cfg.max_rooms) {
        pv_on_reconcile_timer(c, id - conns_end);
    } else {
        pv_on_batch_timer(c, id - conns_end - c->cfg.max_rooms);
    }
}

static void run_timers(pv_core *c) {
    while (pv_timer_next(&c->timers) <= c->now_ms) {
        if (!pv_out_fits(&c->out, TIMER_UNIT_EFFECTS, 64)) return;
        uint32_t id = pv_timer_pop_due(&c->timers, c->now_ms);
        PV_ASSERT(id != PV_NONE);
        fire_timer(c, id);
    }
}

static void advance(pv_core *c) {
    run_timers(c);
    pv_recompute_due(c);
    pv_pose_batches_due(c);
    pv_lk_reconcile(c);
}

static void dispatch(pv_core *c, const pv_event *ev) {
    switch (ev->type) {
    case PV_EV_TICK:
        return;
    case PV_EV_SESSION_REQUEST:
        pv_on_session(c, &ev->u.session);
        return;
    case PV_EV_POSE_BATCH:
        pv_on_poses(c, &ev->u.poses);
        return;
    case PV_EV_SOCKET_OPEN:
        pv_on_socket_open(c, ev->u.conn_id);
        return;
    case PV_EV_SOCKET_AUTH:
        pv_on_socket_auth(c, &ev->u.auth);
        return;
    case PV_EV_SOCKET_MESSAGE:
        pv_on_socket_message(c, &ev->u.msg);
        return;
    case PV_EV_SOCKET_CLOSED:
        pv_on_socket_closed(c, ev->u.conn_id);
        return;
    case PV_EV_LIVEKIT_RESULT:
        pv_on_livekit_result(c, &ev->u.livekit);
        return;
    case PV_EV_WEBHOOK:
        pv_on_webhook(c, &ev->u.webhook);
        return;
    }
    PV_ASSERT(0);
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* The single wake-up: the earliest timer, round or pending piece of work. */
static int64_t wake_at(pv_core *c) {
    if (c->out.more || c->kicked) return c->now_ms;
    uint32_t slices = c->cfg.round_slices;
    if (c->n_rooms > 0 && c->next_recompute_ms == PV_NEVER)
        c->next_recompute_ms =
            pv_next_multiple(c->now_ms, pv_slice_ms(c->cfg.recompute_interval_ms, slices));
    int64_t w = pv_timer_next(&c->timers);
    if (c->n_rooms > 0) w = min64(w, c->next_recompute_ms);
    return w;
}

static int event_ok(const pv_core *c, const pv_event *ev) {
    if (!ev || ev->now_ms < c->now_ms) return 0;
    if (ev->type < PV_EV_TICK || ev->type > PV_EV_WEBHOOK) return 0;
    switch (ev->type) {
    case PV_EV_POSE_BATCH:
        return ev->u.poses.room_id != NULL;
    case PV_EV_SOCKET_AUTH:
        return ev->u.auth.room_id && ev->u.auth.participant_id;
    case PV_EV_WEBHOOK:
        return ev->u.webhook.room_id != NULL;
    case PV_EV_SESSION_REQUEST:
        return 1;
    default:
        return 1;
    }
}

/* Returns 0, or PV_EINVAL for a malformed event (unknown type, NULL
 * strings, time going backwards): nothing changes and *out holds no effects
 * and the previous wake-up time. */
int pv_core_step(pv_core *c, const pv_event *ev, pv_out *out) {
    PV_ASSERT(c && out);
    out->effects = c->out.fx;
    if (!event_ok(c, ev)) {
        out->count = 0;
        out->wake_at_ms = c->wake_ms;
        return PV_EINVAL;
    }
    c->now_ms = ev->now_ms;
    c->wall_ms = ev->wall_ms;
    pv_release_limbo(c);
    pv_out_reset(&c->out);
    advance(c);
    dispatch(c, ev);
    pv_lk_reconcile(c);
    c->wake_ms = wake_at(c);
    out->count = c->out.count;
    out->wake_at_ms = c->wake_ms;
    return 0;
}
