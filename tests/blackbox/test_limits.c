/*
 * test_limits.c - every limit of the HTTP server, on real sockets: header
 * and body bytes, connections (total and per IP), idle and slow-request
 * timeouts (slowloris must not starve others), keep-alive and pipelining.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bb.h"

static bb_resp R;

BB_TEST(limits_header_and_body_bytes) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "MAX_HEADER_BYTES", "2048", "MAX_BODY_BYTES", "4096",
                   "MAX_POLICY_BATCH_SIZE", "10", NULL) == 0);
    char hdr[4096];
    snprintf(hdr, sizeof hdr, "X-Pad: %03000d\r\n", 0);
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", hdr, NULL, &R), 431);
    BB_CHECK(bb_error_code(&R, "INVALID_PAYLOAD"));
    static char body[8192];
    memset(body, ' ', 5000);
    body[0] = '{';
    body[4999] = '}';
    body[5000] = '\0';
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 413);
    BB_CHECK(bb_error_code(&R, "INVALID_PAYLOAD"));
    char v[64];
    BB_CHECK(bb_header(&R, "connection", v, sizeof v) && strcmp(v, "close") == 0);
    /* refused from Content-Length alone: the answer comes before any body byte */
    bb_conn c;
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    bb_sends(&c,
             "POST /sessions HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n" BB_AUTH BB_JSON
             "\r\n");
    BB_CHECK(bb_read(&c, &R, 2000) == 0 && R.status == 413);
    BB_CHECK(bb_wait_closed(&c, 2000));
    bb_close(&c);
    /* at the limit it is accepted (and fails only JSON validation) */
    memset(body, ' ', 4096);
    body[0] = '{';
    body[4095] = '}';
    body[4096] = '\0';
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 400);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(limits_keepalive_and_pipelining) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    bb_conn c;
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    for (int i = 0; i < 20; i++)
        BB_CHECK(bb_do(&c, "GET", "/health", NULL, NULL, &R) == 0);
    char body[256];
    bb_session_body(body, sizeof body, "pipe", "p1");
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                     "POST /sessions HTTP/1.1\r\nHost: a\r\n" BB_AUTH BB_JSON
                     "Content-Length: %zu\r\n\r\n%s"
                     "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                     "GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
                     strlen(body), body);
    BB_CHECK(bb_send(&c, req, (size_t)n) == 0); /* all four in one segment */
    int want[] = {200, 200, 404, 200};
    for (int i = 0; i < 4; i++) {
        BB_CHECK(bb_read(&c, &R, 3000) == 0);
        BB_CHECK_INT(R.status, want[i]);
        if (i == 1) BB_CHECK(strstr(R.body, "\"participantId\":\"p1\"") != NULL);
    }
    /* Connection: close is honoured */
    BB_CHECK(bb_do(&c, "GET", "/health", "Connection: close\r\n", NULL, &R) == 0);
    BB_CHECK(bb_wait_closed(&c, 2000));
    bb_close(&c);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(limits_idle_and_request_timeouts) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "IDLE_TIMEOUT_MS", "300", "REQUEST_TIMEOUT_MS", "400", NULL) == 0);
    bb_conn c;
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    BB_CHECK(bb_do(&c, "GET", "/health", NULL, NULL, &R) == 0);
    int64_t t0 = bb_now_ms();
    BB_CHECK(bb_wait_closed(&c, 2000));
    int64_t idle = bb_now_ms() - t0;
    BB_CHECK(idle >= 250 && idle < 1000);
    bb_close(&c);
    /* a request trickling in slower than REQUEST_TIMEOUT_MS gets 408 */
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    t0 = bb_now_ms();
    bb_sends(&c, "GET /health HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 6; i++) {
        bb_sleep_ms(100);
        bb_sends(&c, "X-A: b\r\n");
    }
    BB_CHECK(bb_read(&c, &R, 2000) == 0);
    BB_CHECK_INT(R.status, 408);
    BB_CHECK(bb_error_code(&R, "REQUEST_TIMEOUT"));
    int64_t took = bb_now_ms() - t0;
    BB_CHECK(took >= 380 && took < 1200);
    BB_CHECK(bb_wait_closed(&c, 1000));
    bb_close(&c);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(limits_connections_total_and_idle_eviction) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "MAX_CONNECTIONS", "4", "REQUEST_TIMEOUT_MS", "3000", NULL) == 0);
    bb_conn busy[4], extra, idle;
    /* four connections, each in the middle of a request: not evictable */
    for (int i = 0; i < 4; i++) {
        BB_CHECK(bb_connect(&busy[i], d.port, NULL) == 0);
        bb_sends(&busy[i], "GET /health HTTP/1.1\r\nHost: a\r\nX-Half: ");
    }
    bb_sleep_ms(100);
    BB_CHECK(bb_connect(&extra, d.port, NULL) == 0);
    BB_CHECK(bb_read(&extra, &R, 2000) == 0); /* refused at once, not left hanging */
    BB_CHECK_INT(R.status, 503);
    BB_CHECK(bb_wait_closed(&extra, 1000));
    bb_close(&extra);
    /* finish one: it becomes idle keep-alive; a newcomer evicts it */
    bb_sends(&busy[0], "1\r\n\r\n");
    BB_CHECK(bb_read(&busy[0], &R, 2000) == 0 && R.status == 200);
    BB_CHECK(bb_connect(&idle, d.port, NULL) == 0);
    BB_CHECK(bb_do(&idle, "GET", "/health", NULL, NULL, &R) == 0 && R.status == 200);
    BB_CHECK(bb_wait_closed(&busy[0], 1000)); /* the idle one was closed for it */
    for (int i = 0; i < 4; i++)
        bb_close(&busy[i]);
    bb_close(&idle);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

/* Slowloris from one address: capped per IP and cut at REQUEST_TIMEOUT_MS,
 * while a client on another address keeps getting fast answers. */
BB_TEST(limits_slowloris_does_not_starve_others) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "MAX_CONNECTIONS", "32", "MAX_CONNECTIONS_PER_IP", "8",
                   "REQUEST_TIMEOUT_MS", "1500", NULL) == 0);
    enum { N = 40 };
    static bb_conn slow[N];
    int refused = 0, opened = 0;
    for (int i = 0; i < N; i++) {
        if (bb_connect(&slow[i], d.port, "127.0.0.2") < 0) continue;
        opened++;
        bb_sends(&slow[i], "POST /sessions HTTP/1.1\r\nHost: a\r\nX-S");
    }
    bb_sleep_ms(100);
    for (int i = 0; i < N; i++) {
        if (slow[i].fd < 0) continue;
        bb_resp r;
        if (bb_read(&slow[i], &r, 50) == 0 && r.status == 429) refused++;
    }
    BB_CHECK_INT(opened, N);
    BB_CHECK_INT(refused, N - 8);
    bb_conn good;
    BB_CHECK(bb_connect(&good, d.port, "127.0.0.3") == 0);
    int64_t worst = 0;
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < N; i++)
            if (slow[i].fd >= 0) bb_sends(&slow[i], "x"); /* keep dribbling */
        int64_t t0 = bb_now_ms();
        BB_CHECK(bb_do(&good, "GET", "/health", NULL, NULL, &R) == 0 && R.status == 200);
        int64_t dt = bb_now_ms() - t0;
        if (dt > worst) worst = dt;
        bb_sleep_ms(100);
    }
    BB_CHECK(worst < 200);
    /* the slow ones are cut with 408 once REQUEST_TIMEOUT_MS passed */
    int timed_out = 0;
    for (int i = 0; i < N; i++) {
        if (slow[i].fd < 0) continue;
        bb_resp r;
        if (bb_read(&slow[i], &r, 1500) == 0 && r.status == 408) timed_out++;
        bb_close(&slow[i]);
    }
    BB_CHECK_INT(timed_out, 8);
    bb_close(&good);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(limits_malformed_requests) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
        "POST /sessions HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: "
        "chunked\r\n\r\n",
        "GET /health HTTP/2.0\r\n\r\n",
    };
    int want[] = {400, 400, 400, 505};
    for (int i = 0; i < 4; i++) {
        bb_conn c;
        BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
        bb_sends(&c, bad[i]);
        BB_CHECK(bb_read(&c, &R, 2000) == 0);
        if (R.status != want[i]) fprintf(stderr, "  case %d: %d\n", i, R.status);
        BB_CHECK_INT(R.status, want[i]);
        BB_CHECK(strncmp(R.body, "{\"error\":{\"code\":", 17) == 0);
        BB_CHECK(bb_wait_closed(&c, 1000));
        bb_close(&c);
    }
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", NULL, NULL, &R), 200); /* still serving */
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

/* A client that pipelines requests and never reads: the daemon stops
 * parsing once answers pile up, stops reading, and closes the connection
 * when its output makes no progress for WRITE_TIMEOUT_MS. */
BB_TEST(limits_write_timeout_for_a_client_that_never_reads) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "WRITE_TIMEOUT_MS", "300", NULL) == 0);
    bb_conn c;
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    int small = 4096;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    static char reqs[1 << 20];
    size_t n = 0;
    while (n + 32 < sizeof reqs)
        n += (size_t)snprintf(reqs + n, sizeof reqs - n, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
    size_t sent = 0;
    int64_t end = bb_now_ms() + 1000;
    while (sent < n && bb_now_ms() < end) { /* loopback buffers may take it all */
        ssize_t w = send(c.fd, reqs + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0)
            sent += (size_t)w;
        else
            bb_sleep_ms(20);
    }
    bb_sleep_ms(1500);                  /* > WRITE_TIMEOUT_MS without reading */
    BB_CHECK(bb_wait_closed(&c, 3000)); /* drains what was sent, then EOF/RST */
    bb_close(&c);
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", NULL, NULL, &R), 200);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    static char log[1 << 25]; /* every pipelined request is logged at debug */
    bb_daemon_log(&d, log, sizeof log);
    BB_CHECK(strstr(log, "\"reason\":\"write timeout\"") != NULL);
    bb_env_free(&e);
}
