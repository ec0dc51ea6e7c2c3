/*
 * ws_policy.c - policy socket glue: upgrade route, client messages to core
 * events, core socket effects to WebSocket messages (see ws_policy.h).
 */
#include "ws_policy.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "json_out.h"
#include "ws_hs.h"
#include "ws_json.h"

#define PENDING_RING  1024 /* upgrades answered but not yet handed over */
#define OUT_MIN_BYTES (256 * 1024)

struct pvwsp_sock {
    pvwsp *p;
    pvws_conn *ws;
    void *shell;
    uint32_t conn_id;
    int auth_tried, authed, core_closed, on_resync;
    char room_id[PV_ID_MAX + 1];
    char participant_id[PV_ID_MAX + 1];
    char client_ip[64];
    int64_t tokens_milli, refill_ms; /* client message bucket */
    pvwsp_sock *prev, *next;         /* all sockets, oldest first */
    pvwsp_sock *next_resync;
};

typedef struct pending_up {
    uint32_t conn_id;
    char client_ip[64];
} pending_up;

struct pvwsp {
    pvapp *app;
    pvlog *log;
    pvwsp_opts o;
    pvwsp_shell sh;
    pvj_ctx *json;
    pvwsj *poses; /* pose fragment cache for policy.pose.batch */
    /* conn_id -> socket: open addressing, linear probing, backward-shift delete */
    pvwsp_sock **table;
    uint32_t mask;
    pvwsp_sock *head, *tail;
    pvwsp_sock *resync; /* sockets waiting for their queue to drain */
    pending_up ring[PENDING_RING];
    uint32_t ring_next;
    pvwsp_stats st;
    char *out; /* JSON of one server message */
    size_t out_cap;
};

/* ---- socket table ---- */

static uint32_t slot_of(const pvwsp *p, uint32_t id) {
    return (id * 2654435761u) & p->mask;
}

static pvwsp_sock *find(const pvwsp *p, uint32_t id) {
    for (uint32_t i = slot_of(p, id);; i = (i + 1) & p->mask) {
        if (!p->table[i]) return NULL;
        if (p->table[i]->conn_id == id) return p->table[i];
    }
}

static void table_put(pvwsp *p, pvwsp_sock *s) {
    uint32_t i = slot_of(p, s->conn_id);
    while (p->table[i])
        i = (i + 1) & p->mask;
    p->table[i] = s;
}

static void table_del(pvwsp *p, const pvwsp_sock *s) {
    uint32_t i = slot_of(p, s->conn_id);
    while (p->table[i] != s)
        i = (i + 1) & p->mask;
    p->table[i] = NULL;
    /* shift back later entries of the cluster that may sit past the hole */
    for (uint32_t j = (i + 1) & p->mask; p->table[j]; j = (j + 1) & p->mask) {
        uint32_t home = slot_of(p, p->table[j]->conn_id);
        if (((j - home) & p->mask) >= ((j - i) & p->mask)) {
            p->table[i] = p->table[j];
            p->table[j] = NULL;
            i = j;
        }
    }
}

/* ---- logging ---- */

static void log_sock(pvwsp *p, pv_log_level lvl, const char *msg, const pvwsp_sock *s,
                     const char *key, const char *val, int64_t num) {
    if (!p->log || !pvlog_begin(p->log, pvapp_wall_ms(p->app), lvl, msg)) return;
    pvlog_ids(p->log, s->room_id[0] ? s->room_id : NULL,
              s->participant_id[0] ? s->participant_id : NULL, 0, s->conn_id);
    if (key) pvlog_str(p->log, key, val);
    if (num >= 0) pvlog_int(p->log, "value", num);
    pvlog_end(p->log);
}

/* ---- sending ---- */

static pvws_kind kind_of(pv_server_msg_type t) {
    switch (t) {
    case PV_SMSG_SNAPSHOT:
        return PVWS_MSG_SNAPSHOT;
    case PV_SMSG_DELTA:
        return PVWS_MSG_DELTA;
    case PV_SMSG_AUDIENCE:
        return PVWS_MSG_AUDIENCE;
    case PV_SMSG_POSE_BATCH:
        return PVWS_MSG_POSES;
    case PV_SMSG_ERROR:
        break;
    }
    return PVWS_MSG_OTHER;
}

static void wake(pvwsp *p, pvwsp_sock *s) {
    p->sh.wakeup(p->sh.ud, s);
}

/* Queue m on s; an overflow puts s on the resync list. */
static void send_msg(pvwsp *p, pvwsp_sock *s, const pv_socket_send *m) {
    pvbuf b;
    pvbuf_init(&b, p->out, p->out_cap);
    if (pvwsj_socket_send(p->poses, &b, m) < 0) {
        log_sock(p, PV_LOG_ERROR, "policy message too large", s, NULL, NULL, m->type);
        pvws_conn_close(s->ws, 1011, "internal error", pvapp_now_ms(p->app));
        wake(p, s);
        return;
    }
    pvws_stats before, after;
    pvws_conn_get_stats(s->ws, &before);
    pvws_conn_send(s->ws, kind_of(m->type), b.p, b.len);
    pvws_conn_get_stats(s->ws, &after);
    if (after.overflows > before.overflows) {
        p->st.overflows++;
        log_sock(p, PV_LOG_INFO, "policy socket slow: queued state dropped", s, NULL, NULL,
                 (int64_t)pvws_conn_queued_bytes(s->ws));
    }
    if (pvws_conn_needs_resync(s->ws)) {
        if (!s->on_resync) {
            s->on_resync = 1;
            s->next_resync = p->resync;
            p->resync = s;
        }
    }
    wake(p, s);
}

/* policy.error {code, message}, then (close_code != 0) the close. */
static void send_error(pvwsp *p, pvwsp_sock *s, pv_api_error e, const char *msg,
                       uint16_t close_code) {
    pv_socket_send m = {.conn_id = s->conn_id, .type = PV_SMSG_ERROR, .error = e, .message = msg};
    send_msg(p, s, &m);
    if (close_code) pvws_conn_close(s->ws, close_code, msg, pvapp_now_ms(p->app));
}

/* The core's socket effects (called during a core step: only queue). */
static void op_send(void *ud, const pv_socket_send *m) {
    pvwsp *p = ud;
    pvwsp_sock *s = find(p, m->conn_id);
    if (!s) {
        p->st.unknown_conn_effects++;
        return;
    }
    send_msg(p, s, m);
}

static void op_close(void *ud, const pv_socket_close *c) {
    pvwsp *p = ud;
    pvwsp_sock *s = find(p, c->conn_id);
    if (!s) {
        p->st.unknown_conn_effects++;
        return;
    }
    s->core_closed = 1;
    if (s->authed) p->st.authed--;
    s->authed = 0;
    log_sock(p, PV_LOG_DEBUG, "policy socket closed by core", s, "reason", c->reason, c->code);
    pvws_conn_close(s->ws, c->code, c->reason, pvapp_now_ms(p->app));
    wake(p, s);
}

/* ---- client messages ---- */

/* Token bucket of client messages (integer milli-tokens). */
static int take_msg_token(pvwsp_sock *s, int64_t now_ms) {
    int64_t cap = (int64_t)PVWSP_MSG_BURST * 1000;
    if (now_ms > s->refill_ms) {
        s->tokens_milli += (now_ms - s->refill_ms) * PVWSP_MSGS_PER_SEC;
        if (s->tokens_milli > cap) s->tokens_milli = cap;
        s->refill_ms = now_ms;
    }
    if (s->tokens_milli < 1000) return 0;
    s->tokens_milli -= 1000;
    return 1;
}

static void step(pvwsp *p, pv_event *ev) {
    pvapp_step(p->app, ev);
}

static void handle_auth(pvwsp *p, pvwsp_sock *s, const pvj_client_msg *m) {
    if (s->auth_tried) {
        send_error(p, s, PV_ERR_INVALID_PAYLOAD, "already authenticated", 0);
        return;
    }
    s->auth_tried = 1;
    int64_t retry_ms = 0;
    if (!pvapp_allow_socket_auth(p->app, s->client_ip, &retry_ms)) {
        p->st.auth_rate_limited++;
        log_sock(p, PV_LOG_WARN, "policy socket auth rate limited", s, "clientIp", s->client_ip,
                 retry_ms);
        send_error(p, s, PV_ERR_RATE_LIMITED, "too many policy socket auth attempts",
                   PVWSP_CLOSE_RATE);
        return;
    }
    pvtok_policy_claims cl;
    int rc = pvapp_verify_socket_token(p->app, m->token, strlen(m->token), &cl);
    if (rc != 0) {
        p->st.auth_failed++;
        log_sock(p, PV_LOG_INFO, "policy socket token rejected", s, "reason", pvjwt_strerror(rc),
                 -1);
        send_error(p, s, PV_ERR_UNAUTHORIZED, "Policy socket token is invalid or expired", 1008);
        return;
    }
    memcpy(s->room_id, cl.room_id, sizeof s->room_id);
    memcpy(s->participant_id, cl.participant_id, sizeof s->participant_id);
    pv_event ev = {.type = PV_EV_SOCKET_AUTH};
    ev.u.auth = (pv_socket_auth){.conn_id = s->conn_id,
                                 .room_id = s->room_id,
                                 .participant_id = s->participant_id,
                                 .token_expires_wall_ms = cl.expires_wall_ms};
    step(p, &ev);
    if (!s->core_closed) { /* else the core sent its error and 1008 */
        s->authed = 1;
        p->st.authed++;
        p->st.auth_ok++;
    }
}

/* snapshot request / audience ack from an authenticated socket. */
static void handle_msg(pvwsp *p, pvwsp_sock *s, const pvj_client_msg *m) {
    if (m->room_id && strcmp(m->room_id, s->room_id) != 0) {
        send_error(p, s, PV_ERR_FORBIDDEN, "roomId is not the authenticated room", 1008);
        return;
    }
    pv_event ev = {.type = PV_EV_SOCKET_MESSAGE};
    ev.u.msg = m->msg;
    ev.u.msg.conn_id = s->conn_id;
    step(p, &ev);
}

static void on_text(void *ud, pvws_conn *c, const char *msg, size_t len) {
    pvwsp *p = ud;
    pvwsp_sock *s = pvws_conn_user(c);
    if (!take_msg_token(s, pvapp_now_ms(p->app))) {
        p->st.msgs_rate_limited++;
        send_error(p, s, PV_ERR_RATE_LIMITED, "too many messages", 1008);
        return;
    }
    pvj_client_msg m;
    pvj_err err;
    if (pvj_parse_client_msg(p->json, msg, len, &m, &err) < 0) {
        p->st.invalid_msgs++;
        send_error(p, s, PV_ERR_INVALID_PAYLOAD, err.message, s->authed ? 0 : 1008);
        return;
    }
    if (m.kind == PVJ_CLIENT_AUTH) {
        handle_auth(p, s, &m);
    } else if (!s->authed) {
        send_error(p, s, PV_ERR_UNAUTHORIZED, "the first message must be auth", 1008);
    } else {
        handle_msg(p, s, &m);
    }
}

/* ---- upgrade ---- */

static void route(void *ud, pvapp_req *rq) {
    pvwsp *p = ud;
    char key[PVWS_KEY_LEN + 1];
    int status;
    const char *why;
    if (pvws_hs_check(rq->http, key, &status, &why) < 0) {
        pvapp_reply_error(rq, status, "INVALID_PAYLOAD", why,
                          status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL);
        return;
    }
    /* upgrades answered but not yet handed over are not counted: the cap is
     * checked again in pvwsp_open (a bare TCP close there, client retries) */
    if (p->st.sockets >= p->o.max_sockets) {
        pvapp_reply_error(rq, 503, "INTERNAL_ERROR", "policy socket limit reached",
                          "Retry-After: 1\r\n");
        return;
    }
    char resp[PVWS_HS_RESP_MAX];
    int n = pvws_hs_response(resp, sizeof resp, key);
    assert(n > 0);
    uint32_t conn_id = pvh_conn_id(rq->conn);
    pending_up *pu = &p->ring[p->ring_next++ % PENDING_RING];
    pu->conn_id = conn_id;
    snprintf(pu->client_ip, sizeof pu->client_ip, "%s", rq->client_ip);
    if (pvapp_upgrade(rq, resp, (size_t)n, p->sh.upgraded, p->sh.ud) < 0) {
        pu->conn_id = 0;
        pvapp_reply_error(rq, 500, "INTERNAL_ERROR", "upgrade failed", NULL);
        return;
    }
}

/* Client IP recorded at upgrade time ("" if the entry was overwritten). */
static void take_pending(pvwsp *p, uint32_t conn_id, char *ip, size_t cap) {
    ip[0] = '\0';
    for (uint32_t i = 0; i < PENDING_RING; i++) {
        pending_up *pu = &p->ring[i];
        if (pu->conn_id != conn_id) continue;
        snprintf(ip, cap, "%s", pu->client_ip);
        pu->conn_id = 0;
        return;
    }
}

pvwsp_sock *pvwsp_open(pvwsp *p, uint32_t conn_id, void *shell_sock, const char *leftover,
                       size_t len) {
    char ip[64];
    take_pending(p, conn_id, ip, sizeof ip);
    if (!ip[0] || find(p, conn_id) || p->st.sockets >= p->o.max_sockets) return NULL;
    pvwsp_sock *s = calloc(1, sizeof *s);
    pvws_handler h = {.on_text = on_text, .ud = p};
    int64_t now = pvapp_now_ms(p->app);
    if (!s || pvws_conn_new(&s->ws, &p->o.limits, &h, now) < 0) {
        free(s);
        return NULL;
    }
    pvws_conn_set_user(s->ws, s);
    s->p = p;
    s->shell = shell_sock;
    s->conn_id = conn_id;
    s->tokens_milli = (int64_t)PVWSP_MSG_BURST * 1000;
    s->refill_ms = now;
    memcpy(s->client_ip, ip, sizeof s->client_ip);
    table_put(p, s);
    s->prev = p->tail;
    if (p->tail)
        p->tail->next = s;
    else
        p->head = s;
    p->tail = s;
    p->st.sockets++;
    p->st.opened++;
    pv_event ev = {.type = PV_EV_SOCKET_OPEN};
    ev.u.conn_id = conn_id;
    step(p, &ev);
    if (len > 0) pvwsp_received(p, s, leftover, len);
    wake(p, s);
    return s;
}

void pvwsp_received(pvwsp *p, pvwsp_sock *s, const char *data, size_t len) {
    pvws_conn_received(s->ws, data, len, pvapp_now_ms(p->app));
    wake(p, s);
}

void pvwsp_eof(pvwsp *p, pvwsp_sock *s) {
    pvws_conn_eof(s->ws, pvapp_now_ms(p->app));
    wake(p, s);
}

static void unlink_sock(pvwsp *p, pvwsp_sock *s) {
    table_del(p, s);
    if (s->prev)
        s->prev->next = s->next;
    else
        p->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        p->tail = s->prev;
    if (s->on_resync) {
        pvwsp_sock **pp = &p->resync;
        while (*pp != s)
            pp = &(*pp)->next_resync;
        *pp = s->next_resync;
    }
    p->st.sockets--;
    if (s->authed) p->st.authed--;
}

void pvwsp_closed(pvwsp *p, pvwsp_sock *s) {
    log_sock(p, PV_LOG_DEBUG, "policy socket closed", s, "reason",
             pvws_conn_reason(s->ws) ? pvws_conn_reason(s->ws) : "closed",
             pvws_conn_close_sent(s->ws));
    unlink_sock(p, s);
    uint32_t id = s->conn_id;
    int tell_core = !s->core_closed;
    pvws_conn_free(s->ws);
    free(s);
    if (tell_core) {
        pv_event ev = {.type = PV_EV_SOCKET_CLOSED};
        ev.u.conn_id = id;
        step(p, &ev);
    }
}

void pvwsp_before_sleep(pvwsp *p) {
    pvwsp_sock **pp = &p->resync;
    while (*pp) {
        pvwsp_sock *s = *pp;
        int ask = pvws_conn_take_resync(s->ws);
        if (!ask && pvws_conn_needs_resync(s->ws) && !pvws_conn_closing(s->ws)) {
            pp = &s->next_resync; /* still draining */
            continue;
        }
        *pp = s->next_resync;
        s->on_resync = 0;
        if (!ask) continue;
        p->st.resyncs++;
        log_sock(p, PV_LOG_INFO, "policy socket resync: fresh snapshot", s, NULL, NULL, -1);
        pv_event ev = {.type = PV_EV_SOCKET_MESSAGE};
        ev.u.msg = (pv_socket_message){.conn_id = s->conn_id, .type = PV_CMSG_SNAPSHOT_REQUEST};
        step(p, &ev); /* the snapshot is queued on s and ends its resync */
    }
}

void pvwsp_drain(pvwsp *p) {
    for (pvwsp_sock *s = p->head; s; s = s->next) {
        pvws_conn_close(s->ws, 1001, "server shutting down", pvapp_now_ms(p->app));
        wake(p, s);
    }
}

pvws_conn *pvwsp_sock_conn(const pvwsp_sock *s) {
    return s->ws;
}
void *pvwsp_sock_shell(const pvwsp_sock *s) {
    return s->shell;
}
uint32_t pvwsp_sock_id(const pvwsp_sock *s) {
    return s->conn_id;
}
pvwsp_sock *pvwsp_first(const pvwsp *p) {
    return p->head;
}
pvwsp_sock *pvwsp_next(const pvwsp_sock *s) {
    return s->next;
}
void pvwsp_get_stats(const pvwsp *p, pvwsp_stats *st) {
    *st = p->st;
}

/* ---- life cycle ---- */

int pvwsp_new(pvwsp **out, pvapp *app, pvlog *log, const pvwsp_opts *o, const pvwsp_shell *sh) {
    const char *why;
    *out = NULL;
    if (!o || !sh || !sh->upgraded || !sh->wakeup || o->max_sockets == 0 ||
        o->max_sockets > (1u << 24) || pvws_limits_check(&o->limits, &why) < 0)
        return PV_EINVAL;
    pvwsp *p = calloc(1, sizeof *p);
    if (!p) return PV_ENOMEM;
    p->app = app;
    p->log = log;
    p->o = *o;
    p->sh = *sh;
    uint32_t n = 64;
    while (n < 2 * o->max_sockets)
        n *= 2;
    p->mask = n - 1;
    p->table = calloc(n, sizeof *p->table);
    p->out_cap =
        o->limits.queue_max_bytes > OUT_MIN_BYTES ? o->limits.queue_max_bytes : OUT_MIN_BYTES;
    p->out = malloc(p->out_cap);
    p->json = pvj_ctx_new(o->limits.max_msg_bytes);
    uint32_t cache = o->max_sockets < PVWSJ_MAX_SLOTS ? o->max_sockets : PVWSJ_MAX_SLOTS;
    if (!p->table || !p->out || !p->json || pvwsj_new(&p->poses, cache) < 0 ||
        pvapp_route_add(app, HTTP_GET, PVWSP_PATH, PVAPP_UPGRADE, PVAPP_LIMIT_NONE, route, p) < 0) {
        pvwsp_free(p);
        return PV_ENOMEM;
    }
    pvapp_socket_ops ops = {.ud = p, .send = op_send, .close = op_close};
    pvapp_set_socket_ops(app, &ops);
    *out = p;
    return 0;
}

void pvwsp_free(pvwsp *p) {
    if (!p) return;
    pvapp_socket_ops none = {0};
    pvapp_set_socket_ops(p->app, &none); /* later effects are logged and dropped */
    while (p->head) {
        pvwsp_sock *s = p->head;
        unlink_sock(p, s);
        pvws_conn_free(s->ws);
        free(s);
    }
    pvj_ctx_free(p->json);
    pvwsj_free(p->poses);
    free(p->table);
    free(p->out);
    free(p);
}
