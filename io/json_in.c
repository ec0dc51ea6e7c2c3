/*
 * json_in.c - the parse context and the parsers for our own API inputs:
 * POST /sessions, POST /policy/poses and policy socket client messages.
 * Unknown fields are rejected here (see json_in.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_ctx.h"

pvj_ctx *pvj_ctx_new(size_t max_body_bytes) {
    if (max_body_bytes == 0) max_body_bytes = PVJ_DEFAULT_BODY_BYTES;
    if (max_body_bytes > PVJ_MAX_BODY_BYTES) max_body_bytes = PVJ_MAX_BODY_BYTES;
    pvj_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max_body = max_body_bytes;
    /* Real documents use far fewer than one token per 4 bytes; denser input
     * (e.g. `[1,1,1,...]`) is rejected as "too many JSON values". */
    size_t toks = max_body_bytes / 4 + 256;
    c->max_toks = toks > PVJ_MAX_TOKENS ? PVJ_MAX_TOKENS : (uint32_t)toks;
    c->toks = calloc(c->max_toks, sizeof *c->toks);
    /* Decoded strings never exceed their raw bytes plus a NUL, and a string
     * token spends at least two quote bytes: max_body + 1 always suffices. */
    c->arena_cap = max_body_bytes + 1;
    c->arena = malloc(c->arena_cap);
    if (!c->toks || !c->arena) {
        pvj_ctx_free(c);
        return NULL;
    }
    return c;
}

void pvj_ctx_free(pvj_ctx *c) {
    if (!c) return;
    free(c->toks);
    free(c->arena);
    free(c);
}

int pvj_begin(pvj_ctx *c, pvj_doc *d, const char *body, size_t len, pvj_err *err, jsmntype_t top) {
    d->err = err ? err : &c->scratch_err;
    d->err->code = PV_ERR_NONE;
    d->err->message[0] = '\0';
    d->js = body;
    d->t = c->toks;
    d->n = 0;
    d->arena = c->arena;
    d->arena_cap = c->arena_cap;
    d->arena_len = 0;
    if (len > c->max_body) return pvj_fail(d, "body", "larger than %zu bytes", c->max_body);
    int n = pvj_tokenize(body, len, c->toks, c->max_toks, d->err);
    if (n < 0) return PV_EINVAL;
    d->n = n;
    if (c->toks[0].type != top)
        return pvj_fail(d, "body", top == JSMN_OBJECT ? "must be an object" : "must be an array");
    return 0;
}

/* out = a + "." + b, truncated to cap (error paths only need a readable hint). */
static void path_join(char *out, size_t cap, const char *a, const char *b) {
    size_t na = strnlen(a, cap - 1), nb;
    memcpy(out, a, na);
    out[na] = '\0';
    if (na + 1 >= cap) return;
    out[na++] = '.';
    nb = strnlen(b, cap - 1 - na);
    memcpy(out + na, b, nb);
    out[na + nb] = '\0';
}

static int has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F) return 1;
    return 0;
}

/* metadata: {string: string}, <= PV_META_MAX_PAIRS entries, unique keys. */
static int parse_metadata(pvj_ctx *c, pvj_doc *d, int obj, pv_session_request *out) {
    if (d->t[obj].type != JSMN_OBJECT) return pvj_fail(d, "metadata", "must be an object");
    if (d->t[obj].size > PV_META_MAX_PAIRS)
        return pvj_fail(d, "metadata", "more than %d entries", PV_META_MAX_PAIRS);
    int j = obj + 1;
    uint32_t n = 0;
    size_t total = 0;
    for (int m = 0; m < d->t[obj].size; m++, n++) {
        pv_meta_pair *p = &c->meta[n];
        if (pvj_get_str(d, j, "metadata", PV_META_KEY_MAX, &p->key)) return PV_EINVAL;
        if (p->key[0] == '\0') return pvj_fail(d, "metadata", "empty key");
        char path[PV_META_KEY_MAX + 16];
        path_join(path, sizeof path, "metadata", p->key);
        if (pvj_get_str(d, j + 1, path, PV_META_VALUE_MAX, &p->value)) return PV_EINVAL;
        if (has_control(p->key) || has_control(p->value))
            return pvj_fail(d, path, "must not contain control characters");
        total += strlen(p->key) + strlen(p->value);
        if (total > PVJ_META_TOTAL_MAX)
            return pvj_fail(d, "metadata", "keys and values exceed %d bytes", PVJ_META_TOTAL_MAX);
        for (uint32_t k = 0; k < n; k++) {
            if (strcmp(c->meta[k].key, p->key) == 0)
                return pvj_fail(d, "metadata", "duplicate key \"%s\"", p->key);
        }
        j = pvj_skip(d, j + 1);
    }
    out->metadata = n ? c->meta : NULL;
    out->metadata_count = n;
    return 0;
}

int pvj_parse_session(pvj_ctx *c, const char *body, size_t len, pv_session_request *out,
                      pvj_err *err) {
    static const char *const names[] = {"participantId", "roomId", "displayName", "metadata"};
    pvj_doc d;
    int f[4];
    memset(out, 0, sizeof *out);
    if (pvj_begin(c, &d, body, len, err, JSMN_OBJECT)) return PV_EINVAL;
    if (pvj_fields(&d, 0, "body", names, 4, f, 1)) return PV_EINVAL;
    if (f[0] < 0) return pvj_fail(&d, "participantId", "required");
    if (f[1] < 0) return pvj_fail(&d, "roomId", "required");
    if (pvj_get_id(&d, f[0], "participantId", &out->participant_id)) return PV_EINVAL;
    if (pvj_get_id(&d, f[1], "roomId", &out->room_id)) return PV_EINVAL;
    if (f[2] >= 0) {
        if (pvj_get_str(&d, f[2], "displayName", PV_NAME_MAX, &out->display_name)) return PV_EINVAL;
        if (has_control(out->display_name))
            return pvj_fail(&d, "displayName", "must not contain control characters");
    }
    if (f[3] >= 0 && parse_metadata(c, &d, f[3], out)) return PV_EINVAL;
    return 0;
}

/* Timestamps and revisions: integers in JavaScript's safe range. */
#define TS_MAX PVJ_MAX_SAFE_INT

static int parse_vec3(pvj_doc *d, int obj, const char *path, pv_vec3 *v) {
    static const char *const names[] = {"x", "y", "z"};
    int f[3];
    if (pvj_fields(d, obj, path, names, 3, f, 1)) return PV_EINVAL;
    double *dst[3] = {&v->x, &v->y, &v->z};
    for (int k = 0; k < 3; k++) {
        char p[64];
        path_join(p, sizeof p, path, names[k]);
        if (f[k] < 0) return pvj_fail(d, p, "required");
        if (pvj_get_num(d, f[k], p, PVJ_MAX_COORD, dst[k])) return PV_EINVAL;
    }
    return 0;
}

static int parse_orientation(pvj_doc *d, int obj, const char *path, pv_orient *o) {
    static const char *const names[] = {"forward", "up"};
    int f[2];
    if (pvj_fields(d, obj, path, names, 2, f, 1)) return PV_EINVAL;
    char p[64];
    path_join(p, sizeof p, path, "forward");
    if (f[0] < 0) return pvj_fail(d, p, "required");
    if (parse_vec3(d, f[0], p, &o->forward)) return PV_EINVAL;
    path_join(p, sizeof p, path, "up");
    if (f[1] < 0) return pvj_fail(d, p, "required");
    return parse_vec3(d, f[1], p, &o->up);
}

static int parse_pose(pvj_doc *d, int obj, uint32_t i, int64_t batch_ts, pv_pose_in *p) {
    static const char *const names[] = {"participantId", "position", "orientation", "timestampMs"};
    int f[4];
    char path[48], sub[64];
    snprintf(path, sizeof path, "poses[%u]", i);
    memset(p, 0, sizeof *p);
    if (pvj_fields(d, obj, path, names, 4, f, 1)) return PV_EINVAL;
    path_join(sub, sizeof sub, path, "participantId");
    if (f[0] < 0) return pvj_fail(d, sub, "required");
    if (pvj_get_id(d, f[0], sub, &p->participant_id)) return PV_EINVAL;
    path_join(sub, sizeof sub, path, "position");
    if (f[1] < 0) return pvj_fail(d, sub, "required");
    if (parse_vec3(d, f[1], sub, &p->position)) return PV_EINVAL;
    if (f[2] >= 0) {
        path_join(sub, sizeof sub, path, "orientation");
        if (parse_orientation(d, f[2], sub, &p->orientation)) return PV_EINVAL;
        p->has_orientation = 1;
    }
    p->timestamp_ms = batch_ts;
    path_join(sub, sizeof sub, path, "timestampMs");
    if (f[3] >= 0 && pvj_get_int(d, f[3], sub, 0, TS_MAX, &p->timestamp_ms)) return PV_EINVAL;
    return 0;
}

int pvj_parse_poses(pvj_ctx *c, const char *body, size_t len, uint32_t max_poses,
                    pv_pose_batch *out, pvj_err *err) {
    static const char *const names[] = {"roomId", "timestampMs", "poses"};
    pvj_doc d;
    int f[3];
    int64_t ts;
    memset(out, 0, sizeof *out);
    if (max_poses > PVJ_MAX_POSES) max_poses = PVJ_MAX_POSES;
    if (pvj_begin(c, &d, body, len, err, JSMN_OBJECT)) return PV_EINVAL;
    if (pvj_fields(&d, 0, "body", names, 3, f, 1)) return PV_EINVAL;
    for (int k = 0; k < 3; k++)
        if (f[k] < 0) return pvj_fail(&d, names[k], "required");
    if (pvj_get_id(&d, f[0], "roomId", &out->room_id)) return PV_EINVAL;
    if (pvj_get_int(&d, f[1], "timestampMs", 0, TS_MAX, &ts)) return PV_EINVAL;
    if (d.t[f[2]].type != JSMN_ARRAY) return pvj_fail(&d, "poses", "must be an array");
    if ((uint32_t)d.t[f[2]].size > max_poses)
        return pvj_fail(&d, "poses", "more than %u poses (MAX_POLICY_BATCH_SIZE)", max_poses);
    int j = f[2] + 1;
    for (uint32_t i = 0; i < (uint32_t)d.t[f[2]].size; i++) {
        if (parse_pose(&d, j, i, ts, &c->poses[i])) return PV_EINVAL;
        j = pvj_skip(&d, j);
    }
    out->poses = c->poses;
    out->count = (uint32_t)d.t[f[2]].size;
    return 0;
}

/* JWT compact form characters: base64url and dots. */
static int token_chars_ok(const char *s) {
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

static int printable_ascii(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E) return 0;
    return 1;
}

static int client_auth(pvj_doc *d, pvj_client_msg *out) {
    static const char *const names[] = {"type", "token"};
    int f[2];
    if (pvj_fields(d, 0, "body", names, 2, f, 1)) return PV_EINVAL;
    if (f[1] < 0) return pvj_fail(d, "token", "required");
    if (pvj_get_str(d, f[1], "token", PVJ_TOKEN_MAX_BYTES, &out->token)) return PV_EINVAL;
    if (out->token[0] == '\0' || !token_chars_ok(out->token))
        return pvj_fail(d, "token", "must be a compact JWT");
    out->kind = PVJ_CLIENT_AUTH;
    return 0;
}

static int client_snapshot_request(pvj_doc *d, pvj_client_msg *out) {
    static const char *const names[] = {"type", "roomId", "lastAppliedRevision", "reason"};
    int f[4];
    int64_t rev;
    if (pvj_fields(d, 0, "body", names, 4, f, 1)) return PV_EINVAL;
    if (f[1] < 0) return pvj_fail(d, "roomId", "required");
    if (f[2] < 0) return pvj_fail(d, "lastAppliedRevision", "required");
    if (pvj_get_id(d, f[1], "roomId", &out->room_id)) return PV_EINVAL;
    if (pvj_get_int(d, f[2], "lastAppliedRevision", 0, TS_MAX, &rev)) return PV_EINVAL;
    if (f[3] >= 0) {
        if (pvj_get_str(d, f[3], "reason", PVJ_REASON_MAX, &out->reason)) return PV_EINVAL;
        if (!printable_ascii(out->reason)) return pvj_fail(d, "reason", "must be printable ASCII");
    }
    out->kind = PVJ_CLIENT_SNAPSHOT_REQUEST;
    out->msg.type = PV_CMSG_SNAPSHOT_REQUEST;
    out->msg.revision = (uint64_t)rev;
    return 0;
}

static int client_audience_ack(pvj_doc *d, pvj_client_msg *out) {
    static const char *const names[] = {"type", "revision", "roomId"};
    int f[3];
    int64_t rev;
    if (pvj_fields(d, 0, "body", names, 3, f, 1)) return PV_EINVAL;
    if (f[1] < 0) return pvj_fail(d, "revision", "required");
    if (pvj_get_int(d, f[1], "revision", 0, TS_MAX, &rev)) return PV_EINVAL;
    /* optional (the browser client sends it); the shell compares it */
    if (f[2] >= 0 && pvj_get_id(d, f[2], "roomId", &out->room_id)) return PV_EINVAL;
    out->kind = PVJ_CLIENT_AUDIENCE_ACK;
    out->msg.type = PV_CMSG_AUDIENCE_ACK;
    out->msg.revision = (uint64_t)rev;
    return 0;
}

int pvj_parse_client_msg(pvj_ctx *c, const char *msg, size_t len, pvj_client_msg *out,
                         pvj_err *err) {
    pvj_doc d;
    memset(out, 0, sizeof *out);
    if (pvj_begin(c, &d, msg, len, err, JSMN_OBJECT)) return PV_EINVAL;
    /* Find "type" first: it decides the schema. Duplicates are caught by the
     * per-type pvj_fields() call. */
    static const char *const tname[] = {"type"};
    int f[1];
    if (pvj_fields(&d, 0, "body", tname, 1, f, 0)) return PV_EINVAL;
    if (f[0] < 0) return pvj_fail(&d, "type", "required");
    if (pvj_str_eq(&d, f[0], "auth")) return client_auth(&d, out);
    if (pvj_str_eq(&d, f[0], "policy.snapshot.request")) return client_snapshot_request(&d, out);
    if (pvj_str_eq(&d, f[0], "policy.audience.ack")) return client_audience_ack(&d, out);
    if (d.t[f[0]].type != JSMN_STRING) return pvj_fail(&d, "type", "must be a string");
    return pvj_fail(&d, "type", "unknown message type");
}
