/*
 * test_ws_conn.c - the WebSocket connection on bytes (io/ws_conn.c) and
 * the opening handshake (io/ws_hs.c), driven with hand-built frames and
 * fake time: framing, limits and close codes, keepalive, and the bounded,
 * coalescing output queue (drop state, keep the audience, resync once).
 */
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "t.h"
#include "ws_conn.h"
#include "ws_hs.h"

/* ---- helpers ---- */

typedef struct rx {
    char msgs[16][8192];
    size_t lens[16];
    int n;
} rx;

static void on_text(void *ud, pvws_conn *c, const char *msg, size_t len) {
    rx *r = ud;
    if (r->n < 16) {
        memcpy(r->msgs[r->n], msg, len < 8192 ? len : 8191);
        r->lens[r->n++] = len;
    }
}

/* A masked client frame into out; returns its length. */
static size_t frame(uint8_t *out, int fin, int op, const char *p, size_t n) {
    static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        out[h++] = (uint8_t)(0x80 | n);
    } else {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = (uint8_t)p[i] ^ mask[i % 4];
    return h + n;
}

/* Server output split into frames. */
typedef struct frames {
    int op[64];
    char payload[64][8192];
    size_t len[64];
    int n;
} frames;

/* Take everything the connection wants to write and parse it. */
static void drain(pvws_conn *c, frames *f, int64_t now) {
    static uint8_t all[1 << 20];
    size_t total = 0, len;
    const char *p;
    while ((p = pvws_conn_output(c, &len)) != NULL && len > 0) {
        memcpy(all + total, p, len);
        total += len;
        pvws_conn_written(c, len, now);
    }
    f->n = 0;
    for (size_t off = 0; off + 2 <= total && f->n < 64;) {
        int op = all[off] & 0x0f;
        size_t n = all[off + 1] & 0x7f, h = 2;
        if (n == 126) n = (size_t)all[off + 2] << 8 | all[off + 3], h = 4;
        REQUIRE(!(all[off + 1] & 0x80)); /* server frames are never masked */
        f->op[f->n] = op;
        memcpy(f->payload[f->n], all + off + h, n < 8191 ? n : 8191);
        f->payload[f->n][n < 8191 ? n : 8191] = '\0';
        f->len[f->n++] = n;
        off += h + n;
    }
}

static uint16_t close_code(const frames *f, int i) {
    return (uint16_t)((uint8_t)f->payload[i][0] << 8 | (uint8_t)f->payload[i][1]);
}

static pvws_conn *mk(rx *r, pvws_limits *lim) {
    pvws_limits l;
    pvws_limits_default(&l);
    if (lim) l = *lim;
    pvws_handler h = {.on_text = on_text, .ud = r};
    pvws_conn *c = NULL;
    REQUIRE(pvws_conn_new(&c, &l, &h, 1000) == 0);
    return c;
}

static void feed(pvws_conn *c, int fin, int op, const char *p, size_t n, int64_t now) {
    static uint8_t buf[70000];
    size_t len = frame(buf, fin, op, p, n);
    pvws_conn_received(c, (const char *)buf, len, now);
}

/* ---- handshake ---- */

static void test_accept_vector(void) {
    char out[PVWS_ACCEPT_LEN + 1];
    pvws_hs_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out); /* RFC 6455 1.3 */
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char resp[PVWS_HS_RESP_MAX];
    int n = pvws_hs_response(resp, sizeof resp, "dGhlIHNhbXBsZSBub25jZQ==");
    REQUIRE(n > 0);
    CHECK(strstr(resp, "HTTP/1.1 101 Switching Protocols\r\n") == resp);
    CHECK(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n") != NULL);
    CHECK(pvws_hs_response(resp, 20, "dGhlIHNhbXBsZSBub25jZQ==") == PV_EOVERFLOW);
}

static void hdr(pvh_request *r, const char *name, const char *value) {
    pvh_header *h = &r->headers[r->header_count++];
    h->name = name;
    h->value = value;
    h->name_len = (uint32_t)strlen(name);
    h->value_len = (uint32_t)strlen(value);
}

static void base_req(pvh_request *r) {
    memset(r, 0, sizeof *r);
    r->method_name = "GET";
    r->http_minor = 1;
    hdr(r, "upgrade", "WebSocket");
    hdr(r, "connection", "keep-alive, Upgrade");
    hdr(r, "sec-websocket-version", "13");
    hdr(r, "sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
}

static void test_handshake_checks(void) {
    pvh_request r;
    char key[PVWS_KEY_LEN + 1];
    int status = 0;
    const char *why = NULL;
    base_req(&r);
    CHECK(pvws_hs_check(&r, key, &status, &why) == 0);
    CHECK_STR(key, "dGhlIHNhbXBsZSBub25jZQ==");
    base_req(&r);
    r.method_name = "POST";
    CHECK(pvws_hs_check(&r, key, &status, &why) < 0 && status == 400);
    base_req(&r);
    r.http_minor = 0;
    CHECK(pvws_hs_check(&r, key, &status, &why) < 0 && status == 400);
    base_req(&r);
    r.headers[1].value = "keep-alive";
    r.headers[1].value_len = 10;
    CHECK(pvws_hs_check(&r, key, &status, &why) < 0 && status == 400);
    base_req(&r);
    r.headers[2].value = "8";
    r.headers[2].value_len = 1;
    CHECK(pvws_hs_check(&r, key, &status, &why) < 0 && status == 426);
    base_req(&r);
    hdr(&r, "sec-websocket-version", "13"); /* repeated */
    CHECK(pvws_hs_check(&r, key, &status, &why) < 0 && status == 426);
    /* empty, short, unpadded, bad padding, 17 bytes */
    static const char *bad_keys[] = {"", "abc", "dGhlIHNhbXBsZSBub25jZQ",
                                     "dGhlIHNhbXBsZSBub25jZQ=x", "dGhlIHNhbXBsZSBub25jZSE="};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        base_req(&r);
        r.headers[3].value = bad_keys[i];
        r.headers[3].value_len = (uint32_t)strlen(bad_keys[i]);
        CHECK(pvws_hs_check(&r, key, &status, &why) < 0 && status == 400);
    }
}

/* ---- frames in ---- */

static void test_text_and_fragments(void) {
    rx r = {0};
    pvws_conn *c = mk(&r, NULL);
    feed(c, 1, 1, "{\"a\":1}", 7, 1001);
    REQUIRE(r.n == 1);
    CHECK(r.lens[0] == 7 && memcmp(r.msgs[0], "{\"a\":1}", 7) == 0);
    /* a fragmented message with a ping in the middle */
    feed(c, 0, 1, "hel", 3, 1002);
    feed(c, 1, 9, "p", 1, 1002);
    feed(c, 1, 0, "lo", 2, 1002);
    REQUIRE(r.n == 2);
    CHECK(r.lens[1] == 5 && memcmp(r.msgs[1], "hello", 5) == 0);
    frames f;
    drain(c, &f, 1003);
    REQUIRE(f.n == 1);
    CHECK(f.op[0] == 0xA && f.len[0] == 1 && f.payload[0][0] == 'p'); /* pong echoes */
    /* bytes split anywhere give the same messages */
    uint8_t buf[64];
    size_t n = frame(buf, 1, 1, "split", 5);
    for (size_t i = 0; i < n; i++)
        pvws_conn_received(c, (const char *)buf + i, 1, 1004);
    REQUIRE(r.n == 3);
    CHECK(memcmp(r.msgs[2], "split", 5) == 0);
    CHECK(!pvws_conn_closing(c));
    pvws_conn_free(c);
}

/* Feed one frame, expect a close frame with code and no text delivered. */
static void expect_close(int fin, int op, const char *p, size_t n, uint16_t code) {
    rx r = {0};
    pvws_limits l;
    pvws_limits_default(&l);
    l.max_msg_bytes = 64;
    pvws_conn *c = mk(&r, &l);
    feed(c, fin, op, p, n, 1001);
    frames f;
    drain(c, &f, 1002);
    CHECK(r.n == 0);
    REQUIRE(f.n >= 1);
    CHECK(f.op[f.n - 1] == 0x8);
    CHECK_EQ_INT(close_code(&f, f.n - 1), code);
    CHECK(pvws_conn_closing(c));
    CHECK_EQ_INT(pvws_conn_close_sent(c), code);
    /* our own close (1003) waits for the peer's answer; wslay's do not */
    CHECK(pvws_conn_done(c) == (code != 1003));
    pvws_conn_free(c);
}

static void test_close_codes(void) {
    char big[65];
    memset(big, 'x', sizeof big);
    expect_close(1, 2, "\x01", 1, 1003); /* binary */
    expect_close(1, 1, "\xff", 1, 1007); /* invalid UTF-8 */
    expect_close(1, 1, big, 65, 1009);   /* over max_msg_bytes */
    expect_close(1, 3, "", 0, 1002);     /* reserved opcode */
    expect_close(1, 0, "x", 1, 1002);    /* continuation without a start */
    /* unmasked client frame */
    rx r = {0};
    pvws_conn *c = mk(&r, NULL);
    pvws_conn_received(c, "\x81\x02hi", 4, 1001);
    frames f;
    drain(c, &f, 1002);
    REQUIRE(f.n == 1);
    CHECK(f.op[0] == 8 && close_code(&f, 0) == 1002);
    /* a failed connection does not wait for the peer's close frame */
    CHECK(pvws_conn_done(c));
    pvws_conn_free(c);
}

static void test_peer_close_handshake(void) {
    rx r = {0};
    pvws_conn *c = mk(&r, NULL);
    feed(c, 1, 8, "\x03\xe8", 2, 1001); /* 1000 */
    CHECK_EQ_INT(pvws_conn_close_received(c), 1000);
    CHECK(!pvws_conn_done(c)); /* the echo is not written yet */
    frames f;
    drain(c, &f, 1002);
    REQUIRE(f.n == 1);
    CHECK(f.op[0] == 8 && close_code(&f, 0) == 1000);
    CHECK(pvws_conn_done(c));
    /* nothing is sent after a close */
    CHECK(pvws_conn_send(c, PVWS_MSG_OTHER, "x", 1) == PV_ESTATE);
    pvws_conn_free(c);
}

/* ---- close from our side ---- */

static void test_close_keeps_errors_drops_state(void) {
    rx r = {0};
    pvws_conn *c = mk(&r, NULL);
    /* fill the socket side first so that the queue holds messages */
    static char blob[20000];
    memset(blob, 'b', sizeof blob);
    CHECK(pvws_conn_send(c, PVWS_MSG_OTHER, blob, sizeof blob) == 0);
    size_t len;
    pvws_conn_output(c, &len); /* framed, not written: the rest stays queued */
    CHECK(pvws_conn_send(c, PVWS_MSG_SNAPSHOT, "snap", 4) == 0);
    CHECK(pvws_conn_send(c, PVWS_MSG_OTHER, "err", 3) == 0);
    pvws_conn_close(c, 1008, "bad token", 2000);
    frames f;
    drain(c, &f, 2001);
    REQUIRE(f.n == 3);
    CHECK(f.op[0] == 1 && f.len[0] == sizeof blob);
    CHECK(f.op[1] == 1 && strcmp(f.payload[1], "err") == 0);
    CHECK(f.op[2] == 8 && close_code(&f, 2) == 1008);
    CHECK(strcmp(f.payload[2] + 2, "bad token") == 0);
    CHECK(!pvws_conn_done(c));
    /* the peer never answers: done after close_timeout_ms */
    CHECK_EQ_INT(pvws_conn_deadline_ms(c), 2000 + 2000);
    pvws_conn_timeout(c, 3999);
    CHECK(!pvws_conn_done(c));
    pvws_conn_timeout(c, 4000);
    CHECK(pvws_conn_done(c));
    pvws_conn_free(c);
}

/* ---- keepalive ---- */

static void test_ping_and_idle(void) {
    rx r = {0};
    pvws_limits l;
    pvws_limits_default(&l);
    l.ping_interval_ms = 100;
    l.idle_timeout_ms = 350;
    pvws_conn *c = mk(&r, &l); /* created at 1000 */
    CHECK_EQ_INT(pvws_conn_deadline_ms(c), 1100);
    pvws_conn_timeout(c, 1100);
    frames f;
    drain(c, &f, 1100);
    REQUIRE(f.n == 1);
    CHECK(f.op[0] == 9);
    feed(c, 1, 10, "", 0, 1150); /* pong: activity */
    pvws_conn_timeout(c, 1200);
    pvws_conn_timeout(c, 1300);
    pvws_conn_timeout(c, 1400);
    CHECK(!pvws_conn_closing(c));
    CHECK_EQ_INT(pvws_conn_deadline_ms(c), 1500); /* the idle deadline is 1150+350 */
    pvws_conn_timeout(c, 1500);
    CHECK(pvws_conn_closing(c));
    drain(c, &f, 1500);
    REQUIRE(f.n >= 1);
    CHECK(f.op[f.n - 1] == 8 && close_code(&f, f.n - 1) == 1001);
    CHECK_STR(pvws_conn_reason(c), "idle timeout");
    pvws_conn_free(c);
}

/* ---- the output queue ---- */

static pvws_conn *mk_small(rx *r) {
    pvws_limits l;
    pvws_limits_default(&l);
    l.queue_max_bytes = PVWS_MIN_QUEUE_BYTES; /* 16 KB; frames only below 4 KB */
    return mk(r, &l);
}

/* Fill the socket side: 4 KB framed and unwritten. */
static void block_socket(pvws_conn *c) {
    static char blob[4096];
    memset(blob, 'z', sizeof blob);
    REQUIRE(pvws_conn_send(c, PVWS_MSG_OTHER, blob, sizeof blob) == 0);
    size_t len;
    pvws_conn_output(c, &len);
    REQUIRE(len > 4096);
}

static void test_coalescing(void) {
    rx r = {0};
    pvws_conn *c = mk_small(&r);
    block_socket(c);
    CHECK(pvws_conn_send(c, PVWS_MSG_POSES, "poses1", 6) == 0);
    CHECK(pvws_conn_send(c, PVWS_MSG_AUDIENCE, "aud1", 4) == 0);
    CHECK(pvws_conn_send(c, PVWS_MSG_DELTA, "delta1", 6) == 0);
    CHECK(pvws_conn_send(c, PVWS_MSG_POSES, "poses2", 6) == 0);
    CHECK(pvws_conn_send(c, PVWS_MSG_AUDIENCE, "aud2", 4) == 0);
    pvws_stats st;
    pvws_conn_get_stats(c, &st);
    CHECK_EQ_INT(st.coalesced, 2);
    frames f;
    drain(c, &f, 1001);
    REQUIRE(f.n == 4);
    CHECK(strcmp(f.payload[1], "delta1") == 0);
    CHECK(strcmp(f.payload[2], "poses2") == 0);
    CHECK(strcmp(f.payload[3], "aud2") == 0);
    pvws_conn_free(c);
}

static void test_overflow_drops_state_and_resyncs(void) {
    rx r = {0};
    pvws_conn *c = mk_small(&r);
    block_socket(c);
    static char m[1000];
    memset(m, 'd', sizeof m);
    CHECK(pvws_conn_send(c, PVWS_MSG_AUDIENCE, "aud", 3) == 0);
    CHECK(pvws_conn_send(c, PVWS_MSG_OTHER, "err", 3) == 0);
    int i, rc = 0;
    for (i = 0; i < 100 && rc == 0; i++)
        rc = pvws_conn_send(c, PVWS_MSG_DELTA, m, sizeof m);
    CHECK(rc == 1); /* dropped: the bound was hit after ~16 deltas */
    CHECK(i >= 15 && i <= 17);
    CHECK(pvws_conn_needs_resync(c));
    CHECK(pvws_conn_queued_bytes(c) <= PVWS_MIN_QUEUE_BYTES + 4200);
    /* more deltas are dropped, poses still queue */
    CHECK(pvws_conn_send(c, PVWS_MSG_DELTA, "d2", 2) == 1);
    CHECK(pvws_conn_send(c, PVWS_MSG_POSES, "poses", 5) == 0);
    /* not drained yet: no resync */
    CHECK(!pvws_conn_take_resync(c));
    frames f;
    drain(c, &f, 1001);
    REQUIRE(f.n == 4); /* blob, aud, err, poses: every delta is gone */
    CHECK(strcmp(f.payload[1], "aud") == 0 && strcmp(f.payload[2], "err") == 0);
    CHECK(strcmp(f.payload[3], "poses") == 0);
    CHECK(pvws_conn_take_resync(c));
    CHECK(!pvws_conn_take_resync(c)); /* once */
    CHECK(pvws_conn_send(c, PVWS_MSG_SNAPSHOT, "snap", 4) == 0);
    CHECK(!pvws_conn_needs_resync(c));
    CHECK(pvws_conn_send(c, PVWS_MSG_DELTA, "d3", 2) == 0);
    drain(c, &f, 1002);
    REQUIRE(f.n == 2);
    CHECK(strcmp(f.payload[0], "snap") == 0 && strcmp(f.payload[1], "d3") == 0);
    pvws_stats st;
    pvws_conn_get_stats(c, &st);
    CHECK(st.overflows == 1 && st.dropped >= 16);
    pvws_conn_free(c);
}

static void test_snapshot_survives_overflow(void) {
    rx r = {0};
    pvws_conn *c = mk_small(&r);
    block_socket(c);
    static char m[1000];
    memset(m, 's', sizeof m);
    for (int i = 0; i < 16; i++)
        CHECK(pvws_conn_send(c, PVWS_MSG_SNAPSHOT, m, sizeof m) == 0);
    /* the 17th does not fit: older state is dropped, the newest snapshot kept */
    m[0] = 'N';
    CHECK(pvws_conn_send(c, PVWS_MSG_SNAPSHOT, m, sizeof m) == 0);
    CHECK(!pvws_conn_needs_resync(c));
    pvws_stats st;
    pvws_conn_get_stats(c, &st);
    CHECK(st.overflows == 1 && st.dropped == 16);
    frames f;
    drain(c, &f, 1001);
    REQUIRE(f.n == 2);
    CHECK(f.len[1] == sizeof m && f.payload[1][0] == 'N');
    pvws_conn_free(c);
}

static void test_errors_that_never_fit_fail(void) {
    rx r = {0};
    pvws_conn *c = mk_small(&r);
    block_socket(c);
    static char m[1000];
    memset(m, 'e', sizeof m);
    int rc = 0, i;
    for (i = 0; i < 40 && rc == 0; i++)
        rc = pvws_conn_send(c, PVWS_MSG_OTHER, m, sizeof m);
    CHECK(rc == PV_EFULL);
    CHECK(pvws_conn_closing(c));
    frames f;
    drain(c, &f, 1001);
    REQUIRE(f.n >= 2);
    CHECK(f.op[f.n - 1] == 8 && close_code(&f, f.n - 1) == 1011);
    pvws_conn_free(c);
}

static void test_limits_check(void) {
    pvws_limits l;
    const char *why = NULL;
    pvws_limits_default(&l);
    CHECK(pvws_limits_check(&l, &why) == 0);
    l.idle_timeout_ms = l.ping_interval_ms;
    CHECK(pvws_limits_check(&l, &why) == PV_EINVAL && strcmp(why, "idle_timeout_ms") == 0);
    pvws_limits_default(&l);
    l.queue_max_bytes = 1000;
    CHECK(pvws_limits_check(&l, &why) == PV_EINVAL);
    rx r;
    pvws_handler h = {.on_text = on_text, .ud = &r};
    pvws_conn *c = NULL;
    CHECK(pvws_conn_new(&c, &l, &h, 0) == PV_EINVAL && c == NULL);
}

int main(void) {
    T_RUN(test_accept_vector);
    T_RUN(test_handshake_checks);
    T_RUN(test_text_and_fragments);
    T_RUN(test_close_codes);
    T_RUN(test_peer_close_handshake);
    T_RUN(test_close_keeps_errors_drops_state);
    T_RUN(test_ping_and_idle);
    T_RUN(test_coalescing);
    T_RUN(test_overflow_drops_state_and_resyncs);
    T_RUN(test_snapshot_survives_overflow);
    T_RUN(test_errors_that_never_fit_fail);
    T_RUN(test_limits_check);
    return t_done("io ws_conn");
}
