/*
 * fuzz_ws_frames - the WebSocket connection on bytes (io/ws_conn.c): the
 * input is a script of operations -- receive the next n input bytes as
 * socket data (split anywhere), queue server messages of every kind, write
 * part of the output, advance time, close -- so frames, fragmentation,
 * control frames, the close handshake and the output queue are explored
 * together. Checks: no crash or sanitizer report, the memory bound holds,
 * and everything written out parses as unmasked server frames.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "pv.h"
#include "ws_conn.h"

static int echo_kind;

static void on_text(void *ud, pvws_conn *c, const char *msg, size_t len) {
    /* answer from inside the receive path, as the policy glue does */
    pvws_conn_send(c, (pvws_kind)(1 + echo_kind++ % 5), msg, len);
}

/* Every byte the server writes must be a sequence of well-formed frames. */
typedef struct parser {
    uint8_t hdr[10];
    size_t hdr_len, need_hdr;
    uint64_t payload_left;
} parser;

static void parse_out(parser *p, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n;) {
        if (p->payload_left > 0) {
            size_t k = n - i < p->payload_left ? n - i : (size_t)p->payload_left;
            p->payload_left -= k;
            i += k;
            continue;
        }
        p->hdr[p->hdr_len++] = b[i++];
        if (p->hdr_len == 2) {
            assert((p->hdr[0] & 0x70) == 0); /* no RSV bits */
            assert((p->hdr[1] & 0x80) == 0); /* never masked */
            uint8_t op = p->hdr[0] & 0x0f;
            assert(op == 1 || op == 8 || op == 9 || op == 10);
            size_t l7 = p->hdr[1] & 0x7f;
            p->need_hdr = l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
            if (op >= 8) assert(l7 <= 125 && (p->hdr[0] & 0x80));
        }
        if (p->hdr_len >= 2 && p->hdr_len == p->need_hdr) {
            size_t l7 = p->hdr[1] & 0x7f;
            uint64_t len = l7;
            if (l7 == 126) len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
            if (l7 == 127)
                for (int k = 2; k < 10; k++)
                    len = len << 8 | p->hdr[k];
            p->payload_left = len;
            p->hdr_len = 0;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char blob[8192];
    memset(blob, 'm', sizeof blob);
    pvws_limits l;
    pvws_limits_default(&l);
    l.max_msg_bytes = 512;
    l.queue_max_bytes = PVWS_MIN_QUEUE_BYTES;
    l.ping_interval_ms = 100;
    l.idle_timeout_ms = 1000;
    l.close_timeout_ms = 300;
    pvws_handler h = {.on_text = on_text};
    pvws_conn *c = NULL;
    int64_t t = 0;
    echo_kind = 0;
    if (pvws_conn_new(&c, &l, &h, t) != 0) return 0;
    parser p = {0};
    size_t off = 0;
    while (off < size && !pvws_conn_done(c)) {
        uint8_t op = data[off++], arg = op >> 3;
        size_t n, len;
        const char *out;
        switch (op & 7) {
        case 0:
        case 1:
        case 2:
        case 3: /* socket bytes */
            n = (size_t)arg * 4 + (op & 3) + 1;
            if (n > size - off) n = size - off;
            pvws_conn_received(c, (const char *)data + off, n, t);
            off += n;
            break;
        case 4: /* a server message */
            n = off < size ? (size_t)data[off++] * 32 : 0;
            pvws_conn_send(c, (pvws_kind)(1 + arg % 5), blob, n);
            break;
        case 5: /* the socket takes some output */
            out = pvws_conn_output(c, &len);
            n = (size_t)arg * 257 < len ? (size_t)arg * 257 : len;
            parse_out(&p, (const uint8_t *)out, n);
            pvws_conn_written(c, n, t);
            break;
        case 6: /* time passes */
            t += (int64_t)arg * 37;
            if (t >= pvws_conn_deadline_ms(c)) pvws_conn_timeout(c, t);
            break;
        default:
            if (arg < 4)
                pvws_conn_take_resync(c);
            else if (arg < 30)
                pvws_conn_close(c, (uint16_t)(1000 + arg), "fuzz", t);
            else
                pvws_conn_eof(c, t);
        }
        /* queued payload <= bound; framed-unwritten <= bound + low mark + one frame */
        assert(pvws_conn_queued_bytes(c) <= 2 * (size_t)l.queue_max_bytes + 16384 + 2048 ||
               pvws_conn_done(c));
    }
    pvws_conn_free(c);
    return 0;
}
