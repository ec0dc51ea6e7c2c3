/*
 * ws_main.c - runner of the policy socket protocol tests:
 * `test_ws DAEMON [FILTER]` runs every registered case (or those whose
 * name contains FILTER) against the real binary over loopback and prints
 * "ws: N passed, M failed". Also the kit of ws_kit.h.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json_out.h"
#include "secrets.h"
#include "tokens.h"
#include "ws_kit.h"

/* ---- kit ---- */

int ws_up(bb_daemon *d, bb_env *e, ...) {
    bb_env_default(e, bb_free_port(), bb_lk_port);
    bb_env_set(e, "LOG_LEVEL", getenv("WS_DEBUG") ? "debug" : "info");
    va_list ap;
    va_start(ap, e);
    int rc = bb_env_up(d, e, ap);
    va_end(ap);
    return rc;
}

int64_t ws_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ws_session(int port, const char *room, const char *participant, char *token) {
    char body[256];
    snprintf(body, sizeof body, "{\"participantId\":\"%s\",\"roomId\":\"%s\"}", participant, room);
    static bb_resp r;
    int st = bb_req(port, "POST", "/sessions", BB_AUTH BB_JSON, body, &r);
    token[0] = '\0';
    if (st == 200 && !wsc_str(r.body, "policySocketToken", token, WS_TOKEN_MAX)) return -1;
    return st;
}

int ws_poses(int port, const char *room, const ws_pose *p, int n) {
    /* strictly increasing: a pose not newer than the last one is stale */
    static int64_t last_ts;
    int64_t ts = ws_wall_ms();
    if (ts <= last_ts) ts = last_ts + 1;
    last_ts = ts;
    char body[8192];
    int w = snprintf(body, sizeof body, "{\"roomId\":\"%s\",\"timestampMs\":%lld,\"poses\":[", room,
                     (long long)ts);
    for (int i = 0; i < n; i++)
        w += snprintf(body + w, sizeof body - (size_t)w,
                      "%s{\"participantId\":\"%s\",\"position\":{\"x\":%g,\"y\":%g,\"z\":%g}}",
                      i ? "," : "", p[i].id, p[i].x, p[i].y, p[i].z);
    snprintf(body + w, sizeof body - (size_t)w, "]}");
    static bb_resp r;
    int st = bb_req(port, "POST", "/policy/poses", BB_AUTH BB_JSON, body, &r);
    if (getenv("WS_TRACE")) fprintf(stderr, "    poses %d %.*s\n", st, (int)r.body_len, r.body);
    /* every pose must count: a stale one would silently change nothing */
    if (st == 200 && wsc_int(r.body, "accepted") != n) return -2;
    return st;
}

int ws_mint(char *token, const char *room, const char *participant, int64_t issued_at_wall_ms,
            int64_t ttl_s) {
    pvsecret s;
    const char *why;
    memset(&s, 0, sizeof s);
    if (pvsecret_set(&s, BB_POL_SECRET, NULL, 0, &why) < 0) return -1;
    static char mem[PVTOK_BUF_BYTES];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    if (pvtok_policy_mint(&b, &s, room, participant, issued_at_wall_ms, ttl_s, NULL) < 0) return -1;
    snprintf(token, WS_TOKEN_MAX, "%s", b.p);
    return 0;
}

int ws_open_auth(wsc *c, int port, const char *token) {
    if (wsc_connect(c, port, NULL) < 0) return -1;
    char msg[WS_TOKEN_MAX + 64];
    snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"token\":\"%s\"}", token);
    return wsc_send_text(c, msg);
}

/* Messages that arrive on their own (pose batches every interval, audience
 * and delta changes) are skipped unless they are what the caller waits for. */
static int skippable(const char *type, const char *want) {
    return strcmp(type, want) != 0 &&
           (strcmp(type, "policy.pose.batch") == 0 || strcmp(type, "policy.audience") == 0 ||
            strcmp(type, "policy.audibility.delta") == 0);
}

int ws_expect(wsc *c, const char *type, int timeout_ms, char *out, size_t cap) {
    int64_t end = bb_now_ms() + timeout_ms;
    char t[64];
    const char *m;
    do {
        int left = (int)(end - bb_now_ms());
        m = wsc_recv(c, left < 0 ? 0 : left);
    } while (m && skippable(wsc_type(m, t, sizeof t), type));
    if (m && strcmp(t, type) == 0) {
        if (out) snprintf(out, cap, "%s", m);
        return 0;
    }
    fprintf(stderr, "  expected %s, got %s (closed %d code %u)\n", type, m ? m : "nothing",
            c->closed, c->close_code);
    return -1;
}

/* ---- runner ---- */

int main(int argc, char **argv) {
    bb_run_opts o = {.suite = "ws", .tmp_prefix = "pvws", .before = NULL};
    return bb_run_main(argc, argv, &o);
}
