/*
 * app_routes.c - the request path (CORS, routing, rate limits, auth,
 * content checks) and the built-in endpoints of MVP-SPEC 8.2.
 */
#include "app_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tokens.h"

int pvapp_route_add(pvapp *app, int method, const char *path, unsigned flags, pvapp_limit limit,
                    pvapp_route_fn fn, void *ud) {
    if (app->n_routes == PVAPP_MAX_ROUTES) return PV_EFULL;
    if (!fn || !path || path[0] != '/' || strlen(path) >= sizeof app->routes[0].path)
        return PV_EINVAL;
    pvapp_route *r = &app->routes[app->n_routes++];
    r->method = method;
    snprintf(r->path, sizeof r->path, "%s", path);
    r->flags = flags;
    r->limit = limit;
    r->fn = fn;
    r->ud = ud;
    return 0;
}

/* ---- client address ---- */

static int ip_valid(const char *s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int is_loopback(const char *ip) {
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0;
}

/* The peer address, or behind a trusted local proxy (TRUST_PROXY=1 and a
 * loopback peer) the last X-Forwarded-For entry, which is the address the
 * proxy itself saw (earlier entries are client-controlled). */
static void client_ip(pvapp *app, pvapp_req *rq) {
    const char *peer = rq->conn ? pvh_conn_peer(rq->conn) : "";
    snprintf(rq->client_ip, sizeof rq->client_ip, "%s", peer[0] ? peer : "unknown");
    if (!app->cfg->trust_proxy || !is_loopback(peer)) return;
    const pvh_header *h = pvh_header_find(rq->http, "x-forwarded-for", NULL);
    if (!h) h = pvh_header_find(rq->http, "x-real-ip", NULL);
    if (!h) return;
    const char *last = strrchr(h->value, ',');
    last = last ? last + 1 : h->value;
    while (*last == ' ' || *last == '\t')
        last++;
    char ip[64];
    size_t n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof ip) return;
    memcpy(ip, last, n);
    ip[n] = '\0';
    if (ip_valid(ip)) memcpy(rq->client_ip, ip, n + 1);
}

/* ---- rate limits and auth ---- */

static void reply_rate_limited(pvapp_req *rq, int64_t retry_ms, const char *what) {
    pvapp *app = rq->app;
    app->stats.rate_limited++;
    int64_t secs = (retry_ms + 999) / 1000;
    if (secs < 1) secs = 1;
    char extra[64];
    snprintf(extra, sizeof extra, "Retry-After: %lld\r\n", (long long)secs);
    pvjo_detail d[2] = {{.key = "retryAfterMs", .num = retry_ms}, {.key = "limit", .str = what}};
    pvbuf b;
    pvbuf_init(&b, app->resp, sizeof app->resp);
    pvjo_error(&b, PV_ERR_RATE_LIMITED, "rate limit exceeded", d, 2);
    pvapp_reply_raw(rq, 429, b.p, b.len, extra, "RATE_LIMITED");
}

/* 1 if allowed. A limiter refusing or a malformed key (cannot happen with
 * IP texts and principals, both shorter than PVRL_KEY_MAX) is logged. */
static int take(pvapp *app, int idx, pvrl *rl, pvapp_req *rq, const char *key, const char *what) {
    if (!app->rl_on[idx]) return 1;
    int64_t retry = 0;
    int rc = pvrl_take(rl, key, app->now_ms, &retry);
    if (rc == 1 || rc < 0) return 1;
    reply_rate_limited(rq, retry, what);
    return 0;
}

static int check_auth(pvapp *app, pvapp_req *rq, const pvapp_route *rt) {
    int sess = rt->limit == PVAPP_LIMIT_SESSIONS, poses = rt->limit == PVAPP_LIMIT_POSES;
    if (sess && !take(app, 0, &app->rl_sessions_ip, rq, rq->client_ip, "sessions per IP"))
        return -1;
    if (poses && !take(app, 2, &app->rl_poses_ip, rq, rq->client_ip, "poses per IP")) return -1;
    uint32_t count = 0;
    const pvh_header *h = pvh_header_find(rq->http, "authorization", &count);
    int rc = count > 1 ? PV_EINVAL
                       : pvea_check(app->auth, h ? h->value : NULL, h ? h->value_len : 0,
                                    app->wall_ms, rq->principal, sizeof rq->principal);
    if (rc < 0) {
        app->stats.auth_failures++;
        if (pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN, "external authority auth failed")) {
            pvlog_ids(app->log, NULL, NULL, rq->request_id, pvh_conn_id(rq->conn));
            pvlog_str(app->log, "reason",
                      count > 1   ? "duplicate Authorization header"
                      : h == NULL ? "no Authorization header"
                                  : pvjwt_strerror(rc));
            pvlog_str(app->log, "clientIp", rq->client_ip);
            pvlog_end(app->log);
        }
        pvapp_reply_api_error(rq, PV_ERR_UNAUTHORIZED, "missing or invalid credentials",
                              "WWW-Authenticate: Bearer realm=\"proximity-voice\"\r\n");
        return -1;
    }
    if (sess && !take(app, 1, &app->rl_sessions_key, rq, rq->principal, "sessions per key"))
        return -1;
    if (poses && !take(app, 3, &app->rl_poses_key, rq, rq->principal, "poses per key")) return -1;
    return 0;
}

/* application/json, optionally with charset=utf-8 (any case). */
static int json_content_type(const pvh_request *r) {
    uint32_t count = 0;
    const pvh_header *h = pvh_header_find(r, "content-type", &count);
    if (!h || count != 1) return 0;
    const char *v = h->value;
    if (strncasecmp(v, "application/json", 16) != 0) return 0;
    v += 16;
    while (*v == ' ')
        v++;
    if (*v == '\0') return 1;
    if (*v++ != ';') return 0;
    while (*v == ' ')
        v++;
    return strcasecmp(v, "charset=utf-8") == 0 || strcasecmp(v, "charset=\"utf-8\"") == 0;
}

/* ---- routing ---- */

static int method_matches(int route_method, int m) {
    return route_method == m || (route_method == HTTP_GET && m == HTTP_HEAD);
}

/* Route for path+method; *path_known says whether any route has the path. */
static const pvapp_route *find_route(pvapp *app, const pvh_request *r, int method, int *path_known,
                                     char *allow, size_t cap) {
    const pvapp_route *found = NULL;
    *path_known = 0;
    size_t used = 0;
    allow[0] = '\0';
    for (uint32_t i = 0; i < app->n_routes; i++) {
        const pvapp_route *rt = &app->routes[i];
        if (strlen(rt->path) != r->path_len || memcmp(rt->path, r->path, r->path_len) != 0)
            continue;
        *path_known = 1;
        int w = snprintf(allow + used, cap - used, "%s%s", used ? ", " : "",
                         http_method_str((enum http_method)rt->method));
        if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        if (method_matches(rt->method, method)) found = rt;
    }
    if (*path_known) snprintf(allow + used, cap - used, "%sOPTIONS", used ? ", " : "");
    return found;
}

static void preflight(pvapp *app, pvapp_req *rq) {
    char allow[128], extra[384];
    int known;
    find_route(app, rq->http, -1, &known, allow, sizeof allow);
    if (!known) {
        pvapp_reply_error(rq, 404, "NOT_FOUND", "no such endpoint", NULL);
        return;
    }
    const pvh_header *origin = pvh_header_find(rq->http, "origin", NULL);
    const pvh_header *acrm = pvh_header_find(rq->http, "access-control-request-method", NULL);
    if (!origin || !acrm) { /* a plain OPTIONS */
        snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
        pvapp_reply(rq, 204, NULL, NULL, 0, extra);
        return;
    }
    int m_ok = 0;
    for (uint32_t i = 0; i < app->n_routes; i++) {
        const pvapp_route *rt = &app->routes[i];
        if (strlen(rt->path) == rq->http->path_len &&
            memcmp(rt->path, rq->http->path, rq->http->path_len) == 0 &&
            strcmp(http_method_str((enum http_method)rt->method), acrm->value) == 0)
            m_ok = 1;
    }
    if (!m_ok) {
        pvapp_reply_api_error(rq, PV_ERR_FORBIDDEN, "method not allowed for cross-origin requests",
                              NULL);
        return;
    }
    snprintf(extra, sizeof extra,
             "Access-Control-Allow-Methods: %s\r\n"
             "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
             "Access-Control-Max-Age: 600\r\n",
             allow);
    pvapp_reply(rq, 204, NULL, NULL, 0, extra);
}

/* Origin check; adds the CORS answer headers for an allowed origin.
 * Returns 0, or -1 after answering 403/400. */
static int check_origin(pvapp *app, pvapp_req *rq) {
    uint32_t count = 0;
    const pvh_header *o = pvh_header_find(rq->http, "origin", &count);
    if (!o) return 0;
    if (count > 1) {
        pvapp_reply_api_error(rq, PV_ERR_INVALID_PAYLOAD, "duplicate Origin header", NULL);
        return -1;
    }
    if (!pvcors_allowed(&app->cors, o->value, o->value_len)) {
        pvapp_reply_api_error(rq, PV_ERR_FORBIDDEN, "origin not allowed", NULL);
        return -1;
    }
    size_t n = strlen(rq->headers);
    snprintf(rq->headers + n, sizeof rq->headers - n,
             "Access-Control-Allow-Origin: %.253s\r\nVary: Origin\r\n"
             "Access-Control-Expose-Headers: Retry-After, X-Request-Id\r\n",
             o->value);
    return 0;
}

static void dispatch(pvapp *app, pvapp_req *rq) {
    const pvh_request *r = rq->http;
    if (check_origin(app, rq) < 0) return;
    if (r->method == HTTP_OPTIONS) {
        preflight(app, rq);
        return;
    }
    char allow[128], extra[160];
    int known;
    const pvapp_route *rt = find_route(app, r, r->method, &known, allow, sizeof allow);
    if (!rt) {
        snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
        if (known)
            pvapp_reply_error(rq, 405, "METHOD_NOT_ALLOWED", "method not allowed", extra);
        else
            pvapp_reply_error(rq, 404, "NOT_FOUND", "no such endpoint", NULL);
        return;
    }
    rq->route = rt;
    if (r->upgrade && !(rt->flags & PVAPP_UPGRADE)) {
        pvapp_reply_api_error(rq, PV_ERR_INVALID_PAYLOAD, "upgrade not supported here", NULL);
        return;
    }
    if ((rt->flags & PVAPP_AUTH_EXTERNAL) && check_auth(app, rq, rt) < 0) return;
    if (rt->flags & PVAPP_JSON_BODY) {
        if (!json_content_type(r)) {
            pvapp_reply_error(rq, 415, "INVALID_PAYLOAD", "Content-Type must be application/json",
                              NULL);
            return;
        }
        if (r->body_len == 0) {
            pvapp_reply_api_error(rq, PV_ERR_INVALID_PAYLOAD, "empty body", NULL);
            return;
        }
    }
    rt->fn(rt->ud, rq);
}

void pvapp_on_request(pvapp *app, pvh_conn *c, const pvh_request *req) {
    pvapp_req *rq = pvapp_req_begin(app, c, req);
    if (!rq) {
        pvh_respond_error(c, 503, "INTERNAL_ERROR", "server busy", "Retry-After: 1\r\n",
                          app->now_ms);
        return;
    }
    app->stats.requests++;
    char id[17];
    pvlog_format_id(id, rq->request_id);
    snprintf(rq->headers, sizeof rq->headers, "X-Request-Id: %s\r\n", id);
    client_ip(app, rq);
    dispatch(app, rq);
}

void pvapp_on_refused(pvapp *app, pvh_conn *c, int status, const char *reason) {
    if (!pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN, "request refused")) return;
    pvlog_ids(app->log, NULL, NULL, 0, pvh_conn_id(c));
    pvlog_int(app->log, "status", status);
    pvlog_str(app->log, "reason", reason);
    pvlog_str(app->log, "clientIp", pvh_conn_peer(c));
    pvlog_end(app->log);
    app->stats.responses_4xx += status < 500;
}

/* ---- endpoints ---- */

static void route_health(void *ud, pvapp_req *rq) {
    static const char body[] = "{\"status\":\"ok\"}";
    pvapp_reply(rq, 200, "application/json", body, sizeof body - 1, NULL);
}

static void route_ready(void *ud, pvapp_req *rq) {
    pvapp_ready_request(rq->app, rq);
}

/* After a step that had to answer rq: if it did not, that is a core bug. */
static void ensure_answered(pvapp *app, uint64_t id) {
    pvapp_req *rq = pvapp_req_by_id(app, id);
    if (rq) pvapp_reply_api_error(rq, PV_ERR_INTERNAL_ERROR, "no reply from the core", NULL);
}

static void route_sessions(void *ud, pvapp_req *rq) {
    pvapp *app = rq->app;
    pv_event ev = {.type = PV_EV_SESSION_REQUEST};
    pvj_err jerr;
    if (pvj_parse_session(app->json, rq->http->body, rq->http->body_len, &ev.u.session, &jerr) <
        0) {
        pvapp_reply_api_error(rq, PV_ERR_INVALID_PAYLOAD, jerr.message, NULL);
        return;
    }
    uint64_t id = rq->request_id;
    ev.u.session.request_id = id;
    snprintf(rq->room_id, sizeof rq->room_id, "%s", ev.u.session.room_id);
    pvapp_step(app, &ev);
    ensure_answered(app, id);
}

static void route_poses(void *ud, pvapp_req *rq) {
    pvapp *app = rq->app;
    pv_event ev = {.type = PV_EV_POSE_BATCH};
    pvj_err jerr;
    if (pvj_parse_poses(app->json, rq->http->body, rq->http->body_len,
                        app->cfg->max_policy_batch_size, &ev.u.poses, &jerr) < 0) {
        pvapp_reply_api_error(rq, PV_ERR_INVALID_PAYLOAD, jerr.message, NULL);
        return;
    }
    uint64_t id = rq->request_id;
    ev.u.poses.request_id = id;
    snprintf(rq->room_id, sizeof rq->room_id, "%s", ev.u.poses.room_id);
    pvapp_step(app, &ev);
    ensure_answered(app, id);
}

int pvapp_routes_builtin(pvapp *app) {
    unsigned ext = PVAPP_AUTH_EXTERNAL | PVAPP_JSON_BODY;
    if (pvapp_route_add(app, HTTP_POST, "/sessions", ext, PVAPP_LIMIT_SESSIONS, route_sessions,
                        NULL) < 0 ||
        pvapp_route_add(app, HTTP_POST, "/policy/poses", ext, PVAPP_LIMIT_POSES, route_poses,
                        NULL) < 0 ||
        pvapp_route_add(app, HTTP_GET, "/health", 0, PVAPP_LIMIT_NONE, route_health, NULL) < 0 ||
        pvapp_route_add(app, HTTP_GET, "/ready", 0, PVAPP_LIMIT_NONE, route_ready, NULL) < 0 ||
        pvapp_route_webhook(app) < 0)
        return -1;
    return 0;
}

/* ---- reply effects ---- */

static void log_session(pvapp *app, const pvapp_req *rq, const pv_session_reply *r) {
    if (!pvlog_begin(app->log, app->wall_ms, PV_LOG_INFO, "session issued")) return;
    pvlog_ids(app->log, r->room_id, r->participant_id, rq->request_id,
              rq->conn ? pvh_conn_id(rq->conn) : 0);
    pvlog_int(app->log, "created", r->created);
    pvlog_str(app->log, "principal", rq->principal);
    pvlog_int(app->log, "durationMs", app->now_ms - rq->start_ms);
    pvlog_end(app->log);
}

void pvapp_answer_session(pvapp *app, const pv_session_reply *r) {
    pvapp_req *rq = pvapp_req_by_id(app, r->request_id);
    if (!rq) return; /* the connection went away */
    if (r->error != PV_ERR_NONE) {
        pvapp_reply_api_error(rq, r->error, r->message ? r->message : "session refused", NULL);
        return;
    }
    static char lk_mem[PVTOK_BUF_BYTES], pol_mem[PVTOK_BUF_BYTES];
    pvbuf lk, pol, out;
    pvbuf_init(&lk, lk_mem, sizeof lk_mem);
    pvbuf_init(&pol, pol_mem, sizeof pol_mem);
    pvtok_livekit t = {.api_key = app->cfg->livekit_api_key,
                       .room_id = r->room_id,
                       .participant_id = r->participant_id,
                       .display_name = r->display_name,
                       .metadata = r->metadata,
                       .metadata_count = r->metadata_count,
                       .issued_at_wall_ms = r->issued_at_wall_ms,
                       .ttl_s = app->cfg->session_token_ttl_s};
    int64_t exp_ms = 0;
    int rc = pvtok_livekit_access(&lk, &app->lk_secret, &t, &exp_ms);
    if (rc == 0)
        rc = pvtok_policy_mint(&pol, &app->policy_secret, r->room_id, r->participant_id,
                               r->issued_at_wall_ms, app->cfg->policy_socket_token_ttl_s, NULL);
    pvjo_session_extra x = {.livekit_url = app->lk_client_url,
                            .token = lk.p,
                            .token_expires_at_ms = exp_ms,
                            .policy_socket_url = app->policy_socket_url,
                            .policy_socket_token = pol.p};
    pvbuf_init(&out, app->resp, sizeof app->resp);
    if (rc == 0) rc = pvjo_session_reply(&out, r, &x);
    if (rc < 0) {
        pvapp_reply_api_error(rq, PV_ERR_INTERNAL_ERROR, "could not mint tokens", NULL);
        return;
    }
    log_session(app, rq, r);
    pvapp_reply(rq, 200, "application/json", out.p, out.len, NULL);
}

void pvapp_answer_poses(pvapp *app, const pv_poses_reply *r) {
    pvapp_req *rq = pvapp_req_by_id(app, r->request_id);
    if (!rq) return;
    if (r->error != PV_ERR_NONE) {
        pvapp_reply_api_error(rq, r->error, r->message ? r->message : "poses refused", NULL);
        return;
    }
    pvbuf out;
    pvbuf_init(&out, app->resp, sizeof app->resp);
    if (pvjo_poses_reply(&out, rq->room_id, r) < 0) {
        pvapp_reply_api_error(rq, PV_ERR_INTERNAL_ERROR, "reply too large", NULL);
        return;
    }
    pvapp_reply(rq, 200, "application/json", out.p, out.len, NULL);
}
