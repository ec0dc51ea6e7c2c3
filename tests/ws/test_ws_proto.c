/*
 * test_ws_proto.c - policy socket protocol against the running daemon:
 * handshake, auth (success, failures, expiry, deadline, rate limit),
 * snapshots, delta sequences from scripted poses, snapshot requests,
 * reconnect and replacement.
 */
#include <stdio.h>
#include <string.h>

#include "ws_kit.h"

#define ROOM "room_ws"

/* A daemon and sessions for the given participants (tokens[i]). */
static int setup(bb_daemon *d, bb_env *e, const char *const *ids, int n,
                 char tokens[][WS_TOKEN_MAX]) {
    if (ws_up(d, e, NULL) < 0) return -1;
    for (int i = 0; i < n; i++)
        if (ws_session(d->port, ROOM, ids[i], tokens[i]) != 200) return -1;
    return 0;
}

static void teardown(bb_daemon *d, bb_env *e) {
    bb_daemon_stop(d, 15, 3000);
    bb_env_free(e);
}

BB_TEST(ws_handshake_accept) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, "CORS_ALLOWED_ORIGINS", "http://game.test", NULL) == 0);
    wsc c;
    /* wsc_connect checks 101 and Sec-WebSocket-Accept against the key */
    BB_CHECK(wsc_connect(&c, d.port, NULL) == 0);
    wsc_free(&c);
    /* the RFC 6455 4.2.2 sample key gives the sample accept value */
    wsc_opts o = {.key = "dGhlIHNhbXBsZSBub25jZQ=="};
    BB_CHECK(wsc_connect(&c, d.port, &o) == 0);
    BB_CHECK(strstr(c.http_head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != NULL);
    wsc_free(&c);
    wsc_opts ok_origin = {.extra_headers = "Origin: http://game.test\r\n"};
    BB_CHECK(wsc_connect(&c, d.port, &ok_origin) == 0);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_handshake_refused) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, "CORS_ALLOWED_ORIGINS", "http://game.test", NULL) == 0);
    wsc c;
    wsc_opts bad_origin = {.extra_headers = "Origin: http://evil.test\r\n"};
    BB_CHECK(wsc_connect(&c, d.port, &bad_origin) < 0);
    BB_CHECK_INT(c.http_status, 403);
    wsc_free(&c);
    wsc_opts v8 = {.version = "8"};
    BB_CHECK(wsc_connect(&c, d.port, &v8) < 0);
    BB_CHECK_INT(c.http_status, 426);
    BB_CHECK(strstr(c.http_head, "Sec-WebSocket-Version: 13\r\n") != NULL);
    wsc_free(&c);
    wsc_opts badkey = {.key = "short"};
    BB_CHECK(wsc_connect(&c, d.port, &badkey) < 0);
    BB_CHECK_INT(c.http_status, 400);
    wsc_free(&c);
    wsc_opts other_path = {.path = "/policy-socket-x"};
    BB_CHECK(wsc_connect(&c, d.port, &other_path) < 0);
    BB_CHECK_INT(c.http_status, 404);
    wsc_free(&c);
    /* a plain GET (no Upgrade) on the socket path */
    bb_resp r;
    BB_CHECK_INT(bb_req(d.port, "GET", "/policy-socket", "", NULL, &r), 400);
    teardown(&d, &e);
}

BB_TEST(ws_auth_snapshot_audience) {
    bb_daemon d;
    bb_env e;
    const char *ids[] = {"p_a", "p_b"};
    char tok[2][WS_TOKEN_MAX];
    BB_CHECK(setup(&d, &e, ids, 2, tok) == 0);
    ws_pose ps[] = {{"p_a", 0, 0, 0}, {"p_b", 10, 0, 0}};
    BB_CHECK_INT(ws_poses(d.port, ROOM, ps, 2), 200);
    bb_sleep_ms(400); /* one recompute: a and b hear each other */
    wsc c;
    BB_CHECK(ws_open_auth(&c, d.port, tok[0]) == 0);
    char m[4096], v[256];
    BB_CHECK(ws_expect(&c, "policy.snapshot", 2000, m, sizeof m) == 0);
    BB_CHECK(wsc_str(m, "roomId", v, sizeof v) && strcmp(v, ROOM) == 0);
    BB_CHECK(wsc_str(m, "participantId", v, sizeof v) && strcmp(v, "p_a") == 0);
    BB_CHECK(wsc_ids(m, "canHear", v, sizeof v) && strcmp(v, "p_b") == 0);
    int64_t rev = wsc_int(m, "revision");
    BB_CHECK(rev >= 1);
    BB_CHECK(ws_expect(&c, "policy.audience", 2000, m, sizeof m) == 0);
    BB_CHECK(wsc_ids(m, "audience", v, sizeof v) && strcmp(v, "p_b") == 0);
    /* a pose batch with b's pose follows within one interval */
    const char *pb = wsc_recv(&c, 1000);
    BB_CHECK(pb && strstr(pb, "\"type\":\"policy.pose.batch\"") && strstr(pb, "\"p_b\""));
    /* the audience ack is accepted silently (with or without roomId) */
    snprintf(m, sizeof m, "{\"type\":\"policy.audience.ack\",\"revision\":%lld}", (long long)rev);
    BB_CHECK(wsc_send_text(&c, m) == 0);
    BB_CHECK(wsc_recv_skip(&c, "policy.pose.batch", 500) == NULL && !c.closed);
    wsc_free(&c);
    teardown(&d, &e);
}

/* Expect policy.error code then close 1008 (or `close`). */
static void expect_error_close(wsc *c, const char *code, int close) {
    char m[4096], v[64];
    BB_CHECK(ws_expect(c, "policy.error", 2000, m, sizeof m) == 0);
    BB_CHECK(wsc_str(m, "code", v, sizeof v) && strcmp(v, code) == 0);
    if (strcmp(v, code) != 0) fprintf(stderr, "  got %s\n", m);
    BB_CHECK_INT(wsc_wait_close(c, 3000), close);
}

BB_TEST(ws_auth_failures) {
    bb_daemon d;
    bb_env e;
    const char *ids[] = {"p_a"};
    char tok[1][WS_TOKEN_MAX];
    BB_CHECK(setup(&d, &e, ids, 1, tok) == 0);
    wsc c;
    /* a token whose signature was changed */
    char bad[WS_TOKEN_MAX];
    snprintf(bad, sizeof bad, "%s", tok[0]);
    size_t n = strlen(bad);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    BB_CHECK(ws_open_auth(&c, d.port, bad) == 0);
    expect_error_close(&c, "UNAUTHORIZED", 1008);
    wsc_free(&c);
    /* anything before auth */
    BB_CHECK(wsc_connect(&c, d.port, NULL) == 0);
    wsc_send_text(&c, "{\"type\":\"policy.snapshot.request\",\"roomId\":\"" ROOM
                      "\",\"lastAppliedRevision\":0}");
    expect_error_close(&c, "UNAUTHORIZED", 1008);
    wsc_free(&c);
    /* malformed JSON before auth */
    BB_CHECK(wsc_connect(&c, d.port, NULL) == 0);
    wsc_send_text(&c, "{\"type\":\"auth\",\"token\":}");
    expect_error_close(&c, "INVALID_PAYLOAD", 1008);
    wsc_free(&c);
    /* a valid token for a room without sessions / a participant without one */
    char t2[WS_TOKEN_MAX];
    BB_CHECK(ws_mint(t2, "room_none", "p_a", ws_wall_ms(), 300) == 0);
    BB_CHECK(ws_open_auth(&c, d.port, t2) == 0);
    expect_error_close(&c, "ROOM_NOT_FOUND", 1008);
    wsc_free(&c);
    BB_CHECK(ws_mint(t2, ROOM, "p_nobody", ws_wall_ms(), 300) == 0);
    BB_CHECK(ws_open_auth(&c, d.port, t2) == 0);
    expect_error_close(&c, "PARTICIPANT_NOT_FOUND", 1008);
    wsc_free(&c);
    /* the real token still works */
    BB_CHECK(ws_open_auth(&c, d.port, tok[0]) == 0);
    BB_CHECK(ws_expect(&c, "policy.snapshot", 2000, NULL, 0) == 0);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_auth_expired_token) {
    bb_daemon d;
    bb_env e;
    const char *ids[] = {"p_a"};
    char tok[1][WS_TOKEN_MAX];
    BB_CHECK(setup(&d, &e, ids, 1, tok) == 0);
    char old[WS_TOKEN_MAX];
    /* issued an hour ago with a 60 s lifetime: far beyond the 30 s leeway */
    BB_CHECK(ws_mint(old, ROOM, "p_a", ws_wall_ms() - 3600 * 1000, 60) == 0);
    wsc c;
    BB_CHECK(ws_open_auth(&c, d.port, old) == 0);
    expect_error_close(&c, "UNAUTHORIZED", 1008);
    wsc_free(&c);
    /* not yet valid: issued in an hour */
    BB_CHECK(ws_mint(old, ROOM, "p_a", ws_wall_ms() + 3600 * 1000, 60) == 0);
    BB_CHECK(ws_open_auth(&c, d.port, old) == 0);
    expect_error_close(&c, "UNAUTHORIZED", 1008);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_auth_deadline) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, NULL) == 0);
    wsc c;
    BB_CHECK(wsc_connect(&c, d.port, NULL) == 0);
    int64_t t0 = bb_now_ms();
    /* the core's socket_auth_deadline_ms is 5000 */
    BB_CHECK_INT(wsc_wait_close(&c, 7000), 1008);
    int64_t ms = bb_now_ms() - t0;
    BB_CHECK(ms >= 4500 && ms <= 6500);
    BB_CHECK(strcmp(c.close_reason, "auth timeout") == 0);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_auth_rate_limited) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, "RATE_LIMIT_SOCKET_AUTH_IP", "1:2", NULL) == 0);
    BB_CHECK_INT(ws_session(d.port, ROOM, "p_a", (char[WS_TOKEN_MAX]){0}), 200);
    char t[WS_TOKEN_MAX];
    BB_CHECK(ws_mint(t, ROOM, "p_a", ws_wall_ms(), 300) == 0);
    wsc c;
    for (int i = 0; i < 2; i++) { /* the burst: two attempts */
        BB_CHECK(ws_open_auth(&c, d.port, t) == 0);
        BB_CHECK(ws_expect(&c, "policy.snapshot", 2000, NULL, 0) == 0);
        wsc_free(&c);
    }
    BB_CHECK(ws_open_auth(&c, d.port, t) == 0);
    expect_error_close(&c, "RATE_LIMITED", 1011);
    wsc_free(&c);
    teardown(&d, &e);
}
