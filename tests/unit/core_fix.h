/*
 * core_fix.h - a small driver for the core unit suites (test_core_*.c).
 *
 * It owns one core with a counting allocator (so a test can prove nothing is
 * allocated after pv_core_new), builds events with a fake clock (wall = a
 * fixed epoch + now), runs steps, and renders every effect as one text line.
 * The lines of all steps are kept in order: tests search them, and the
 * determinism suite compares two runs' lines byte for byte.
 */
#ifndef PV_CORE_FIX_H
#define PV_CORE_FIX_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "t.h"

#define FX_WALL0      1760000000000LL
#define FX_MAX_LINES  20000
#define FX_LINE_BYTES 512

typedef struct fx {
    pv_core *core;
    pv_config cfg;
    int64_t now_ms;
    long allocs, frees;
    pv_out out;              /* last step */
    char **lines;            /* every effect of every step, rendered */
    int n_lines, step_first; /* step_first: first line of the last step */
} fx;

static void *fx_alloc_fn(void *ud, size_t size) {
    ((fx *)ud)->allocs++;
    return calloc(1, size);
}
static inline void fx_free_fn(void *ud, void *p) {
    ((fx *)ud)->frees++;
    free(p);
}

static inline void fx_cfg_small(pv_config *cfg) {
    pv_config_default(cfg);
    cfg->max_rooms = 8;
    cfg->max_participants = 64;
    cfg->max_room_size = 16;
    cfg->max_connections = 64;
    cfg->max_pairs = 1024;
    cfg->max_inflight_calls = 8;
    cfg->max_effects_per_step = 4096;
}

static inline void fx_init(fx *f, const pv_config *cfg) {
    memset(f, 0, sizeof(*f));
    if (cfg)
        f->cfg = *cfg;
    else
        fx_cfg_small(&f->cfg);
    pv_allocator a = {fx_alloc_fn, fx_free_fn, f};
    REQUIRE(pv_core_new(&f->core, &f->cfg, &a) == 0);
    f->lines = calloc(FX_MAX_LINES, sizeof(char *));
}

static inline void fx_fini(fx *f) {
    pv_core_free(f->core);
    CHECK_EQ_INT(f->allocs, f->frees);
    for (int i = 0; i < f->n_lines; i++)
        free(f->lines[i]);
    free(f->lines);
}

static const char *fx_smsg(pv_server_msg_type t) {
    switch (t) {
    case PV_SMSG_SNAPSHOT:
        return "SNAPSHOT";
    case PV_SMSG_DELTA:
        return "DELTA";
    case PV_SMSG_AUDIENCE:
        return "AUDIENCE";
    case PV_SMSG_POSE_BATCH:
        return "POSE_BATCH";
    case PV_SMSG_ERROR:
        return "ERROR";
    }
    return "?";
}

static const char *fx_method(pv_lk_method m) {
    switch (m) {
    case PV_LK_UPDATE_SUBSCRIPTIONS:
        return "UPDATE";
    case PV_LK_REMOVE_PARTICIPANT:
        return "REMOVE";
    case PV_LK_LIST_PARTICIPANTS:
        return "LIST";
    }
    return "?";
}

static inline void fx_cat(char *buf, const char *fmt, ...) {
    size_t n = strlen(buf);
    if (n >= FX_LINE_BYTES - 1) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, FX_LINE_BYTES - n, fmt, ap);
    va_end(ap);
}

static inline void fx_ids(char *buf, const char *const *ids, uint32_t n) {
    fx_cat(buf, " ids=[");
    for (uint32_t i = 0; i < n; i++)
        fx_cat(buf, "%s%s", i ? "," : "", ids[i]);
    fx_cat(buf, "]");
}

static inline void fx_render_send(char *b, const pv_socket_send *s) {
    fx_cat(b, "SEND conn=%u %s", s->conn_id, fx_smsg(s->type));
    if (s->type == PV_SMSG_ERROR) {
        fx_cat(b, " code=%s msg=%s", pv_api_error_name(s->error), s->message);
        return;
    }
    fx_cat(b, " room=%s pid=%s", s->room_id, s->participant_id);
    if (s->type == PV_SMSG_POSE_BATCH) {
        fx_cat(b, " ts=%" PRId64 " poses=[", s->timestamp_ms);
        for (uint32_t i = 0; i < s->pose_count; i++)
            fx_cat(b, "%s%s@%g,%g,%g", i ? "," : "", s->poses[i].participant_id,
                   s->poses[i].position.x, s->poses[i].position.y, s->poses[i].position.z);
        fx_cat(b, "]");
        return;
    }
    fx_cat(b, " rev=%" PRIu64, s->revision);
    if (s->type == PV_SMSG_DELTA) fx_cat(b, " prev=%" PRIu64, s->previous_revision);
    fx_ids(b, s->ids, s->id_count);
}

static inline void fx_render(char *b, const pv_effect *e) {
    b[0] = '\0';
    switch (e->type) {
    case PV_FX_SESSION_REPLY: {
        const pv_session_reply *r = &e->u.session;
        fx_cat(b,
               "SESSION req=%" PRIu64 " err=%s msg=%s room=%s pid=%s rev=%" PRIu64
               " issued=%" PRId64 " created=%d",
               r->request_id, pv_api_error_name(r->error), r->message ? r->message : "-",
               r->room_id ? r->room_id : "-", r->participant_id ? r->participant_id : "-",
               r->policy_revision, r->issued_at_wall_ms, r->created);
        return;
    }
    case PV_FX_POSES_REPLY: {
        const pv_poses_reply *r = &e->u.poses;
        fx_cat(b, "POSES req=%" PRIu64 " err=%s acc=%u stale=%u unknown=%u rev=%" PRIu64,
               r->request_id, pv_api_error_name(r->error), r->accepted, r->stale, r->unknown,
               r->revision);
        return;
    }
    case PV_FX_SOCKET_SEND:
        fx_render_send(b, &e->u.send);
        return;
    case PV_FX_SOCKET_CLOSE:
        fx_cat(b, "CLOSE conn=%u code=%u reason=%s", e->u.close.conn_id, e->u.close.code,
               e->u.close.reason);
        return;
    case PV_FX_LIVEKIT_CALL: {
        const pv_livekit_call *c = &e->u.call;
        fx_cat(b, "CALL id=%" PRIu64 " %s room=%s identity=%s sub=%d", c->call_id,
               fx_method(c->method), c->room_id, c->identity ? c->identity : "-", c->subscribe);
        fx_ids(b, c->track_sids, c->track_count);
        return;
    }
    case PV_FX_LOG: {
        const pv_log *l = &e->u.log;
        fx_cat(b, "LOG %d %s room=%s pid=%s conn=%u value=%" PRId64, (int)l->level, l->message,
               l->room_id ? l->room_id : "-", l->participant_id ? l->participant_id : "-",
               l->conn_id, l->value);
        return;
    }
    }
    fx_cat(b, "UNKNOWN");
}

/* Runs one event at f->now_ms; returns pv_core_step's result. */
static inline int fx_step(fx *f, pv_event *ev) {
    ev->now_ms = f->now_ms;
    ev->wall_ms = FX_WALL0 + f->now_ms;
    int rc = pv_core_step(f->core, ev, &f->out);
    f->step_first = f->n_lines;
    for (uint32_t i = 0; i < f->out.count; i++) {
        REQUIRE(f->n_lines < FX_MAX_LINES);
        char *b = malloc(FX_LINE_BYTES);
        fx_render(b, &f->out.effects[i]);
        f->lines[f->n_lines++] = b;
    }
    return rc;
}

static inline void fx_tick(fx *f) {
    pv_event ev = {.type = PV_EV_TICK};
    REQUIRE(fx_step(f, &ev) == 0);
}

/* Advances the clock to t, delivering a TICK at every wake-up on the way
 * (and one at t). FX_FIND_STEP then covers the whole run. */
static inline void fx_run_to(fx *f, int64_t t) {
    int start = f->n_lines;
    for (int guard = 0; guard < 100000; guard++) {
        int64_t w = f->out.wake_at_ms;
        if (w > t || w == PV_NEVER) break;
        if (w > f->now_ms) f->now_ms = w;
        fx_tick(f);
        if (f->out.wake_at_ms <= f->now_ms && f->out.count == 0) break; /* no progress */
    }
    f->now_ms = t;
    fx_tick(f);
    f->step_first = start;
}

/* The first multiple of interval strictly after t. */
static inline int64_t pv_next_round(int64_t t, int64_t interval) {
    return t - t % interval + interval;
}

static inline void fx_session(fx *f, uint64_t req, const char *room, const char *pid) {
    pv_event ev = {.type = PV_EV_SESSION_REQUEST};
    ev.u.session.request_id = req;
    ev.u.session.room_id = room;
    ev.u.session.participant_id = pid;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_pose(fx *f, const char *room, const char *pid, double x, double y, double z) {
    pv_event ev = {.type = PV_EV_POSE_BATCH};
    pv_pose_in p = {.participant_id = pid, .position = {x, y, z}};
    p.timestamp_ms = FX_WALL0 + f->now_ms;
    ev.u.poses.request_id = 1;
    ev.u.poses.room_id = room;
    ev.u.poses.poses = &p;
    ev.u.poses.count = 1;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_open(fx *f, uint32_t conn) {
    pv_event ev = {.type = PV_EV_SOCKET_OPEN};
    ev.u.conn_id = conn;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_auth(fx *f, uint32_t conn, const char *room, const char *pid) {
    pv_event ev = {.type = PV_EV_SOCKET_AUTH};
    ev.u.auth.conn_id = conn;
    ev.u.auth.room_id = room;
    ev.u.auth.participant_id = pid;
    ev.u.auth.token_expires_wall_ms = FX_WALL0 + f->now_ms + 60000;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_connect(fx *f, uint32_t conn, const char *room, const char *pid) {
    fx_open(f, conn);
    fx_auth(f, conn, room, pid);
}

static inline void fx_msg(fx *f, uint32_t conn, pv_client_msg_type type, uint64_t revision) {
    pv_event ev = {.type = PV_EV_SOCKET_MESSAGE};
    ev.u.msg.conn_id = conn;
    ev.u.msg.type = type;
    ev.u.msg.revision = revision;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_closed(fx *f, uint32_t conn) {
    pv_event ev = {.type = PV_EV_SOCKET_CLOSED};
    ev.u.conn_id = conn;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_webhook(fx *f, pv_webhook_kind kind, const char *room, const char *id,
                              const char *sid, int64_t created_at_s) {
    pv_event ev = {.type = PV_EV_WEBHOOK};
    ev.u.webhook.kind = kind;
    ev.u.webhook.room_id = room;
    ev.u.webhook.identity = id;
    ev.u.webhook.track_sid = sid;
    ev.u.webhook.created_at_s = created_at_s;
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_lk_result(fx *f, uint64_t call_id, pv_lk_outcome outcome) {
    pv_event ev = {.type = PV_EV_LIVEKIT_RESULT};
    ev.u.livekit.call_id = call_id;
    ev.u.livekit.outcome = outcome;
    REQUIRE(fx_step(f, &ev) == 0);
}

/* Index of the first line at or after `from` containing every needle
 * (NULL-terminated list), or -1. */
static inline int fx_find_from(const fx *f, int from, ...) {
    for (int i = from < 0 ? 0 : from; i < f->n_lines; i++) {
        va_list ap;
        va_start(ap, from);
        int ok = 1;
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
            if (!strstr(f->lines[i], s)) ok = 0;
        va_end(ap);
        if (ok) return i;
    }
    return -1;
}
#define FX_FIND(f, ...)             fx_find_from((f), 0, __VA_ARGS__, (const char *)NULL)
#define FX_FIND_STEP(f, ...)        fx_find_from((f), (f)->step_first, __VA_ARGS__, (const char *)NULL)
#define FX_FIND_AFTER(f, from, ...) fx_find_from((f), (from), __VA_ARGS__, (const char *)NULL)

/* Number of lines from `from` containing `needle`. */
static inline int fx_count_from(const fx *f, int from, const char *needle) {
    int n = 0;
    for (int i = from; i < f->n_lines; i++)
        n += strstr(f->lines[i], needle) != NULL;
    return n;
}

/* Parses "key=<u64>" out of line i (0 when absent). */
static inline uint64_t fx_u64(const fx *f, int i, const char *key) {
    if (i < 0) return 0;
    char pat[64];
    snprintf(pat, sizeof(pat), " %s=", key);
    const char *s = strstr(f->lines[i], pat);
    return s ? strtoull(s + strlen(pat), NULL, 10) : 0;
}

/* Index of the last line containing every needle, or -1. */
static inline int fx_find_last(const fx *f, const char *a, const char *b) {
    for (int i = f->n_lines - 1; i >= 0; i--)
        if (strstr(f->lines[i], a) && (!b || strstr(f->lines[i], b))) return i;
    return -1;
}

/* Acks the last AUDIENCE sent on conn, like an honest client. */
static inline void fx_ack_last_audience(fx *f, uint32_t conn) {
    char pat[48];
    snprintf(pat, sizeof(pat), "SEND conn=%u AUDIENCE", conn);
    int i = fx_find_last(f, pat, NULL);
    REQUIRE(i >= 0);
    fx_msg(f, conn, PV_CMSG_AUDIENCE_ACK, fx_u64(f, i, "rev"));
}

/* Answers the ListParticipants call rendered on line `line` with lp[0..n).
 * (A room's first list goes out livekit_backoff_min_ms after the room is
 * created; fixtures answer it so that later lists are not held back.) */
static inline void fx_list_answer(fx *f, int line, pv_lk_participant *lp, uint32_t n) {
    REQUIRE(line >= 0);
    pv_event ev = {.type = PV_EV_LIVEKIT_RESULT};
    ev.u.livekit = (pv_livekit_result){fx_u64(f, line, "id"), PV_LK_OK, lp, n};
    REQUIRE(fx_step(f, &ev) == 0);
}

static inline void fx_dump(const fx *f, int from) {
    for (int i = from; i < f->n_lines; i++)
        fprintf(stderr, "    %4d %s\n", i, f->lines[i]);
}

#endif
