/*
 * recompute.c - one audibility recompute of a room, and the 4 Hz rounds.
 *
 * Rounds are aligned to multiples of recompute_interval_ms in now_ms, so the
 * schedule depends on the clock only, never on event arrival; rooms take
 * turns in round_slices phases (slice.h). A round recomputes the rooms of
 * its phase that changed (poses, joins, leaves) in room-ID order.
 *
 * Revisions (ADR 0002): a recompute that changes any listener's capped
 * canHear bumps the room revision once; every changed listener gets a DELTA
 * with that revision and previous_revision = the revision of the last
 * SNAPSHOT or DELTA its socket received, so a client sees a gap exactly when
 * previous_revision differs from its own revision.
 */
#include <string.h>

#include "state.h"
#include "slice.h"

/* Arena bytes a recompute of n participants may use (deltas + audiences). */
size_t pv_recompute_cost_bytes(const pv_core *c, uint32_t n) {
    return 2 * (size_t)n * c->cfg.max_subscribed_voices * sizeof(char *) + 2 * (size_t)n * 8 + 64;
}

/* Fills the audib input with the members that have a pose (in id order);
 * members without one get an empty pair list. Returns how many have one. */
static uint32_t gather(pv_core *c, const pv_room *room) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < room->n; i++) {
        pv_part *p = &c->parts[room->members[i]];
        if (!p->has_pose) {
            p->in_count = 0;
            continue;
        }
        c->s_pos[m] = p->pos;
        c->s_uid[m] = p->uid;
        c->s_in[m] = p->in_uids;
        c->s_in_count[m] = p->in_count;
        c->s_slot[m] = room->members[i];
        m++;
    }
    return m;
}

static int uid_in(const uint64_t *list, uint32_t n, uint64_t uid) {
    for (uint32_t i = 0; i < n; i++)
        if (list[i] == uid) return 1;
    return 0;
}

static void flag_speaker(pv_core *c, uint32_t slot, uint64_t uid, int shrunk) {
    pv_part *s = &c->parts[slot];
    if (!s->live || s->uid != uid) return; /* the speaker has left */
    s->aud_changed = 1;
    if (shrunk) s->aud_shrunk = 1;
}

/* Compares a listener's new set (uids/slots) with its current one; flags
 * the speakers whose audience changes. Returns 1 if the set changed. */
static int diff_set(pv_core *c, pv_part *p, const uint64_t *nu, const uint32_t *ns, uint32_t n) {
    int changed = n != p->hear_count;
    for (uint32_t i = 0; i < p->hear_count; i++) {
        if (uid_in(nu, n, p->hear_uid[i])) continue;
        changed = 1;
        flag_speaker(c, p->hear_slot[i], p->hear_uid[i], 1);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (uid_in(p->hear_uid, p->hear_count, nu[i])) continue;
        changed = 1;
        flag_speaker(c, ns[i], nu[i], 0);
    }
    return changed;
}

static void send_delta(pv_core *c, pv_part *p, uint64_t revision) {
    if (p->conn == PV_NONE) return;
    const char **ids = pv_out_alloc(c, sizeof(char *) * (p->hear_count ? p->hear_count : 1));
    for (uint32_t i = 0; i < p->hear_count; i++)
        ids[i] = c->parts[p->hear_slot[i]].id;
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_SEND);
    pv_socket_send *s = &e->u.send;
    s->conn_id = c->conns[p->conn].conn_id;
    s->type = PV_SMSG_DELTA;
    s->room_id = c->rooms[p->room].id;
    s->participant_id = p->id;
    s->revision = revision;
    s->previous_revision = p->client_rev;
    s->ids = ids;
    s->id_count = p->hear_count;
    p->client_rev = revision;
}

/* The first change of a recompute bumps the room revision, once. */
static void bump_revision(pv_core *c, pv_room *room) {
    if (room->changed) return;
    room->changed = 1;
    room->revision++;
    if (room->revision > c->revision_hwm) c->revision_hwm = room->revision;
}

/* Applies listener p's new set; bumps the room revision on the first change. */
static void update_listener(pv_core *c, pv_room *room, pv_part *p, const uint32_t *hear_idx,
                            uint32_t n) {
    uint64_t nu[PV_CAP_MAX];
    uint32_t ns[PV_CAP_MAX];
    PV_ASSERT(n <= c->cfg.max_subscribed_voices);
    for (uint32_t i = 0; i < n; i++) {
        ns[i] = c->s_slot[hear_idx[i]];
        nu[i] = c->parts[ns[i]].uid;
    }
    if (!diff_set(c, p, nu, ns, n)) return;
    bump_revision(c, room);
    memcpy(p->hear_uid, nu, sizeof(uint64_t) * n);
    memcpy(p->hear_slot, ns, sizeof(uint32_t) * n);
    p->hear_count = n;
    p->hear_seq = ++c->seq;
    pv_pose_batch_want(c, (uint32_t)(room - c->rooms));
    send_delta(c, p, room->revision);
    pv_lk_mark(c, (uint32_t)(p - c->parts));
}

/* Recomputes room r now: pair state, canHear, deltas, audiences. */
void pv_recompute_room(pv_core *c, uint32_t r) {
    pv_room *room = &c->rooms[r];
    uint32_t m = gather(c, room), cap = c->cfg.max_subscribed_voices;
    pv_audib_room ar = {m, c->s_pos, c->s_uid, c->s_in, c->s_in_count, c->s_hear, c->s_hear_count};
    int rc = pv_audib_compute(c->au, &ar, PV_AUDIB_GRID);
    PV_ASSERT(rc >= 0);
    room->pairs = (uint32_t)rc;
    room->dirty = room->rc_pending = room->kick = 0;
    room->changed = 0;
    room->recomputed_ms = c->now_ms;
    c->st.recomputes++;
    for (uint32_t i = 0, k = 0; i < room->n; i++) {
        pv_part *p = &c->parts[room->members[i]];
        if (p->has_pose) {
            p->hear_posed = 1;
            p->in_count = c->s_in_count[k];
            update_listener(c, room, p, &c->s_hear[(size_t)k * cap], c->s_hear_count[k]);
            k++;
        } else {
            update_listener(c, room, p, NULL, 0);
        }
    }
    if (room->aud_resend) bump_revision(c, room); /* audiences to re-send need a revision */
    room->aud_resend = 0;
    if (room->changed) pv_audience_flush(c, r);
}

/* Starts a round when one is due (rooms that changed get rc_pending), then
 * recomputes pending and kicked rooms in room order while the budget lasts. */
void pv_recompute_due(pv_core *c) {
    if (c->n_rooms == 0) {
        c->next_recompute_ms = PV_NEVER;
        c->rc_round = c->kicked = 0;
        return;
    }
    uint32_t slices = c->cfg.round_slices;
    int64_t slice = pv_slice_ms(c->cfg.recompute_interval_ms, slices);
    if (c->next_recompute_ms == PV_NEVER) c->next_recompute_ms = pv_next_multiple(c->now_ms, slice);
    if (c->now_ms >= c->next_recompute_ms) {
        for (uint32_t i = 0; i < c->n_rooms; i++) {
            uint32_t r = c->room_order[i];
            if (!pv_slice_due(c->next_recompute_ms, c->now_ms, slice, slices, r)) continue;
            c->rooms[r].rc_pending = c->rooms[r].dirty;
        }
        c->rc_round = 1;
        c->next_recompute_ms = pv_next_multiple(c->now_ms, slice);
    }
    if (!c->rc_round && !c->kicked) return;
    for (uint32_t i = 0; i < c->n_rooms; i++) {
        uint32_t r = c->room_order[i];
        pv_room *room = &c->rooms[r];
        if (!room->rc_pending && !room->kick) continue;
        if (!pv_out_fits(&c->out, 2 * room->n + 8, pv_recompute_cost_bytes(c, room->n))) return;
        pv_recompute_room(c, r);
    }
    c->rc_round = c->kicked = 0;
}
