/*
 * json_out.c - bounded JSON writers for HTTP replies, policy socket messages
 * and LiveKit RoomService requests.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

void pvbuf_init(pvbuf *b, char *mem, size_t cap) {
    b->p = mem;
    b->cap = cap;
    pvbuf_reset(b);
}

void pvbuf_reset(pvbuf *b) {
    b->len = 0;
    b->overflow = 0;
    if (b->cap > 0) b->p[0] = '\0';
}

int pvbuf_status(const pvbuf *b) {
    return b->overflow ? PV_EOVERFLOW : 0;
}

void pvbuf_raw(pvbuf *b, const char *s, size_t n) {
    if (b->overflow) return;
    if (b->cap == 0 || n > b->cap - 1 - b->len) {
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void pvbuf_cstr(pvbuf *b, const char *s) {
    pvbuf_raw(b, s, strlen(s));
}

void pvbuf_jstrn(pvbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    pvbuf_raw(b, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes needing no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        pvbuf_raw(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            pvbuf_raw(b, esc, 2);
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            pvbuf_raw(b, esc, 2);
        } else {
            pvbuf_raw(b, esc, 6);
        }
    }
    pvbuf_raw(b, s + run, n - run);
    pvbuf_raw(b, "\"", 1);
}

void pvbuf_jstr(pvbuf *b, const char *s) {
    if (!s) {
        pvbuf_raw(b, "null", 4);
        return;
    }
    pvbuf_jstrn(b, s, strlen(s));
}

void pvbuf_i64(pvbuf *b, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    pvbuf_raw(b, tmp, (size_t)n);
}

void pvbuf_u64(pvbuf *b, uint64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    pvbuf_raw(b, tmp, (size_t)n);
}

/* Shortest of %.15g/%.16g/%.17g that reads back exactly (%.17g always does
 * for IEEE doubles). Never emits inf/nan: those become 0. */
void pvbuf_double(pvbuf *b, double v) {
    char tmp[40];
    if (!isfinite(v)) v = 0;
    if (v == 0) v = 0; /* -0 -> 0 */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    pvbuf_raw(b, tmp, (size_t)n);
}

/* ---- small helpers for documents ---- */

static void key(pvbuf *b, const char *k, int first) {
    if (!first) pvbuf_raw(b, ",", 1);
    pvbuf_jstr(b, k);
    pvbuf_raw(b, ":", 1);
}

static void kv_str(pvbuf *b, const char *k, const char *v, int first) {
    key(b, k, first);
    pvbuf_jstr(b, v);
}

static void kv_i64(pvbuf *b, const char *k, int64_t v) {
    key(b, k, 0);
    pvbuf_i64(b, v);
}

static void kv_u64(pvbuf *b, const char *k, uint64_t v) {
    key(b, k, 0);
    pvbuf_u64(b, v);
}

static void str_array(pvbuf *b, const char *const *ids, uint32_t n) {
    pvbuf_raw(b, "[", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) pvbuf_raw(b, ",", 1);
        pvbuf_jstr(b, ids[i]);
    }
    pvbuf_raw(b, "]", 1);
}

static void vec3(pvbuf *b, const pv_vec3 *v) {
    pvbuf_raw(b, "{\"x\":", 5);
    pvbuf_double(b, v->x);
    pvbuf_raw(b, ",\"y\":", 5);
    pvbuf_double(b, v->y);
    pvbuf_raw(b, ",\"z\":", 5);
    pvbuf_double(b, v->z);
    pvbuf_raw(b, "}", 1);
}

int pvjo_error(pvbuf *b, pv_api_error code, const char *message, const pvjo_detail *details,
               uint32_t n_details) {
    pvbuf_reset(b);
    pvbuf_raw(b, "{\"error\":{", 10);
    kv_str(b, "code", pv_api_error_name(code), 1);
    kv_str(b, "message", message ? message : "", 0);
    if (n_details > 0) {
        key(b, "details", 0);
        pvbuf_raw(b, "{", 1);
        for (uint32_t i = 0; i < n_details; i++) {
            key(b, details[i].key, i == 0);
            if (details[i].str)
                pvbuf_jstr(b, details[i].str);
            else
                pvbuf_i64(b, details[i].num);
        }
        pvbuf_raw(b, "}", 1);
    }
    pvbuf_raw(b, "}}", 2);
    return pvbuf_status(b);
}

int pvjo_session_reply(pvbuf *b, const pv_session_reply *r, const pvjo_session_extra *x) {
    pvbuf_reset(b);
    if (r->error != PV_ERR_NONE) return PV_EINVAL;
    pvbuf_raw(b, "{", 1);
    kv_str(b, "roomId", r->room_id, 1);
    kv_str(b, "participantId", r->participant_id, 0);
    kv_str(b, "livekitUrl", x->livekit_url, 0);
    kv_str(b, "token", x->token, 0);
    kv_i64(b, "tokenExpiresAtMs", x->token_expires_at_ms);
    kv_str(b, "policySocketUrl", x->policy_socket_url, 0);
    kv_str(b, "policySocketToken", x->policy_socket_token, 0);
    kv_u64(b, "policyRevision", r->policy_revision);
    pvbuf_raw(b, "}", 1);
    return pvbuf_status(b);
}

int pvjo_poses_reply(pvbuf *b, const char *room_id, const pv_poses_reply *r) {
    pvbuf_reset(b);
    if (r->error != PV_ERR_NONE) return PV_EINVAL;
    pvbuf_raw(b, "{", 1);
    kv_str(b, "roomId", room_id, 1);
    kv_u64(b, "accepted", r->accepted);
    kv_u64(b, "stale", r->stale);
    kv_u64(b, "unknown", r->unknown);
    kv_u64(b, "revision", r->revision);
    pvbuf_raw(b, "}", 1);
    return pvbuf_status(b);
}

static void pose_out(pvbuf *b, const pv_pose_out *p) {
    pvbuf_raw(b, "{", 1);
    kv_str(b, "participantId", p->participant_id, 1);
    key(b, "position", 0);
    vec3(b, &p->position);
    if (p->has_orientation) {
        pvbuf_raw(b, ",\"orientation\":{\"forward\":", 26);
        vec3(b, &p->orientation.forward);
        pvbuf_raw(b, ",\"up\":", 6);
        vec3(b, &p->orientation.up);
        pvbuf_raw(b, "}", 1);
    }
    kv_i64(b, "timestampMs", p->timestamp_ms);
    pvbuf_raw(b, "}", 1);
}

static void socket_body(pvbuf *b, const pv_socket_send *s) {
    switch (s->type) {
    case PV_SMSG_SNAPSHOT:
    case PV_SMSG_DELTA:
        if (s->participant_id) kv_str(b, "participantId", s->participant_id, 0);
        kv_u64(b, "revision", s->revision);
        if (s->type == PV_SMSG_DELTA) kv_u64(b, "previousRevision", s->previous_revision);
        key(b, "canHear", 0);
        str_array(b, s->ids, s->id_count);
        break;
    case PV_SMSG_AUDIENCE:
        kv_u64(b, "revision", s->revision);
        key(b, "audience", 0);
        str_array(b, s->ids, s->id_count);
        break;
    case PV_SMSG_POSE_BATCH:
        kv_i64(b, "timestampMs", s->timestamp_ms);
        key(b, "poses", 0);
        pvbuf_raw(b, "[", 1);
        for (uint32_t i = 0; i < s->pose_count; i++) {
            if (i) pvbuf_raw(b, ",", 1);
            pose_out(b, &s->poses[i]);
        }
        pvbuf_raw(b, "]", 1);
        break;
    default:
        break;
    }
}

static const char *socket_type_name(pv_server_msg_type t) {
    switch (t) {
    case PV_SMSG_SNAPSHOT:
        return "policy.snapshot";
    case PV_SMSG_DELTA:
        return "policy.audibility.delta";
    case PV_SMSG_AUDIENCE:
        return "policy.audience";
    case PV_SMSG_POSE_BATCH:
        return "policy.pose.batch";
    case PV_SMSG_ERROR:
        return "policy.error";
    }
    return NULL;
}

int pvjo_socket_send(pvbuf *b, const pv_socket_send *s) {
    pvbuf_reset(b);
    const char *type = socket_type_name(s->type);
    if (!type) return PV_EINVAL;
    pvbuf_raw(b, "{", 1);
    kv_str(b, "type", type, 1);
    if (s->type == PV_SMSG_ERROR) {
        kv_str(b, "code", pv_api_error_name(s->error), 0);
        kv_str(b, "message", s->message ? s->message : "", 0);
    } else {
        kv_str(b, "roomId", s->room_id, 0);
        socket_body(b, s);
    }
    pvbuf_raw(b, "}", 1);
    return pvbuf_status(b);
}

const char *pvjo_livekit_path(pv_lk_method m) {
    switch (m) {
    case PV_LK_UPDATE_SUBSCRIPTIONS:
        return "/twirp/livekit.RoomService/UpdateSubscriptions";
    case PV_LK_REMOVE_PARTICIPANT:
        return "/twirp/livekit.RoomService/RemoveParticipant";
    case PV_LK_LIST_PARTICIPANTS:
        return "/twirp/livekit.RoomService/ListParticipants";
    }
    return NULL;
}

int pvjo_livekit_call(pvbuf *b, const pv_livekit_call *c) {
    pvbuf_reset(b);
    if (!pvjo_livekit_path(c->method)) return PV_EINVAL;
    pvbuf_raw(b, "{", 1);
    kv_str(b, "room", c->room_id, 1);
    if (c->method != PV_LK_LIST_PARTICIPANTS) kv_str(b, "identity", c->identity, 0);
    if (c->method == PV_LK_UPDATE_SUBSCRIPTIONS) {
        key(b, "track_sids", 0);
        str_array(b, c->track_sids, c->track_count);
        key(b, "subscribe", 0);
        pvbuf_cstr(b, c->subscribe ? "true" : "false");
    }
    pvbuf_raw(b, "}", 1);
    return pvbuf_status(b);
}
