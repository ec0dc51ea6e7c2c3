/*
 * timer.c - an indexed binary min-heap of deadlines.
 *
 * Every object that can time out owns fixed timer ids (participants three,
 * connections and rooms one each), so the heap never holds more than `count`
 * entries and re-arming a timer moves its entry instead of adding one. Order
 * is (due_ms, timer id): ties never depend on insertion history.
 */
#include "state.h"

/* Returns 0 or PV_ENOMEM. */
int pv_timers_init(pv_timers *t, uint32_t count, const pv_allocator *a) {
    t->count = count;
    t->n = 0;
    t->due = a->alloc(a->ud, sizeof(int64_t) * count);
    t->pos = a->alloc(a->ud, sizeof(uint32_t) * count);
    t->heap = a->alloc(a->ud, sizeof(uint32_t) * count);
    if (!t->due || !t->pos || !t->heap) return PV_ENOMEM;
    for (uint32_t i = 0; i < count; i++)
        t->pos[i] = PV_NONE;
    return 0;
}

void pv_timers_free(pv_timers *t, const pv_allocator *a) {
    if (t->due) a->free(a->ud, t->due);
    if (t->pos) a->free(a->ud, t->pos);
    if (t->heap) a->free(a->ud, t->heap);
}

static int before(const pv_timers *t, uint32_t x, uint32_t y) {
    if (t->due[x] != t->due[y]) return t->due[x] < t->due[y];
    return x < y;
}

static void place(pv_timers *t, uint32_t i, uint32_t id) {
    t->heap[i] = id;
    t->pos[id] = i;
}

static void sift_up(pv_timers *t, uint32_t i) {
    uint32_t id = t->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(t, id, t->heap[parent])) break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, id);
}

static void sift_down(pv_timers *t, uint32_t i) {
    uint32_t id = t->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, best = i;
        uint32_t best_id = id;
        if (l < t->n && before(t, t->heap[l], best_id)) best = l, best_id = t->heap[l];
        if (l + 1 < t->n && before(t, t->heap[l + 1], best_id)) best = l + 1;
        if (best == i) break;
        place(t, i, t->heap[best]);
        i = best;
    }
    place(t, i, id);
}

/* Arms (or re-arms) timer id at due_ms. */
void pv_timer_set(pv_timers *t, uint32_t id, int64_t due_ms) {
    PV_ASSERT(id < t->count);
    if (t->pos[id] == PV_NONE) {
        PV_ASSERT(t->n < t->count);
        t->due[id] = due_ms;
        place(t, t->n++, id);
        sift_up(t, t->n - 1);
        return;
    }
    t->due[id] = due_ms;
    sift_up(t, t->pos[id]);
    sift_down(t, t->pos[id]);
}

/* Disarms timer id (no-op when not armed). */
void pv_timer_clear(pv_timers *t, uint32_t id) {
    PV_ASSERT(id < t->count);
    uint32_t i = t->pos[id];
    if (i == PV_NONE) return;
    t->pos[id] = PV_NONE;
    t->n--;
    if (i == t->n) return;
    uint32_t moved = t->heap[t->n];
    place(t, i, moved);
    sift_up(t, i);
    sift_down(t, t->pos[moved]);
}

/* Returns the earliest due time, or PV_NEVER when nothing is armed. */
int64_t pv_timer_next(const pv_timers *t) {
    return t->n ? t->due[t->heap[0]] : PV_NEVER;
}

/* Disarms and returns the earliest timer due at or before now_ms, or PV_NONE. */
uint32_t pv_timer_pop_due(pv_timers *t, int64_t now_ms) {
    if (t->n == 0 || t->due[t->heap[0]] > now_ms) return PV_NONE;
    uint32_t id = t->heap[0];
    pv_timer_clear(t, id);
    return id;
}

/* Timer ids: participants first, then connections, then rooms (LiveKit
 * reconcile), then rooms (pose-batch round). */
uint32_t pv_timer_part(const pv_core *c, uint32_t slot, pv_ptimer kind) {
    PV_ASSERT(slot < c->cfg.max_participants);
    return slot * PV_PART_TIMERS + (uint32_t)kind;
}

uint32_t pv_timer_conn(const pv_core *c, uint32_t slot) {
    PV_ASSERT(slot < c->cfg.max_connections);
    return c->cfg.max_participants * PV_PART_TIMERS + slot;
}

uint32_t pv_timer_room(const pv_core *c, uint32_t slot) {
    PV_ASSERT(slot < c->cfg.max_rooms);
    return c->cfg.max_participants * PV_PART_TIMERS + c->cfg.max_connections + slot;
}

uint32_t pv_timer_room_batch(const pv_core *c, uint32_t slot) {
    return pv_timer_room(c, slot) + c->cfg.max_rooms;
}
