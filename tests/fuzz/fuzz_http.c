/*
 * fuzz_http - the whole HTTP request path on bytes: pvh_conn (http-parser,
 * limits, pipelining, keep-alive, timeouts) driving the real app (CORS,
 * routing, rate limits, auth, JSON schema, core step, token minting,
 * response framing), with no sockets.
 *
 * Input layout: byte 0 picks the read chunk size (fragmentation), byte 1
 * picks whether the peer half-closes; the rest is the byte stream a client
 * sends. Properties checked besides "no crash / no sanitizer report":
 *  - every byte of output is well-framed: it starts with "HTTP/1.1 " and
 *    each response's Content-Length matches what follows its head;
 *  - the connection never holds more than PVH_OUT_HIGH + one response of
 *    output, and always ends up closed or idle after the input is consumed
 *    and every deadline has passed.
 */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "http_conn.h"
#include "log.h"

static pvcfg cfg;
static pvlog logger;
static pvapp *app;
static int64_t now_ms = 1000000, wall_ms = 1760000000000;

static const char *env_get(void *ud, const char *name) {
    static const char *const kv[][2] = {
        {"NODE_ENV", "development"},
        {"LIVEKIT_API_KEY", "devkey"},
        {"LIVEKIT_API_SECRET", "livekit-secret-0123456789abcdef01234"},
        {"POLICY_SOCKET_JWT_SECRET", "policy-secret-0123456789abcdef012345"},
        {"EXTERNAL_SHARED_SECRET", "external-secret-0123456789abcdef0123"},
        {"CORS_ALLOWED_ORIGINS", "https://game.example.com"},
        {"MAX_HEADER_BYTES", "2048"},
        {"MAX_BODY_BYTES", "16384"},
        {"MAX_POLICY_BATCH_SIZE", "64"},
        {"MAX_ROOMS", "64"},
        {"MAX_PARTICIPANTS", "512"},
        {"MAX_CONNECTIONS", "8"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (strcmp(kv[i][0], name) == 0) return kv[i][1];
    return NULL;
}

static int no_file(void *ud, const char *path, char *buf, size_t cap, const char **why) {
    *why = "no files in the fuzzer";
    return -1;
}

/* LiveKit is never reachable here: refusing is a legal answer (the app must
 * then fail /ready and the core's calls without re-entering the core). */
static int submit(void *ud, const pvhc_request *r, pvhc_done_fn done, void *done_ud) {
    return -3; /* PV_EFULL */
}
static void arm(void *ud, int64_t wake) {}

static void on_request(void *ud, pvh_conn *c, const pvh_request *req) {
    pvapp_on_request(app, c, req);
}
static void on_refused(void *ud, pvh_conn *c, int status, const char *reason) {
    pvapp_on_refused(app, c, status, reason);
}

static pvh_handler handler = {.on_request = on_request, .on_refused = on_refused};
static pvh_limits limits;

static void setup(void) {
    pvcfg_source src = {env_get, no_file, NULL};
    char err[PVCFG_ERR_MAX];
    if (pvcfg_load(&cfg, &src, err) < 0) {
        fprintf(stderr, "fuzz_http config: %s\n", err);
        abort();
    }
    pvlog_init(&logger, -1, PV_LOG_DEBUG);
    pvapp_shell sh = {.http_submit = submit, .arm_timer = arm};
    if (pvapp_new(&app, &cfg, &logger, &sh, now_ms, wall_ms, 42, err) < 0) {
        fprintf(stderr, "fuzz_http app: %s\n", err);
        abort();
    }
    handler.date = pvapp_date(app);
    limits = (pvh_limits){.max_header_bytes = cfg.max_header_bytes,
                          .max_body_bytes = cfg.max_body_bytes,
                          .idle_timeout_ms = 5000,
                          .request_timeout_ms = 2000,
                          .write_timeout_ms = 2000};
}

/* Check that out[0..n) is a sequence of complete, well-framed responses
 * (a 100 Continue has no body). Returns the bytes that form complete ones. */
static size_t check_framing(const char *out, size_t n) {
    size_t off = 0;
    while (off < n) {
        assert(n - off >= 9 && memcmp(out + off, "HTTP/1.1 ", 9) == 0);
        const char *end = memmem(out + off, n - off, "\r\n\r\n", 4);
        assert(end);
        size_t head = (size_t)(end + 4 - (out + off));
        const char *cl = memmem(out + off, head, "Content-Length: ", 16);
        size_t body = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
        if (off + head + body > n) return off;
        off += head + body;
    }
    return off;
}

static void drain(pvh_conn *c, char *sink, size_t *sink_len, size_t cap) {
    size_t len;
    const char *p = pvh_conn_output(c, &len);
    assert(len <= PVH_OUT_HIGH_BYTES + PVH_OUT_MAX_BYTES);
    size_t take = len < cap - *sink_len ? len : cap - *sink_len;
    memcpy(sink + *sink_len, p, take);
    *sink_len += take;
    pvh_conn_written(c, len, now_ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!app) setup();
    if (size < 2) return 0;
    size_t chunk = 1 + data[0] % 64 * (data[0] & 0x80 ? 64 : 1);
    int half_close = data[1] & 1, head_seen = 0;
    data += 2;
    size -= 2;
    now_ms += 1000; /* rate-limit buckets refill between inputs */
    wall_ms += 1000;
    pvapp_set_time(app, now_ms, wall_ms);
    pvh_conn *c = NULL;
    if (pvh_conn_init(&c, &limits, &handler, 1, now_ms) < 0) return 0;
    pvh_conn_set_peer(c, "192.0.2.1");
    static char sink[1 << 20];
    size_t sink_len = 0, off = 0;
    head_seen = memmem(data, size, "HEAD ", 5) != NULL;
    while (off < size && pvh_conn_state(c) != PVH_CLOSED) {
        size_t space;
        char *dst = pvh_conn_read_space(c, &space);
        if (space == 0) {
            drain(c, sink, &sink_len, sizeof sink);
            pvh_conn_read_space(c, &space);
            if (space == 0) break;
            continue;
        }
        size_t k = size - off < chunk ? size - off : chunk;
        if (k > space) k = space;
        memcpy(dst, data + off, k);
        off += k;
        pvh_conn_received(c, k, now_ms);
        if (off % 3 == 0) drain(c, sink, &sink_len, sizeof sink);
    }
    if (half_close) pvh_conn_eof(c, now_ms);
    for (int i = 0; i < 4 && pvh_conn_state(c) != PVH_CLOSED; i++) {
        drain(c, sink, &sink_len, sizeof sink);
        if (pvh_conn_wants_process(c)) pvh_conn_process(c, now_ms);
        int64_t d = pvh_conn_deadline_ms(c);
        if (d != INT64_MAX) {
            now_ms = d > now_ms ? d : now_ms;
            pvapp_set_time(app, now_ms, wall_ms);
            pvh_conn_timeout(c, now_ms);
        }
    }
    drain(c, sink, &sink_len, sizeof sink);
    if (!head_seen && sink_len < sizeof sink) assert(check_framing(sink, sink_len) == sink_len);
    assert(pvh_conn_state(c) == PVH_CLOSED || pvh_conn_idle(c) || pvh_conn_busy(c) ||
           pvh_conn_state(c) == PVH_UPGRADED || pvh_conn_wants_process(c) == 0);
    pvapp_conn_closed(app, c);
    pvh_conn_free(c);
    logger.len = 0;
    return 0;
}
