/*
 * wsc.h - a small blocking WebSocket client for the policy socket tests:
 * wslay in client mode over a loopback TCP socket, with timeouts (poll).
 *
 * Received text messages are kept in order in a bounded queue; a close
 * frame from the server is recorded (code, reason) and answered by wslay.
 * For the slow-consumer test the client can stop reading (then nothing is
 * read from the socket until it resumes) and shrink its receive buffer.
 */
#ifndef PV_WSC_H
#define PV_WSC_H

#include <stddef.h>
#include <stdint.h>
#include <wslay/wslay.h>

#define WSC_MAX_MSGS 4096
#define WSC_IN_BYTES 65536

typedef struct wsc_msg {
    char *text; /* NUL-terminated copy */
    size_t len;
} wsc_msg;

typedef struct wsc {
    int fd;
    wslay_event_context_ptr ws;
    uint8_t in[WSC_IN_BYTES];
    size_t in_off, in_len;
    wsc_msg msgs[WSC_MAX_MSGS];
    uint32_t head, count; /* ring of received text messages */
    uint64_t received, dropped;
    int closed;          /* close frame received or TCP closed */
    uint16_t close_code; /* 0: TCP closed without a close frame */
    char close_reason[128];
    int binary_seen;
    char http_head[4096]; /* the upgrade response head */
    int http_status;
} wsc;

/* Options for wsc_connect (all optional: pass NULL). */
typedef struct wsc_opts {
    const char *path;          /* default "/policy-socket" */
    const char *extra_headers; /* "Name: v\r\n" lines, e.g. an Origin */
    const char *version;       /* Sec-WebSocket-Version, default "13" */
    const char *key;           /* Sec-WebSocket-Key, default random */
    int rcvbuf;                /* SO_RCVBUF before connect, 0 = default */
} wsc_opts;

/*
 * Open a WebSocket to 127.0.0.1:port. Returns 0 once upgraded (status 101
 * and a correct Sec-WebSocket-Accept), or -1: then c->http_status and
 * c->http_head hold the answer (status 0 if none arrived).
 */
int wsc_connect(wsc *c, int port, const wsc_opts *o);
void wsc_free(wsc *c);

/* Send a text message / raw bytes (for malformed frames). 0 or -1. */
int wsc_send_text(wsc *c, const char *text);
int wsc_send_binary(wsc *c, const void *p, size_t n);
int wsc_send_raw(wsc *c, const void *p, size_t n);
/* Start the closing handshake with code. */
int wsc_close(wsc *c, uint16_t code);

/*
 * The next text message, waiting up to timeout_ms. Returns the message
 * (valid until the next call; NUL-terminated), or NULL on timeout or when
 * the connection is closed (check c->closed).
 */
const char *wsc_recv(wsc *c, int timeout_ms);
/* The next message of a type other than skip_type (may be NULL). */
const char *wsc_recv_skip(wsc *c, const char *skip_type, int timeout_ms);
/* Read until the server's close frame or TCP close; returns the close code,
 * 0 for a TCP close without a frame, -1 on timeout. Messages are kept. */
int wsc_wait_close(wsc *c, int timeout_ms);
/* Read whatever arrives within timeout_ms (messages are queued). */
void wsc_pump(wsc *c, int timeout_ms);

/* ---- tiny JSON field readers for our own compact output ---- */
/* "type" value into out (or "" if absent). */
const char *wsc_type(const char *msg, char *out, size_t cap);
/* Integer field (first occurrence of "key":n), or -1. */
int64_t wsc_int(const char *msg, const char *key);
/* String field into out, or NULL. */
const char *wsc_str(const char *msg, const char *key, char *out, size_t cap);
/* Array of strings "key":[..] as "a,b,c" into out ("" for []), or NULL. */
const char *wsc_ids(const char *msg, const char *key, char *out, size_t cap);

#endif
