/*
 * ws_conn.c - a WebSocket connection on bytes: wslay for framing, our own
 * bounded, coalescing output queue in front of it (see ws_conn.h).
 *
 * Data path out: pvws_conn_send() appends to the queue q; pump() moves
 * messages from q to wslay one at a time while little framed output waits,
 * and wslay's send callback appends the frames to out, which the shell
 * drains. The send callback always takes everything, so wslay never holds a
 * partly written frame and never buffers more than the message just given.
 */
#include "ws_conn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "pv.h"

#define NONE       SIZE_MAX
#define HDR_BYTES  8    /* queue entry header: u32 len, u8 kind, u8 live */
#define KEEP_BYTES 8192 /* buffers larger than this are freed once drained */

struct pvws_conn {
    wslay_event_context_ptr ws;
    pvws_limits lim;
    pvws_handler h;
    void *user;
    int64_t now_ms;

    /* input being handed to wslay during pvws_conn_received */
    const uint8_t *in;
    size_t in_len;

    /* framed output: bytes [out_off, out_len) are unwritten */
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    size_t out_low; /* frame more messages only while fewer bytes wait */

    /* queue: entries [q_head, q_len) of q; q_live = payload of live ones */
    uint8_t *q;
    size_t q_head, q_len, q_cap, q_live;
    size_t aud_at, pos_at; /* offset of the queued AUDIENCE / POSES, or NONE */
    int need_resync, resync_due;

    int closing, close_queued, done;
    uint16_t close_code, code_rcvd;
    char close_reason[PVWS_REASON_MAX + 1];
    const char *reason;
    int64_t close_deadline_ms, last_rx_ms, next_ping_ms;
    pvws_stats st;
};

void pvws_limits_default(pvws_limits *l) {
    l->max_msg_bytes = PVWS_DEFAULT_MAX_MSG_BYTES;
    l->queue_max_bytes = PVWS_DEFAULT_QUEUE_BYTES;
    l->ping_interval_ms = 15000;
    l->idle_timeout_ms = 45000;
    l->close_timeout_ms = 2000;
}

int pvws_limits_check(const pvws_limits *l, const char **why) {
    if (l->max_msg_bytes < 16 || l->max_msg_bytes > 1024 * 1024)
        return *why = "max_msg_bytes", PV_EINVAL;
    if (l->queue_max_bytes < PVWS_MIN_QUEUE_BYTES || l->queue_max_bytes > PVWS_MAX_QUEUE_BYTES)
        return *why = "queue_max_bytes", PV_EINVAL;
    if (l->ping_interval_ms < 10 || l->ping_interval_ms > 3600000)
        return *why = "ping_interval_ms", PV_EINVAL;
    if (l->idle_timeout_ms <= l->ping_interval_ms || l->idle_timeout_ms > 3600000)
        return *why = "idle_timeout_ms", PV_EINVAL;
    if (l->close_timeout_ms < 1 || l->close_timeout_ms > 60000)
        return *why = "close_timeout_ms", PV_EINVAL;
    return 0;
}

/* ---- buffers ---- */

/* Make room for n more bytes at the end of [*off, *len) in *buf. */
static int reserve(uint8_t **buf, size_t *off, size_t *len, size_t *cap, size_t n) {
    if (*len + n <= *cap) return 0;
    if (*off > 0) { /* slide the live part down first */
        memmove(*buf, *buf + *off, *len - *off);
        *len -= *off;
        *off = 0;
        if (*len + n <= *cap) return 0;
    }
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < *len + n)
        ncap *= 2;
    uint8_t *p = realloc(*buf, ncap);
    if (!p) return PV_ENOMEM;
    *buf = p;
    *cap = ncap;
    return 0;
}

static size_t out_unsent(const pvws_conn *c) {
    return c->out_len - c->out_off;
}

/* Mark the connection done (the shell drops the socket). */
static void finish(pvws_conn *c, const char *why) {
    if (c->done) return;
    c->done = 1;
    if (!c->reason) c->reason = why;
}

/* ---- the queue ---- */

typedef struct qent {
    uint32_t len;
    uint8_t kind, live;
} qent;

static qent q_get(const pvws_conn *c, size_t off) {
    uint32_t len;
    memcpy(&len, c->q + off, 4);
    return (qent){len, c->q[off + 4], c->q[off + 5]};
}

static void q_kill(pvws_conn *c, size_t off) {
    qent e = q_get(c, off);
    assert(e.live && c->q_live >= e.len);
    c->q[off + 5] = 0;
    c->q_live -= e.len;
    if (off == c->aud_at) c->aud_at = NONE;
    if (off == c->pos_at) c->pos_at = NONE;
}

/* Drop queued entries of the kinds selected by keep() == 0. */
static void q_drop_where(pvws_conn *c, int (*keep)(int kind)) {
    for (size_t off = c->q_head; off < c->q_len;) {
        qent e = q_get(c, off);
        if (e.live && !keep(e.kind)) {
            q_kill(c, off);
            c->st.dropped += e.kind != PVWS_MSG_AUDIENCE && e.kind != PVWS_MSG_OTHER;
        }
        off += HDR_BYTES + e.len;
    }
}

static int keep_after_overflow(int kind) {
    return kind == PVWS_MSG_AUDIENCE || kind == PVWS_MSG_OTHER;
}
static int keep_when_closing(int kind) {
    return kind == PVWS_MSG_OTHER;
}

/* Rewrite the queue without dead entries (offsets change). */
static void q_compact(pvws_conn *c) {
    size_t w = 0;
    c->aud_at = c->pos_at = NONE;
    for (size_t off = c->q_head; off < c->q_len;) {
        qent e = q_get(c, off);
        size_t n = HDR_BYTES + e.len;
        if (e.live) {
            if (e.kind == PVWS_MSG_AUDIENCE) c->aud_at = w;
            if (e.kind == PVWS_MSG_POSES) c->pos_at = w;
            memmove(c->q + w, c->q + off, n);
            w += n;
        }
        off += n;
    }
    c->q_head = 0;
    c->q_len = w;
}

/* Room for need more bytes at the end of the queue: first squeeze out dead
 * entries, then grow (offsets are relative, so growing keeps them valid). */
static int q_reserve(pvws_conn *c, size_t need) {
    if (c->q_len + need <= c->q_cap) return 0;
    q_compact(c);
    if (c->q_len + need <= c->q_cap) return 0;
    size_t ncap = c->q_cap ? c->q_cap : 1024;
    while (ncap < c->q_len + need)
        ncap *= 2;
    uint8_t *p = realloc(c->q, ncap);
    if (!p) return PV_ENOMEM;
    c->q = p;
    c->q_cap = ncap;
    return 0;
}

static int q_append(pvws_conn *c, int kind, const char *msg, size_t len) {
    size_t need = HDR_BYTES + len;
    if (q_reserve(c, need) < 0) return PV_ENOMEM;
    uint8_t *p = c->q + c->q_len;
    uint32_t l32 = (uint32_t)len;
    memcpy(p, &l32, 4);
    p[4] = (uint8_t)kind;
    p[5] = 1;
    p[6] = p[7] = 0;
    if (len > 0) memcpy(p + HDR_BYTES, msg, len);
    if (kind == PVWS_MSG_AUDIENCE) c->aud_at = c->q_len;
    if (kind == PVWS_MSG_POSES) c->pos_at = c->q_len;
    c->q_len += need;
    c->q_live += len;
    return 0;
}

/* The next live entry (advancing past it), or NULL when none. */
static const uint8_t *q_pop(pvws_conn *c, size_t *len) {
    while (c->q_head < c->q_len) {
        size_t off = c->q_head;
        qent e = q_get(c, off);
        c->q_head += HDR_BYTES + e.len;
        if (!e.live) continue;
        q_kill(c, off);
        *len = e.len;
        return c->q + off + HDR_BYTES;
    }
    return NULL;
}

static void q_release_if_empty(pvws_conn *c) {
    if (c->q_head < c->q_len) return;
    c->q_head = c->q_len = 0;
    if (c->q_cap > KEEP_BYTES) {
        free(c->q);
        c->q = NULL;
        c->q_cap = 0;
    }
}

size_t pvws_conn_queued_bytes(const pvws_conn *c) {
    return c->q_live + out_unsent(c) + wslay_event_get_queued_msg_length(c->ws);
}

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *ud) {
    pvws_conn *c = ud;
    if (c->in_len == 0) {
        wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < c->in_len ? len : c->in_len;
    memcpy(buf, c->in, n);
    c->in += n;
    c->in_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags,
                       void *ud) {
    pvws_conn *c = ud;
    if (reserve(&c->out, &c->out_off, &c->out_len, &c->out_cap, len) < 0) {
        wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    c->st.bytes_out += len;
    return (ssize_t)len;
}

static void on_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud) {
    pvws_conn *c = ud;
    if (a->opcode == WSLAY_CONNECTION_CLOSE) {
        c->code_rcvd = a->status_code ? a->status_code : WSLAY_CODE_NO_STATUS_RCVD;
        return;
    }
    if (c->closing || (a->opcode != WSLAY_TEXT_FRAME && a->opcode != WSLAY_BINARY_FRAME)) return;
    c->st.msgs_in++;
    if (a->opcode == WSLAY_BINARY_FRAME) {
        pvws_conn_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported",
                        c->now_ms);
        return;
    }
    /* wslay passes NULL for an empty message */
    c->h.on_text(c->h.ud, c, a->msg ? (const char *)a->msg : "", a->msg_length);
}

/* ---- life cycle ---- */

int pvws_conn_new(pvws_conn **out, const pvws_limits *lim, const pvws_handler *h, int64_t now_ms) {
    const char *why;
    *out = NULL;
    if (pvws_limits_check(lim, &why) < 0 || !h || !h->on_text) return PV_EINVAL;
    pvws_conn *c = calloc(1, sizeof *c);
    if (!c) return PV_ENOMEM;
    struct wslay_event_callbacks cb = {
        .recv_callback = recv_cb, .send_callback = send_cb, .on_msg_recv_callback = on_msg};
    if (wslay_event_context_server_init(&c->ws, &cb, c) != 0) {
        free(c);
        return PV_ENOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(c->ws, lim->max_msg_bytes);
    c->lim = *lim;
    c->h = *h;
    c->now_ms = now_ms;
    c->aud_at = c->pos_at = NONE;
    c->out_low = lim->queue_max_bytes / 4 < PVWS_OUT_LOW_BYTES ? lim->queue_max_bytes / 4
                                                               : PVWS_OUT_LOW_BYTES;
    c->last_rx_ms = now_ms;
    c->next_ping_ms = now_ms + lim->ping_interval_ms;
    *out = c;
    return 0;
}

void pvws_conn_free(pvws_conn *c) {
    if (!c) return;
    wslay_event_context_free(c->ws);
    free(c->out);
    free(c->q);
    free(c);
}

/* wslay stopped reading by itself (peer's close, protocol error, size
 * limit): no more data goes out, its close frame is already queued. */
static void wslay_closing(pvws_conn *c) {
    if (c->closing) return;
    c->closing = 1;
    c->close_queued = 1;
    c->need_resync = c->resync_due = 0;
    c->close_deadline_ms = c->now_ms + c->lim.close_timeout_ms;
    q_drop_where(c, keep_when_closing);
    if (!c->reason) c->reason = c->code_rcvd ? "closed by peer" : "protocol error";
}

void pvws_conn_received(pvws_conn *c, const char *data, size_t len, int64_t now_ms) {
    c->now_ms = now_ms;
    c->last_rx_ms = now_ms;
    if (c->done || !wslay_event_get_read_enabled(c->ws)) return;
    c->in = (const uint8_t *)data;
    c->in_len = len;
    int rc = wslay_event_recv(c->ws);
    c->in_len = 0;
    if (rc == WSLAY_ERR_NOMEM) finish(c, "out of memory");
    if (!wslay_event_get_read_enabled(c->ws)) wslay_closing(c);
}

void pvws_conn_eof(pvws_conn *c, int64_t now_ms) {
    c->now_ms = now_ms;
    finish(c, c->closing ? "closed" : "peer disconnected");
}

/* ---- sending ---- */

/* Not even the messages that are never dropped fit: give up with 1011. */
static void fail_full(pvws_conn *c) {
    c->reason = "output queue full";
    pvws_conn_close(c, WSLAY_CODE_INTERNAL_SERVER_ERROR, "output queue full", c->now_ms);
}

int pvws_conn_send(pvws_conn *c, pvws_kind kind, const char *msg, size_t len) {
    assert(kind >= PVWS_MSG_SNAPSHOT && kind <= PVWS_MSG_OTHER);
    if (c->closing || c->done) return PV_ESTATE;
    if (kind == PVWS_MSG_DELTA && c->need_resync) {
        c->st.dropped++;
        return 1;
    }
    int replaced = 0;
    if (kind == PVWS_MSG_AUDIENCE && c->aud_at != NONE) q_kill(c, c->aud_at), replaced = 1;
    if (kind == PVWS_MSG_POSES && c->pos_at != NONE) q_kill(c, c->pos_at), replaced = 1;
    c->st.coalesced += (uint64_t)replaced;
    if (c->q_live + len > c->lim.queue_max_bytes) {
        c->st.overflows++;
        q_drop_where(c, keep_after_overflow);
        c->need_resync = 1;
        if (kind == PVWS_MSG_DELTA || kind == PVWS_MSG_POSES) {
            c->st.dropped++;
            return 1;
        }
        if (c->q_live + len > c->lim.queue_max_bytes) {
            fail_full(c);
            return PV_EFULL;
        }
    }
    if (q_append(c, kind, msg, len) < 0) {
        finish(c, "out of memory");
        return PV_EFULL;
    }
    if (kind == PVWS_MSG_SNAPSHOT) c->need_resync = c->resync_due = 0;
    return 0;
}

void pvws_conn_close(pvws_conn *c, uint16_t code, const char *reason, int64_t now_ms) {
    if (c->closing || c->done) return;
    c->now_ms = now_ms;
    c->closing = 1;
    c->need_resync = c->resync_due = 0;
    c->close_code = code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > PVWS_REASON_MAX) n = PVWS_REASON_MAX;
    memcpy(c->close_reason, reason ? reason : "", n);
    c->close_reason[n] = '\0';
    if (!c->reason) c->reason = "closed by server";
    c->close_deadline_ms = now_ms + c->lim.close_timeout_ms;
    q_drop_where(c, keep_when_closing);
}

/* Frame queued messages while little output waits; then the close frame
 * once nothing but it is left. */
static void pump(pvws_conn *c) {
    if (c->done) return;
    for (;;) {
        if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
            finish(c, "send failed");
            return;
        }
        if (out_unsent(c) >= c->out_low) break;
        size_t len;
        const uint8_t *m = q_pop(c, &len);
        if (!m) break;
        struct wslay_event_msg wm = {WSLAY_TEXT_FRAME, m, len};
        int rc = wslay_event_queue_msg(c->ws, &wm);
        if (rc == WSLAY_ERR_NOMEM) return finish(c, "out of memory");
        c->st.msgs_out += rc == 0;
    }
    q_release_if_empty(c);
    if (c->closing && !c->close_queued && c->q_live == 0) {
        c->close_queued = 1;
        wslay_event_queue_close(c->ws, c->close_code, (const uint8_t *)c->close_reason,
                                strlen(c->close_reason));
        if (wslay_event_send(c->ws) != 0) finish(c, "send failed");
    }
    /* a peer flooding pings without reading would grow the pong backlog */
    if (out_unsent(c) > (size_t)c->lim.queue_max_bytes + c->out_low + 1024)
        finish(c, "output overflow");
}

const char *pvws_conn_output(pvws_conn *c, size_t *len) {
    pump(c);
    *len = c->done ? 0 : out_unsent(c);
    return c->out ? (const char *)c->out + c->out_off : "";
}

void pvws_conn_written(pvws_conn *c, size_t n, int64_t now_ms) {
    assert(n <= out_unsent(c));
    c->now_ms = now_ms;
    c->out_off += n;
    if (c->out_off < c->out_len) return;
    c->out_off = c->out_len = 0;
    if (c->out_cap > KEEP_BYTES) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
}

/* ---- time ---- */

int64_t pvws_conn_deadline_ms(const pvws_conn *c) {
    if (c->done) return INT64_MAX;
    if (c->closing) return c->close_deadline_ms;
    int64_t idle = c->last_rx_ms + c->lim.idle_timeout_ms;
    return idle < c->next_ping_ms ? idle : c->next_ping_ms;
}

void pvws_conn_timeout(pvws_conn *c, int64_t now_ms) {
    c->now_ms = now_ms;
    if (c->done) return;
    if (c->closing) {
        if (now_ms >= c->close_deadline_ms) finish(c, "close timeout");
        return;
    }
    if (now_ms >= c->last_rx_ms + c->lim.idle_timeout_ms) {
        c->reason = "idle timeout";
        pvws_conn_close(c, WSLAY_CODE_GOING_AWAY, "idle timeout", now_ms);
        return;
    }
    if (now_ms >= c->next_ping_ms) {
        struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
        if (wslay_event_queue_msg(c->ws, &ping) == 0) c->st.pings++;
        c->next_ping_ms = now_ms + c->lim.ping_interval_ms;
    }
}

/* ---- state ---- */

int pvws_conn_done(const pvws_conn *c) {
    if (c->done) return 1;
    /* our close frame is written and either the peer's arrived (the
     * closing handshake is complete: the server closes TCP first) or wslay
     * stopped reading after a protocol error ("fail the connection") */
    return wslay_event_get_close_sent(c->ws) && out_unsent(c) == 0 &&
           (wslay_event_get_close_received(c->ws) || !wslay_event_get_read_enabled(c->ws));
}

int pvws_conn_wants_read(const pvws_conn *c) {
    return !c->done && wslay_event_get_read_enabled(c->ws);
}

int pvws_conn_take_resync(pvws_conn *c) {
    if (!c->need_resync || c->resync_due || c->closing || c->done) return 0;
    if (c->q_live > 0 || out_unsent(c) >= c->out_low) return 0;
    c->resync_due = 1;
    return 1;
}

int pvws_conn_needs_resync(const pvws_conn *c) {
    return c->need_resync;
}
int pvws_conn_closing(const pvws_conn *c) {
    return c->closing || c->done;
}

uint16_t pvws_conn_close_sent(const pvws_conn *c) {
    return wslay_event_get_close_sent(c->ws) ? wslay_event_get_status_code_sent(c->ws) : 0;
}
uint16_t pvws_conn_close_received(const pvws_conn *c) {
    return c->code_rcvd;
}
const char *pvws_conn_reason(const pvws_conn *c) {
    return c->reason;
}
void pvws_conn_get_stats(const pvws_conn *c, pvws_stats *st) {
    *st = c->st;
}
void pvws_conn_set_user(pvws_conn *c, void *user) {
    c->user = user;
}
void *pvws_conn_user(const pvws_conn *c) {
    return c->user;
}
