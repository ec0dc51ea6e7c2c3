/*
 * ws_conn.h - one server-side WebSocket connection (RFC 6455) on bytes.
 *
 * No sockets, no clock: the shell feeds received bytes to
 * pvws_conn_received(), writes what pvws_conn_output() returns and reports
 * it with pvws_conn_written(), calls pvws_conn_timeout() at
 * pvws_conn_deadline_ms(), and closes the socket once pvws_conn_done().
 * wslay does the framing: unmasking, reassembly of fragments, UTF-8
 * validation of text, ping/pong answers and the close handshake. Unit tests
 * and the fuzzer drive the same code with scripted bytes and fake time.
 *
 * Limits and what breaking them does (close code sent):
 *  - a message longer than max_msg_bytes: 1009 (wslay refuses it from the
 *    frame header, before buffering any payload);
 *  - a binary message: 1003; invalid UTF-8 in a text message: 1007; a frame
 *    breaking RFC 6455 (unmasked, RSV bits, unknown opcode): 1002;
 *  - keepalive: a ping every ping_interval_ms; nothing at all received for
 *    idle_timeout_ms: 1001 "idle timeout";
 *  - after our close frame the peer has close_timeout_ms to answer with its
 *    own before pvws_conn_done() says 1 anyway.
 *
 * The output queue. Why: a client that reads slowly must never grow our
 * memory, and what it needs is the current state, not a backlog. Server
 * messages wait in a per-connection queue whose payload is bounded by
 * queue_max_bytes. A message is handed to wslay for framing only while
 * fewer than min(PVWS_OUT_LOW_BYTES, queue_max_bytes / 4) framed bytes wait
 * for the socket, so queued messages stay droppable as long as possible and
 * a connection holds at most queue_max_bytes + that + one message. Each
 * message has a kind:
 *  - SNAPSHOT, DELTA: audibility state of the room;
 *  - AUDIENCE: a full set with its own revision: a newer one replaces an
 *    older one still queued;
 *  - POSES: ephemeral: a newer batch replaces an older one still queued;
 *  - OTHER (policy.error): always kept.
 * When a message would not fit, every queued SNAPSHOT, DELTA and POSES is
 * dropped and the connection "needs a resync": DELTAs are dropped until a
 * SNAPSHOT is queued, and once the queue has drained pvws_conn_take_resync()
 * says 1 so that the owner asks the core for one fresh snapshot. The newest
 * AUDIENCE is never dropped (the speaker must learn it to stay connected to
 * LiveKit). An OTHER or AUDIENCE message that cannot fit even then fails
 * the connection with 1011; queue_max_bytes must hold twice the largest
 * message so that this needs a client piling up errors without reading.
 *
 * MUST rules:
 *  - Single-threaded. The text handler runs inside pvws_conn_received(); it
 *    may call pvws_conn_send() and pvws_conn_close() on any connection but
 *    must not free one.
 *  - Pointers returned by pvws_conn_output() are valid until the next call
 *    on the same connection.
 *  - Times are monotonic milliseconds passed in; they never decrease.
 *
 * Memory: wslay's contexts (~8.5 KB) are allocated at pvws_conn_new; the
 * queue and output buffers grow on demand up to the bound above and are
 * released when they drain, so an idle connection holds no buffers.
 */
#ifndef PV_WS_CONN_H
#define PV_WS_CONN_H

#include <stddef.h>
#include <stdint.h>

#define PVWS_OUT_LOW_BYTES         16384 /* frame more only below this (or queue/4) */
#define PVWS_DEFAULT_MAX_MSG_BYTES 4096
#define PVWS_DEFAULT_QUEUE_BYTES   65536
#define PVWS_MIN_QUEUE_BYTES       16384
#define PVWS_MAX_QUEUE_BYTES       (4 * 1024 * 1024)
#define PVWS_REASON_MAX            123 /* close reason bytes (RFC 6455 5.5) */

typedef struct pvws_limits {
    uint32_t max_msg_bytes;   /* 16..1 MiB; default 4096 */
    uint32_t queue_max_bytes; /* MIN..MAX_QUEUE_BYTES; default 65536 */
    int64_t ping_interval_ms; /* default 15000 */
    int64_t idle_timeout_ms;  /* default 45000; must exceed ping_interval_ms */
    int64_t close_timeout_ms; /* default 2000 */
} pvws_limits;

/* Fill the defaults above. */
void pvws_limits_default(pvws_limits *l);
/* 0 if usable, else PV_EINVAL and *why names the field. */
int pvws_limits_check(const pvws_limits *l, const char **why);

typedef enum pvws_kind {
    PVWS_MSG_SNAPSHOT = 1,
    PVWS_MSG_DELTA,
    PVWS_MSG_AUDIENCE,
    PVWS_MSG_POSES,
    PVWS_MSG_OTHER,
} pvws_kind;

typedef struct pvws_conn pvws_conn;

typedef struct pvws_handler {
    /* One complete text message (valid UTF-8, <= max_msg_bytes, not
     * NUL-terminated; valid during the call). */
    void (*on_text)(void *ud, pvws_conn *c, const char *msg, size_t len);
    void *ud;
} pvws_handler;

typedef struct pvws_stats {
    uint64_t msgs_in, msgs_out, bytes_out;
    uint64_t dropped;   /* DELTA/SNAPSHOT/POSES thrown away by overflow or resync */
    uint64_t coalesced; /* AUDIENCE/POSES replaced by a newer one */
    uint64_t overflows; /* times the bound was hit */
    uint64_t pings;
} pvws_stats;

/* Returns 0, PV_EINVAL (limits) or PV_ENOMEM. h and lim are copied. */
int pvws_conn_new(pvws_conn **out, const pvws_limits *lim, const pvws_handler *h, int64_t now_ms);
void pvws_conn_free(pvws_conn *c);

/* Bytes read from the socket (the first ones may be the leftover after the
 * upgrade request). Complete text messages go to the handler. */
void pvws_conn_received(pvws_conn *c, const char *data, size_t len, int64_t now_ms);
/* The peer closed its side (read returned 0) or the socket failed. */
void pvws_conn_eof(pvws_conn *c, int64_t now_ms);

/*
 * Queue a server text message of the given kind. Returns 0 (queued), 1
 * (dropped or replaced by the queue rules above: not an error), PV_ESTATE
 * (closing: nothing more is sent) or PV_EFULL (did not fit: the connection
 * now closes with 1011).
 */
int pvws_conn_send(pvws_conn *c, pvws_kind kind, const char *msg, size_t len);

/*
 * Close with code and reason (truncated to PVWS_REASON_MAX bytes): queued
 * OTHER messages go out first (a policy.error before its close), every other
 * queued message is dropped; then the close frame. Later calls are ignored.
 */
void pvws_conn_close(pvws_conn *c, uint16_t code, const char *reason, int64_t now_ms);

/* Framed bytes to write (frames more queued messages first); *len 0 if none. */
const char *pvws_conn_output(pvws_conn *c, size_t *len);
void pvws_conn_written(pvws_conn *c, size_t n, int64_t now_ms);

/* When pvws_conn_timeout must run (monotonic ms), INT64_MAX for never. */
int64_t pvws_conn_deadline_ms(const pvws_conn *c);
/* Pings, idle timeout, close timeout due at now_ms. */
void pvws_conn_timeout(pvws_conn *c, int64_t now_ms);

/* 1 when the shell must close the socket now (after writing nothing more). */
int pvws_conn_done(const pvws_conn *c);
/* 1 while reading is useful (not done, wslay still reads). */
int pvws_conn_wants_read(const pvws_conn *c);
/* 1 once if state was dropped and the queue has drained: the owner asks
 * the core for a snapshot now (the flag is cleared by this call; the next
 * SNAPSHOT queued ends the resync). */
int pvws_conn_take_resync(pvws_conn *c);
/* 1 while state messages are being dropped until the next SNAPSHOT. */
int pvws_conn_needs_resync(const pvws_conn *c);
/* 1 once pvws_conn_close() ran or wslay started closing. */
int pvws_conn_closing(const pvws_conn *c);

/* Close codes: what we sent / what the peer sent (0 = none yet). */
uint16_t pvws_conn_close_sent(const pvws_conn *c);
uint16_t pvws_conn_close_received(const pvws_conn *c);
/* Why the connection is done or closing (static text, logs) or NULL. */
const char *pvws_conn_reason(const pvws_conn *c);
/* Payload bytes queued plus framed bytes unwritten (for logs and tests). */
size_t pvws_conn_queued_bytes(const pvws_conn *c);
void pvws_conn_get_stats(const pvws_conn *c, pvws_stats *st);

/* An opaque pointer for the owner. */
void pvws_conn_set_user(pvws_conn *c, void *user);
void *pvws_conn_user(const pvws_conn *c);

#endif
