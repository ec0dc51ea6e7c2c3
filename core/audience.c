/*
 * audience.c - enforcement through the speaker's allow-list (ADR 0003).
 *
 * audience(S) = the listeners L (sorted by id) with S in canHear(L). LiveKit
 * lets only S's own client restrict who may subscribe to S's track, so the
 * core pushes AUDIENCE {revision, audience} to S whenever it changes and S
 * acknowledges the revision it applied. When an audience shrinks (someone
 * must stop hearing S) or S publishes a microphone track without having
 * acked its current audience, S must ack that revision within
 * audience_ack_deadline_ms; otherwise the core removes S from LiveKit.
 * Growth needs no deadline: it only affects liveness.
 */
#include "state.h"

static void ack_sent(pv_core *c, uint32_t slot);

static int speaker_valid(const pv_core *c, const pv_part *l, uint32_t i) {
    const pv_part *s = &c->parts[l->hear_slot[i]];
    return s->live && s->uid == l->hear_uid[i];
}

static void emit_audience(pv_core *c, pv_part *s, const char **ids, uint32_t n) {
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_SEND);
    pv_socket_send *m = &e->u.send;
    m->conn_id = c->conns[s->conn].conn_id;
    m->type = PV_SMSG_AUDIENCE;
    m->room_id = c->rooms[s->room].id;
    m->participant_id = s->id;
    m->revision = s->aud_rev;
    m->ids = ids;
    m->id_count = n;
}

/* Sends speaker p its current audience (after socket auth). */
void pv_send_audience(pv_core *c, uint32_t slot) {
    pv_part *s = &c->parts[slot];
    PV_ASSERT(s->conn != PV_NONE);
    const pv_room *room = &c->rooms[s->room];
    const char **ids = pv_out_alloc(c, sizeof(char *) * room->n);
    uint32_t n = 0;
    for (uint32_t i = 0; i < room->n; i++) {
        const pv_part *l = &c->parts[room->members[i]];
        for (uint32_t j = 0; j < l->hear_count; j++)
            if (l->hear_uid[j] == s->uid && speaker_valid(c, l, j)) ids[n++] = l->id;
    }
    emit_audience(c, s, ids, n);
    ack_sent(c, slot);
}

/* Index in room->members of listener l's j-th speaker (member_index is set
 * for every member at the start of build_audiences). */
static uint32_t speaker_index(const pv_core *c, const pv_room *room, const pv_part *l, uint32_t j) {
    uint32_t i = c->parts[l->hear_slot[j]].member_index;
    PV_ASSERT(i < room->n && room->members[i] == l->hear_slot[j]);
    return i;
}

/* Audience lists of a whole room as slices of one array (counting sort over
 * the listeners in id order, so every slice comes out sorted). */
static void build_audiences(pv_core *c, const pv_room *room) {
    uint32_t *off = c->s_aud_off, *fill = c->s_hear;
    for (uint32_t i = 0; i <= room->n; i++)
        off[i] = 0;
    for (uint32_t i = 0; i < room->n; i++)
        c->parts[room->members[i]].member_index = i;
    for (uint32_t i = 0; i < room->n; i++) {
        const pv_part *l = &c->parts[room->members[i]];
        for (uint32_t j = 0; j < l->hear_count; j++)
            off[speaker_index(c, room, l, j) + 1]++;
    }
    for (uint32_t i = 0; i < room->n; i++)
        off[i + 1] += off[i];
    PV_ASSERT(off[room->n] <= room->n * c->cfg.max_subscribed_voices);
    for (uint32_t i = 0; i < room->n; i++)
        c->s_slot[i] = off[i]; /* write cursors */
    for (uint32_t i = 0; i < room->n; i++) {
        const pv_part *l = &c->parts[room->members[i]];
        for (uint32_t j = 0; j < l->hear_count; j++)
            fill[c->s_slot[speaker_index(c, room, l, j)]++] = room->members[i];
    }
}

/* After a recompute that changed something: new audience revision, AUDIENCE
 * to each affected speaker's socket, ack deadline when it shrank. */
void pv_audience_flush(pv_core *c, uint32_t r) {
    const pv_room *room = &c->rooms[r];
    build_audiences(c, room);
    for (uint32_t i = 0; i < room->n; i++) {
        uint32_t slot = room->members[i];
        pv_part *s = &c->parts[slot];
        if (!s->aud_changed && !s->aud_resend) continue;
        int must_ack = s->aud_shrunk || (s->aud_resend && s->has_mic);
        s->aud_changed = s->aud_resend = 0;
        s->aud_rev = room->revision;
        if (s->conn != PV_NONE) {
            uint32_t a = c->s_aud_off[i], n = c->s_aud_off[i + 1] - a;
            const char **ids = pv_out_alloc(c, sizeof(char *) * (n ? n : 1));
            for (uint32_t j = 0; j < n; j++)
                ids[j] = c->parts[c->s_hear[a + j]].id;
            emit_audience(c, s, ids, n);
        }
        if (must_ack) pv_audience_require_ack(c, slot, s->aud_rev);
        s->aud_shrunk = 0;
    }
}

static void arm(pv_core *c, uint32_t slot) {
    pv_part *s = &c->parts[slot];
    uint32_t t = pv_timer_part(c, slot, PV_PT_ACK);
    if (s->ack_n == 0) {
        pv_timer_clear(&c->timers, t);
        return;
    }
    int64_t due = s->ack[0].due_ms;
    for (uint32_t i = 1; i < s->ack_n; i++)
        if (s->ack[i].due_ms < due) due = s->ack[i].due_ms;
    pv_timer_set(&c->timers, t, due);
}

/* Speaker p must ack `revision` within the deadline. Beyond PV_ACK_QUEUE
 * outstanding revisions the newest entry takes the new revision and keeps
 * its earlier deadline (stricter, never laxer). */
void pv_audience_require_ack(pv_core *c, uint32_t slot, uint64_t revision) {
    pv_part *s = &c->parts[slot];
    if (s->aud_acked_rev >= revision) return;
    if (s->ack_n > 0 && s->ack[s->ack_n - 1].revision >= revision) return;
    if (s->ack_n == PV_ACK_QUEUE) {
        s->ack[PV_ACK_QUEUE - 1].revision = revision;
        return;
    }
    int64_t due = c->now_ms + c->cfg.audience_ack_deadline_ms;
    s->ack[s->ack_n++] = (pv_ack_pending){revision, due, s->conn != PV_NONE};
    arm(c, slot);
}

/* The speaker's socket just got its current AUDIENCE (after auth). A
 * deadline that started while it had no socket counts from now: the client
 * could not act before. Once per entry, so reconnecting cannot stretch it. */
static void ack_sent(pv_core *c, uint32_t slot) {
    pv_part *s = &c->parts[slot];
    int64_t due = c->now_ms + c->cfg.audience_ack_deadline_ms;
    for (uint32_t i = 0; i < s->ack_n; i++) {
        if (s->ack[i].sent) continue;
        s->ack[i].sent = 1;
        if (s->ack[i].due_ms < due) s->ack[i].due_ms = due;
    }
    arm(c, slot);
}

/* A fresh LiveKit connection of the participant: LiveKit keeps allow-lists
 * per connection, so the speaker must apply and ack its audience again. The
 * next recompute of the room sends it under a new revision. */
void pv_audience_on_fresh_connection(pv_core *c, uint32_t slot) {
    pv_part *s = &c->parts[slot];
    pv_room *room = &c->rooms[s->room];
    s->aud_resend = 1;
    room->aud_resend = 1;
    room->dirty = 1;
}

/* The speaker published a microphone track. If it has not acked its
 * current audience, its allow-list may still be LiveKit's default
 * (everyone): the same deadline as for a shrink applies. */
void pv_audience_on_publish(pv_core *c, uint32_t slot) {
    pv_part *s = &c->parts[slot];
    if (s->aud_acked_rev < s->aud_rev) pv_audience_require_ack(c, slot, s->aud_rev);
}

/* PV_CMSG_AUDIENCE_ACK: acks of revisions never sent are ignored. */
void pv_on_audience_ack(pv_core *c, uint32_t slot, uint64_t revision) {
    pv_part *s = &c->parts[slot];
    if (revision > s->aud_rev) {
        pv_out_log(c, PV_LOG_WARN, "audience ack for an unknown revision", s, 0, (int64_t)revision);
        return;
    }
    if (revision > s->aud_acked_rev) s->aud_acked_rev = revision;
    uint32_t k = 0;
    while (k < s->ack_n && s->ack[k].revision <= s->aud_acked_rev)
        k++;
    for (uint32_t i = k; i < s->ack_n; i++)
        s->ack[i - k] = s->ack[i];
    s->ack_n -= k;
    arm(c, slot);
}

/* PV_PT_ACK fired: the speaker missed its deadline. Only a speaker with a
 * published microphone can leak audio, so only such a speaker is removed. */
void pv_on_ack_timer(pv_core *c, uint32_t slot) {
    pv_part *s = &c->parts[slot];
    PV_ASSERT(s->ack_n > 0);
    s->ack_n = 0;
    if (!s->has_mic) {
        pv_out_log(c, PV_LOG_DEBUG, "audience ack missed; speaker not publishing", s, 0,
                   (int64_t)s->aud_rev);
        return;
    }
    pv_out_log(c, PV_LOG_WARN, "speaker removed: audience not acknowledged", s, 0,
               (int64_t)s->aud_rev);
    c->st.speakers_removed++;
    s->remove_pending = 1;
    pv_lk_mark(c, slot);
}
