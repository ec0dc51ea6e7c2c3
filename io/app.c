/*
 * app.c - app lifecycle, request slots, core stepping and effect dispatch.
 *
 * Why request slots: an HTTP request may be answered later than the
 * handler call (the core's reply effect, a readiness probe), and its
 * connection may die meanwhile. Each request holds one slot from a fixed
 * table; the request id carries the slot index in its low bits, so a reply
 * effect finds its request in O(1) and a stale id (slot reused) is detected.
 */
#include "app_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokens.h"

static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, PVCFG_ERR_MAX, fmt, ap);
    va_end(ap);
}

/* ---- secrets ---- */

/* Apply a configured secret to s. A changed current value keeps the old one
 * as "previous" for the grace period; an explicit NAME_PREVIOUS counts from
 * now. A previous value already in its window survives a reload. */
static int apply_secret(pvapp *app, pvsecret *s, const pvcfg_secret *cs, const char **why) {
    char old[PVSECRET_MAX_BYTES + 1] = "";
    char prev[PVSECRET_MAX_BYTES + 1] = "";
    int64_t until = app->wall_ms + (int64_t)app->cfg->secret_rotation_grace_s * 1000;
    if (s->current_len) {
        memcpy(old, s->current, s->current_len);
        old[s->current_len] = '\0';
    }
    if (cs->previous[0]) {
        snprintf(prev, sizeof prev, "%s", cs->previous);
    } else if (old[0] && strcmp(old, cs->value) != 0) {
        snprintf(prev, sizeof prev, "%s", old);
    } else if (pvsecret_previous_active(s, app->wall_ms)) {
        memcpy(prev, s->previous, s->previous_len);
        prev[s->previous_len] = '\0';
        until = s->previous_valid_until_wall_ms;
    }
    if (strcmp(prev, cs->value) == 0) prev[0] = '\0';
    pvsecret next;
    memset(&next, 0, sizeof next);
    int rc = pvsecret_set(&next, cs->value, prev[0] ? prev : NULL, until, why);
    memset(old, 0, sizeof old);
    memset(prev, 0, sizeof prev);
    if (rc < 0) return -1;
    *s = next;
    pvsecret_wipe(&next);
    return 0;
}

static int read_small_file(const char *path, char *buf, size_t cap, char *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, "EXTERNAL_JWT_KEYS_FILE: cannot read %.100s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        set_err(err, "EXTERNAL_JWT_KEYS_FILE: %.100s is larger than %s", path, "256 KiB");
        return -1;
    }
    buf[n] = '\0';
    return (int)n;
}

/* Build the external authority verifier into *a from cfg. */
static int load_auth(pvapp *app, const pvcfg *cfg, pvextauth *a, char *err) {
    memset(a, 0, sizeof *a);
    const char *why = "";
    if (cfg->auth_mode == PVCFG_AUTH_SHARED_SECRET) {
        pvsecret tmp = app->auth ? app->auth->shared : (pvsecret){0};
        if (apply_secret(app, &tmp, &cfg->external_shared_secret, &why) < 0) {
            set_err(err, "EXTERNAL_SHARED_SECRET: %s%s", why, "");
            return -1;
        }
        a->mode = PVEA_SHARED_SECRET;
        a->shared = tmp;
        pvsecret_wipe(&tmp);
        return 0;
    }
    enum { KEYS_MAX = 256 * 1024 };
    char *text = malloc(KEYS_MAX);
    if (!text) return set_err(err, "out of memory%s%s", "", ""), -1;
    int n = read_small_file(cfg->external_jwt_keys_file, text, KEYS_MAX, err);
    char msg[160] = "";
    int rc = n < 0 ? -1
                   : pvea_init_jwt(a, text, (size_t)n, cfg->external_jwt_issuer,
                                   cfg->external_jwt_audience, msg, sizeof msg);
    memset(text, 0, KEYS_MAX);
    free(text);
    if (n >= 0 && rc < 0) set_err(err, "EXTERNAL_JWT_KEYS_FILE: %s%s", msg, "");
    return rc < 0 ? -1 : 0;
}

static int load_secrets(pvapp *app, const pvcfg *cfg, char *err) {
    const char *why = "";
    pvsecret lk = app->lk_secret, pol = app->policy_secret;
    if (apply_secret(app, &lk, &cfg->livekit_api_secret, &why) < 0)
        return set_err(err, "LIVEKIT_API_SECRET: %s%s", why, ""), -1;
    if (apply_secret(app, &pol, &cfg->policy_socket_secret, &why) < 0)
        return set_err(err, "POLICY_SOCKET_JWT_SECRET: %s%s", why, ""), -1;
    pvextauth *a = malloc(sizeof *a);
    if (!a) return set_err(err, "out of memory%s%s", "", ""), -1;
    if (load_auth(app, cfg, a, err) < 0) {
        free(a);
        return -1;
    }
    app->lk_secret = lk;
    app->policy_secret = pol;
    if (app->auth) {
        memset(app->auth, 0, sizeof *app->auth);
        free(app->auth);
    }
    app->auth = a;
    return 0;
}

/* ---- construction ---- */

static int init_limiter(pvapp *app, int i, pvrl *rl, pvcfg_rate r, uint64_t seed) {
    if (r.per_sec == 0) return 0;
    uint32_t slots = PVRL_PROBE;
    while (slots < app->cfg->rl_table_size)
        slots *= 2;
    app->rl_mem[i] = calloc(slots, sizeof(pvrl_slot));
    if (!app->rl_mem[i]) return -1;
    if (pvrl_init(rl, app->rl_mem[i], slots, r.burst, r.per_sec, seed + (uint64_t)i) < 0) return -1;
    app->rl_on[i] = 1;
    return 0;
}

static int init_limiters(pvapp *app, uint64_t seed) {
    const pvcfg *c = app->cfg;
    if (init_limiter(app, 0, &app->rl_sessions_ip, c->rl_sessions_ip, seed) < 0 ||
        init_limiter(app, 1, &app->rl_sessions_key, c->rl_sessions_key, seed) < 0 ||
        init_limiter(app, 2, &app->rl_poses_ip, c->rl_poses_ip, seed) < 0 ||
        init_limiter(app, 3, &app->rl_poses_key, c->rl_poses_key, seed) < 0 ||
        init_limiter(app, 4, &app->rl_socket_ip, c->rl_socket_auth_ip, seed) < 0)
        return -1;
    return 0;
}

static void *core_alloc(void *ud, size_t size) {
    return calloc(1, size);
}
static void core_free(void *ud, void *p) {
    free(p);
}
static const pv_allocator core_allocator = {core_alloc, core_free, NULL};

static int init_core(pvapp *app, char *err) {
    const pvcfg *c = app->cfg;
    pv_config pc;
    pv_config_default(&pc);
    pc.max_rooms = c->max_rooms;
    pc.max_participants = c->max_participants;
    pc.max_room_size = c->max_room_size;
    pc.max_connections = c->max_policy_sockets;
    pc.livekit_reconcile_interval_ms = c->livekit_reconcile_interval_ms;
    pc.audience_ack_deadline_ms = c->audience_ack_deadline_ms;
    pc.recompute_on_pose = c->recompute_on_pose;
    if (pc.max_pairs > 64u * c->max_participants) pc.max_pairs = 64u * c->max_participants;
    const char *why = "";
    if (pv_config_check(&pc, &why) < 0) return set_err(err, "core config: %s%s", why, ""), -1;
    int rc = pv_core_new(&app->core, &pc, &core_allocator);
    if (rc < 0) return set_err(err, "core: %s%s", pv_strerror(rc), ""), -1;
    return 0;
}

static int init_tables(pvapp *app) {
    app->n_reqs = 2 * app->cfg->max_connections + 64;
    if (app->n_reqs > (1u << PVAPP_REQ_BITS)) app->n_reqs = 1u << PVAPP_REQ_BITS;
    app->reqs = calloc(app->n_reqs, sizeof *app->reqs);
    app->free_reqs = calloc(app->n_reqs, sizeof *app->free_reqs);
    app->upgrade_owner = calloc(app->n_reqs, sizeof *app->upgrade_owner);
    app->n_lkcalls = 4096;
    app->lkcalls = calloc(app->n_lkcalls, sizeof *app->lkcalls);
    if (!app->reqs || !app->free_reqs || !app->upgrade_owner || !app->lkcalls) return -1;
    for (uint32_t i = 0; i < app->n_reqs; i++)
        app->free_reqs[i] = app->n_reqs - 1 - i;
    app->n_free_reqs = app->n_reqs;
    return 0;
}

static int init_urls(pvapp *app, char *err) {
    const pvcfg *c = app->cfg;
    if (pvcfg_livekit_http_url(c, app->lk_http_url, sizeof app->lk_http_url) < 0 ||
        pvcfg_livekit_client_url(c, app->lk_client_url, sizeof app->lk_client_url) < 0 ||
        pvcfg_policy_socket_url(c, app->policy_socket_url, sizeof app->policy_socket_url) < 0)
        return set_err(err, "PUBLIC_BASE_URL/LIVEKIT_URL: %s%s", "too long", ""), -1;
    const char *why = "";
    if (pvcors_parse(&app->cors, c->cors_allowed_origins, c->env == PVCFG_ENV_PRODUCTION, &why) < 0)
        return set_err(err, "CORS_ALLOWED_ORIGINS: %s%s", why, ""), -1;
    return 0;
}

int pvapp_new(pvapp **out, const pvcfg *cfg, pvlog *log, const pvapp_shell *shell, int64_t now_ms,
              int64_t wall_ms, uint64_t seed, char *err) {
    *out = NULL;
    pvapp *app = calloc(1, sizeof *app);
    if (!app) return set_err(err, "out of memory%s%s", "", ""), -1;
    app->cfg = cfg;
    app->log = log;
    app->shell = *shell;
    app->date_sec = -1;
    app->req_counter = (seed >> 16) & 0xffffffu; /* request ids differ across restarts */
    pvapp_set_time(app, now_ms, wall_ms);
    app->start_wall_ms = wall_ms;
    int rc = init_urls(app, err);
    if (rc == 0) rc = load_secrets(app, cfg, err);
    if (rc == 0) rc = init_core(app, err);
    if (rc == 0 && (app->json = pvj_ctx_new(cfg->max_body_bytes)) == NULL) rc = -1;
    if (rc == 0 && (app->lkjson = pvj_ctx_new(PVHC_MAX_RESPONSE_BYTES)) == NULL) rc = -1;
    if (rc == 0 && (init_tables(app) < 0 || init_limiters(app, seed) < 0)) rc = -1;
    if (rc == 0 && pvapp_routes_builtin(app) < 0) rc = -1;
    if (rc < 0) {
        if (!err[0]) set_err(err, "out of memory%s%s", "", "");
        pvapp_free(app);
        return -1;
    }
    *out = app;
    return 0;
}

void pvapp_free(pvapp *app) {
    if (!app) return;
    pv_core_free(app->core);
    pvj_ctx_free(app->json);
    pvj_ctx_free(app->lkjson);
    for (int i = 0; i < 5; i++)
        free(app->rl_mem[i]);
    if (app->auth) memset(app->auth, 0, sizeof *app->auth);
    free(app->auth);
    pvsecret_wipe(&app->lk_secret);
    pvsecret_wipe(&app->policy_secret);
    free(app->reqs);
    free(app->free_reqs);
    free(app->upgrade_owner);
    free(app->lkcalls);
    free(app);
}

/* ---- time ---- */

void pvapp_set_time(pvapp *app, int64_t now_ms, int64_t wall_ms) {
    if (now_ms > app->now_ms) app->now_ms = now_ms;
    app->wall_ms = wall_ms;
    int64_t sec = wall_ms / 1000;
    if (sec != app->date_sec) {
        pvh_format_date(app->date, sec);
        app->date_sec = sec;
    }
}

int64_t pvapp_now_ms(const pvapp *app) {
    return app->now_ms;
}
int64_t pvapp_wall_ms(const pvapp *app) {
    return app->wall_ms;
}
const char *pvapp_date(const pvapp *app) {
    return app->date;
}

/* ---- request slots ---- */

pvapp_req *pvapp_req_by_id(pvapp *app, uint64_t request_id) {
    uint32_t slot = (uint32_t)(request_id & ((1u << PVAPP_REQ_BITS) - 1));
    if (slot >= app->n_reqs) return NULL;
    pvapp_req *rq = &app->reqs[slot];
    return rq->in_use && rq->request_id == request_id ? rq : NULL;
}

/* Take a slot for a new request on c; NULL when all are in use. */
pvapp_req *pvapp_req_begin(pvapp *app, pvh_conn *c, const pvh_request *http) {
    if (app->n_free_reqs == 0) return NULL;
    uint32_t slot = app->free_reqs[--app->n_free_reqs];
    pvapp_req *rq = &app->reqs[slot];
    assert(!rq->in_use);
    memset(rq, 0, sizeof *rq);
    rq->app = app;
    rq->conn = c;
    rq->http = http;
    rq->in_use = 1;
    rq->start_ms = app->now_ms;
    rq->request_id = (++app->req_counter << PVAPP_REQ_BITS) | slot;
    app->reqs_used++;
    app->upgrade_owner[slot].fn = NULL;
    pvh_conn_set_user(c, rq);
    return rq;
}

static void req_end(pvapp_req *rq) {
    pvapp *app = rq->app;
    uint32_t slot = (uint32_t)(rq - app->reqs);
    if (rq->conn && pvh_conn_user(rq->conn) == rq) pvh_conn_set_user(rq->conn, NULL);
    rq->in_use = 0;
    rq->conn = NULL;
    rq->http = NULL;
    app->free_reqs[app->n_free_reqs++] = slot;
    app->reqs_used--;
}

void pvapp_conn_closed(pvapp *app, pvh_conn *c) {
    pvapp_req *rq = pvh_conn_user(c);
    if (!rq) return;
    pvh_conn_set_user(c, NULL);
    rq->conn = NULL;
    rq->http = NULL;
    /* A request waiting for the readiness probe keeps its slot until the
     * probe completes (its answer is then dropped). Core replies arrive
     * within the same step, so no other request can be waiting here. */
    if (!rq->waiting_ready) req_end(rq);
}

/* ---- answers ---- */

void pvapp_log_answer(pvapp_req *rq, int status, const char *code) {
    pvapp *app = rq->app;
    pv_log_level lvl = status >= 500 && status != 503 ? PV_LOG_ERROR
                       : status >= 400                ? PV_LOG_WARN
                                                      : PV_LOG_DEBUG;
    if (!pvlog_begin(app->log, app->wall_ms, lvl, status >= 400 ? "request failed" : "request"))
        return;
    pvlog_ids(app->log, rq->room_id[0] ? rq->room_id : NULL, NULL, rq->request_id,
              rq->conn ? pvh_conn_id(rq->conn) : 0);
    if (rq->http) {
        pvlog_str(app->log, "method", rq->http->method_name);
        pvlog_strn(app->log, "path", rq->http->path,
                   rq->http->path_len > 128 ? 128 : rq->http->path_len);
    }
    pvlog_int(app->log, "status", status);
    pvlog_str(app->log, "code", code);
    pvlog_str(app->log, "clientIp", rq->client_ip);
    pvlog_int(app->log, "durationMs", app->now_ms - rq->start_ms);
    pvlog_end(app->log);
}

static void finish(pvapp_req *rq, int status) {
    pvapp *app = rq->app;
    app->stats.responses_4xx += status >= 400 && status < 500;
    app->stats.responses_5xx += status >= 500;
    req_end(rq);
}

/* Headers for the answer: the request's own lines plus extra. */
static const char *join_headers(pvapp_req *rq, const char *extra, char *buf, size_t cap) {
    if (!extra || !extra[0]) return rq->headers;
    int n = snprintf(buf, cap, "%s%s", rq->headers, extra);
    return n < 0 || (size_t)n >= cap ? rq->headers : buf;
}

static void reply(pvapp_req *rq, int status, const char *content_type, const char *body, size_t len,
                  const char *extra_headers, const char *code) {
    if (!rq->in_use) return;
    if (rq->conn) {
        char hdr[PVH_EXTRA_HEADERS_MAX];
        pvh_response r = {.status = status,
                          .content_type = content_type,
                          .body = body,
                          .body_len = len,
                          .extra_headers = join_headers(rq, extra_headers, hdr, sizeof hdr)};
        if (pvh_respond(rq->conn, &r, rq->app->now_ms) < 0)
            pvh_respond_error(rq->conn, 500, "INTERNAL_ERROR", "response too large", NULL,
                              rq->app->now_ms);
    }
    if (status >= 400 || rq->app->log->min_level <= PV_LOG_DEBUG)
        pvapp_log_answer(rq, status, code);
    finish(rq, status);
}

void pvapp_reply(pvapp_req *rq, int status, const char *content_type, const char *body, size_t len,
                 const char *extra_headers) {
    reply(rq, status, content_type, body, len, extra_headers, NULL);
}

void pvapp_reply_raw(pvapp_req *rq, int status, const char *body, size_t len,
                     const char *extra_headers, const char *code) {
    reply(rq, status, "application/json", body, len, extra_headers, code);
}

void pvapp_reply_error(pvapp_req *rq, int status, const char *code, const char *message,
                       const char *extra_headers) {
    if (!rq->in_use) return;
    if (rq->conn) {
        char hdr[PVH_EXTRA_HEADERS_MAX];
        pvh_respond_error(rq->conn, status, code, message,
                          join_headers(rq, extra_headers, hdr, sizeof hdr), rq->app->now_ms);
    }
    pvapp_log_answer(rq, status, code);
    finish(rq, status);
}

/* The spec's error shape, written by the codec module (pvjo_error). */
void pvapp_reply_api_error(pvapp_req *rq, pv_api_error e, const char *message,
                           const char *extra_headers) {
    char mem[640];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    if (pvjo_error(&b, e, message, NULL, 0) < 0) {
        pvbuf_reset(&b);
        pvjo_error(&b, e, pv_api_error_name(e), NULL, 0);
    }
    reply(rq, pv_api_error_status(e), "application/json", b.p, b.len, extra_headers,
          pv_api_error_name(e));
}

int pvapp_upgrade(pvapp_req *rq, const char *response, size_t len, pvapp_upgraded_fn fn, void *ud) {
    if (!rq->in_use || !rq->conn || !fn) return PV_ESTATE;
    int rc = pvh_conn_upgrade(rq->conn, response, len, rq->app->now_ms);
    if (rc < 0) return rc;
    pvapp *app = rq->app;
    uint32_t slot = (uint32_t)(rq - app->reqs);
    app->upgrade_owner[slot].fn = fn;
    app->upgrade_owner[slot].ud = ud;
    pvapp_log_answer(rq, 101, NULL);
    /* keep the slot (conn user) until the shell hands the socket over */
    return 0;
}

int pvapp_take_upgraded(pvapp *app, pvh_conn *c, int fd) {
    pvapp_req *rq = pvh_conn_user(c);
    if (!rq) return -1;
    uint32_t slot = (uint32_t)(rq - app->reqs);
    pvapp_upgrade_owner o = app->upgrade_owner[slot];
    app->upgrade_owner[slot].fn = NULL;
    size_t len;
    const char *left = pvh_conn_leftover(c, &len);
    uint32_t id = pvh_conn_id(c);
    finish(rq, 101);
    if (!o.fn) return -1;
    o.fn(o.ud, fd, id, left, len);
    return 0;
}

/* ---- core ---- */

static void log_effect(pvapp *app, const pv_log *l) {
    if (!pvlog_begin(app->log, app->wall_ms, l->level, l->message)) return;
    pvlog_ids(app->log, l->room_id, l->participant_id, l->request_id, l->conn_id);
    pvlog_int(app->log, "value", l->value);
    pvlog_end(app->log);
}

static void socket_effect(pvapp *app, const pv_effect *e) {
    if (e->type == PV_FX_SOCKET_SEND && app->socket_ops.send) {
        app->socket_ops.send(app->socket_ops.ud, &e->u.send);
    } else if (e->type == PV_FX_SOCKET_CLOSE && app->socket_ops.close) {
        app->socket_ops.close(app->socket_ops.ud, &e->u.close);
    } else if (pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN,
                           "policy socket effect dropped: no socket module")) {
        pvlog_ids(app->log, NULL, NULL, 0, e->u.send.conn_id);
        pvlog_end(app->log);
    }
}

static void handle_effects(pvapp *app, const pv_out *out) {
    for (uint32_t i = 0; i < out->count; i++) {
        const pv_effect *e = &out->effects[i];
        switch (e->type) {
        case PV_FX_SESSION_REPLY:
            pvapp_answer_session(app, &e->u.session);
            break;
        case PV_FX_POSES_REPLY:
            pvapp_answer_poses(app, &e->u.poses);
            break;
        case PV_FX_SOCKET_SEND:
        case PV_FX_SOCKET_CLOSE:
            socket_effect(app, e);
            break;
        case PV_FX_LIVEKIT_CALL:
            pvapp_livekit_call(app, &e->u.call);
            break;
        case PV_FX_LOG:
            log_effect(app, &e->u.log);
            break;
        }
    }
}

int pvapp_step(pvapp *app, pv_event *ev) {
    assert(!app->in_step); /* the core must not be re-entered */
    ev->now_ms = app->now_ms;
    ev->wall_ms = app->wall_ms;
    pv_out out;
    app->in_step = 1;
    int rc = pv_core_step(app->core, ev, &out);
    if (rc == 0) handle_effects(app, &out);
    app->in_step = 0;
    if (app->shell.arm_timer) app->shell.arm_timer(app->shell.ud, out.wake_at_ms);
    pvapp_run_deferred(app);
    return rc;
}

void pvapp_tick(pvapp *app) {
    pv_event ev = {.type = PV_EV_TICK};
    pvapp_step(app, &ev);
}

int pvapp_reload(pvapp *app, const pvcfg *cfg, char *err) {
    err[0] = '\0';
    return load_secrets(app, cfg, err);
}

void pvapp_drain(pvapp *app) {
    app->draining = 1;
}

int pvapp_busy(const pvapp *app) {
    return app->reqs_used > 0;
}

void pvapp_set_socket_ops(pvapp *app, const pvapp_socket_ops *ops) {
    app->socket_ops = *ops;
}

int pvapp_allow_socket_auth(pvapp *app, const char *client_ip, int64_t *retry_after_ms) {
    *retry_after_ms = 0;
    if (!app->rl_on[4]) return 1;
    return pvrl_take(&app->rl_socket_ip, client_ip, app->now_ms, retry_after_ms) == 1;
}

int pvapp_verify_socket_token(pvapp *app, const char *token, size_t len, pvtok_policy_claims *out) {
    return pvtok_policy_verify(token, len, &app->policy_secret, app->wall_ms,
                               PVJWT_DEFAULT_LEEWAY_MS, out);
}

void pvapp_get_stats(const pvapp *app, pvapp_stats *st) {
    *st = app->stats;
}
