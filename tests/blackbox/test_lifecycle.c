/*
 * test_lifecycle.c - SIGTERM drains gracefully: in-flight requests are
 * answered, idle keep-alive connections close, no new connections, exit 0;
 * SHUTDOWN_TIMEOUT_MS bounds the wait.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bb.h"

static bb_resp R;

BB_TEST(lifecycle_sigterm_drains_in_flight_requests) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "SHUTDOWN_TIMEOUT_MS", "5000", NULL) == 0);
    bb_lk_set(200, 600); /* LiveKit answers slowly: /ready stays in flight */
    bb_conn inflight, idle;
    BB_CHECK(bb_connect(&idle, d.port, NULL) == 0);
    BB_CHECK(bb_do(&idle, "GET", "/health", NULL, NULL, &R) == 0 && R.status == 200);
    BB_CHECK(bb_connect(&inflight, d.port, NULL) == 0);
    bb_sends(&inflight, "GET /ready HTTP/1.1\r\nHost: a\r\n\r\n");
    bb_sleep_ms(150);
    int64_t t0 = bb_now_ms();
    bb_daemon_signal(&d, SIGTERM);
    BB_CHECK(bb_wait_closed(&idle, 1000)); /* idle keep-alive closes at once */
    BB_CHECK(bb_now_ms() - t0 < 500);
    bb_conn late;
    bb_sleep_ms(50);
    BB_CHECK(bb_connect(&late, d.port, NULL) < 0); /* no longer accepting */
    BB_CHECK(bb_read(&inflight, &R, 3000) == 0);   /* the in-flight request is answered */
    BB_CHECK_INT(R.status, 503);
    BB_CHECK(strstr(R.body, "shutting down") != NULL);
    char v[32];
    BB_CHECK(bb_header(&R, "connection", v, sizeof v) && strcmp(v, "close") == 0);
    BB_CHECK_INT(bb_daemon_stop(&d, 0, 3000), 0); /* exits 0 by itself */
    bb_close(&inflight);
    bb_close(&idle);
    static char log[1 << 16];
    bb_daemon_log(&d, log, sizeof log);
    BB_CHECK(strstr(log, "\"message\":\"shutting down: draining\"") != NULL);
    BB_CHECK(strstr(log, "\"message\":\"drained, exiting\"") != NULL);
    bb_env_free(&e);
}

BB_TEST(lifecycle_shutdown_timeout_bounds_the_drain) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "SHUTDOWN_TIMEOUT_MS", "300", "REQUEST_TIMEOUT_MS", "60000", NULL) == 0);
    bb_conn half;
    BB_CHECK(bb_connect(&half, d.port, NULL) == 0);
    bb_sends(&half, "GET /health HTTP/1.1\r\nHost: a\r\nX-Never: ");
    bb_sleep_ms(50);
    int64_t t0 = bb_now_ms();
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 3000), 0);
    int64_t took = bb_now_ms() - t0;
    BB_CHECK(took >= 280 && took < 1500);
    bb_close(&half);
    static char log[1 << 16];
    bb_daemon_log(&d, log, sizeof log);
    BB_CHECK(strstr(log, "shutdown timeout") != NULL);
    bb_env_free(&e);
}

BB_TEST(lifecycle_sigint_and_sighup_keep_serving) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    bb_conn c;
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    BB_CHECK(bb_do(&c, "GET", "/health", NULL, NULL, &R) == 0);
    for (int i = 0; i < 3; i++) {
        bb_daemon_signal(&d, SIGHUP); /* nothing from files: a no-op reload */
        bb_sleep_ms(30);
        BB_CHECK(bb_do(&c, "GET", "/health", NULL, NULL, &R) == 0 && R.status == 200);
    }
    bb_close(&c);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGINT, 3000), 0);
    bb_env_free(&e);
}
