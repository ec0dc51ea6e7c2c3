/*
 * posebatch.c - policy.pose.batch to clients, for spatial audio.
 *
 * Every pose_batch_interval_ms (aligned to multiples in now_ms, rooms
 * taking turns in round_slices phases: slice.h) each
 * authenticated socket gets the latest poses of the participants it can hear,
 * but only when one of those poses, or the set itself, changed since that
 * socket's last batch. The core's sequence counter c->seq orders pose and
 * set changes, so "changed since" is one comparison per speaker.
 */
#include "state.h"
#include "slice.h"

static int speaker_at(const pv_core *c, const pv_part *l, uint32_t i) {
    const pv_part *s = &c->parts[l->hear_slot[i]];
    return s->live && s->uid == l->hear_uid[i] && s->has_pose;
}

/* Returns 1 if listener p's batch would differ from its last one. */
static int batch_changed(const pv_core *c, const pv_part *p) {
    if (p->hear_seq > p->batch_seq) return 1;
    for (uint32_t i = 0; i < p->hear_count; i++)
        if (speaker_at(c, p, i) && c->parts[p->hear_slot[i]].pose_seq > p->batch_seq) return 1;
    return 0;
}

/* Sends listener p the poses of everyone it hears that has a pose. Returns 1
 * if a batch was sent, 0 when there was nobody to send. */
int pv_send_pose_batch(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    PV_ASSERT(p->conn != PV_NONE);
    p->batch_seq = c->seq;
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->hear_count; i++)
        n += (uint32_t)speaker_at(c, p, i);
    if (n == 0) return 0;
    pv_pose_out *poses = pv_out_alloc(c, sizeof(pv_pose_out) * n);
    n = 0;
    for (uint32_t i = 0; i < p->hear_count; i++) {
        if (!speaker_at(c, p, i)) continue;
        const pv_part *s = &c->parts[p->hear_slot[i]];
        poses[n++] = (pv_pose_out){s->id, s->pos, s->has_orient, s->orient, s->pose_ts_ms};
    }
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_SEND);
    pv_socket_send *m = &e->u.send;
    m->conn_id = c->conns[p->conn].conn_id;
    m->type = PV_SMSG_POSE_BATCH;
    m->room_id = c->rooms[p->room].id;
    m->participant_id = p->id;
    m->poses = poses;
    m->pose_count = n;
    m->timestamp_ms = c->wall_ms;
    return 1;
}

/* Starts a round when it is due, then sends the round's pending batches in
 * room and participant order until the effect budget says stop. */
void pv_pose_batches_due(pv_core *c) {
    if (c->n_authed == 0) {
        c->next_batch_ms = PV_NEVER;
        c->pb_round = 0;
        return;
    }
    uint32_t slices = c->cfg.round_slices;
    int64_t slice = pv_slice_ms(c->cfg.pose_batch_interval_ms, slices);
    if (c->next_batch_ms == PV_NEVER) c->next_batch_ms = pv_next_multiple(c->now_ms, slice);
    if (c->now_ms >= c->next_batch_ms) {
        for (uint32_t i = 0; i < c->n_conns; i++) {
            pv_conn *cn = &c->conns[c->conn_order[i]];
            if (cn->state != PV_CONN_AUTHED) continue;
            uint32_t room = c->parts[cn->part].room;
            if (pv_slice_due(c->next_batch_ms, c->now_ms, slice, slices, room)) cn->pb_pending = 1;
        }
        c->pb_round = 1;
        c->next_batch_ms = pv_next_multiple(c->now_ms, slice);
    }
    if (!c->pb_round) return;
    size_t bytes = sizeof(pv_pose_out) * c->cfg.max_subscribed_voices + 16;
    for (uint32_t ri = 0; ri < c->n_rooms; ri++) {
        const pv_room *room = &c->rooms[c->room_order[ri]];
        for (uint32_t i = 0; i < room->n; i++) {
            pv_part *p = &c->parts[room->members[i]];
            if (p->conn == PV_NONE || !c->conns[p->conn].pb_pending) continue;
            if (!pv_out_fits(&c->out, 1, bytes)) return;
            c->conns[p->conn].pb_pending = 0;
            if (batch_changed(c, p)) pv_send_pose_batch(c, room->members[i]);
        }
    }
    c->pb_round = 0;
}
