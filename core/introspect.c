/*
 * introspect.c - read-only views for tests, the simulator's checkers and
 * /ready. None of these change the core.
 */
#include "state.h"

void pv_core_stats(const pv_core *c, pv_stats *st) {
    *st = c->st;
    st->rooms = c->n_rooms;
    st->participants = c->n_parts;
    st->connections = c->n_conns;
    st->inflight_calls = c->n_calls;
    st->pairs_in_range = 0;
    for (uint32_t i = 0; i < c->n_rooms; i++)
        st->pairs_in_range += c->rooms[c->room_order[i]].pairs;
    pv_audib_stats as;
    pv_audib_get_stats(c->au, &as);
    st->pairs_dropped_full = as.pairs_dropped;
}

/* Returns the room revision, or 0 if the room does not exist. */
uint64_t pv_core_room_revision(const pv_core *c, const char *room_id) {
    uint32_t r = pv_room_find(c, room_id);
    return r == PV_NONE ? 0 : c->rooms[r].revision;
}

/* Returns now_ms of the room's last recompute, or -1 (never, or no room). */
int64_t pv_core_room_recomputed_at(const pv_core *c, const char *room_id) {
    uint32_t r = pv_room_find(c, room_id);
    return r == PV_NONE ? -1 : c->rooms[r].recomputed_ms;
}

static uint32_t find_part(const pv_core *c, const char *room_id, const char *pid) {
    uint32_t r = pv_room_find(c, room_id);
    return r == PV_NONE ? PV_NONE : pv_member_find(c, &c->rooms[r], pid);
}

/* Returns the number of ids in the listener's canHear (copied up to max,
 * sorted by id), or PV_ENOTFOUND. Speakers removed since the last
 * recompute are left out. */
int pv_core_can_hear(const pv_core *c, const char *room_id, const char *participant_id,
                     const char **ids, uint32_t max) {
    uint32_t slot = find_part(c, room_id, participant_id);
    if (slot == PV_NONE) return PV_ENOTFOUND;
    const pv_part *p = &c->parts[slot];
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->hear_count; i++) {
        const pv_part *s = &c->parts[p->hear_slot[i]];
        if (!s->live || s->uid != p->hear_uid[i]) continue;
        if (ids && n < max) ids[n] = s->id;
        n++;
    }
    return (int)n;
}

static int holds(const pv_part *p, uint64_t uid) {
    for (uint32_t i = 0; i < p->in_count; i++)
        if (p->in_uids[i] == uid) return 1;
    return 0;
}

/* Returns 1 if a and b are in range (either pair list holds the other),
 * 0 if not, PV_ENOTFOUND if either is unknown. */
int pv_core_pair_in_range(const pv_core *c, const char *room_id, const char *a, const char *b) {
    uint32_t sa = find_part(c, room_id, a), sb = find_part(c, room_id, b);
    if (sa == PV_NONE || sb == PV_NONE) return PV_ENOTFOUND;
    const pv_part *pa = &c->parts[sa], *pb = &c->parts[sb];
    return holds(pa, pb->uid) || holds(pb, pa->uid);
}
