/*
 * lkcall.c - LiveKit RoomService calls in flight and their results.
 *
 * At most max_inflight_calls calls are outstanding; each has a call_id the
 * shell echoes in PV_EV_LIVEKIT_RESULT. Results for unknown call ids are
 * ignored. A call whose participant or room went away (or whose listener
 * reconnected to LiveKit meanwhile, lk_gen) keeps its slot until its result
 * arrives, but the result is then only counted, not applied.
 */
#include "state.h"

/* Reserves a call slot. Returns it, or PV_NONE when max_inflight_calls are
 * outstanding. p may be PV_NONE (room-level calls). */
uint32_t pv_call_new(pv_core *c, pv_lk_method m, uint32_t r, uint32_t p) {
    if (c->n_calls >= c->cfg.max_inflight_calls) return PV_NONE;
    uint32_t k = 0;
    while (c->calls[k].call_id != 0)
        k++;
    PV_ASSERT(k < c->cfg.max_inflight_calls);
    pv_call *call = &c->calls[k];
    *call = (pv_call){0};
    call->call_id = ++c->next_call_id;
    call->method = m;
    call->room = r;
    call->room_uid = c->rooms[r].uid;
    call->part = p;
    call->part_uid = p == PV_NONE ? 0 : c->parts[p].uid;
    call->lk_gen = p == PV_NONE ? 0 : c->parts[p].lk_gen;
    call->issued_ms = c->now_ms;
    c->n_calls++;
    return k;
}

/* Emits the PV_FX_LIVEKIT_CALL for call slot k. */
void pv_call_emit(pv_core *c, uint32_t k, const char *const *sids, uint32_t n) {
    const pv_call *call = &c->calls[k];
    pv_effect *e = pv_out_push(c, PV_FX_LIVEKIT_CALL);
    pv_livekit_call *lc = &e->u.call;
    lc->call_id = call->call_id;
    lc->method = call->method;
    lc->room_id = c->rooms[call->room].id;
    lc->identity = call->part == PV_NONE ? NULL : c->parts[call->part].id;
    lc->subscribe = call->subscribe;
    lc->track_sids = sids;
    lc->track_count = n;
}

/* The participant went away: its calls' results will not be applied. */
void pv_lk_calls_forget_part(pv_core *c, uint32_t p) {
    for (uint32_t k = 0; k < c->cfg.max_inflight_calls; k++)
        if (c->calls[k].call_id != 0 && c->calls[k].part == p) c->calls[k].part = PV_NONE;
}

void pv_lk_calls_forget_room(pv_core *c, uint32_t r) {
    for (uint32_t k = 0; k < c->cfg.max_inflight_calls; k++)
        if (c->calls[k].call_id != 0 && c->calls[k].room == r) c->calls[k].room = PV_NONE;
}

static uint32_t call_find(const pv_core *c, uint64_t call_id) {
    for (uint32_t k = 0; k < c->cfg.max_inflight_calls; k++)
        if (call_id != 0 && c->calls[k].call_id == call_id) return k;
    return PV_NONE;
}

static void fail_log(pv_core *c, const pv_call *call, const char *msg) {
    c->st.livekit_failures++;
    const pv_part *p = call->part == PV_NONE ? NULL : &c->parts[call->part];
    pv_out_log(c, PV_LOG_WARN, msg, p, 0, (int64_t)call->call_id);
    if (!p && call->room != PV_NONE)
        c->out.fx[c->out.count - 1].u.log.room_id = c->rooms[call->room].id;
}

/* PV_EV_LIVEKIT_RESULT. */
void pv_on_livekit_result(pv_core *c, const pv_livekit_result *res) {
    uint32_t k = call_find(c, res->call_id);
    if (k == PV_NONE) {
        pv_out_log(c, PV_LOG_DEBUG, "livekit result for an unknown call", NULL, 0,
                   (int64_t)res->call_id);
        return;
    }
    pv_call call = c->calls[k];
    c->calls[k].call_id = 0;
    c->n_calls--;
    if (res->outcome != PV_LK_OK && res->outcome != PV_LK_NOT_FOUND &&
        res->outcome != PV_LK_FAILED) {
        fail_log(c, &call, "livekit result with an unknown outcome");
        return;
    }
    switch (call.method) {
    case PV_LK_UPDATE_SUBSCRIPTIONS:
        pv_lk_update_result(c, &call, res->outcome);
        break;
    case PV_LK_REMOVE_PARTICIPANT:
        pv_lk_remove_result(c, &call, res->outcome);
        break;
    case PV_LK_LIST_PARTICIPANTS:
        pv_lk_list_result(c, &call, res);
        break;
    }
    if (res->outcome == PV_LK_FAILED) fail_log(c, &call, "livekit call failed");
}
