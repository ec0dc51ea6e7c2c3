/*
 * test_ws_flow.c - state over the policy socket: delta sequences from
 * scripted poses (enter at 23.5 m, hold at 25.5 m, leave at 26.5 m),
 * snapshot recovery after a gap, reconnect inside the grace window, a
 * second connection replacing the first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_kit.h"

#define ROOM "room_flow"

static int two_players(bb_daemon *d, bb_env *e, char ta[WS_TOKEN_MAX], char tb[WS_TOKEN_MAX]) {
    if (ws_up(d, e, NULL) < 0) return -1;
    if (ws_session(d->port, ROOM, "p_a", ta) != 200) return -1;
    if (ws_session(d->port, ROOM, "p_b", tb) != 200) return -1;
    return 0;
}

static void teardown(bb_daemon *d, bb_env *e) {
    BB_CHECK_INT(bb_daemon_stop(d, 15, 3000), 0);
    bb_env_free(e);
}

/* Next delta within timeout_ms (other types skipped); NULL if none. */
static const char *next_delta(wsc *c, int timeout_ms, char *out, size_t cap) {
    int64_t end = bb_now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(end - bb_now_ms());
        const char *m = wsc_recv(c, left < 0 ? 0 : left);
        if (!m) return NULL;
        if (getenv("WS_TRACE")) fprintf(stderr, "    recv %.200s\n", m);
        if (strstr(m, "\"type\":\"policy.audibility.delta\"")) {
            snprintf(out, cap, "%s", m);
            return out;
        }
    }
}

static int poses_ab(int port, double bx) {
    ws_pose p[] = {{"p_a", 0, 0, 0}, {"p_b", bx, 0, 0}};
    return ws_poses(port, ROOM, p, 2);
}

BB_TEST(ws_delta_enter_hold_leave) {
    bb_daemon d;
    bb_env e;
    char ta[WS_TOKEN_MAX], tb[WS_TOKEN_MAX], m[4096], ids[256];
    BB_CHECK(two_players(&d, &e, ta, tb) == 0);
    wsc a, b;
    BB_CHECK(ws_open_auth(&a, d.port, ta) == 0);
    BB_CHECK(ws_open_auth(&b, d.port, tb) == 0);
    BB_CHECK(ws_expect(&a, "policy.snapshot", 2000, m, sizeof m) == 0);
    int64_t rev0 = wsc_int(m, "revision");
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && ids[0] == '\0');
    BB_CHECK(ws_expect(&b, "policy.snapshot", 2000, NULL, 0) == 0);

    /* enter: 23.5 m < R_enter 24 m */
    BB_CHECK_INT(poses_ab(d.port, 23.5), 200);
    BB_CHECK(next_delta(&a, 2000, m, sizeof m) != NULL);
    int64_t rev1 = wsc_int(m, "revision");
    BB_CHECK(rev1 > rev0);
    BB_CHECK_INT(wsc_int(m, "previousRevision"), rev0);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && strcmp(ids, "p_b") == 0);
    BB_CHECK(next_delta(&b, 2000, m, sizeof m) != NULL);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && strcmp(ids, "p_a") == 0);
    BB_CHECK_INT(wsc_int(m, "revision"), rev1);

    /* hold: 25.5 m is between R_enter and R_exit (26 m): no change */
    for (int i = 0; i < 4; i++) {
        BB_CHECK_INT(poses_ab(d.port, 25.5), 200);
        BB_CHECK(next_delta(&a, 300, m, sizeof m) == NULL);
    }
    BB_CHECK(next_delta(&b, 10, m, sizeof m) == NULL);

    /* leave: 26.5 m > R_exit */
    BB_CHECK_INT(poses_ab(d.port, 26.5), 200);
    BB_CHECK(next_delta(&a, 2000, m, sizeof m) != NULL);
    int64_t rev2 = wsc_int(m, "revision");
    BB_CHECK(rev2 > rev1);
    BB_CHECK_INT(wsc_int(m, "previousRevision"), rev1);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && ids[0] == '\0');
    BB_CHECK(next_delta(&b, 2000, m, sizeof m) != NULL);
    BB_CHECK_INT(wsc_int(m, "revision"), rev2);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && ids[0] == '\0');
    wsc_free(&a);
    wsc_free(&b);
    teardown(&d, &e);
}

BB_TEST(ws_audience_follows_listeners) {
    bb_daemon d;
    bb_env e;
    char ta[WS_TOKEN_MAX], tb[WS_TOKEN_MAX], m[4096], ids[256];
    BB_CHECK(two_players(&d, &e, ta, tb) == 0);
    wsc a;
    BB_CHECK(ws_open_auth(&a, d.port, ta) == 0);
    BB_CHECK(ws_expect(&a, "policy.snapshot", 2000, NULL, 0) == 0);
    BB_CHECK(ws_expect(&a, "policy.audience", 2000, m, sizeof m) == 0);
    int64_t arev0 = wsc_int(m, "revision");
    BB_CHECK(wsc_ids(m, "audience", ids, sizeof ids) && ids[0] == '\0');
    BB_CHECK_INT(poses_ab(d.port, 10), 200);
    /* b now hears a: a's audience names b, at a newer revision */
    const char *got = NULL;
    for (int i = 0; i < 20 && !got; i++) {
        const char *x = wsc_recv(&a, 1000);
        if (x && strstr(x, "\"type\":\"policy.audience\"")) got = x;
    }
    BB_CHECK(got != NULL);
    if (got) {
        BB_CHECK(wsc_int(got, "revision") > arev0);
        BB_CHECK(wsc_ids(got, "audience", ids, sizeof ids) && strcmp(ids, "p_b") == 0);
        snprintf(m, sizeof m,
                 "{\"type\":\"policy.audience.ack\",\"roomId\":\"" ROOM "\",\"revision\":%lld}",
                 (long long)wsc_int(got, "revision"));
        BB_CHECK(wsc_send_text(&a, m) == 0);
    }
    /* an ack naming another room is a policy violation */
    BB_CHECK(wsc_send_text(&a, "{\"type\":\"policy.audience.ack\",\"roomId\":\"other\","
                               "\"revision\":1}") == 0);
    BB_CHECK(ws_expect(&a, "policy.error", 2000, m, sizeof m) == 0);
    BB_CHECK(strstr(m, "\"code\":\"FORBIDDEN\"") != NULL);
    if (!strstr(m, "FORBIDDEN")) fprintf(stderr, "  got %s\n", m);
    BB_CHECK_INT(wsc_wait_close(&a, 2000), 1008);
    wsc_free(&a);
    teardown(&d, &e);
}

BB_TEST(ws_snapshot_after_gap) {
    bb_daemon d;
    bb_env e;
    char ta[WS_TOKEN_MAX], tb[WS_TOKEN_MAX], m[4096], ids[256];
    BB_CHECK(two_players(&d, &e, ta, tb) == 0);
    wsc a;
    BB_CHECK(ws_open_auth(&a, d.port, ta) == 0);
    BB_CHECK(ws_expect(&a, "policy.snapshot", 2000, m, sizeof m) == 0);
    int64_t local = wsc_int(m, "revision");
    /* the client "loses" the enter delta ... */
    BB_CHECK_INT(poses_ab(d.port, 10), 200);
    BB_CHECK(next_delta(&a, 2000, m, sizeof m) != NULL);
    int64_t lost = wsc_int(m, "revision");
    /* ... so the leave delta shows a gap: previousRevision != local */
    BB_CHECK_INT(poses_ab(d.port, 40), 200);
    BB_CHECK(next_delta(&a, 2000, m, sizeof m) != NULL);
    BB_CHECK_INT(wsc_int(m, "previousRevision"), lost);
    BB_CHECK(wsc_int(m, "previousRevision") != local);
    int64_t latest = wsc_int(m, "revision");
    /* recovery: ask for a snapshot, get the current set at >= latest */
    snprintf(m, sizeof m,
             "{\"type\":\"policy.snapshot.request\",\"roomId\":\"" ROOM
             "\",\"lastAppliedRevision\":%lld,\"reason\":\"revision_gap\"}",
             (long long)local);
    BB_CHECK(wsc_send_text(&a, m) == 0);
    BB_CHECK(ws_expect(&a, "policy.snapshot", 2000, m, sizeof m) == 0);
    BB_CHECK(wsc_int(m, "revision") >= latest);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && ids[0] == '\0');
    /* the next change continues from the snapshot's revision */
    int64_t snap = wsc_int(m, "revision");
    BB_CHECK_INT(poses_ab(d.port, 5), 200);
    BB_CHECK(next_delta(&a, 2000, m, sizeof m) != NULL);
    BB_CHECK_INT(wsc_int(m, "previousRevision"), snap);
    /* a snapshot request for another room: FORBIDDEN and 1008 */
    BB_CHECK(wsc_send_text(&a, "{\"type\":\"policy.snapshot.request\",\"roomId\":\"other\","
                               "\"lastAppliedRevision\":0}") == 0);
    BB_CHECK(ws_expect(&a, "policy.error", 2000, m, sizeof m) == 0);
    BB_CHECK(strstr(m, "\"code\":\"FORBIDDEN\"") != NULL);
    BB_CHECK_INT(wsc_wait_close(&a, 2000), 1008);
    wsc_free(&a);
    teardown(&d, &e);
}

BB_TEST(ws_reconnect_gets_fresh_snapshot) {
    bb_daemon d;
    bb_env e;
    char ta[WS_TOKEN_MAX], tb[WS_TOKEN_MAX], m[4096], ids[256];
    BB_CHECK(two_players(&d, &e, ta, tb) == 0);
    BB_CHECK_INT(poses_ab(d.port, 10), 200);
    bb_sleep_ms(400);
    wsc a;
    BB_CHECK(ws_open_auth(&a, d.port, ta) == 0);
    BB_CHECK(ws_expect(&a, "policy.snapshot", 2000, m, sizeof m) == 0);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && strcmp(ids, "p_b") == 0);
    int64_t rev = wsc_int(m, "revision");
    wsc_free(&a); /* network loss: no close frame */
    /* while a is away, b walks off */
    BB_CHECK_INT(poses_ab(d.port, 30), 200);
    bb_sleep_ms(600);
    /* back within the 20 s grace, with the same token */
    BB_CHECK(ws_open_auth(&a, d.port, ta) == 0);
    BB_CHECK(ws_expect(&a, "policy.snapshot", 2000, m, sizeof m) == 0);
    BB_CHECK(wsc_int(m, "revision") > rev);
    BB_CHECK(wsc_ids(m, "canHear", ids, sizeof ids) && ids[0] == '\0');
    BB_CHECK(ws_expect(&a, "policy.audience", 2000, NULL, 0) == 0);
    wsc_free(&a);
    teardown(&d, &e);
}

BB_TEST(ws_second_connection_replaces_first) {
    bb_daemon d;
    bb_env e;
    char ta[WS_TOKEN_MAX], tb[WS_TOKEN_MAX], m[4096];
    BB_CHECK(two_players(&d, &e, ta, tb) == 0);
    wsc one, two;
    BB_CHECK(ws_open_auth(&one, d.port, ta) == 0);
    BB_CHECK(ws_expect(&one, "policy.snapshot", 2000, NULL, 0) == 0);
    BB_CHECK(ws_open_auth(&two, d.port, ta) == 0);
    BB_CHECK(ws_expect(&two, "policy.snapshot", 2000, m, sizeof m) == 0);
    BB_CHECK_INT(wsc_wait_close(&one, 2000), 1008);
    BB_CHECK(strcmp(one.close_reason, "replaced") == 0);
    /* the survivor keeps working */
    BB_CHECK(wsc_send_text(&two, "{\"type\":\"policy.snapshot.request\",\"roomId\":\"" ROOM
                                 "\",\"lastAppliedRevision\":0}") == 0);
    BB_CHECK(ws_expect(&two, "policy.snapshot", 2000, NULL, 0) == 0);
    BB_CHECK(!two.closed);
    wsc_free(&one);
    wsc_free(&two);
    teardown(&d, &e);
}
