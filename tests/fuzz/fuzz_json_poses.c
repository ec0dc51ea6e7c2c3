/*
 * fuzz_json_poses - POST /policy/poses parser. Accepted batches must obey
 * every documented bound, and re-serialising them (policy.pose.batch) must
 * give valid JSON whose numbers read back exactly.
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "json_out.h"

#define MAX_POSES 64

static pvj_ctx *ctx;
static char out[MAX_POSES * 512 + 256];

static void check_vec(const pv_vec3 *v) {
    assert(isfinite(v->x) && isfinite(v->y) && isfinite(v->z));
    assert(fabs(v->x) <= PVJ_MAX_COORD && fabs(v->y) <= PVJ_MAX_COORD &&
           fabs(v->z) <= PVJ_MAX_COORD);
}

static void roundtrip(const pv_pose_batch *b) {
    pv_pose_out po[MAX_POSES];
    for (uint32_t i = 0; i < b->count; i++) {
        po[i].participant_id = b->poses[i].participant_id;
        po[i].position = b->poses[i].position;
        po[i].has_orientation = b->poses[i].has_orientation;
        po[i].orientation = b->poses[i].orientation;
        po[i].timestamp_ms = b->poses[i].timestamp_ms;
    }
    pv_socket_send s = {0};
    s.type = PV_SMSG_POSE_BATCH, s.room_id = b->room_id, s.poses = po, s.pose_count = b->count;
    pvbuf buf;
    pvbuf_init(&buf, out, sizeof out);
    assert(pvjo_socket_send(&buf, &s) == 0);
    assert(pvj_validate(out, buf.len, NULL) == 0);
    /* numbers round-trip: parse the first pose's x back */
    if (b->count > 0) {
        const char *x = strstr(out, "\"position\":{\"x\":");
        assert(x);
        assert(strtod(x + 16, NULL) == b->poses[0].position.x);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) ctx = pvj_ctx_new(64 * 1024);
    pvj_err err;
    pv_pose_batch b;
    if (pvj_parse_poses(ctx, (const char *)data, size, MAX_POSES, &b, &err) != 0) {
        assert(err.code == PV_ERR_INVALID_PAYLOAD && err.message[0]);
        return 0;
    }
    assert(pv_id_valid(b.room_id) && b.count <= MAX_POSES);
    for (uint32_t i = 0; i < b.count; i++) {
        const pv_pose_in *p = &b.poses[i];
        assert(pv_id_valid(p->participant_id));
        assert(p->timestamp_ms >= 0 && p->timestamp_ms <= PVJ_MAX_SAFE_INT);
        check_vec(&p->position);
        if (p->has_orientation) check_vec(&p->orientation.forward), check_vec(&p->orientation.up);
    }
    roundtrip(&b);
    return 0;
}
