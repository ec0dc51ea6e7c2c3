/*
 * livekit_fake.c - the ground truth of the fake LiveKit SFU: who is joined,
 * which microphone track each published, each listener's subscriptions and
 * each speaker's allow-list; and the rule that decides what is forwarded:
 *
 *   forwarded(L, S) = L and S joined in the same room, S published a track,
 *                     L is subscribed to that track (a malicious listener
 *                     subscribes itself to every track), and L is in S's
 *                     allow-list (or S never set one: LiveKit allows all).
 *
 * Events here come from clients over their signalling link; RoomService
 * calls from the core are in livekit_calls.c.
 */
#include "sim.h"

int sim_lk_forwarded(const sim *s, uint16_t l, uint16_t sp) {
    const sim_lk_part *L = &s->lk.p[l], *S = &s->lk.p[sp];
    if (l == sp || !L->joined || !S->joined || L->room != S->room || !S->track) return 0;
    if (s->sabotage & SIM_BREAK_LK_FORWARD_ALL) return 1;
    int subscribed = s->cl[l].role == ROLE_MAL_LISTENER || L->sub[sp] == S->track;
    int allowed = S->allow_all || pset_has(&S->allow, l);
    return subscribed && allowed;
}

#define DEPARTURE_TIMEOUT_MS 2000 /* LiveKit closes a room this long after it empties */

/* The last participant left p's room: LiveKit finishes the room after the
 * departure timeout unless someone joins meanwhile (checked then). */
static void room_maybe_empty(sim *s, uint16_t p) {
    uint8_t room = s->lk.p[p].room;
    for (uint16_t q = 0; q < s->o.players; q++)
        if (s->lk.p[q].joined && s->lk.p[q].room == room) return;
    sim_ev ev = {.kind = K_LK_ROOM_EMPTY, .player = p, .a = room};
    sim_schedule(s, s->now_ms + DEPARTURE_TIMEOUT_MS, &ev);
}

static void on_room_empty(sim *s, const sim_ev *ev) {
    for (uint16_t q = 0; q < s->o.players; q++)
        if (s->lk.p[q].joined && s->lk.p[q].room == ev->a) return;
    if (!s->lk.up) return; /* a restart already forgot the room */
    sim_log(s, "livekit: room%llu finished", (unsigned long long)ev->a);
    sim_net_webhook(s, PV_WH_ROOM_FINISHED, ev->player, 0);
}

/* Removes p's participant. webhooks: LiveKit reports it (a restart does
 * not: the crashed process has no one left to tell). */
void sim_lk_drop_participant(sim *s, uint16_t p, int webhooks) {
    sim_lk_part *lp = &s->lk.p[p];
    if (!lp->joined) return;
    sim_log(s, "livekit: %s gone (join %u)%s", s->pl[p].id, lp->join_epoch,
            webhooks ? "" : " silently");
    if (webhooks && lp->track) sim_net_webhook(s, PV_WH_TRACK_UNPUBLISHED, p, lp->track);
    if (webhooks) sim_net_webhook(s, PV_WH_PARTICIPANT_LEFT, p, 0);
    lp->joined = 0;
    lp->track = 0;
    if (webhooks) room_maybe_empty(s, p);
    for (uint32_t i = 0; i < SIM_PLAYERS_MAX; i++)
        lp->sub[i] = 0, s->lk.p[i].sub[p] = 0;
    s->lk.changes++;
    sim_client_update_ready(s, p);
}

static void notify_lost(sim *s, uint16_t p, int64_t detect_ms) {
    sim_ev ev = {.kind = K_CL_LK_LOST, .a = s->lk.p[p].attempt, .b = s->lk.p[p].join_epoch};
    sim_signal_to_client(s, p, &ev, detect_ms);
}

static void on_join(sim *s, const sim_ev *ev) {
    uint16_t p = ev->player;
    sim_lk_part *lp = &s->lk.p[p];
    if (!s->lk.up) {
        sim_ev lost = {.kind = K_CL_LK_LOST, .a = ev->a, .b = 0};
        sim_signal_to_client(s, p, &lost, 0);
        return;
    }
    sim_lk_drop_participant(s, p, 1); /* same identity again: the old one goes */
    lp->joined = 1;
    lp->room = s->pl[p].room;
    lp->join_epoch = ++s->lk.next_join;
    lp->attempt = (uint32_t)ev->a;
    /* Honest clients set an empty allow-list before publishing; the
     * malicious speaker never sets one, so LiveKit allows everyone. */
    lp->allow_all = s->cl[p].role == ROLE_MAL_SPEAKER;
    pset_clear(&lp->allow);
    s->lk.changes++;
    sim_log(s, "livekit: %s joined (join %u)", s->pl[p].id, lp->join_epoch);
    sim_net_webhook(s, PV_WH_PARTICIPANT_JOINED, p, 0);
    sim_ev joined = {.kind = K_CL_LK_JOINED, .a = ev->a, .b = lp->join_epoch};
    sim_signal_to_client(s, p, &joined, 0);
}

static void on_publish(sim *s, const sim_ev *ev) {
    sim_lk_part *lp = &s->lk.p[ev->player];
    if (!lp->joined || lp->join_epoch != ev->b || lp->track) return;
    lp->track = ++s->lk.next_track;
    sim_log(s, "livekit: %s published TR_%u", s->pl[ev->player].id, lp->track);
    s->lk.changes++;
    sim_net_webhook(s, PV_WH_TRACK_PUBLISHED, ev->player, lp->track);
    sim_client_update_ready(s, ev->player);
}

static void on_set_allow(sim *s, const sim_ev *ev) {
    sim_lk_part *lp = &s->lk.p[ev->player];
    if (lp->joined && lp->join_epoch == ev->b) {
        const sim_list *l = sim_list_at(s, ev->blob);
        pset_clear(&lp->allow);
        for (uint16_t i = 0; i < l->n; i++)
            pset_add(&lp->allow, l->ids[i]);
        lp->allow_all = 0;
        s->lk.changes++;
        sim_log(s, "livekit: %s allow-list := %u ids (audience rev %llu)", s->pl[ev->player].id,
                l->n, (unsigned long long)ev->a);
        sim_ev done = {.kind = K_CL_ALLOW_DONE, .a = ev->a, .b = ev->b};
        sim_signal_to_client(s, ev->player, &done, 0);
    }
    sim_list_free(s, ev->blob);
}

static void on_restart(sim *s) {
    if (s->phase != PH_SAFETY || !s->lk.up) return;
    sim_note_fault(s);
    s->lk.up = 0;
    s->lk.boot++;
    s->lk.restarts++;
    for (uint16_t p = 0; p < s->o.players; p++) {
        if (!s->lk.p[p].joined) continue;
        notify_lost(s, p, sim_rng_range(&s->rng_lk, 100, 1000));
        sim_lk_drop_participant(s, p, 0);
    }
    sim_ev up = {.kind = K_LK_UP};
    sim_schedule(s, s->now_ms + sim_rng_range(&s->rng_lk, s->o.lk_down_min_ms, s->o.lk_down_max_ms),
                 &up);
}

/* The core removed p, or p's link dropped (fault): LiveKit tells p. */
void sim_lk_kick(sim *s, uint16_t p, pv_webhook_kind why) {
    if (!s->lk.p[p].joined) return;
    notify_lost(s, p, 0);
    if (why == PV_WH_PARTICIPANT_ABORTED) {
        sim_net_webhook(s, PV_WH_PARTICIPANT_ABORTED, p, 0);
        sim_lk_drop_participant(s, p, 0);
    } else {
        sim_lk_drop_participant(s, p, 1);
    }
}

void sim_lk_on_event(sim *s, const sim_ev *ev) {
    switch (ev->kind) {
    case K_LK_JOIN:
        on_join(s, ev);
        break;
    case K_LK_PUBLISH:
        on_publish(s, ev);
        break;
    case K_LK_SET_ALLOW:
        on_set_allow(s, ev);
        break;
    case K_LK_LEAVE:
        if (s->lk.p[ev->player].joined && s->lk.p[ev->player].attempt == ev->a)
            sim_lk_drop_participant(s, ev->player, 1);
        break;
    case K_LK_CALL_APPLY:
        sim_lk_apply_call(s, ev);
        break;
    case K_LK_RESTART:
        on_restart(s);
        break;
    case K_LK_UP:
        s->lk.up = 1;
        break;
    case K_LK_ROOM_EMPTY:
        on_room_empty(s, ev);
        break;
    default:
        break;
    }
}
