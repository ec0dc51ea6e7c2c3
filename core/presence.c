/*
 * presence.c - who is connected, idle-session expiry and reconnect grace.
 *
 * A participant is connected while it has an authenticated policy socket or
 * LiveKit presence (participant_joined, or listed by ListParticipants).
 *  - Never connected since its session was issued or refreshed: it expires
 *    session_idle_ms after that issue.
 *  - Connected once, then neither: the reconnect grace starts; when it runs
 *    out the participant is removed (the others' canHear follows at the next
 *    recompute).
 * One timer per participant (PV_PT_PRESENCE) covers both cases.
 */
#include "state.h"

static int connected(const pv_part *p) {
    return p->conn != PV_NONE || p->lk_present;
}

/* Re-evaluates presence after a socket or LiveKit change. */
void pv_presence_update(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    uint32_t t = pv_timer_part(c, slot, PV_PT_PRESENCE);
    if (connected(p)) {
        p->ever_connected = 1;
        pv_timer_clear(&c->timers, t);
        return;
    }
    if (c->timers.pos[t] != PV_NONE) return; /* already counting down */
    int64_t due = p->ever_connected ? c->now_ms + c->cfg.reconnect_grace_ms
                                    : p->issued_now_ms + c->cfg.session_idle_ms;
    pv_timer_set(&c->timers, t, due);
}

/* After a session issue or refresh: a never-connected session's idle clock
 * restarts; a running reconnect grace is left as it is. */
void pv_session_touch(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    if (connected(p)) return;
    uint32_t t = pv_timer_part(c, slot, PV_PT_PRESENCE);
    if (!p->ever_connected)
        pv_timer_set(&c->timers, t, p->issued_now_ms + c->cfg.session_idle_ms);
    else
        pv_presence_update(c, slot);
}

/* PV_PT_PRESENCE fired: remove the participant unless it reconnected. */
void pv_on_presence_timer(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    PV_ASSERT(p->live);
    if (connected(p)) return;
    pv_part_remove(c, slot,
                   p->ever_connected ? "participant removed: reconnect grace expired"
                                     : "session expired: never connected");
}
