/*
 * webhook.c - LiveKit webhooks: presence and microphone tracks.
 *
 * Webhooks arrive late, twice, or out of order (LiveKit retries them for up
 * to 30 s). Each participant keeps the createdAt (seconds) of the last
 * presence event and of the last track event it applied; older events are
 * ignored and duplicates change nothing. Within one second an absence event
 * wins over a join (the safe side); a join or publish that loses such a tie
 * asks for a ListParticipants of the room within livekit_backoff_min_ms.
 *
 * LiveKit also names every connection (participant.sid, new on each join).
 * An event of another connection than the one the core holds is either late
 * (the old connection's) or news of a re-made connection whose join was lost
 * (sim BUG-7b): a newer track event or a ListParticipants entry makes the
 * participant fresh; a join or leave that seconds cannot order asks LiveKit.
 */
#include <string.h>

#include "state.h"

/* LiveKit connection gone: nothing subscribed, no track. */
void pv_lk_set_absent(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    p->lk_present = 0;
    p->seen_sid[0] = '\0';
    p->conn_sid[0] = '\0';
    pv_lk_reset(c, slot);
    p->lk_retry_ms = 0;
    p->lk_backoff_ms = c->cfg.livekit_backoff_min_ms;
    pv_timer_clear(&c->timers, pv_timer_part(c, slot, PV_PT_LK));
    pv_lk_set_mic(c, slot, NULL);
    pv_presence_update(c, slot);
}

/* A fresh LiveKit connection (autoSubscribe off): nothing subscribed yet. */
void pv_lk_set_present(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    p->lk_present = 1;
    /* A mic already known (its webhook came before the join's) belongs to
     * this connection: remember it, so that a later different SID counts. */
    if (p->has_mic)
        memcpy(p->seen_sid, p->mic_sid, sizeof(p->seen_sid));
    else
        p->seen_sid[0] = '\0';
    pv_lk_reset(c, slot);
    pv_audience_on_fresh_connection(c, slot);
    pv_presence_update(c, slot);
}

/* Sets (sid) or clears (NULL) the participant's microphone track.
 *
 * A client publishes one microphone per LiveKit connection and LiveKit gives
 * every publication a new SID. So a second, different SID within what the
 * core believes is one presence means LiveKit dropped and re-made the
 * connection although the participant_left / participant_joined webhooks
 * that would have said so were lost (sim BUG-7): the new connection has no
 * subscriptions and an empty allow-list, so it is treated as fresh. If a
 * client ever republished within one connection, the cost is only some
 * redundant, idempotent calls and an audience re-sent. */
void pv_lk_set_mic(pv_core *c, uint32_t slot, const char *sid) {
    pv_part *p = &c->parts[slot];
    if (!sid) {
        if (!p->has_mic) return;
        p->has_mic = 0;
        p->mic_sid[0] = '\0';
    } else {
        if (p->has_mic && strcmp(p->mic_sid, sid) == 0) return;
        /* Only without participant SIDs: with them, pv_lk_note_conn() knows. */
        if (p->lk_present && !p->conn_sid[0] && p->seen_sid[0] && strcmp(p->seen_sid, sid) != 0) {
            pv_out_log(c, PV_LOG_INFO, "new microphone SID: fresh LiveKit connection", p, 0, 0);
            pv_lk_set_present(c, slot);
        }
        PV_ASSERT(pv_copy_str(p->mic_sid, sizeof(p->mic_sid), sid) == 0);
        if (p->lk_present) memcpy(p->seen_sid, p->mic_sid, sizeof(p->seen_sid));
        p->has_mic = 1;
    }
    p->mic_gen++;
    pv_lk_mark_room(c, p->room);
}

enum { CONN_UNKNOWN, CONN_SAME, CONN_OTHER };

/* Which connection participant SID psid (NULL = unknown) names, compared
 * with the current presence's. */
static int conn_of(const pv_part *p, const char *psid) {
    if (!psid || !p->lk_present || !p->conn_sid[0]) return CONN_UNKNOWN;
    return strcmp(p->conn_sid, psid) == 0 ? CONN_SAME : CONN_OTHER;
}

/* Records psid (NULL = unknown) as the SID of the current presence. */
static void conn_set(pv_part *p, const char *psid) {
    if (!psid || pv_copy_str(p->conn_sid, sizeof(p->conn_sid), psid) != 0) p->conn_sid[0] = '\0';
}

/* A present participant's newer event names connection psid (NULL =
 * unknown; callers have ruled out late events). A SID other than the known
 * one means LiveKit re-made the connection and the webhooks saying so were
 * lost: no subscriptions, empty allow-list, so it is fresh. Returns 1 then. */
int pv_lk_note_conn(pv_core *c, uint32_t slot, const char *psid) {
    pv_part *p = &c->parts[slot];
    int k = conn_of(p, psid);
    if (k == CONN_UNKNOWN && p->lk_present && psid && !p->conn_sid[0]) conn_set(p, psid);
    if (k != CONN_OTHER) return 0;
    pv_out_log(c, PV_LOG_INFO, "new participant SID: fresh LiveKit connection", p, 0, 0);
    pv_lk_set_mic(c, slot, NULL); /* the old connection's track went with it */
    pv_lk_set_present(c, slot);
    conn_set(p, psid);
    return 1;
}

/* An event lost a same-second tie against an absence: ask LiveKit soon. */
static int tie(pv_core *c, const pv_part *p, int64_t t) {
    if (t != p->lk_event_s || p->lk_present) return 0;
    pv_lk_list_soon(c, p->room);
    return 1;
}

static void on_joined(pv_core *c, uint32_t slot, int64_t t, const char *psid) {
    pv_part *p = &c->parts[slot];
    int k = conn_of(p, psid);
    if (k == CONN_OTHER && t <= p->lk_event_s) { /* an old join, or a lost leave? */
        pv_lk_list_soon(c, p->room);
        return;
    }
    if (tie(c, p, t) || t <= p->lk_event_s) return;
    p->lk_event_s = t;
    p->presence_changed_ms = c->now_ms;
    if (k == CONN_SAME) return; /* already known from a track event: nothing to reset */
    if (p->trk_event_s < t) {   /* tracks of an older connection */
        p->trk_changed_ms = c->now_ms;
        pv_lk_set_mic(c, slot, NULL);
    }
    pv_lk_set_present(c, slot);
    conn_set(p, psid);
}

static void on_left(pv_core *c, uint32_t slot, int64_t t, const char *psid) {
    pv_part *p = &c->parts[slot];
    if (conn_of(p, psid) == CONN_OTHER) { /* usually the old connection's, late */
        pv_lk_list_soon(c, p->room);
        return;
    }
    if (t < p->lk_event_s || (t == p->lk_event_s && !p->lk_present)) return;
    p->lk_event_s = t;
    if (p->trk_event_s < t) p->trk_event_s = t;
    p->presence_changed_ms = p->trk_changed_ms = c->now_ms;
    pv_lk_set_absent(c, slot);
}

static void on_published(pv_core *c, uint32_t slot, int64_t t, const char *sid, const char *psid) {
    pv_part *p = &c->parts[slot];
    if (t < p->trk_event_s || tie(c, p, t)) return;
    if (p->lk_present ? t < p->lk_event_s : t <= p->lk_event_s) return;
    if (conn_of(p, psid) == CONN_OTHER) {
        if (t == p->lk_event_s) { /* the old connection's, or a new one's? */
            pv_lk_list_soon(c, p->room);
            return;
        }
        p->lk_event_s = t;
        p->presence_changed_ms = c->now_ms;
    }
    pv_lk_note_conn(c, slot, psid);
    p->trk_event_s = t;
    p->trk_changed_ms = c->now_ms;
    pv_lk_set_mic(c, slot, sid);
    pv_audience_on_publish(c, slot);
}

static void on_unpublished(pv_core *c, uint32_t slot, int64_t t, const char *sid,
                           const char *psid) {
    pv_part *p = &c->parts[slot];
    if (conn_of(p, psid) == CONN_OTHER) return; /* the old connection's track */
    if (t < p->trk_event_s || !p->has_mic || strcmp(p->mic_sid, sid) != 0) return;
    p->trk_event_s = t;
    p->trk_changed_ms = c->now_ms;
    pv_lk_set_mic(c, slot, NULL);
}

static void on_room_finished(pv_core *c, uint32_t r, int64_t t) {
    pv_room *room = &c->rooms[r];
    for (uint32_t i = 0; i < room->n; i++)
        on_left(c, room->members[i], t, NULL);
}

static int sid_valid(const char *sid) {
    return sid && sid[0] != '\0' && memchr(sid, '\0', PV_TRACK_SID_MAX + 1) != NULL;
}

/* PV_EV_WEBHOOK. Unknown rooms and participants are logged and ignored. */
void pv_on_webhook(pv_core *c, const pv_webhook *w) {
    uint32_t r = pv_room_find(c, w->room_id);
    if (r == PV_NONE) {
        pv_out_log(c, PV_LOG_DEBUG, "webhook for an unknown room", NULL, 0, (int64_t)w->kind);
        return;
    }
    if (w->kind == PV_WH_ROOM_FINISHED) {
        on_room_finished(c, r, w->created_at_s);
        return;
    }
    uint32_t slot = pv_member_find(c, &c->rooms[r], w->identity);
    if (slot == PV_NONE) {
        pv_out_log(c, PV_LOG_DEBUG, "webhook for an unknown participant", NULL, 0,
                   (int64_t)w->kind);
        return;
    }
    int64_t t = w->created_at_s;
    const char *psid = sid_valid(w->participant_sid) ? w->participant_sid : NULL;
    switch (w->kind) {
    case PV_WH_PARTICIPANT_JOINED:
        on_joined(c, slot, t, psid);
        return;
    case PV_WH_PARTICIPANT_LEFT:
    case PV_WH_PARTICIPANT_ABORTED:
        on_left(c, slot, t, psid);
        return;
    case PV_WH_TRACK_PUBLISHED:
        if (sid_valid(w->track_sid)) on_published(c, slot, t, w->track_sid, psid);
        return;
    case PV_WH_TRACK_UNPUBLISHED:
        if (sid_valid(w->track_sid)) on_unpublished(c, slot, t, w->track_sid, psid);
        return;
    case PV_WH_ROOM_FINISHED:
        return;
    }
    pv_out_log(c, PV_LOG_WARN, "webhook of an unknown kind", &c->parts[slot], 0, (int64_t)w->kind);
}
