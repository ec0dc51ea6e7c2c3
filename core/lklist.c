/*
 * lklist.c - periodic ListParticipants per room: the safety net for lost or
 * late webhooks.
 *
 * Every livekit_reconcile_interval_ms a room asks LiveKit who is connected
 * and which microphone track each one publishes (the first time
 * livekit_backoff_min_ms after the room is created: see pv_room_create).
 * The answer replaces the webhook-derived state, except the presence or
 * track of a participant that a webhook changed after the call was issued
 * (the answer may predate it). A failed call is retried after
 * livekit_backoff_min_ms, doubling up to _max_ms. A participant found
 * present this way may predate this process: its subscriptions are swept
 * (subs_unknown, lkreconcile.c).
 */
#include <string.h>

#include "state.h"

/* PV_EV room timer: flag the room; pv_lk_issue_lists() sends the call. */
void pv_on_reconcile_timer(pv_core *c, uint32_t r) {
    pv_room *room = &c->rooms[r];
    pv_timer_set(&c->timers, pv_timer_room(c, r), c->now_ms + c->cfg.livekit_reconcile_interval_ms);
    if (room->list_inflight || room->list_pending) return;
    room->list_pending = 1;
    c->list_pending_n++;
}

/* Moves room r's next ListParticipants to now + delay_ms if that is sooner. */
static void list_at(pv_core *c, uint32_t r, int64_t delay_ms) {
    uint32_t t = pv_timer_room(c, r);
    int64_t due = c->now_ms + delay_ms;
    if (c->timers.pos[t] == PV_NONE || c->timers.due[t] > due) pv_timer_set(&c->timers, t, due);
}

/* Asks for a ListParticipants of room r soon (livekit_backoff_min_ms): a
 * webhook was dropped on a same-second tie, and only LiveKit can tell. */
void pv_lk_list_soon(pv_core *c, uint32_t r) {
    if (c->rooms[r].list_inflight) c->rooms[r].list_again = 1; /* may predate the event */
    list_at(c, r, c->cfg.livekit_backoff_min_ms);
}

/* Issues pending ListParticipants calls in room order. Returns 0 when the
 * call slots or the effect budget ran out, else 1. */
int pv_lk_issue_lists(pv_core *c) {
    for (uint32_t i = 0; i < c->n_rooms && c->list_pending_n > 0; i++) {
        uint32_t r = c->room_order[i];
        pv_room *room = &c->rooms[r];
        if (!room->list_pending) continue;
        if (c->n_calls >= c->cfg.max_inflight_calls) return 0;
        if (!pv_out_fits(&c->out, 1, 0)) return 0;
        uint32_t k = pv_call_new(c, PV_LK_LIST_PARTICIPANTS, r, PV_NONE);
        PV_ASSERT(k != PV_NONE);
        pv_call_emit(c, k, NULL, 0);
        room->list_pending = 0;
        room->list_inflight = 1;
        c->list_pending_n--;
    }
    return 1;
}

static const pv_lk_participant *listed(const pv_livekit_result *res, const char *identity) {
    if (!res->participants) return NULL;
    for (uint32_t i = 0; i < res->participant_count; i++) {
        const pv_lk_participant *lp = &res->participants[i];
        if (lp->identity && strcmp(lp->identity, identity) == 0) return lp;
    }
    return NULL;
}

/* Applies what LiveKit listed for one participant, except what webhooks
 * changed after the call was issued (the list may predate them). */
static void apply_member(pv_core *c, uint32_t slot, const pv_lk_participant *lp,
                         int64_t issued_ms) {
    pv_part *p = &c->parts[slot];
    int presence_fresh = p->presence_changed_ms >= issued_ms;
    int trk_fresh = p->trk_changed_ms >= issued_ms;
    if (!lp) {
        if (presence_fresh || trk_fresh) return;
        if (p->lk_present || p->has_mic) pv_lk_set_absent(c, slot);
        return;
    }
    const char *psid = lp->participant_sid;
    if (psid && (!psid[0] || !memchr(psid, '\0', PV_TRACK_SID_MAX + 1))) psid = NULL;
    if (!p->lk_present && !presence_fresh) {
        pv_lk_set_present(c, slot);
        /* not necessarily fresh: it may predate this process (a restart)
         * and hold subscriptions the old one made */
        p->subs_unknown = 1;
        p->sweep_from_ms = c->now_ms;
    }
    if (!presence_fresh) pv_lk_note_conn(c, slot, psid); /* another SID: re-made */
    if (trk_fresh) return;
    const char *sid = lp->mic_track_sid;
    if (sid && !memchr(sid, '\0', PV_TRACK_SID_MAX + 1)) sid = NULL; /* too long: ignore */
    int had_mic = p->has_mic;
    pv_lk_set_mic(c, slot, sid && sid[0] ? sid : NULL);
    if (!had_mic && p->has_mic) pv_audience_on_publish(c, slot);
}

void pv_lk_list_result(pv_core *c, const pv_call *call, const pv_livekit_result *res) {
    if (call->room == PV_NONE) return;
    pv_room *room = &c->rooms[call->room];
    if (!room->live || room->uid != call->room_uid) return;
    room->list_inflight = 0;
    if (room->list_again) list_at(c, call->room, c->cfg.livekit_backoff_min_ms);
    room->list_again = 0;
    if (res->outcome == PV_LK_FAILED) { /* retried with backoff, like every call */
        list_at(c, call->room, room->list_backoff_ms);
        room->list_backoff_ms *= 2;
        if (room->list_backoff_ms > c->cfg.livekit_backoff_max_ms)
            room->list_backoff_ms = c->cfg.livekit_backoff_max_ms;
        return;
    }
    room->list_backoff_ms = c->cfg.livekit_backoff_min_ms;
    uint32_t r = call->room;
    for (uint32_t i = 0; i < room->n; i++) {
        uint32_t slot = room->members[i];
        const pv_lk_participant *lp = NULL;
        if (res->outcome == PV_LK_OK) lp = listed(res, c->parts[slot].id);
        apply_member(c, slot, lp, call->issued_ms);
    }
    PV_ASSERT(c->rooms[r].live);
}
