/*
 * livekit_calls.c - the fake LiveKit's RoomService: UpdateSubscriptions,
 * RemoveParticipant and ListParticipants as called by the core.
 *
 * A call takes latency; it is applied halfway and answered at the end.
 * During a storm it may fail with a 5xx (not applied: PV_LK_FAILED) or time
 * out (applied or not, half and half; the core sees PV_LK_FAILED after
 * lk_timeout_ms and cannot know which). While LiveKit is down (restart) calls
 * fail fast. Unknown identities / empty rooms answer PV_LK_NOT_FOUND.
 */
#include <stdio.h>

#include "sim.h"

#define APPLY_ANSWER 1u /* b flag: send the real outcome at a */
#define APPLY_SILENT 2u /* b flag: a timeout; the core hears FAILED separately */

static void result(sim *s, uint64_t call_id, pv_lk_outcome o, uint32_t blob, int64_t at,
                   int faulty) {
    sim_ev ev = {.kind = K_CORE_LK_RESULT, .a = call_id, .b = (uint64_t)o, .blob = blob};
    ev.epoch = faulty ? SIM_FL_FAULTY : 0;
    sim_schedule(s, at, &ev);
}

static uint32_t record_call(sim *s, const pv_livekit_call *c) {
    uint32_t h = sim_list_new(s);
    if (h == SIM_NO_BLOB) return h;
    sim_list *l = sim_list_at(s, h);
    int room = sim_room_of(s, c->room_id), p = sim_player_of(s, c->identity);
    l->type = (uint8_t)c->method;
    l->room = room < 0 ? 0xff : (uint8_t)room;
    l->player = p < 0 ? SIM_NOBODY : (uint16_t)p;
    l->subscribe = (uint8_t)(c->subscribe != 0);
    l->call_id = c->call_id;
    for (uint32_t i = 0; i < c->track_count && l->n < SIM_LIST_MAX; i++)
        l->aux[l->n++] = sim_track_of(c->track_sids[i]);
    return h;
}

void sim_lk_on_call(sim *s, const pv_livekit_call *c) {
    s->lk.calls++;
    sim_log(s, "core: call %llu method %d %s %s", (unsigned long long)c->call_id, c->method,
            c->room_id, c->identity ? c->identity : "-");
    int64_t lat = sim_rng_range(&s->rng_lk, s->o.lk_latency_min_ms, s->o.lk_latency_max_ms);
    if (!s->lk.up) {
        result(s, c->call_id, PV_LK_FAILED, SIM_NO_BLOB, s->now_ms + 1 + lat / 8, 0);
        return;
    }
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_lk, s->o.lk_fail_ppm)) {
        s->lk.calls_failed++;
        result(s, c->call_id, PV_LK_FAILED, SIM_NO_BLOB, s->now_ms + lat, 1);
        return;
    }
    uint32_t h = record_call(s, c);
    if (h == SIM_NO_BLOB) return;
    sim_ev apply = {.kind = K_LK_CALL_APPLY, .blob = h, .a = (uint64_t)(s->now_ms + lat)};
    apply.b = APPLY_ANSWER;
    if (sim_faults_on(s) && sim_rng_ppm(&s->rng_lk, s->o.lk_timeout_ppm)) {
        s->lk.calls_timeout++;
        result(s, c->call_id, PV_LK_FAILED, SIM_NO_BLOB, s->now_ms + s->o.lk_timeout_ms, 1);
        if (!sim_rng_ppm(&s->rng_lk, SIM_PPM / 2)) {
            sim_list_free(s, h);
            return;
        }
        apply.b = APPLY_SILENT;
    }
    sim_schedule(s, s->now_ms + lat / 2, &apply);
}

static int joined_in(const sim *s, const sim_list *l) {
    return l->player != SIM_NOBODY && s->lk.p[l->player].joined &&
           s->lk.p[l->player].room == l->room;
}

static pv_lk_outcome update_subs(sim *s, const sim_list *l) {
    if (!joined_in(s, l)) return PV_LK_NOT_FOUND;
    sim_lk_part *lp = &s->lk.p[l->player];
    for (uint16_t i = 0; i < l->n; i++) {
        uint32_t t = l->aux[i];
        for (uint16_t sp = 0; t && sp < s->o.players; sp++) {
            if (s->lk.p[sp].track != t || !s->lk.p[sp].joined) continue;
            if (l->subscribe)
                lp->sub[sp] = t;
            else if (lp->sub[sp] == t)
                lp->sub[sp] = 0;
        }
    }
    s->lk.changes++;
    return PV_LK_OK;
}

/* Fills the blob with the room's participants (index order = id order). */
static pv_lk_outcome list_room(sim *s, sim_list *l) {
    uint8_t room = l->room;
    l->n = 0;
    for (uint16_t p = 0; p < s->o.players; p++) {
        if (!s->lk.p[p].joined || s->lk.p[p].room != room) continue;
        l->ids[l->n] = p;
        l->join[l->n] = s->lk.p[p].join_epoch;
        l->aux[l->n++] = s->lk.p[p].track;
    }
    return l->n ? PV_LK_OK : PV_LK_NOT_FOUND;
}

void sim_lk_apply_call(sim *s, const sim_ev *ev) {
    sim_list *l = sim_list_at(s, ev->blob);
    pv_lk_outcome o = PV_LK_FAILED;
    uint32_t keep = SIM_NO_BLOB;
    if (s->lk.up && l->type == PV_LK_UPDATE_SUBSCRIPTIONS) {
        o = update_subs(s, l);
    } else if (s->lk.up && l->type == PV_LK_REMOVE_PARTICIPANT) {
        o = joined_in(s, l) ? PV_LK_OK : PV_LK_NOT_FOUND;
        if (o == PV_LK_OK) s->lk.removed++, sim_lk_kick(s, l->player, PV_WH_PARTICIPANT_LEFT);
    } else if (s->lk.up && l->type == PV_LK_LIST_PARTICIPANTS) {
        o = list_room(s, l);
        if (o == PV_LK_OK) keep = ev->blob;
    }
    if (o == PV_LK_NOT_FOUND) s->lk.not_found++;
    char tracks[8 * 12 + 8] = "";
    for (uint16_t i = 0, used = 0; i < l->n && i < 8 && s->verbose; i++)
        used += (uint16_t)snprintf(tracks + used, sizeof(tracks) - used, " TR_%u", l->aux[i]);
    sim_log(s, "livekit: call %llu method %d room%d %s sub %d tracks %u:%s -> %d",
            (unsigned long long)l->call_id, l->type, l->room,
            l->player == SIM_NOBODY ? "-" : s->pl[l->player].id, l->subscribe, l->n, tracks, o);
    if (ev->b & APPLY_ANSWER) result(s, l->call_id, o, keep, (int64_t)ev->a, 0);
    if (keep == SIM_NO_BLOB || !(ev->b & APPLY_ANSWER)) sim_list_free(s, ev->blob);
}
