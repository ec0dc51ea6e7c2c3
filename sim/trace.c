/*
 * trace.c - FNV-1a 64 serialisation of core events and effects.
 */
#include <string.h>

#include "sim_trace.h"

#define FNV_PRIME 0x100000001b3ull

static void bytes(uint64_t *h, const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t x = *h;
    for (size_t i = 0; i < n; i++)
        x = (x ^ b[i]) * FNV_PRIME;
    *h = x;
}

void sim_trace_u64(uint64_t *h, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i)); /* little-endian always */
    bytes(h, b, 8);
}

void sim_trace_i64(uint64_t *h, int64_t v) {
    sim_trace_u64(h, (uint64_t)v);
}

void sim_trace_f64(uint64_t *h, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    sim_trace_u64(h, u);
}

void sim_trace_str(uint64_t *h, const char *s) {
    if (!s) {
        sim_trace_u64(h, UINT64_MAX);
        return;
    }
    size_t n = strlen(s);
    sim_trace_u64(h, n);
    bytes(h, s, n);
}

static void vec(uint64_t *h, pv_vec3 v) {
    sim_trace_f64(h, v.x);
    sim_trace_f64(h, v.y);
    sim_trace_f64(h, v.z);
}

static void pose_in(uint64_t *h, const pv_pose_in *p) {
    sim_trace_str(h, p->participant_id);
    vec(h, p->position);
    sim_trace_i64(h, p->has_orientation);
    if (p->has_orientation) vec(h, p->orientation.forward), vec(h, p->orientation.up);
    sim_trace_i64(h, p->timestamp_ms);
}

static void ev_session(uint64_t *h, const pv_session_request *r) {
    sim_trace_u64(h, r->request_id);
    sim_trace_str(h, r->room_id);
    sim_trace_str(h, r->participant_id);
    sim_trace_str(h, r->display_name);
    sim_trace_u64(h, r->metadata_count);
    for (uint32_t i = 0; i < r->metadata_count; i++)
        sim_trace_str(h, r->metadata[i].key), sim_trace_str(h, r->metadata[i].value);
}

static void ev_livekit(uint64_t *h, const pv_livekit_result *r) {
    sim_trace_u64(h, r->call_id);
    sim_trace_u64(h, (uint64_t)r->outcome);
    sim_trace_u64(h, r->participant_count);
    for (uint32_t i = 0; i < r->participant_count; i++)
        sim_trace_str(h, r->participants[i].identity),
            sim_trace_str(h, r->participants[i].mic_track_sid);
}

static void ev_body(uint64_t *h, const pv_event *ev) {
    switch (ev->type) {
    case PV_EV_SESSION_REQUEST:
        ev_session(h, &ev->u.session);
        break;
    case PV_EV_POSE_BATCH:
        sim_trace_u64(h, ev->u.poses.request_id);
        sim_trace_str(h, ev->u.poses.room_id);
        sim_trace_u64(h, ev->u.poses.count);
        for (uint32_t i = 0; i < ev->u.poses.count; i++)
            pose_in(h, &ev->u.poses.poses[i]);
        break;
    case PV_EV_SOCKET_OPEN:
    case PV_EV_SOCKET_CLOSED:
        sim_trace_u64(h, ev->u.conn_id);
        break;
    case PV_EV_SOCKET_AUTH:
        sim_trace_u64(h, ev->u.auth.conn_id);
        sim_trace_str(h, ev->u.auth.room_id);
        sim_trace_str(h, ev->u.auth.participant_id);
        sim_trace_i64(h, ev->u.auth.token_expires_wall_ms);
        break;
    case PV_EV_SOCKET_MESSAGE:
        sim_trace_u64(h, ev->u.msg.conn_id);
        sim_trace_u64(h, (uint64_t)ev->u.msg.type);
        sim_trace_u64(h, ev->u.msg.revision);
        break;
    case PV_EV_LIVEKIT_RESULT:
        ev_livekit(h, &ev->u.livekit);
        break;
    case PV_EV_WEBHOOK:
        sim_trace_u64(h, (uint64_t)ev->u.webhook.kind);
        sim_trace_str(h, ev->u.webhook.room_id);
        sim_trace_str(h, ev->u.webhook.identity);
        sim_trace_str(h, ev->u.webhook.track_sid);
        sim_trace_i64(h, ev->u.webhook.created_at_s);
        break;
    case PV_EV_TICK:
        break;
    }
}

void sim_trace_event(uint64_t *h, const pv_event *ev) {
    sim_trace_u64(h, (uint64_t)ev->type);
    sim_trace_i64(h, ev->now_ms);
    sim_trace_i64(h, ev->wall_ms);
    ev_body(h, ev);
}

static void ids(uint64_t *h, const char *const *v, uint32_t n) {
    sim_trace_u64(h, n);
    for (uint32_t i = 0; i < n; i++)
        sim_trace_str(h, v[i]);
}

static void fx_send(uint64_t *h, const pv_socket_send *s) {
    sim_trace_u64(h, s->conn_id);
    sim_trace_u64(h, (uint64_t)s->type);
    sim_trace_str(h, s->room_id);
    sim_trace_str(h, s->participant_id);
    sim_trace_u64(h, s->revision);
    sim_trace_u64(h, s->previous_revision);
    ids(h, s->ids, s->id_count);
    sim_trace_u64(h, s->pose_count);
    for (uint32_t i = 0; i < s->pose_count; i++) {
        const pv_pose_out *p = &s->poses[i];
        sim_trace_str(h, p->participant_id);
        vec(h, p->position);
        sim_trace_i64(h, p->has_orientation);
        if (p->has_orientation) vec(h, p->orientation.forward), vec(h, p->orientation.up);
        sim_trace_i64(h, p->timestamp_ms);
    }
    sim_trace_i64(h, s->timestamp_ms);
    sim_trace_u64(h, (uint64_t)s->error);
    sim_trace_str(h, s->message);
}

static void fx_session(uint64_t *h, const pv_session_reply *r) {
    sim_trace_u64(h, r->request_id);
    sim_trace_u64(h, (uint64_t)r->error);
    sim_trace_str(h, r->message);
    sim_trace_str(h, r->room_id);
    sim_trace_str(h, r->participant_id);
    sim_trace_str(h, r->display_name);
    sim_trace_u64(h, r->metadata_count);
    for (uint32_t i = 0; i < r->metadata_count; i++)
        sim_trace_str(h, r->metadata[i].key), sim_trace_str(h, r->metadata[i].value);
    sim_trace_u64(h, r->policy_revision);
    sim_trace_i64(h, r->issued_at_wall_ms);
    sim_trace_i64(h, r->created);
}

static void fx_body(uint64_t *h, const pv_effect *e) {
    switch (e->type) {
    case PV_FX_SESSION_REPLY:
        fx_session(h, &e->u.session);
        break;
    case PV_FX_POSES_REPLY:
        sim_trace_u64(h, e->u.poses.request_id);
        sim_trace_u64(h, (uint64_t)e->u.poses.error);
        sim_trace_str(h, e->u.poses.message);
        sim_trace_u64(h, e->u.poses.accepted);
        sim_trace_u64(h, e->u.poses.stale);
        sim_trace_u64(h, e->u.poses.unknown);
        sim_trace_u64(h, e->u.poses.revision);
        break;
    case PV_FX_SOCKET_SEND:
        fx_send(h, &e->u.send);
        break;
    case PV_FX_SOCKET_CLOSE:
        sim_trace_u64(h, e->u.close.conn_id);
        sim_trace_u64(h, e->u.close.code);
        sim_trace_str(h, e->u.close.reason);
        break;
    case PV_FX_LIVEKIT_CALL:
        sim_trace_u64(h, e->u.call.call_id);
        sim_trace_u64(h, (uint64_t)e->u.call.method);
        sim_trace_str(h, e->u.call.room_id);
        sim_trace_str(h, e->u.call.identity);
        sim_trace_i64(h, e->u.call.subscribe);
        ids(h, e->u.call.track_sids, e->u.call.track_count);
        break;
    case PV_FX_LOG:
        sim_trace_u64(h, (uint64_t)e->u.log.level);
        sim_trace_str(h, e->u.log.message);
        sim_trace_str(h, e->u.log.room_id);
        sim_trace_str(h, e->u.log.participant_id);
        sim_trace_u64(h, e->u.log.conn_id);
        sim_trace_u64(h, e->u.log.request_id);
        sim_trace_i64(h, e->u.log.value);
        break;
    }
}

void sim_trace_out(uint64_t *h, int rc, const pv_out *out) {
    sim_trace_i64(h, rc);
    sim_trace_u64(h, out->count);
    for (uint32_t i = 0; i < out->count; i++) {
        sim_trace_u64(h, (uint64_t)out->effects[i].type);
        fx_body(h, &out->effects[i]);
    }
    sim_trace_i64(h, out->wake_at_ms);
}
