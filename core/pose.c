/*
 * pose.c - POST /policy/poses: validate a batch, then apply it.
 *
 * The whole batch is rejected (INVALID_PAYLOAD, nothing applied) when any
 * number is not finite or any coordinate exceeds PV_POSE_COORD_MAX: all
 * poses are checked before the first is applied. Then per pose: an unknown
 * participant counts as `unknown`; a timestamp older than wall -
 * pose_staleness_ms, newer than wall + pose_future_ms, or not newer than the
 * participant's latest accepted pose counts as `stale` and is dropped.
 */
#include <math.h>

#include "state.h"

#define PV_POSE_COORD_MAX   1e6 /* metres; far beyond any game world, keeps d^2 finite */
#define PV_POSES_PER_MEMBER 4   /* batch limit: poses per room slot */

static int num_ok(double v) {
    return isfinite(v) && fabs(v) <= PV_POSE_COORD_MAX;
}
static int vec_ok(const pv_vec3 *v) {
    return num_ok(v->x) && num_ok(v->y) && num_ok(v->z);
}

static int pose_valid(const pv_pose_in *in) {
    if (!in->participant_id) return 0;
    if (!vec_ok(&in->position)) return 0;
    if (in->has_orientation && (!vec_ok(&in->orientation.forward) || !vec_ok(&in->orientation.up)))
        return 0;
    return 1;
}

static const char *batch_invalid(const pv_core *c, const pv_pose_batch *b) {
    if (!pv_id_valid(b->room_id)) return "invalid roomId";
    if (b->count > 0 && !b->poses) return "missing poses";
    if ((uint64_t)b->count > (uint64_t)c->cfg.max_room_size * PV_POSES_PER_MEMBER)
        return "too many poses";
    for (uint32_t i = 0; i < b->count; i++)
        if (!pose_valid(&b->poses[i])) return "pose has a non-finite or out-of-range number";
    return NULL;
}

static int ts_stale(const pv_core *c, const pv_part *p, int64_t ts_ms) {
    if (ts_ms < c->wall_ms - c->cfg.pose_staleness_ms) return 1;
    if (ts_ms > c->wall_ms + c->cfg.pose_future_ms) return 1;
    return p->has_pose && ts_ms <= p->pose_ts_ms;
}

static void apply_pose(pv_core *c, pv_room *room, pv_part *p, const pv_pose_in *in) {
    p->pos = in->position;
    p->has_orient = in->has_orientation != 0;
    if (p->has_orient) p->orient = in->orientation;
    p->pose_ts_ms = in->timestamp_ms;
    p->has_pose = 1;
    p->pose_seq = ++c->seq;
    room->dirty = 1;
}

/* Handles PV_EV_POSE_BATCH: always emits one PV_FX_POSES_REPLY. */
void pv_on_poses(pv_core *c, const pv_pose_batch *b) {
    pv_effect *e = pv_out_push(c, PV_FX_POSES_REPLY);
    pv_poses_reply *rep = &e->u.poses;
    rep->request_id = b->request_id;
    const char *bad = batch_invalid(c, b);
    if (bad) {
        rep->error = PV_ERR_INVALID_PAYLOAD;
        rep->message = bad;
        return;
    }
    uint32_t r = pv_room_find(c, b->room_id);
    if (r == PV_NONE) {
        rep->error = PV_ERR_ROOM_NOT_FOUND;
        rep->message = "room not found";
        return;
    }
    pv_room *room = &c->rooms[r];
    for (uint32_t i = 0; i < b->count; i++) {
        const pv_pose_in *in = &b->poses[i];
        uint32_t slot = pv_member_find(c, room, in->participant_id);
        if (slot == PV_NONE) {
            rep->unknown++;
        } else if (ts_stale(c, &c->parts[slot], in->timestamp_ms)) {
            rep->stale++;
        } else {
            apply_pose(c, room, &c->parts[slot], in);
            rep->accepted++;
        }
    }
    c->st.poses_accepted += rep->accepted;
    c->st.poses_stale += rep->stale;
    if (rep->accepted > 0) pv_pose_batch_want(c, (uint32_t)(room - c->rooms));
    if (rep->accepted > 0 && c->cfg.recompute_on_pose) room->kick = c->kicked = 1;
    rep->revision = room->revision;
}
