/*
 * out.c - the effect array and the arena behind it.
 *
 * Both are sized at pv_core_new() and reset at the start of every step, which
 * is what makes the rule "effects are valid until the next step" cheap.
 *
 * Budget: deferrable work (recompute, pose batches, LiveKit calls, timers)
 * asks pv_out_fits() before each unit; beyond max_effects_per_step (or the
 * byte budget) it stops and the step asks to be called again at once. The
 * event being handled always fits: PV_FX_RESERVE effects and a byte reserve
 * are kept on top of the budget, plus room for one unit of maximal size so a
 * unit that is larger than the whole budget still makes progress when it is
 * the first thing in a step.
 */
#include <string.h>

#include "state.h"

#define ARENA_ALIGN      8
#define BYTES_PER_EFFECT 128 /* byte budget per budgeted effect (arrays of ids, poses) */

static size_t unit_max_bytes(const pv_config *cfg) {
    size_t n = cfg->max_room_size, cap = cfg->max_subscribed_voices;
    size_t recompute = 2 * n * cap * sizeof(char *) + 2 * n * ARENA_ALIGN;
    size_t batch = cap * sizeof(pv_pose_out) + ARENA_ALIGN;
    size_t call = cap * (sizeof(char *) + PV_TRACK_SID_MAX + ARENA_ALIGN) + ARENA_ALIGN;
    size_t max = recompute > batch ? recompute : batch;
    return max > call ? max : call;
}

static size_t event_reserve_bytes(const pv_config *cfg) {
    size_t meta = PV_META_MAX_PAIRS * (sizeof(pv_meta_pair) + PV_META_KEY_MAX + PV_META_VALUE_MAX +
                                       2 + 2 * ARENA_ALIGN);
    size_t cap = cfg->max_subscribed_voices;
    size_t auth = (cap + cfg->max_room_size) * sizeof(char *) + cap * sizeof(pv_pose_out);
    return (meta > auth ? meta : auth) + 16 * ARENA_ALIGN;
}

/* Returns 0 or PV_ENOMEM. */
int pv_out_init(pv_outbuf *o, const pv_config *cfg, const pv_allocator *a) {
    uint32_t unit_fx = 2 * cfg->max_room_size + 8;
    o->budget = cfg->max_effects_per_step;
    o->cap = o->budget + PV_FX_RESERVE + unit_fx;
    o->budget_bytes = (size_t)o->budget * BYTES_PER_EFFECT;
    o->cap_bytes = o->budget_bytes + event_reserve_bytes(cfg) + unit_max_bytes(cfg);
    o->fx = a->alloc(a->ud, sizeof(pv_effect) * o->cap);
    o->arena = a->alloc(a->ud, o->cap_bytes);
    if (!o->fx || !o->arena) return PV_ENOMEM;
    pv_out_reset(o);
    return 0;
}

void pv_out_free(pv_outbuf *o, const pv_allocator *a) {
    if (o->fx) a->free(a->ud, o->fx);
    if (o->arena) a->free(a->ud, o->arena);
}

void pv_out_reset(pv_outbuf *o) {
    o->count = 0;
    o->used_bytes = 0;
    o->more = 0;
}

/* Returns 1 if a deferrable unit needing `effects` effects and `bytes` arena
 * bytes may run now; else 0 and marks that work remains. A unit always runs
 * when nothing has been emitted yet in this step (progress guarantee). */
int pv_out_fits(pv_outbuf *o, uint32_t effects, size_t bytes) {
    if (o->more) return 0; /* keep the order: nothing runs after the first deferral */
    if (o->count == 0 && o->used_bytes == 0) return 1;
    if (o->count + effects <= o->budget && o->used_bytes + bytes <= o->budget_bytes) return 1;
    o->more = 1;
    return 0;
}

/* Returns a zeroed effect of the given type appended to the step's output. */
pv_effect *pv_out_push(pv_core *c, pv_effect_type type) {
    pv_outbuf *o = &c->out;
    PV_ASSERT(o->count < o->cap);
    pv_effect *e = &o->fx[o->count++];
    memset(e, 0, sizeof(*e));
    e->type = type;
    return e;
}

/* Returns `bytes` of 8-aligned arena memory, valid until the next step. */
void *pv_out_alloc(pv_core *c, size_t bytes) {
    pv_outbuf *o = &c->out;
    size_t start = (o->used_bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    PV_ASSERT(start + bytes <= o->cap_bytes);
    o->used_bytes = start + bytes;
    return o->arena + start;
}

/* Emits a PV_FX_LOG. msg is static; room and participant come from p. */
void pv_out_log(pv_core *c, pv_log_level lvl, const char *msg, const pv_part *p, uint32_t conn_id,
                int64_t value) {
    pv_effect *e = pv_out_push(c, PV_FX_LOG);
    e->u.log.level = lvl;
    e->u.log.message = msg;
    e->u.log.room_id = p ? c->rooms[p->room].id : NULL;
    e->u.log.participant_id = p ? p->id : NULL;
    e->u.log.conn_id = conn_id;
    e->u.log.value = value;
}
