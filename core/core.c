/*
 * core.c - pv_core_new/free and pv_core_step: event dispatch and the order
 * in which due work runs.
 *
 * A step is: release last step's limbo slots, reset the effect buffer, run
 * the work that is due at now_ms (timers, the recompute round, the pose-batch
 * round, LiveKit calls), handle the event, issue LiveKit calls the event made
 * necessary, and compute the single wake-up time. Due work runs before the
 * event because everything due at or before now_ms happened first.
 */
#include <string.h>

#include "state.h"

#define POOL_ALLOC(c, ptr, count)                                                                  \
    do {                                                                                           \
        (ptr) = (c)->a.alloc((c)->a.ud, sizeof(*(ptr)) * (size_t)(count));                         \
        if (!(ptr)) return PV_ENOMEM;                                                              \
    } while (0)

static int alloc_pools(pv_core *c) {
    const pv_config *cfg = &c->cfg;
    size_t np = cfg->max_participants, cap = cfg->max_subscribed_voices;
    POOL_ALLOC(c, c->rooms, cfg->max_rooms);
    POOL_ALLOC(c, c->room_order, cfg->max_rooms);
    POOL_ALLOC(c, c->member_pool, (size_t)cfg->max_rooms * cfg->max_room_size);
    POOL_ALLOC(c, c->parts, np);
    POOL_ALLOC(c, c->in_pool, np * PV_AUDIB_K);
    POOL_ALLOC(c, c->hear_uid_pool, np * cap);
    POOL_ALLOC(c, c->hear_slot_pool, np * cap);
    POOL_ALLOC(c, c->applied_pool, np * cap);
    POOL_ALLOC(c, c->conns, cfg->max_connections);
    POOL_ALLOC(c, c->conn_order, cfg->max_connections);
    POOL_ALLOC(c, c->calls, cfg->max_inflight_calls);
    POOL_ALLOC(c, c->s_pos, cfg->max_room_size);
    POOL_ALLOC(c, c->s_uid, cfg->max_room_size);
    POOL_ALLOC(c, c->s_in, cfg->max_room_size);
    POOL_ALLOC(c, c->s_in_count, cfg->max_room_size);
    POOL_ALLOC(c, c->s_hear, (size_t)cfg->max_room_size * cap);
    POOL_ALLOC(c, c->s_slot, cfg->max_room_size);
    POOL_ALLOC(c, c->s_aud_off, (size_t)cfg->max_room_size + 1);
    POOL_ALLOC(c, c->s_hear_count, cfg->max_room_size);
    return 0;
}

/* Free lists in ascending slot order; per-slot arrays wired once. */
static void link_pools(pv_core *c) {
    const pv_config *cfg = &c->cfg;
    size_t cap = cfg->max_subscribed_voices;
    for (uint32_t r = 0; r < cfg->max_rooms; r++) {
        c->rooms[r].members = c->member_pool + (size_t)r * cfg->max_room_size;
        c->rooms[r].next_free = r + 1 < cfg->max_rooms ? r + 1 : PV_NONE;
    }
    for (uint32_t i = 0; i < cfg->max_participants; i++) {
        pv_part *p = &c->parts[i];
        p->in_uids = c->in_pool + (size_t)i * PV_AUDIB_K;
        p->hear_uid = c->hear_uid_pool + i * cap;
        p->hear_slot = c->hear_slot_pool + i * cap;
        p->applied = c->applied_pool + i * cap;
        p->next_free = i + 1 < cfg->max_participants ? i + 1 : PV_NONE;
    }
    for (uint32_t k = 0; k < cfg->max_connections; k++)
        c->conns[k].next_free = k + 1 < cfg->max_connections ? k + 1 : PV_NONE;
    c->room_free = c->part_free = c->conn_free = 0;
    c->room_limbo = c->part_limbo = c->conn_limbo = PV_NONE;
}

static int init_parts(pv_core *c) {
    const pv_config *cfg = &c->cfg;
    int rc = alloc_pools(c);
    if (rc != 0) return rc;
    link_pools(c);
    uint32_t timers =
        cfg->max_participants * PV_PART_TIMERS + cfg->max_connections + 2 * cfg->max_rooms;
    rc = pv_timers_init(&c->timers, timers, &c->a);
    if (rc != 0) return rc;
    rc = pv_out_init(&c->out, cfg, &c->a);
    if (rc != 0) return rc;
    uint64_t n = cfg->max_room_size;
    uint64_t pairs_max = n * (n - 1) / 2 > 0 ? n * (n - 1) / 2 : 1;
    uint32_t pairs = cfg->max_pairs < pairs_max ? cfg->max_pairs : (uint32_t)pairs_max;
    return pv_audib_new(&c->au, cfg->max_room_size, pairs, cfg->max_subscribed_voices,
                        cfg->enter_radius_m, cfg->exit_radius_m, &c->a);
}

/* Returns 0 and *out; PV_EINVAL for a bad config or a NULL allocator (the
 * core cannot call calloc itself: the shell passes its allocator);
 * PV_ENOMEM when an allocation fails (everything is then released). */
int pv_core_new(pv_core **out, const pv_config *cfg, const pv_allocator *a) {
    if (!out) return PV_EINVAL;
    *out = NULL;
    if (!a || !a->alloc || !a->free) return PV_EINVAL;
    if (pv_config_check(cfg, NULL) != 0) return PV_EINVAL;
    if ((uint64_t)cfg->max_participants * PV_PART_TIMERS + cfg->max_connections + cfg->max_rooms >=
        PV_NONE)
        return PV_EINVAL;
    pv_core *c = a->alloc(a->ud, sizeof(*c));
    if (!c) return PV_ENOMEM;
    memset(c, 0, sizeof(*c));
    c->cfg = *cfg;
    c->a = *a;
    int rc = init_parts(c);
    if (rc != 0) {
        pv_core_free(c);
        return rc == PV_EINVAL ? PV_EINVAL : PV_ENOMEM;
    }
    c->next_recompute_ms = PV_NEVER;
    *out = c;
    return 0;
}

#define POOL_FREE(c, ptr)                                                                          \
    do {                                                                                           \
        if (ptr) (c)->a.free((c)->a.ud, (ptr));                                                    \
    } while (0)

void pv_core_free(pv_core *c) {
    if (!c) return;
    pv_audib_free(c->au);
    pv_out_free(&c->out, &c->a);
    pv_timers_free(&c->timers, &c->a);
    POOL_FREE(c, c->rooms);
    POOL_FREE(c, c->room_order);
    POOL_FREE(c, c->member_pool);
    POOL_FREE(c, c->parts);
    POOL_FREE(c, c->in_pool);
    POOL_FREE(c, c->hear_uid_pool);
    POOL_FREE(c, c->hear_slot_pool);
    POOL_FREE(c, c->applied_pool);
    POOL_FREE(c, c->conns);
    POOL_FREE(c, c->conn_order);
    POOL_FREE(c, c->calls);
    POOL_FREE(c, c->s_pos);
    POOL_FREE(c, c->s_uid);
    POOL_FREE(c, c->s_in);
    POOL_FREE(c, c->s_in_count);
    POOL_FREE(c, c->s_hear);
    POOL_FREE(c, c->s_slot);
    POOL_FREE(c, c->s_aud_off);
    POOL_FREE(c, c->s_hear_count);
    pv_allocator a = c->a;
    a.free(a.ud, c);
}
