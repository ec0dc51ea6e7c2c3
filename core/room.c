/*
 * room.c - the room and participant pools.
 *
 * Rooms are kept in core->room_order sorted by room id and participants in
 * room->members sorted by participant id: binary search finds them, and
 * iterating these arrays is the deterministic order of everything the core
 * emits. A room exists while it has participants: the first session creates
 * it, removing its last participant removes it.
 *
 * Freed slots go to a limbo list and become reusable at the next step, so
 * effects of the current step that point at their strings stay valid.
 */
#include <string.h>

#include "state.h"

#define REVISION_LIMIT (1ull << 53) /* revisions must stay exact in JSON/JS numbers */

/* Position of the first room whose id is >= room_id in room_order. */
uint32_t pv_room_lower_bound(const pv_core *c, const char *room_id) {
    uint32_t lo = 0, hi = c->n_rooms;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->rooms[c->room_order[mid]].id, room_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Returns the room slot, or PV_NONE. */
uint32_t pv_room_find(const pv_core *c, const char *room_id) {
    if (!pv_id_valid(room_id)) return PV_NONE;
    uint32_t i = pv_room_lower_bound(c, room_id);
    if (i < c->n_rooms && strcmp(c->rooms[c->room_order[i]].id, room_id) == 0)
        return c->room_order[i];
    return PV_NONE;
}

/* Creates a room (the id must be valid and absent). Its revision epoch
 * starts at wall_ms * 1000, above every revision this core issued before
 * (ADR 0002). Returns the slot, or PV_NONE when the pool is full. */
uint32_t pv_room_create(pv_core *c, const char *room_id) {
    if (c->room_free == PV_NONE) return PV_NONE;
    uint32_t r = c->room_free;
    pv_room *room = &c->rooms[r];
    c->room_free = room->next_free;
    uint32_t *members = room->members;
    memset(room, 0, sizeof(*room));
    room->members = members;
    PV_ASSERT(pv_copy_id(room->id, room_id) == 0);
    room->live = 1;
    room->uid = ++c->next_uid;
    room->list_backoff_ms = c->cfg.livekit_backoff_min_ms;
    room->recomputed_ms = -1;
    uint64_t epoch = c->wall_ms > 0 ? (uint64_t)c->wall_ms * 1000u : 0;
    room->revision = epoch > c->revision_hwm ? epoch : c->revision_hwm + 1;
    PV_ASSERT(room->revision < REVISION_LIMIT);
    c->revision_hwm = room->revision;
    uint32_t i = pv_room_lower_bound(c, room_id);
    memmove(&c->room_order[i + 1], &c->room_order[i], (c->n_rooms - i) * sizeof(uint32_t));
    c->room_order[i] = r;
    c->n_rooms++;
    /* The first ListParticipants goes out soon, not a whole interval later:
     * the room may already exist in LiveKit (the daemon restarted, and the
     * webhooks that announced its participants and tracks went to the old
     * process); until the list answers, no pair there can be subscribed
     * (no track SIDs). For a new room it costs one empty answer. */
    pv_timer_set(&c->timers, pv_timer_room(c, r), c->now_ms + c->cfg.livekit_backoff_min_ms);
    return r;
}

/* Removes an empty room. */
void pv_room_remove(pv_core *c, uint32_t r) {
    pv_room *room = &c->rooms[r];
    PV_ASSERT(room->live && room->n == 0);
    uint32_t i = pv_room_lower_bound(c, room->id);
    PV_ASSERT(i < c->n_rooms && c->room_order[i] == r);
    memmove(&c->room_order[i], &c->room_order[i + 1], (c->n_rooms - i - 1) * sizeof(uint32_t));
    c->n_rooms--;
    pv_timer_clear(&c->timers, pv_timer_room(c, r));
    pv_timer_clear(&c->timers, pv_timer_room_batch(c, r));
    pv_lk_calls_forget_room(c, r);
    if (room->list_pending) c->list_pending_n--;
    PV_ASSERT(room->lk_dirty_n == 0);
    room->live = 0;
    room->next_free = c->room_limbo;
    c->room_limbo = r;
}

static uint32_t member_lower_bound(const pv_core *c, const pv_room *room, const char *pid) {
    uint32_t lo = 0, hi = room->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->parts[room->members[mid]].id, pid) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Returns the participant slot, or PV_NONE. */
uint32_t pv_member_find(const pv_core *c, const pv_room *room, const char *participant_id) {
    if (!pv_id_valid(participant_id)) return PV_NONE;
    uint32_t i = member_lower_bound(c, room, participant_id);
    if (i < room->n && strcmp(c->parts[room->members[i]].id, participant_id) == 0)
        return room->members[i];
    return PV_NONE;
}

/* Position of the first member whose id is > pid. */
uint32_t pv_member_upper_bound(const pv_core *c, const pv_room *room, const char *pid) {
    uint32_t i = member_lower_bound(c, room, pid);
    if (i < room->n && strcmp(c->parts[room->members[i]].id, pid) == 0) i++;
    return i;
}

/* Returns the index of member slot in room->members (it must be there). */
uint32_t pv_member_index(const pv_core *c, const pv_room *room, uint32_t slot) {
    uint32_t i = member_lower_bound(c, room, c->parts[slot].id);
    PV_ASSERT(i < room->n && room->members[i] == slot);
    return i;
}

static void part_init(pv_core *c, pv_part *p, uint32_t r, const char *pid) {
    uint64_t *in_uids = p->in_uids, *hear_uid = p->hear_uid;
    uint32_t *hear_slot = p->hear_slot;
    pv_lk_entry *applied = p->applied;
    memset(p, 0, sizeof(*p));
    p->in_uids = in_uids;
    p->hear_uid = hear_uid;
    p->hear_slot = hear_slot;
    p->applied = applied;
    PV_ASSERT(pv_copy_id(p->id, pid) == 0);
    p->live = 1;
    p->uid = ++c->next_uid;
    p->room = r;
    p->conn = PV_NONE;
    p->call = PV_NONE;
    p->client_rev = c->rooms[r].revision;
    p->aud_rev = c->rooms[r].revision;
    p->lk_backoff_ms = c->cfg.livekit_backoff_min_ms;
    p->lk_event_s = p->trk_event_s = INT64_MIN;
    p->presence_changed_ms = p->trk_changed_ms = INT64_MIN;
}

/* Adds a participant to room r (the caller checked the room size). Returns
 * the slot, or PV_NONE when the participant pool is full. */
uint32_t pv_part_create(pv_core *c, uint32_t r, const char *participant_id) {
    pv_room *room = &c->rooms[r];
    PV_ASSERT(room->n < c->cfg.max_room_size);
    if (c->part_free == PV_NONE) return PV_NONE;
    uint32_t slot = c->part_free;
    pv_part *p = &c->parts[slot];
    c->part_free = p->next_free;
    part_init(c, p, r, participant_id);
    uint32_t i = member_lower_bound(c, room, participant_id);
    memmove(&room->members[i + 1], &room->members[i], (room->n - i) * sizeof(uint32_t));
    room->members[i] = slot;
    room->n++;
    room->dirty = 1;
    c->n_parts++;
    return slot;
}

/* Removes a participant (logging why); removes its room when it was the last. */
void pv_part_remove(pv_core *c, uint32_t slot, const char *why) {
    pv_part *p = &c->parts[slot];
    PV_ASSERT(p->live);
    uint32_t r = p->room;
    pv_room *room = &c->rooms[r];
    pv_out_log(c, PV_LOG_INFO, why, p, 0, (int64_t)p->uid);
    if (p->conn != PV_NONE) pv_conn_close(c, p->conn, 1008, "session ended");
    for (uint32_t k = 0; k < PV_PART_TIMERS; k++)
        pv_timer_clear(&c->timers, pv_timer_part(c, slot, (pv_ptimer)k));
    pv_lk_calls_forget_part(c, slot);
    uint32_t i = member_lower_bound(c, room, p->id);
    PV_ASSERT(i < room->n && room->members[i] == slot);
    memmove(&room->members[i], &room->members[i + 1], (room->n - i - 1) * sizeof(uint32_t));
    room->n--;
    room->dirty = 1;
    if (p->lk_dirty) pv_lk_unmark(c, slot);
    if (p->has_mic) pv_lk_mark_room(c, r);
    p->live = 0;
    p->next_free = c->part_limbo;
    c->part_limbo = slot;
    c->n_parts--;
    if (room->n == 0) pv_room_remove(c, r);
}

/* Makes the slots freed during the previous step reusable. */
void pv_release_limbo(pv_core *c) {
    while (c->room_limbo != PV_NONE) {
        uint32_t r = c->room_limbo;
        c->room_limbo = c->rooms[r].next_free;
        c->rooms[r].next_free = c->room_free;
        c->room_free = r;
    }
    while (c->part_limbo != PV_NONE) {
        uint32_t p = c->part_limbo;
        c->part_limbo = c->parts[p].next_free;
        c->parts[p].next_free = c->part_free;
        c->part_free = p;
    }
    while (c->conn_limbo != PV_NONE) {
        uint32_t k = c->conn_limbo;
        c->conn_limbo = c->conns[k].next_free;
        c->conns[k].next_free = c->conn_free;
        c->conn_free = k;
    }
}
