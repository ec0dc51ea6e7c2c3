/*
 * test_ws_limits.c - transport limits of the policy socket against the
 * running daemon: close codes for broken frames, the message size limit,
 * message floods, keepalive and idle timeout, shutdown, and a slow consumer
 * that must get coalesced state instead of a backlog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "ws_kit.h"

#define ROOM "room_lim"

static void teardown(bb_daemon *d, bb_env *e) {
    BB_CHECK_INT(bb_daemon_stop(d, 15, 3000), 0);
    bb_env_free(e);
}

/* An authenticated socket of p_a (session created here). */
static int authed(wsc *c, int port) {
    char t[WS_TOKEN_MAX];
    int st = ws_session(port, ROOM, "p_a", t);
    if (st != 200 || ws_open_auth(c, port, t) < 0) return -1;
    return ws_expect(c, "policy.snapshot", 2000, NULL, 0);
}

BB_TEST(ws_close_codes) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, NULL) == 0);
    wsc c;
    /* binary message: 1003 */
    BB_CHECK(authed(&c, d.port) == 0);
    BB_CHECK(wsc_send_binary(&c, "\x01\x02", 2) == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1003);
    wsc_free(&c);
    /* invalid UTF-8 in a text message: 1007 */
    BB_CHECK(authed(&c, d.port) == 0);
    BB_CHECK(wsc_send_text(&c, "{\"type\":\"\xff\xfe\"}") == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1007);
    wsc_free(&c);
    /* an unmasked client frame: 1002 */
    BB_CHECK(authed(&c, d.port) == 0);
    BB_CHECK(wsc_send_raw(&c, "\x81\x02hi", 4) == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1002);
    wsc_free(&c);
    /* a reserved opcode (0x3): 1002 */
    BB_CHECK(authed(&c, d.port) == 0);
    BB_CHECK(wsc_send_raw(&c, "\x83\x80\x01\x02\x03\x04", 6) == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1002);
    wsc_free(&c);
    /* the client closes normally: the server answers 1000 and hangs up */
    BB_CHECK(authed(&c, d.port) == 0);
    BB_CHECK(wsc_close(&c, 1000) == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1000);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_message_size_limit) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, NULL) == 0); /* POLICY_SOCKET_MAX_MESSAGE_BYTES=4096 */
    wsc c;
    BB_CHECK(authed(&c, d.port) == 0);
    char *big = malloc(4098);
    memset(big, 'x', 4097);
    big[4096] = '\0'; /* exactly the limit: parsed (and rejected as JSON), kept open */
    BB_CHECK(wsc_send_text(&c, big) == 0);
    char m[4096];
    BB_CHECK(ws_expect(&c, "policy.error", 2000, m, sizeof m) == 0);
    BB_CHECK(strstr(m, "\"code\":\"INVALID_PAYLOAD\"") != NULL);
    BB_CHECK(!c.closed);
    /* an unknown message type is an error, not a close */
    BB_CHECK(wsc_send_text(&c, "{\"type\":\"policy.hello\"}") == 0);
    BB_CHECK(ws_expect(&c, "policy.error", 2000, m, sizeof m) == 0);
    BB_CHECK(strstr(m, "unknown message type") != NULL);
    big[4096] = 'x';
    big[4097] = '\0'; /* one byte over: 1009 */
    BB_CHECK(wsc_send_text(&c, big) == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1009);
    wsc_free(&c);
    /* a fragmented message is limited as a whole: 3 x 2000 bytes */
    BB_CHECK(authed(&c, d.port) == 0);
    unsigned char frame[2008];
    for (int i = 0; i < 3; i++) {
        frame[0] = (unsigned char)((i == 2 ? 0x80 : 0x00) | (i == 0 ? 0x1 : 0x0));
        frame[1] = 0x80 | 126;
        frame[2] = 2000 >> 8;
        frame[3] = 2000 & 0xff;
        memset(frame + 4, 0, 4); /* mask 0: payload as is */
        memset(frame + 8, ' ', 2000);
        if (wsc_send_raw(&c, frame, sizeof frame) < 0) break;
    }
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1009);
    wsc_free(&c);
    free(big);
    teardown(&d, &e);
}

BB_TEST(ws_message_flood) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, NULL) == 0);
    wsc c;
    BB_CHECK(authed(&c, d.port) == 0);
    /* 20 messages per second, burst 40: the 41st at once is too many */
    for (int i = 0; i < 60 && !c.closed; i++)
        wsc_send_text(&c, "{\"type\":\"policy.audience.ack\",\"revision\":0}");
    char m[4096];
    BB_CHECK(ws_expect(&c, "policy.error", 2000, m, sizeof m) == 0);
    BB_CHECK(strstr(m, "\"code\":\"RATE_LIMITED\"") != NULL);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1008);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_ping_and_idle_timeout) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, "POLICY_SOCKET_PING_INTERVAL_MS", "200", "POLICY_SOCKET_IDLE_TIMEOUT_MS",
                   "700", NULL) == 0);
    wsc c;
    BB_CHECK(authed(&c, d.port) == 0);
    /* a live client answers pings (wslay does): still open after 2 s */
    wsc_pump(&c, 2000);
    BB_CHECK(!c.closed);
    /* a client that stops answering is closed 1001 */
    bb_sleep_ms(1500);
    BB_CHECK_INT(wsc_wait_close(&c, 2000), 1001);
    BB_CHECK(strcmp(c.close_reason, "idle timeout") == 0);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_shutdown_closes_1001) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, NULL) == 0);
    wsc c;
    BB_CHECK(authed(&c, d.port) == 0);
    BB_CHECK(bb_daemon_signal(&d, 15) == 0);
    BB_CHECK_INT(wsc_wait_close(&c, 3000), 1001);
    BB_CHECK(strcmp(c.close_reason, "server shutting down") == 0);
    wsc_free(&c);
    teardown(&d, &e); /* exit status 0 once the socket is gone */
}

/* ---- slow consumer ---- */

#define SLOW_N 13 /* the listener and 12 speakers (the default cap) */

static void slow_id(char *out, int i) {
    /* 64-byte ids make every snapshot ~1 KB */
    snprintf(out, PV_ID_MAX + 1, "slow_%02d_%057d", i, 0);
}

typedef struct slow_state {
    int64_t rev;
    char ids[2048];
    int snapshots, deltas, gaps, others;
} slow_state;

static void apply(slow_state *s, const char *m) {
    char t[64];
    wsc_type(m, t, sizeof t);
    if (strcmp(t, "policy.snapshot") == 0) {
        s->snapshots++;
        s->rev = wsc_int(m, "revision");
        wsc_ids(m, "canHear", s->ids, sizeof s->ids);
    } else if (strcmp(t, "policy.audibility.delta") == 0) {
        s->deltas++;
        if (wsc_int(m, "previousRevision") != s->rev) s->gaps++;
        s->rev = wsc_int(m, "revision");
        wsc_ids(m, "canHear", s->ids, sizeof s->ids);
    } else {
        s->others++;
    }
}

static int slow_poses(int port, double x12) {
    ws_pose p[SLOW_N];
    static char ids[SLOW_N][PV_ID_MAX + 1];
    for (int i = 0; i < SLOW_N; i++) {
        slow_id(ids[i], i);
        p[i] = (ws_pose){ids[i], i == 12 ? x12 : i, 0, 0};
    }
    return ws_poses(port, ROOM, p, SLOW_N);
}

static void slow_request(wsc *c) {
    wsc_send_text(c, "{\"type\":\"policy.snapshot.request\",\"roomId\":\"" ROOM
                     "\",\"lastAppliedRevision\":0}");
}

BB_TEST(ws_slow_consumer_gets_coalesced_state) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, "POLICY_SOCKET_QUEUE_BYTES", "16384", "POLICY_SOCKET_SEND_BUFFER_BYTES",
                   "4096", "MAX_ROOM_SIZE", "16", "MAX_POLICY_BATCH_SIZE", "16", NULL) == 0);
    char tok[WS_TOKEN_MAX], t2[WS_TOKEN_MAX], id[PV_ID_MAX + 1];
    for (int i = 0; i < SLOW_N; i++) {
        slow_id(id, i);
        BB_CHECK_INT(ws_session(d.port, ROOM, id, i == 0 ? tok : t2), 200);
    }
    BB_CHECK_INT(slow_poses(d.port, 12), 200);
    bb_sleep_ms(400);
    wsc c;
    wsc_opts o = {.rcvbuf = 4096};
    BB_CHECK(wsc_connect(&c, d.port, &o) == 0);
    char auth[WS_TOKEN_MAX + 64];
    snprintf(auth, sizeof auth, "{\"type\":\"auth\",\"token\":\"%s\"}", tok);
    BB_CHECK(wsc_send_text(&c, auth) == 0);
    slow_state s = {0};
    int requested = 0;
    /* phase 1: stop reading, ask for ~65 snapshots (~65 KB) */
    for (int i = 0; i < 35; i++, requested++)
        slow_request(&c);
    for (int i = 0; i < 30; i++, requested++) {
        bb_sleep_ms(66);
        slow_request(&c);
    }
    /* phase 2: deltas while the pipe is full: speaker 12 in, out, in... */
    for (int i = 0; i < 8; i++) {
        BB_CHECK_INT(slow_poses(d.port, i % 2 ? 12 : 40), 200);
        bb_sleep_ms(300);
    }
    /* phase 3: read everything until quiet */
    const char *m;
    while ((m = wsc_recv(&c, 1500)) != NULL)
        apply(&s, m);
    BB_CHECK(!c.closed);
    /* one more change after the resync: it must continue the chain */
    BB_CHECK_INT(slow_poses(d.port, 40), 200);
    while ((m = wsc_recv(&c, 1000)) != NULL)
        apply(&s, m);
    fprintf(stderr, "  slow consumer: %d requested, %d snapshots, %d deltas, %d gaps, %d other\n",
            requested, s.snapshots, s.deltas, s.gaps, s.others);
    /* state was dropped, not queued: fewer snapshots than asked for (+1 auth) */
    BB_CHECK(s.snapshots < requested + 1);
    BB_CHECK(s.snapshots >= 2);
    /* ...but never a gap the client would have to notice */
    BB_CHECK_INT(s.gaps, 0);
    BB_CHECK(s.deltas >= 1);
    /* and the final state is the server's */
    slow_request(&c);
    char snap[4096], ids[2048];
    BB_CHECK(ws_expect(&c, "policy.snapshot", 2000, snap, sizeof snap) == 0);
    BB_CHECK(wsc_ids(snap, "canHear", ids, sizeof ids) && strcmp(ids, s.ids) == 0);
    BB_CHECK_INT(wsc_int(snap, "revision"), s.rev);
    static char log[1 << 20];
    bb_daemon_log(&d, log, sizeof log);
    BB_CHECK(strstr(log, "policy socket slow: queued state dropped") != NULL);
    wsc_free(&c);
    teardown(&d, &e);
}

BB_TEST(ws_socket_cap) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(ws_up(&d, &e, "MAX_POLICY_SOCKETS", "2", NULL) == 0);
    wsc a, b, c;
    BB_CHECK(wsc_connect(&a, d.port, NULL) == 0);
    BB_CHECK(wsc_connect(&b, d.port, NULL) == 0);
    wsc_pump(&a, 100); /* let the daemon hand both sockets over */
    BB_CHECK(wsc_connect(&c, d.port, NULL) < 0);
    BB_CHECK_INT(c.http_status, 503);
    wsc_free(&c);
    wsc_free(&a);
    bb_sleep_ms(200);
    BB_CHECK(wsc_connect(&c, d.port, NULL) == 0);
    wsc_free(&b);
    wsc_free(&c);
    teardown(&d, &e);
}
