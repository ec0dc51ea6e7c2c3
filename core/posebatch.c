/*
 * posebatch.c - policy.pose.batch to clients, for spatial audio.
 *
 * A room's batch round follows the change that calls for it (a pose
 * accepted, a canHear changed, a socket authenticated) at once, at a rate of
 * at most one round per pose_batch_interval_ms T (4 Hz), enforced as a GCRA
 * with a tolerance of T/2: a round may come up to T/2 early on a schedule
 * that never gets ahead of one round per T, so over any window W a socket
 * gets at most 1 + (W + T/2) / T batches. Why not fixed 4 Hz rounds: a pose
 * posted just after a round would wait up to 250 ms before any browser saw
 * it. Why the tolerance: with a strict minimum spacing of T, a game server
 * posting every T with some jitter ratchets the room's rounds to its worst
 * jitter, and every later pose waits that long (measured: p50 55 ms of
 * pure waiting at 10,000 sockets). Rooms whose game server posts at
 * different instants thereby also take turns.
 *
 * In a round each authenticated member gets the latest poses of the
 * participants it can hear, but only when one of those poses, or the set
 * itself, changed since that socket's last batch. The core's sequence
 * counter c->seq orders pose and set changes, so "changed since" is one
 * comparison per speaker.
 */
#include "state.h"

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

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

/* The GCRA tolerance: how early a round may come on the 1-per-T schedule. */
static int64_t tolerance_ms(const pv_core *c) {
    return c->cfg.pose_batch_interval_ms / 2;
}

/* A change a batch of room r would carry (an accepted pose, a changed
 * canHear, a fresh socket): start the room's round at once, or as soon as
 * the rate allows (pb_tat_ms - T/2). Changes while a round is scheduled
 * ride with it; so does a change made in the step its round started, before
 * any member was handled (the recompute that runs after the timer). */
void pv_pose_batch_want(pv_core *c, uint32_t r) {
    pv_room *room = &c->rooms[r];
    PV_ASSERT(room->live);
    if (room->pb_want) return;
    if (room->pb_due) {
        if (room->pb_begun) room->pb_again = 1;
        return;
    }
    room->pb_want = 1;
    pv_timer_set(&c->timers, pv_timer_room_batch(c, r),
                 max64(c->now_ms, room->pb_tat_ms - tolerance_ms(c)));
}

/* The batch timer of room r fired: its round starts now. The batches go out
 * in pv_pose_batches_due(), after this step's recompute, so they carry the
 * sets that recompute produced. */
void pv_on_batch_timer(pv_core *c, uint32_t r) {
    pv_room *room = &c->rooms[r];
    PV_ASSERT(room->live && room->pb_want);
    room->pb_want = 0;
    room->pb_due = 1;
    room->pb_fired_ms = c->now_ms;
    c->pb_round = 1;
    for (uint32_t i = 0; i < room->n; i++) {
        const pv_part *p = &c->parts[room->members[i]];
        if (p->conn != PV_NONE) c->conns[p->conn].pb_pending = 1;
    }
}

/* Room r's round is done. Only a round that sent a batch uses up rate: an
 * empty one (every member already up to date) must not delay the pose that
 * arrives just after it. */
static void round_done(pv_core *c, uint32_t r) {
    pv_room *room = &c->rooms[r];
    if (room->pb_sent)
        room->pb_tat_ms = max64(room->pb_tat_ms, room->pb_fired_ms) + c->cfg.pose_batch_interval_ms;
    room->pb_due = room->pb_begun = room->pb_sent = 0;
    if (room->pb_again) {
        room->pb_again = 0;
        pv_pose_batch_want(c, r);
    }
}

/* Sends the pending batches of started rounds in room and participant
 * order until the effect budget says stop. */
void pv_pose_batches_due(pv_core *c) {
    if (!c->pb_round) return;
    size_t bytes = sizeof(pv_pose_out) * c->cfg.max_subscribed_voices + 16;
    for (uint32_t ri = 0; ri < c->n_rooms; ri++) {
        uint32_t r = c->room_order[ri];
        pv_room *room = &c->rooms[r];
        if (!room->pb_due) continue;
        for (uint32_t i = 0; i < room->n; i++) {
            pv_part *p = &c->parts[room->members[i]];
            if (p->conn == PV_NONE || !c->conns[p->conn].pb_pending) continue;
            if (!pv_out_fits(&c->out, 1, bytes)) return;
            room->pb_begun = 1;
            c->conns[p->conn].pb_pending = 0;
            if (batch_changed(c, p))
                room->pb_sent |= (uint8_t)pv_send_pose_batch(c, room->members[i]);
        }
        round_done(c, r);
    }
    c->pb_round = 0;
}
