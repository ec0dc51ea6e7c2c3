/*
 * app_webhook.c - POST /livekit/webhook: LiveKit's events (participant
 * joined/left, microphone track published/unpublished, room finished) into
 * the core as PV_EV_WEBHOOK.
 *
 * Authentication is LiveKit's own (tokens.h pvtok_webhook_verify: HS256
 * under LIVEKIT_API_SECRET, iss = LIVEKIT_API_KEY, sha256 of the raw body),
 * not the external authority's. nginx does not expose this path; LiveKit
 * posts to the daemon on loopback. Irrelevant events are acknowledged (200)
 * so LiveKit does not retry them.
 */
#include "app_int.h"

#include <string.h>
#include <strings.h>

#include "tokens.h"

static int webhook_content_type(const pvh_request *r) {
    uint32_t n = 0;
    const pvh_header *h = pvh_header_find(r, "content-type", &n);
    if (!h || n != 1) return 0;
    return strncasecmp(h->value, "application/webhook+json", 24) == 0 ||
           strncasecmp(h->value, "application/json", 16) == 0;
}

static void route_webhook(void *ud, pvapp_req *rq) {
    pvapp *app = rq->app;
    const pvh_request *r = rq->http;
    uint32_t n = 0;
    const pvh_header *auth = pvh_header_find(r, "authorization", &n);
    int rc = n == 1 ? pvtok_webhook_verify(auth->value, auth->value_len, app->cfg->livekit_api_key,
                                           &app->lk_secret, r->body, r->body_len, app->wall_ms,
                                           PVJWT_DEFAULT_LEEWAY_MS)
                    : PV_EINVAL;
    if (rc < 0) {
        if (pvlog_begin(app->log, app->wall_ms, PV_LOG_WARN, "webhook rejected")) {
            pvlog_ids(app->log, NULL, NULL, rq->request_id, 0);
            pvlog_str(app->log, "reason", n == 1 ? pvjwt_strerror(rc) : "no Authorization");
            pvlog_end(app->log);
        }
        pvapp_reply_api_error(rq, PV_ERR_UNAUTHORIZED, "invalid webhook signature", NULL);
        return;
    }
    if (!webhook_content_type(r)) {
        pvapp_reply_error(rq, 415, "INVALID_PAYLOAD",
                          "Content-Type must be application/webhook+json", NULL);
        return;
    }
    pvj_webhook wh;
    pvj_err jerr;
    if (pvj_parse_webhook(app->json, r->body, r->body_len, &wh, &jerr) < 0) {
        pvapp_reply_api_error(rq, PV_ERR_INVALID_PAYLOAD, jerr.message, NULL);
        return;
    }
    if (pvlog_begin(app->log, app->wall_ms, PV_LOG_DEBUG, "webhook")) {
        pvlog_ids(app->log, wh.relevant ? wh.wh.room_id : NULL, wh.relevant ? wh.wh.identity : NULL,
                  rq->request_id, 0);
        pvlog_str(app->log, "event", wh.event);
        pvlog_int(app->log, "relevant", wh.relevant);
        pvlog_end(app->log);
    }
    static const char ok[] = "{}";
    if (wh.relevant) {
        pv_event ev = {.type = PV_EV_WEBHOOK};
        ev.u.webhook = wh.wh;
        pvapp_step(app, &ev);
    }
    pvapp_reply(rq, 200, "application/json", ok, sizeof ok - 1, NULL);
}

int pvapp_route_webhook(pvapp *app) {
    return pvapp_route_add(app, HTTP_POST, "/livekit/webhook", 0, PVAPP_LIMIT_NONE, route_webhook,
                           NULL);
}
