/*
 * app_livekit.c - LiveKit from the app's side: RoomService calls (Twirp
 * over HTTP/JSON with a per-room admin token) for PV_FX_LIVEKIT_CALL, and
 * the readiness probe behind GET /ready.
 *
 * Why failures at submission are deferred: the core must not be re-entered,
 * and pvapp_livekit_call runs while the effects of a step are handled. A
 * call the HTTP client refuses is answered PV_LK_FAILED right after that
 * step finishes (the core then retries with backoff).
 */
#include "app_int.h"

#include <stdio.h>
#include <string.h>

#include "tokens.h"

#define ADMIN_TOKEN_TTL_S      600
#define ADMIN_TOKEN_REFRESH_MS 60000 /* mint anew this long before expiry */

static pvapp_lkcall *lkcall_alloc(pvapp *app) {
    for (uint32_t i = 0; i < app->n_lkcalls; i++) {
        if (!app->lkcalls[i].in_use) {
            app->lkcalls[i].in_use = 1;
            app->lkcalls[i].app = app;
            return &app->lkcalls[i];
        }
    }
    return NULL;
}

static void defer_fail(pvapp *app, uint64_t call_id, const char *why) {
    app->stats.livekit_failures++;
    if (pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN, "livekit call not sent")) {
        pvlog_str(app->log, "reason", why);
        pvlog_int(app->log, "callId", (int64_t)call_id);
        pvlog_end(app->log);
    }
    if (app->n_deferred < PVAPP_DEFERRED_MAX) app->deferred_failed[app->n_deferred++] = call_id;
}

/* FNV-1a over the secret: tells a token signed before a SIGHUP rotation
 * from one signed with the current value (no secret bytes are stored). */
static uint64_t secret_fp(const pvsecret *s) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < s->current_len; i++)
        h = (h ^ s->current[i]) * 1099511628211ull;
    return h;
}

/*
 * The admin token of room_id (video{room, roomAdmin}), reused until
 * ADMIN_TOKEN_REFRESH_MS before it expires. Why a cache: every recompute may
 * call UpdateSubscriptions for many listeners of one room; minting costs an
 * HMAC and a JSON encoding each time. A full cache evicts the entry closest
 * to expiry. Returns the token (valid until the next call) or NULL.
 */
static const char *admin_token(pvapp *app, const char *room_id) {
    uint64_t fp = secret_fp(&app->lk_secret);
    pvapp_admin_token *victim = &app->admin_tokens[0];
    for (uint32_t i = 0; i < PVAPP_ADMIN_TOKENS; i++) {
        pvapp_admin_token *t = &app->admin_tokens[i];
        if (t->room_id[0] && strcmp(t->room_id, room_id) == 0) {
            if (t->secret_fp == fp && app->wall_ms < t->expires_wall_ms - ADMIN_TOKEN_REFRESH_MS)
                return t->token;
            victim = t;
            break;
        }
        if (victim->room_id[0] && (!t->room_id[0] || t->expires_wall_ms < victim->expires_wall_ms))
            victim = t;
    }
    static char mem[PVTOK_BUF_BYTES];
    pvbuf tok;
    pvbuf_init(&tok, mem, sizeof mem);
    int64_t exp_ms = 0;
    if (pvtok_livekit_admin(&tok, app->cfg->livekit_api_key, &app->lk_secret, room_id, app->wall_ms,
                            ADMIN_TOKEN_TTL_S, &exp_ms) < 0)
        return NULL;
    victim->room_id[0] = '\0';
    if (tok.len < sizeof victim->token && strlen(room_id) < sizeof victim->room_id) {
        memcpy(victim->token, tok.p, tok.len + 1);
        snprintf(victim->room_id, sizeof victim->room_id, "%s", room_id);
        victim->expires_wall_ms = exp_ms;
        victim->secret_fp = fp;
    }
    return tok.p;
}

/* Twirp signals errors with a JSON body {"code":"not_found",...}. */
static pv_lk_outcome classify(const pvhc_result *res) {
    if (res->status == 200) return PV_LK_OK;
    if (res->status == 404 || (res->body && strstr(res->body, "\"code\":\"not_found\"")))
        return PV_LK_NOT_FOUND;
    return PV_LK_FAILED;
}

/* Health bookkeeping for /ready. Why 401/403 matter: LiveKit answers
 * GET / with 200 even when the API key or secret is wrong, so only the
 * RoomService calls reveal that enforcement cannot work. */
static void lk_health(pvapp *app, const pvhc_result *res) {
    app->lk_last_status = res->status;
    if (res->status == 200) {
        app->lk_last_ok_ms = app->now_ms;
        app->lk_failed_row = 0;
        app->lk_rejected = 0;
        return;
    }
    app->lk_failed_row++;
    app->lk_rejected = res->status == 401 || res->status == 403;
}

static void lk_done(void *ud, const pvhc_result *res) {
    pvapp_lkcall *lc = ud;
    pvapp *app = lc->app;
    lk_health(app, res);
    pv_event ev = {.type = PV_EV_LIVEKIT_RESULT};
    ev.u.livekit.call_id = lc->call_id;
    ev.u.livekit.outcome = classify(res);
    const char *why = res->error;
    pvj_err jerr;
    if (ev.u.livekit.outcome == PV_LK_OK && lc->method == PV_LK_LIST_PARTICIPANTS) {
        uint32_t skipped = 0;
        if (pvj_parse_lk_participants(app->lkjson, res->body, res->body_len,
                                      app->cfg->max_room_size, &ev.u.livekit.participants,
                                      &ev.u.livekit.participant_count, &skipped, &jerr) < 0) {
            ev.u.livekit.outcome = PV_LK_FAILED;
            why = jerr.message; /* e.g. the answer exceeds the parser's limits */
        }
    }
    lc->in_use = 0;
    if (pvlog_begin(app->log, app->wall_ms, PV_LOG_DEBUG, "livekit answer")) {
        pvlog_int(app->log, "callId", (int64_t)lc->call_id);
        pvlog_int(app->log, "status", res->status);
        pvlog_int(app->log, "outcome", ev.u.livekit.outcome);
        if (lc->method == PV_LK_LIST_PARTICIPANTS)
            pvlog_int(app->log, "participants", ev.u.livekit.participant_count);
        pvlog_end(app->log);
    }
    if (ev.u.livekit.outcome == PV_LK_FAILED) {
        app->stats.livekit_failures++;
        if (pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN, "livekit call failed")) {
            pvlog_int(app->log, "status", res->status);
            pvlog_str(app->log, "reason", why);
            pvlog_int(app->log, "bodyBytes", (int64_t)res->body_len);
            pvlog_strn(app->log, "body", res->body, res->body_len > 200 ? 200 : res->body_len);
            pvlog_int(app->log, "callId", (int64_t)lc->call_id);
            pvlog_end(app->log);
        }
    }
    pvapp_step(app, &ev);
}

void pvapp_livekit_call(pvapp *app, const pv_livekit_call *call) {
    app->stats.livekit_calls++;
    const char *path = pvjo_livekit_path(call->method);
    static char body_mem[16384], url[PVCFG_STR_MAX + 64], auth[PVTOK_BUF_BYTES + 32];
    pvbuf body;
    pvbuf_init(&body, body_mem, sizeof body_mem);
    const char *tok =
        path && pvjo_livekit_call(&body, call) == 0 ? admin_token(app, call->room_id) : NULL;
    if (!tok) {
        defer_fail(app, call->call_id, "cannot encode the call");
        return;
    }
    snprintf(url, sizeof url, "%s%s", app->lk_http_url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    pvapp_lkcall *lc = lkcall_alloc(app);
    if (!lc) {
        defer_fail(app, call->call_id, "too many calls in flight");
        return;
    }
    lc->call_id = call->call_id;
    lc->method = call->method;
    if (pvlog_begin(app->log, app->wall_ms, PV_LOG_DEBUG, "livekit call")) {
        pvlog_ids(app->log, call->room_id, call->identity, 0, 0);
        pvlog_str(app->log, "method", path + sizeof "/twirp/livekit.RoomService/" - 1);
        pvlog_int(app->log, "callId", (int64_t)call->call_id);
        if (call->method == PV_LK_UPDATE_SUBSCRIPTIONS) {
            pvlog_int(app->log, "subscribe", call->subscribe);
            pvlog_int(app->log, "tracks", call->track_count);
            if (call->track_count) pvlog_str(app->log, "firstTrack", call->track_sids[0]);
        }
        pvlog_end(app->log);
    }
    pvhc_request r = {.method = "POST",
                      .url = url,
                      .headers = {auth, "Content-Type: application/json", NULL},
                      .body = body.p,
                      .body_len = body.len,
                      .timeout_ms = app->cfg->livekit_timeout_ms};
    int rc = app->shell.http_submit ? app->shell.http_submit(app->shell.ud, &r, lk_done, lc) : -1;
    if (rc < 0) {
        lc->in_use = 0;
        defer_fail(app, call->call_id, "http client refused the call");
    }
}

void pvapp_run_deferred(pvapp *app) {
    if (app->running_deferred || app->in_step) return;
    app->running_deferred = 1;
    uint32_t i = 0;
    while (i < app->n_deferred) { /* steps below may append more */
        pv_event ev = {.type = PV_EV_LIVEKIT_RESULT};
        ev.u.livekit.call_id = app->deferred_failed[i++];
        ev.u.livekit.outcome = PV_LK_FAILED;
        pvapp_step(app, &ev);
    }
    app->n_deferred = 0;
    app->running_deferred = 0;
}

/* ---- readiness ---- */

/* The in-memory registry is healthy when the core exists and its tables
 * are consistent enough to report stats. (Being at capacity is not
 * unhealthy: new sessions get FORBIDDEN, existing ones keep working.) */
int pvapp_ready_registry(pvapp *app, char *why, size_t cap) {
    if (!app->core) return snprintf(why, cap, "registry not initialised"), -1;
    pv_stats st;
    pv_core_stats(app->core, &st);
    if (st.participants > app->cfg->max_participants)
        return snprintf(why, cap, "registry inconsistent"), -1;
    return 0;
}

static void answer_ready(pvapp *app, pvapp_req *rq) {
    rq->waiting_ready = 0;
    char why[160];
    if (app->draining) {
        pvapp_reply_error(rq, 503, "NOT_READY", "shutting down", "Retry-After: 5\r\n");
    } else if (pvapp_ready_registry(app, why, sizeof why) < 0) {
        pvapp_reply_error(rq, 503, "NOT_READY", why, NULL);
    } else if (!app->ready_ok) {
        pvapp_reply_error(rq, 503, "NOT_READY", app->ready_reason, NULL);
    } else if (app->lk_rejected) {
        snprintf(why, sizeof why,
                 "livekit rejects the RoomService admin token (HTTP %d): check "
                 "LIVEKIT_API_KEY / LIVEKIT_API_SECRET",
                 app->lk_last_status);
        pvapp_reply_error(rq, 503, "NOT_READY", why, NULL);
    } else {
        pv_stats st;
        pv_core_stats(app->core, &st);
        char body[320];
        int64_t ago = app->lk_last_ok_ms ? app->now_ms - app->lk_last_ok_ms : -1;
        int n = snprintf(body, sizeof body,
                         "{\"status\":\"ready\",\"livekit\":\"ok\",\"rooms\":%u,"
                         "\"participants\":%u,\"livekitCallsInFlight\":%u,"
                         "\"livekitFailuresInARow\":%llu,\"livekitLastOkAgoMs\":%lld}",
                         st.rooms, st.participants, st.inflight_calls,
                         (unsigned long long)app->lk_failed_row, (long long)ago);
        pvapp_reply(rq, 200, "application/json", body, (size_t)n, NULL);
    }
}

static void answer_waiters(pvapp *app) {
    uint32_t n = app->n_ready_wait;
    app->n_ready_wait = 0;
    for (uint32_t i = 0; i < n; i++) {
        pvapp_req *rq = &app->reqs[app->ready_wait[i]];
        if (rq->in_use && rq->waiting_ready) answer_ready(app, rq);
    }
}

static void probe_done(void *ud, const pvhc_result *res) {
    pvapp *app = ud;
    app->ready_probe_inflight = 0;
    app->ready_probed = 1;
    app->ready_checked_ms = app->now_ms;
    app->ready_ok = res->status == 200;
    if (res->status == 0)
        snprintf(app->ready_reason, sizeof app->ready_reason, "livekit unreachable: %s",
                 res->error ? res->error : "no response");
    else if (!app->ready_ok)
        snprintf(app->ready_reason, sizeof app->ready_reason, "livekit answered HTTP %d",
                 res->status);
    if (!app->ready_ok && pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN, "not ready")) {
        pvlog_str(app->log, "reason", app->ready_reason);
        pvlog_end(app->log);
    }
    answer_waiters(app);
}

static void start_probe(pvapp *app) {
    static char url[PVCFG_STR_MAX + 8];
    snprintf(url, sizeof url, "%s/", app->lk_http_url);
    pvhc_request r = {.method = "GET", .url = url, .timeout_ms = app->cfg->livekit_timeout_ms};
    app->stats.ready_probes++;
    app->ready_probe_inflight = 1;
    int rc =
        app->shell.http_submit ? app->shell.http_submit(app->shell.ud, &r, probe_done, app) : -1;
    if (rc < 0) {
        app->ready_probe_inflight = 0;
        app->ready_ok = 0;
        app->ready_probed = 1;
        app->ready_checked_ms = app->now_ms;
        snprintf(app->ready_reason, sizeof app->ready_reason, "cannot probe livekit");
        answer_waiters(app);
    }
}

void pvapp_ready_request(pvapp *app, pvapp_req *rq) {
    int fresh = app->ready_probed && app->now_ms - app->ready_checked_ms < app->cfg->ready_cache_ms;
    if (app->draining || fresh) {
        answer_ready(app, rq);
        return;
    }
    if (app->n_ready_wait == PVAPP_MAX_READY_WAIT) {
        pvapp_reply_error(rq, 503, "NOT_READY", "too many readiness checks waiting",
                          "Retry-After: 1\r\n");
        return;
    }
    rq->waiting_ready = 1;
    app->ready_wait[app->n_ready_wait++] = (uint32_t)(rq - app->reqs);
    if (!app->ready_probe_inflight) start_probe(app);
}
