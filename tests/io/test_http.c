/*
 * test_http.c - pvh_conn on scripted bytes and fake time: parsing, limits,
 * keep-alive, pipelining, timeouts, upgrade hand-off. No sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conn.h"
#include "pv.h"
#include "t.h"

/* ---- a scripted peer ---- */

typedef struct rec {
    int n_requests;
    char paths[16][128];
    char bodies[16][256];
    int methods[16];
    int keep_alive[16];
    char auth[16][64];
    int defer; /* 1: do not answer in the handler */
    pvh_conn *waiting;
    int refused_status;
    int wakeups;
} rec;

static rec R;
static pvh_limits LIM = {.max_header_bytes = 2048,
                         .max_body_bytes = 4096,
                         .idle_timeout_ms = 5000,
                         .request_timeout_ms = 1000,
                         .write_timeout_ms = 2000};

static void answer(pvh_conn *c, int64_t now) {
    char body[160];
    int i = R.n_requests > 16 ? 15 : R.n_requests - 1;
    int n = snprintf(body, sizeof body, "{\"path\":\"%s\",\"len\":%zu}", R.paths[i],
                     strlen(R.bodies[i]));
    pvh_response r = {.status = 200,
                      .content_type = "application/json",
                      .body = body,
                      .body_len = (size_t)n,
                      .extra_headers = "X-Test: 1\r\n"};
    CHECK_EQ_INT(pvh_respond(c, &r, now), 0);
}

static int64_t NOW;

static void on_request(void *ud, pvh_conn *c, const pvh_request *req) {
    int i = R.n_requests++;
    if (i >= 16) i = 15; /* long pipelines overwrite the last slot */
    snprintf(R.paths[i], sizeof R.paths[i], "%s", req->path);
    snprintf(R.bodies[i], sizeof R.bodies[i], "%.*s", (int)req->body_len, req->body);
    R.methods[i] = req->method;
    R.keep_alive[i] = req->keep_alive;
    const pvh_header *h = pvh_header_find(req, "authorization", NULL);
    snprintf(R.auth[i], sizeof R.auth[i], "%s", h ? h->value : "");
    if (R.defer) {
        R.waiting = c;
        return;
    }
    answer(c, NOW);
}

static void on_refused(void *ud, pvh_conn *c, int status, const char *reason) {
    R.refused_status = status;
}

static void on_wakeup(void *ud, pvh_conn *c) {
    R.wakeups++;
}

static const pvh_handler H = {.on_request = on_request,
                              .on_refused = on_refused,
                              .on_wakeup = on_wakeup,
                              .date = "Fri, 21 Nov 2025 10:00:00 GMT"};

static pvh_conn *new_conn(void) {
    memset(&R, 0, sizeof R);
    NOW = 1000;
    pvh_conn *c = NULL;
    REQUIRE(pvh_conn_init(&c, &LIM, &H, 7, NOW) == 0);
    return c;
}

/* Feed bytes in chunks of `step` (0 = all at once). */
static void feed(pvh_conn *c, const char *s, size_t n, size_t step) {
    size_t off = 0;
    while (off < n) {
        size_t space;
        char *dst = pvh_conn_read_space(c, &space);
        if (space == 0) break;
        size_t k = n - off;
        if (step && k > step) k = step;
        if (k > space) k = space;
        memcpy(dst, s + off, k);
        pvh_conn_received(c, k, NOW);
        off += k;
    }
}
static void feeds(pvh_conn *c, const char *s) {
    feed(c, s, strlen(s), 0);
}

/* Take all queued output as a string (static buffer). */
static char OUT[200000];
static const char *drain_out(pvh_conn *c) {
    size_t len;
    const char *p = pvh_conn_output(c, &len);
    REQUIRE(len < sizeof OUT);
    memcpy(OUT, p, len);
    OUT[len] = '\0';
    pvh_conn_written(c, len, NOW);
    return OUT;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- tests ---- */

static void test_simple_get_keepalive(void) {
    pvh_conn *c = new_conn();
    feeds(c, "GET /health?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k\r\n\r\n");
    CHECK_EQ_INT(R.n_requests, 1);
    CHECK_STR(R.paths[0], "/health");
    CHECK_STR(R.auth[0], "Bearer k");
    CHECK_EQ_INT(R.keep_alive[0], 1);
    const char *o = drain_out(c);
    CHECK(strncmp(o, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(o, "Content-Length: 26\r\n") != NULL);
    CHECK(strstr(o, "Date: Fri, 21 Nov 2025 10:00:00 GMT\r\n") != NULL);
    CHECK(strstr(o, "X-Test: 1\r\n") != NULL);
    CHECK(strstr(o, "Connection: close") == NULL);
    CHECK(strstr(o, "\r\n\r\n{\"path\":\"/health\",\"len\":0}") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_OPEN);
    feeds(c, "POST /sessions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    CHECK_EQ_INT(R.n_requests, 2);
    CHECK_STR(R.bodies[1], "hello");
    o = drain_out(c);
    CHECK(strstr(o, "\"len\":5") != NULL);
    pvh_conn_free(c);
}

static void test_pipelined_in_order_and_fragmented(void) {
    const char *three =
        "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
    for (size_t step = 0; step <= 3; step++) {
        pvh_conn *c = new_conn();
        feed(c, three, strlen(three), step);
        CHECK_EQ_INT(R.n_requests, 3);
        CHECK_STR(R.paths[0], "/a");
        CHECK_STR(R.paths[1], "/b");
        CHECK_STR(R.bodies[1], "xyz");
        CHECK_STR(R.paths[2], "/c");
        CHECK_STR(R.bodies[2], "ab");
        const char *o = drain_out(c);
        CHECK_EQ_INT(count_of(o, "HTTP/1.1 200 OK"), 3);
        const char *a = strstr(o, "\"/a\""), *b = strstr(o, "\"/b\""), *cc = strstr(o, "\"/c\"");
        CHECK(a && b && cc && a < b && b < cc);
        pvh_conn_free(c);
    }
}

static void test_async_answer_holds_pipeline(void) {
    pvh_conn *c = new_conn();
    R.defer = 1;
    feeds(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ_INT(R.n_requests, 1); /* the second waits for the first answer */
    CHECK(pvh_conn_busy(c));
    size_t len;
    pvh_conn_output(c, &len);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(pvh_conn_wants_process(c), 0);
    R.defer = 0;
    int w = R.wakeups;
    answer(R.waiting, NOW);
    CHECK(R.wakeups > w);
    CHECK_EQ_INT(R.n_requests, 1); /* answering never re-enters the handler */
    CHECK(pvh_conn_wants_process(c));
    pvh_conn_process(c, NOW);
    CHECK_EQ_INT(R.n_requests, 2);
    const char *o = drain_out(c);
    CHECK(strstr(o, "\"/1\"") < strstr(o, "\"/2\""));
    /* a second answer to the same request is refused */
    pvh_response r = {.status = 200};
    CHECK_EQ_INT(pvh_respond(c, &r, NOW), PV_ESTATE);
    pvh_conn_free(c);
}

static void expect_refusal(const char *req, int status, const char *code) {
    pvh_conn *c = new_conn();
    feeds(c, req);
    const char *o = drain_out(c);
    char line[64];
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    CHECK(strncmp(o, line, strlen(line)) == 0);
    if (strncmp(o, line, strlen(line)) != 0) fprintf(stderr, "    %s\n    got: %.60s\n", req, o);
    CHECK(strstr(o, "Connection: close\r\n") != NULL);
    CHECK(strstr(o, code) != NULL);
    CHECK(strstr(o, "{\"error\":{\"code\":") != NULL);
    CHECK_EQ_INT(R.n_requests, 0);
    CHECK_EQ_INT(R.refused_status, status);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
}

static void test_limits(void) {
    char big[4096];
    /* headers beyond 2048 bytes */
    snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\nX-A: %02100d\r\n\r\n", 0);
    expect_refusal(big, 431, "INVALID_PAYLOAD");
    /* target beyond the limit */
    char url[3000];
    memset(url, 'a', sizeof url);
    url[0] = '/';
    snprintf(big, sizeof big, "GET %.2500s HTTP/1.1\r\nHost: a\r\n\r\n", url);
    expect_refusal(big, 414, "INVALID_PAYLOAD");
    /* too many header lines */
    size_t n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < PVH_MAX_HEADERS + 1; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "h%d: v\r\n", i);
    snprintf(big + n, sizeof big - n, "\r\n");
    expect_refusal(big, 431, "too many");
    /* body: refused from Content-Length before reading it */
    expect_refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4097\r\n\r\n", 413, "too large");
    /* chunked body crossing the limit */
    static char chunked[9000];
    memset(big, 'x', 3000);
    big[3000] = '\0';
    snprintf(chunked, sizeof chunked,
             "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
             "chunked\r\n\r\nbb8\r\n%s\r\nbb8\r\n%s\r\n0\r\n\r\n",
             big, big);
    expect_refusal(chunked, 413, "too large");
    /* exactly at the limit is fine */
    pvh_conn *c = new_conn();
    char body[4097];
    memset(body, 'b', 4096);
    body[4096] = '\0';
    char req[5000];
    snprintf(req, sizeof req, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n%s",
             body);
    feeds(c, req);
    CHECK_EQ_INT(R.n_requests, 1);
    pvh_conn_free(c);
}

static void test_malformed(void) {
    expect_refusal("GARBAGE\r\n\r\n", 400, "malformed");
    expect_refusal(
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
        "INVALID_PAYLOAD");
    expect_refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                   400, "Content-Length");
    expect_refusal("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400, "header");
    expect_refusal("GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", 417, "Expect");
    expect_refusal("GET / HTTP/1.1\r\n\r\n", 400, "Host");
    expect_refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host");
    expect_refusal("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400, "Host");
}

static void test_http10_and_connection_close(void) {
    pvh_conn *c = new_conn();
    feeds(c, "GET / HTTP/1.0\r\n\r\n");
    CHECK_EQ_INT(R.keep_alive[0], 0);
    const char *o = drain_out(c);
    CHECK(strstr(o, "Connection: close\r\n") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);

    c = new_conn();
    feeds(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    o = drain_out(c);
    CHECK(strstr(o, "Connection: keep-alive\r\n") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_OPEN);
    pvh_conn_free(c);

    c = new_conn();
    feeds(c, "GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: "
             "a\r\n\r\n");
    CHECK_EQ_INT(R.n_requests, 1); /* nothing after Connection: close */
    o = drain_out(c);
    CHECK(strstr(o, "Connection: close\r\n") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
}

static void test_expect_continue_and_head(void) {
    pvh_conn *c = new_conn();
    feeds(c, "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    const char *o = drain_out(c);
    CHECK_STR(o, "HTTP/1.1 100 Continue\r\n\r\n");
    feeds(c, "ok");
    CHECK_EQ_INT(R.n_requests, 1);
    CHECK_STR(R.bodies[0], "ok");
    drain_out(c);
    feeds(c, "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n");
    o = drain_out(c);
    CHECK(strstr(o, "Content-Length: 21\r\n") != NULL);
    CHECK(strstr(o, "\r\n\r\n")[4] == '\0'); /* no body after the head */
    pvh_conn_free(c);
}

static void test_timeouts(void) {
    /* slow request: 408 at request_timeout from the first byte */
    pvh_conn *c = new_conn();
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    CHECK_EQ_INT(pvh_conn_deadline_ms(c), 1000 + 1000);
    NOW = 1500;
    feeds(c, "a");
    CHECK_EQ_INT(pvh_conn_deadline_ms(c), 2000); /* trickling does not extend it */
    NOW = 2000;
    pvh_conn_timeout(c, NOW);
    const char *o = drain_out(c);
    CHECK(strncmp(o, "HTTP/1.1 408 ", 13) == 0);
    CHECK(strstr(o, "REQUEST_TIMEOUT") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);

    /* idle keep-alive closes at idle_timeout after the last response */
    c = new_conn();
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    NOW = 1200;
    drain_out(c);
    CHECK_EQ_INT(pvh_conn_deadline_ms(c), 1200 + 5000);
    NOW = 3000;
    feeds(c, "\r\n\r\n\r\n"); /* blank lines do not count as activity */
    CHECK_EQ_INT(pvh_conn_deadline_ms(c), 6200);
    pvh_conn_timeout(c, 6199);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_OPEN);
    pvh_conn_timeout(c, 6200);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    CHECK_STR(pvh_conn_close_reason(c), "idle timeout");
    pvh_conn_free(c);

    /* output not drained: write timeout */
    c = new_conn();
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ_INT(pvh_conn_deadline_ms(c), 1000 + 2000);
    pvh_conn_timeout(c, 3000);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    CHECK_STR(pvh_conn_close_reason(c), "write timeout");
    pvh_conn_free(c);

    /* waiting for an asynchronous answer: no connection deadline */
    c = new_conn();
    R.defer = 1;
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ_INT(pvh_conn_deadline_ms(c), INT64_MAX);
    pvh_conn_free(c);
}

static void test_output_backpressure(void) {
    pvh_conn *c = new_conn();
    /* thousands of pipelined requests from a client that never reads */
    static char many[40000];
    size_t n = 0;
    while (n + 20 < sizeof many)
        n += (size_t)snprintf(many + n, sizeof many - n, "GET /p HTTP/1.1\r\nHost: a\r\n\r\n");
    size_t fed = 0;
    for (int round = 0; round < 100; round++) {
        size_t space;
        char *dst = pvh_conn_read_space(c, &space);
        if (space == 0 || fed == n) break;
        size_t k = n - fed < space ? n - fed : space;
        memcpy(dst, many + fed, k);
        pvh_conn_received(c, k, NOW);
        fed += k;
    }
    size_t len;
    pvh_conn_output(c, &len);
    CHECK(len >= PVH_OUT_HIGH_BYTES);
    CHECK(len < PVH_OUT_HIGH_BYTES + 1024);
    size_t space;
    pvh_conn_read_space(c, &space);
    CHECK_EQ_INT(space, 0); /* the shell stops reading */
    int before = R.n_requests;
    drain_out(c); /* reading resumes the pipeline */
    CHECK(R.n_requests > before);
    pvh_conn_free(c);
}

static void test_eof_after_request_is_answered(void) {
    pvh_conn *c = new_conn();
    R.defer = 1;
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    pvh_conn_eof(c, NOW);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_OPEN);
    answer(R.waiting, NOW);
    const char *o = drain_out(c);
    CHECK(strstr(o, "Connection: close") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
    /* EOF in the middle of a request just closes */
    c = new_conn();
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\nHost");
    pvh_conn_eof(c, NOW);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
}

static void test_upgrade_leftover(void) {
    pvh_conn *c = new_conn();
    R.defer = 1;
    feeds(c, "GET /policy-socket HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
             "websocket\r\n\r\n"
             "\x81\x05hello");
    CHECK_EQ_INT(R.n_requests, 1);
    const char resp[] = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
    CHECK_EQ_INT(pvh_conn_upgrade(c, resp, sizeof resp - 1, NOW), 0);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_UPGRADED);
    size_t len;
    const char *left = pvh_conn_leftover(c, &len);
    CHECK_EQ_INT(len, 7);
    CHECK(memcmp(left, "\x81\x05hello", 7) == 0);
    CHECK_STR(drain_out(c), resp);
    pvh_conn_free(c);
    /* an upgrade request answered normally closes afterwards */
    c = new_conn();
    feeds(c, "GET /health HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
    const char *o = drain_out(c);
    CHECK(strstr(o, "Connection: close") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
}

static void test_drain(void) {
    pvh_conn *c = new_conn();
    R.defer = 1;
    feeds(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    pvh_conn_drain(c, NOW);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_OPEN); /* in-flight request finishes */
    answer(R.waiting, NOW);
    const char *o = drain_out(c);
    CHECK(strstr(o, "Connection: close") != NULL);
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
    c = new_conn();
    pvh_conn_drain(c, NOW); /* idle: closes at once */
    CHECK_EQ_INT(pvh_conn_state(c), PVH_CLOSED);
    pvh_conn_free(c);
}

/* Chunked trailers are counted against the header limit but never become
 * request headers (they would arrive after the request was assembled). */
static void test_chunked_trailers_ignored(void) {
    pvh_conn *c = new_conn();
    feeds(c, "POST /t HTTP/1.1\r\nHost: a\r\nAuthorization: a\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\nhi\r\n0\r\nAuthorization: trailer\r\nX-T: 1\r\n\r\n");
    CHECK_EQ_INT(R.n_requests, 1);
    CHECK_STR(R.bodies[0], "hi");
    CHECK_STR(R.auth[0], "a");
    CHECK(strncmp(drain_out(c), "HTTP/1.1 200", 12) == 0);
    pvh_conn_free(c);
}

int main(void) {
    T_RUN(test_chunked_trailers_ignored);
    T_RUN(test_simple_get_keepalive);
    T_RUN(test_pipelined_in_order_and_fragmented);
    T_RUN(test_async_answer_holds_pipeline);
    T_RUN(test_limits);
    T_RUN(test_malformed);
    T_RUN(test_http10_and_connection_close);
    T_RUN(test_expect_continue_and_head);
    T_RUN(test_timeouts);
    T_RUN(test_output_backpressure);
    T_RUN(test_eof_after_request_is_answered);
    T_RUN(test_upgrade_leftover);
    T_RUN(test_drain);
    return t_done("test_http");
}
