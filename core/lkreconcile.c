/*
 * lkreconcile.c - drives each listener's LiveKit subscriptions towards its
 * canHear.
 *
 * desired(L) = the microphone tracks of the speakers in canHear(L) whose
 * track SID is known; applied(L) = what LiveKit confirmed, plus the entries
 * of failed calls marked uncertain (a timed-out call may have been applied):
 * an uncertain entry is unsubscribed if not desired and re-subscribed if
 * desired. Per listener at
 * most one UpdateSubscriptions is in flight, and removals go first (an
 * unsubscribe call before any subscribe call: never more than the cap, and
 * audio that must stop stops first). Failures back off exponentially from
 * livekit_backoff_min_ms to livekit_backoff_max_ms; success resets it.
 *
 * Listeners with work are flagged lk_dirty. The scan runs in room order then
 * participant order, starting after the listener served last (a cursor kept
 * as ids), so with max_inflight_calls busy every listener still gets a turn.
 */
#include <string.h>

#include "state.h"

void pv_lk_mark(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    if (p->lk_dirty) return;
    p->lk_dirty = 1;
    c->rooms[p->room].lk_dirty_n++;
    c->lk_dirty_n++;
}

void pv_lk_unmark(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    if (!p->lk_dirty) return;
    p->lk_dirty = 0;
    c->rooms[p->room].lk_dirty_n--;
    c->lk_dirty_n--;
}

/* Every listener of room r re-checks (a speaker's track changed). */
void pv_lk_mark_room(pv_core *c, uint32_t r) {
    const pv_room *room = &c->rooms[r];
    for (uint32_t i = 0; i < room->n; i++)
        pv_lk_mark(c, room->members[i]);
}

/* A fresh or lost LiveKit connection: nothing is applied any more, and a
 * call in flight for the old connection will not be applied (lk_gen). */
void pv_lk_reset(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    p->applied_n = 0;
    p->subs_unknown = 0;
    p->sweep_next = 0;
    p->lk_gen++;
    p->call = PV_NONE;
    pv_lk_mark(c, slot);
}

static int entry_live(const pv_core *c, const pv_lk_entry *e) {
    const pv_part *s = &c->parts[e->speaker];
    return s->live && s->uid == e->speaker_uid && s->has_mic && s->mic_gen == e->mic_gen;
}

/* Index of e (same speaker and track generation) in list, or -1. */
static int entry_at(const pv_lk_entry *list, uint32_t n, const pv_lk_entry *e) {
    for (uint32_t i = 0; i < n; i++)
        if (list[i].speaker_uid == e->speaker_uid && list[i].mic_gen == e->mic_gen) return (int)i;
    return -1;
}

static int entry_in(const pv_lk_entry *list, uint32_t n, const pv_lk_entry *e) {
    return entry_at(list, n, e) >= 0;
}

/* 1 if LiveKit surely holds subscription e for listener p. */
static int surely_applied(const pv_part *p, const pv_lk_entry *e) {
    int i = entry_at(p->applied, p->applied_n, e);
    return i >= 0 && !p->applied[i].uncertain;
}

static uint32_t desired(const pv_core *c, const pv_part *p, pv_lk_entry *out) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->hear_count; i++) {
        const pv_part *s = &c->parts[p->hear_slot[i]];
        pv_lk_entry e = {p->hear_slot[i], p->hear_uid[i], s->mic_gen, 0};
        if (s->live && s->uid == e.speaker_uid && s->has_mic) out[n++] = e;
    }
    return n;
}

/* Tracks that ended at LiveKit need no unsubscribe: drop them. */
static void drop_dead(const pv_core *c, pv_part *p) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->applied_n; i++)
        if (entry_live(c, &p->applied[i])) p->applied[n++] = p->applied[i];
    p->applied_n = n;
}

static void issue_update(pv_core *c, uint32_t slot, int subscribe, const pv_lk_entry *e,
                         uint32_t n) {
    uint32_t k = pv_call_new(c, PV_LK_UPDATE_SUBSCRIPTIONS, c->parts[slot].room, slot);
    PV_ASSERT(k != PV_NONE);
    pv_call *call = &c->calls[k];
    call->subscribe = subscribe;
    call->n = n;
    memcpy(call->entries, e, sizeof(*e) * n);
    /* Copies, not pointers into the speaker: a webhook later in this step
     * may replace its track SID while the effect is still pending. */
    const char **sids = pv_out_alloc(c, sizeof(char *) * n);
    for (uint32_t i = 0; i < n; i++) {
        const char *sid = c->parts[e[i].speaker].mic_sid;
        size_t len = strlen(sid) + 1;
        char *copy = pv_out_alloc(c, len);
        memcpy(copy, sid, len);
        sids[i] = copy;
    }
    pv_call_emit(c, k, sids, n);
    c->parts[slot].call = k;
}

static int issue_remove(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    if (p->lk_retry_ms > c->now_ms) return -1;
    uint32_t k = pv_call_new(c, PV_LK_REMOVE_PARTICIPANT, p->room, slot);
    PV_ASSERT(k != PV_NONE);
    pv_call_emit(c, k, NULL, 0);
    p->remove_pending = 0;
    return 1;
}

/* The next chunk of a subs_unknown sweep: unsubscribes up to the cap of the
 * room's microphones that p does not want, from member p->sweep_next on.
 * Returns 1 when a call was issued, 0 when the sweep is over. (Members that
 * join or leave meanwhile shift the index: one may be skipped or visited
 * twice; the speaker's allow-list stays the gate either way.) */
static int sweep(pv_core *c, uint32_t slot, const pv_lk_entry *want, uint32_t nw) {
    pv_part *p = &c->parts[slot];
    const pv_room *room = &c->rooms[p->room];
    pv_lk_entry e[PV_CAP_MAX];
    uint32_t n = 0, i = p->sweep_next;
    for (; i < room->n && n < c->cfg.max_subscribed_voices; i++) {
        uint32_t s = room->members[i];
        const pv_part *sp = &c->parts[s];
        pv_lk_entry x = {s, sp->uid, sp->mic_gen, 0};
        if (s != slot && sp->has_mic && !entry_in(want, nw, &x)) e[n++] = x;
    }
    if (n == 0) {
        p->subs_unknown = 0;
        return 0;
    }
    issue_update(c, slot, 0, e, n);
    c->calls[p->call].sweep = 1;
    c->calls[p->call].sweep_end = i;
    return 1;
}

/* One listener's next call. Returns 1 issued, 0 nothing to do, -1 waiting
 * (a call in flight or a backoff running). */
static int lk_step(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    if (p->remove_pending) return issue_remove(c, slot);
    if (!p->lk_present) {
        p->applied_n = 0;
        return 0;
    }
    if (p->call != PV_NONE || p->lk_retry_ms > c->now_ms) return -1;
    drop_dead(c, p);
    pv_lk_entry want[PV_CAP_MAX], diff[PV_CAP_MAX];
    uint32_t nw = desired(c, p, want), nd = 0;
    if (p->subs_unknown && !p->hear_posed) { /* canHear not computed from a pose yet */
        int64_t due = p->sweep_from_ms + c->cfg.pose_staleness_ms;
        if (c->now_ms < due) {
            pv_timer_set(&c->timers, pv_timer_part(c, slot, PV_PT_LK), due);
            return -1;
        }
    }
    if (p->subs_unknown && sweep(c, slot, want, nw)) return 1;
    for (uint32_t i = 0; i < p->applied_n; i++)
        if (!entry_in(want, nw, &p->applied[i])) diff[nd++] = p->applied[i];
    if (nd > 0) {
        issue_update(c, slot, 0, diff, nd);
        return 1;
    }
    for (uint32_t i = 0; i < nw; i++)
        if (!surely_applied(p, &want[i])) diff[nd++] = want[i];
    if (nd == 0) return 0;
    issue_update(c, slot, 1, diff, nd);
    return 1;
}

/* Serves the dirty listeners of room members[lo, hi). Returns 0 to stop. */
static int serve_range(pv_core *c, const pv_room *room, uint32_t lo, uint32_t hi) {
    size_t bytes = (sizeof(char *) + PV_TRACK_SID_MAX + 8) * c->cfg.max_subscribed_voices + 16;
    for (uint32_t i = lo; i < hi && i < room->n && room->lk_dirty_n > 0; i++) {
        uint32_t slot = room->members[i];
        if (!c->parts[slot].lk_dirty) continue;
        if (c->n_calls >= c->cfg.max_inflight_calls) return 0;
        if (!pv_out_fits(&c->out, 1, bytes)) return 0;
        int rc = lk_step(c, slot);
        if (rc == 0) pv_lk_unmark(c, slot);
        if (rc == 1) {
            memcpy(c->lk_cursor_room, room->id, sizeof(room->id));
            memcpy(c->lk_cursor_part, c->parts[slot].id, sizeof(c->parts[slot].id));
        }
    }
    return 1;
}

/* Issues LiveKit calls while slots and budget last (see the file comment). */
void pv_lk_reconcile(pv_core *c) {
    if (!pv_lk_issue_lists(c)) return;
    if (c->lk_dirty_n == 0 || c->n_rooms == 0) return;
    uint32_t r0 = pv_room_lower_bound(c, c->lk_cursor_room), m0 = 0;
    if (r0 >= c->n_rooms) r0 = 0;
    const pv_room *first = &c->rooms[c->room_order[r0]];
    if (strcmp(first->id, c->lk_cursor_room) == 0)
        m0 = pv_member_upper_bound(c, first, c->lk_cursor_part);
    if (!serve_range(c, first, m0, first->n)) return;
    for (uint32_t i = 1; i < c->n_rooms; i++) {
        const pv_room *room = &c->rooms[c->room_order[(r0 + i) % c->n_rooms]];
        if (room->lk_dirty_n > 0 && !serve_range(c, room, 0, room->n)) return;
    }
    serve_range(c, first, 0, m0);
}

/* PV_PT_LK fired: the backoff is over. */
void pv_on_lk_timer(pv_core *c, uint32_t slot) {
    pv_lk_mark(c, slot);
}

static void backoff(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    p->lk_retry_ms = c->now_ms + p->lk_backoff_ms;
    pv_timer_set(&c->timers, pv_timer_part(c, slot, PV_PT_LK), p->lk_retry_ms);
    p->lk_backoff_ms *= 2;
    if (p->lk_backoff_ms > c->cfg.livekit_backoff_max_ms)
        p->lk_backoff_ms = c->cfg.livekit_backoff_max_ms;
}

/* A confirmed call: subscriptions become certain, unsubscriptions go. A
 * failed one (a timeout may still have been applied) leaves its entries
 * uncertain: the next pass re-sends what desired says for them. */
static void apply(pv_part *p, const pv_call *call, uint32_t cap, int ok) {
    for (uint32_t i = 0; i < call->n; i++) {
        pv_lk_entry e = call->entries[i];
        int j = entry_at(p->applied, p->applied_n, &e);
        if (!ok || call->subscribe) {
            e.uncertain = !ok;
            if (j >= 0) {
                p->applied[j] = e;
            } else {
                PV_ASSERT(p->applied_n < cap);
                p->applied[p->applied_n++] = e;
            }
        } else if (j >= 0) {
            p->applied[j] = p->applied[--p->applied_n];
        }
    }
}

/* Returns the listener slot a result still applies to, or PV_NONE. */
static uint32_t call_owner(const pv_core *c, const pv_call *call) {
    if (call->part == PV_NONE) return PV_NONE;
    const pv_part *p = &c->parts[call->part];
    if (!p->live || p->uid != call->part_uid || p->lk_gen != call->lk_gen) return PV_NONE;
    return call->part;
}

void pv_lk_update_result(pv_core *c, const pv_call *call, pv_lk_outcome outcome) {
    uint32_t slot = call_owner(c, call);
    if (slot == PV_NONE) return;
    pv_part *p = &c->parts[slot];
    p->call = PV_NONE;
    if (call->sweep && outcome == PV_LK_OK) { /* on to the next chunk */
        p->sweep_next = call->sweep_end;
        p->lk_backoff_ms = c->cfg.livekit_backoff_min_ms;
        pv_lk_mark(c, slot);
    } else if (call->sweep && outcome == PV_LK_FAILED) { /* the same chunk again */
        backoff(c, slot);
    } else if (outcome == PV_LK_OK) {
        apply(p, call, c->cfg.max_subscribed_voices, 1);
        p->lk_backoff_ms = c->cfg.livekit_backoff_min_ms;
        pv_lk_mark(c, slot);
    } else if (outcome == PV_LK_NOT_FOUND) {
        pv_lk_set_absent(c, slot);
    } else {
        apply(p, call, c->cfg.max_subscribed_voices, 0);
        backoff(c, slot);
    }
}

void pv_lk_remove_result(pv_core *c, const pv_call *call, pv_lk_outcome outcome) {
    uint32_t slot = call_owner(c, call);
    if (slot == PV_NONE) return;
    if (outcome == PV_LK_FAILED) {
        c->parts[slot].remove_pending = 1;
        backoff(c, slot);
        pv_lk_mark(c, slot);
        return;
    }
    c->parts[slot].lk_backoff_ms = c->cfg.livekit_backoff_min_ms;
    pv_lk_set_absent(c, slot);
}
