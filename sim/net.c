/*
 * net.c - the simulated network.
 *
 * HTTP (pose posts, session requests/replies) and LiveKit webhooks are
 * datagram-like: each message gets its own delay, so they reorder freely;
 * during a storm they may also be lost, duplicated or delivered late (a
 * webhook retried by LiveKit). Policy sockets are TCP: per connection and
 * direction, messages keep their order (a delivery is never earlier than the
 * previous one on the same connection) and the only fault is a disconnect.
 */
#include "sim.h"

int64_t sim_net_delay(sim *s, int64_t lo, int64_t hi) {
    return sim_rng_range(&s->rng_net, lo, hi);
}

static int64_t http_delay(sim *s) {
    return sim_net_delay(s, s->o.http_delay_min_ms, s->o.http_delay_max_ms);
}

/* A late delivery: beyond the normal range, as after a retry. */
static int64_t late_ms(sim *s, int64_t max_ms) {
    return sim_net_delay(s, 500, max_ms);
}

static uint32_t copy_batch(sim *s, uint32_t h) {
    uint32_t c = sim_pool_get(&s->batches);
    if (c == UINT32_MAX) {
        sim_fail(s, "simulator limit: batch pool exhausted (%u)", s->batches.cap);
        return c;
    }
    *(sim_batch *)sim_pool_ptr(&s->batches, c) = *(sim_batch *)sim_pool_ptr(&s->batches, h);
    return c;
}

void sim_net_post_poses(sim *s, uint32_t h) {
    sim_ev ev = {.kind = K_CORE_POSES, .blob = h};
    int64_t at = s->now_ms + http_delay(s);
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.pose_loss_ppm)) {
        sim_note_fault(s);
        sim_pool_put(&s->batches, h);
        return;
    }
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.pose_late_ppm))
        at += late_ms(s, 4000), ev.epoch = SIM_FL_FAULTY;
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.pose_dup_ppm)) {
        sim_ev dup = {.kind = K_CORE_POSES, .epoch = SIM_FL_FAULTY, .blob = copy_batch(s, h)};
        if (dup.blob != UINT32_MAX) sim_schedule(s, s->now_ms + http_delay(s) + 1, &dup);
    }
    sim_schedule(s, at, &ev);
}

void sim_net_session_request(sim *s, uint16_t player, uint64_t request_id) {
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.session_loss_ppm)) {
        sim_note_fault(s);
        return;
    }
    sim_ev ev = {.kind = K_CORE_SESSION, .player = player, .a = request_id};
    sim_schedule(s, s->now_ms + http_delay(s), &ev);
}

/* a = error | created << 8, b = issued_at_wall_ms, conn_id = attempt. */
void sim_net_session_reply(sim *s, uint16_t player, const pv_session_reply *r) {
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.session_loss_ppm)) {
        sim_note_fault(s);
        return;
    }
    sim_ev ev = {.kind = K_CL_SESSION_REPLY, .player = player, .epoch = s->cl[player].epoch};
    ev.conn_id = (uint32_t)(r->request_id >> 16);
    ev.a = (uint64_t)r->error | (uint64_t)(r->created ? 1 : 0) << 8;
    ev.b = (uint64_t)r->issued_at_wall_ms;
    sim_schedule(s, s->now_ms + http_delay(s), &ev);
}

void sim_net_webhook(sim *s, pv_webhook_kind kind, uint16_t player, uint32_t track) {
    sim_ev ev = {.kind = K_CORE_WEBHOOK, .player = player};
    ev.a = (uint64_t)kind | (uint64_t)s->lk.p[player].room << 8 | (uint64_t)track << 32;
    ev.b = (uint64_t)(sim_wall_ms(s) / 1000);
    /* the connection's join epoch names it (participant.sid); not for rooms */
    if (kind != PV_WH_ROOM_FINISHED) ev.conn_id = s->lk.p[player].join_epoch;
    s->lk.webhooks++;
    int64_t at = s->now_ms + sim_net_delay(s, s->o.wh_delay_min_ms, s->o.wh_delay_max_ms);
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.wh_loss_ppm)) {
        sim_note_fault(s); /* retries exhausted (LiveKit's max_age) */
        return;
    }
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.wh_dup_ppm)) {
        sim_ev dup = ev;
        dup.epoch = SIM_FL_FAULTY;
        sim_schedule(s, at + late_ms(s, s->o.wh_late_max_ms), &dup);
    }
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_net, s->o.wh_late_ppm))
        at += late_ms(s, s->o.wh_late_max_ms), ev.epoch = SIM_FL_FAULTY;
    sim_schedule(s, at, &ev);
}
