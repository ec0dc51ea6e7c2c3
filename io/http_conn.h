/*
 * http_conn.h - one HTTP/1.1 server connection on bytes (no sockets).
 *
 * The shell reads socket bytes straight into the connection's input buffer
 * (pvh_conn_read_space + pvh_conn_received), writes out what pvh_conn_output
 * returns, and asks pvh_conn_deadline_ms when to call pvh_conn_timeout. All
 * HTTP logic -- parsing with http-parser, limits, keep-alive, pipelining,
 * response framing, timeouts -- lives here, so unit tests and the fuzzer
 * drive it with scripted bytes and fake time.
 *
 * Pipelining: requests are handled strictly one at a time and in order. The
 * parser is paused at each message end; the next request is not parsed until
 * the current one has its response (which may come later, asynchronously)
 * and while queued output is above PVH_OUT_HIGH_BYTES (a client that sends
 * but never reads cannot grow our memory). Unparsed bytes wait in the input
 * buffer; when it is full the shell stops reading (pvh_conn_read_space 0).
 *
 * Limits: request line + headers <= max_header_bytes (431; 414 for a long
 * target), <= PVH_MAX_HEADERS header lines (431), body <= max_body_bytes
 * (413, refused from Content-Length before any body byte is read, and
 * counted for chunked bodies), a request must be complete within
 * request_timeout_ms of its first byte (408: slowloris), an idle keep-alive
 * connection closes after idle_timeout_ms, and queued output not drained
 * within write_timeout_ms closes the connection. Every refusal sends the JSON
 * error shape of MVP-SPEC 18 and then closes the connection (the stream
 * cannot be trusted to be in sync afterwards).
 *
 * MUST rules:
 *  - The handler is called once per complete request and MUST eventually
 *    answer it with exactly one pvh_respond()/pvh_respond_error() (or
 *    pvh_conn_upgrade()), synchronously or later. The request and its
 *    strings stay valid until that answer.
 *  - pvh_conn_* functions must not be called on a conn from inside its own
 *    handler except pvh_respond*(), pvh_conn_upgrade() and the getters.
 *  - Times are monotonic milliseconds passed in; nothing here reads a clock.
 *  - Memory: pvh_conn_init allocates the fixed buffers once (input, header
 *    store); the body and output buffers grow up to their limits and are kept
 *    for the next request on the connection. pvh_conn_free releases them.
 */
#ifndef PV_HTTP_CONN_H
#define PV_HTTP_CONN_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#define PVH_MAX_HEADERS       64
#define PVH_IN_BYTES          16384         /* input buffer: unparsed bytes */
#define PVH_OUT_HIGH_BYTES    65536         /* stop handling pipelined requests above this */
#define PVH_OUT_MAX_BYTES     (1024 * 1024) /* one response body can never exceed this */
#define PVH_EXTRA_HEADERS_MAX 1024          /* bytes of handler-supplied header lines */

typedef struct pvh_limits {
    uint32_t max_header_bytes; /* request line + header lines */
    uint32_t max_body_bytes;
    int64_t idle_timeout_ms, request_timeout_ms, write_timeout_ms;
} pvh_limits;

typedef struct pvh_header {
    const char *name, *value; /* NUL-terminated, in the header store */
    uint32_t name_len, value_len;
} pvh_header;

typedef struct pvh_request {
    int method;              /* enum http_method */
    const char *method_name; /* "GET", ... */
    const char *target;      /* request target as sent, NUL-terminated */
    const char *path;        /* target up to '?', NUL-terminated copy */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    pvh_header headers[PVH_MAX_HEADERS];
    uint32_t header_count;
    const char *body; /* NUL-terminated (the NUL is not counted) */
    size_t body_len;
    int keep_alive;   /* the client allows another request after this one */
    int upgrade;      /* an Upgrade request (WebSocket) */
    int http_minor;   /* 0 or 1 */
    uint64_t seq;     /* 1 for the connection's first request */
    int64_t start_ms; /* first byte */
} pvh_request;

typedef struct pvh_conn pvh_conn;

/* The first header named lname (lowercase), or NULL; *count (may be NULL)
 * gets the number of headers with that name (callers refuse duplicates of
 * security-relevant headers). */
const pvh_header *pvh_header_find(const pvh_request *r, const char *lname, uint32_t *count);

typedef struct pvh_handler {
    /* A complete request. Answer it with pvh_respond*() now or later. */
    void (*on_request)(void *ud, pvh_conn *c, const pvh_request *req);
    /* Optional: the connection refused a request by itself (status 400,
     * 408, 413, 414, 431) -- for logs. */
    void (*on_refused)(void *ud, pvh_conn *c, int status, const char *reason);
    /* Optional, for the shell: c got output to write or became ready to
     * parse buffered input (an asynchronous answer); flush/process it from
     * the top level (never from inside the handler). */
    void (*on_wakeup)(void *ud, pvh_conn *c);
    void *ud;
    /* Optional: the current IMF-fixdate (Date header), kept up to date by
     * the shell; NULL omits Date. */
    const char *date;
} pvh_handler;

typedef enum pvh_state {
    PVH_OPEN = 0, /* reading / waiting for a response */
    PVH_CLOSING,  /* write what is queued, then close */
    PVH_CLOSED,   /* the shell must close the socket now */
    PVH_UPGRADED, /* hand the socket to the upgrade owner after flushing */
} pvh_state;

/* Returns 0 or PV_ENOMEM. id is the connection id used in logs. */
int pvh_conn_init(pvh_conn **out, const pvh_limits *lim, const pvh_handler *h, uint32_t id,
                  int64_t now_ms);
void pvh_conn_free(pvh_conn *c);

/* Where the shell may read socket bytes into; *space 0 = do not read now. */
char *pvh_conn_read_space(pvh_conn *c, size_t *space);
/* n bytes were read into the read space: parse and dispatch. */
void pvh_conn_received(pvh_conn *c, size_t n, int64_t now_ms);
/* Parse and dispatch buffered input (after an asynchronous answer). */
void pvh_conn_process(pvh_conn *c, int64_t now_ms);
/* 1 if pvh_conn_process would do work now. */
int pvh_conn_wants_process(const pvh_conn *c);
/* The peer closed its sending side (read returned 0). */
void pvh_conn_eof(pvh_conn *c, int64_t now_ms);

/* Queued output (*len 0 if none); then report how much was written. */
const char *pvh_conn_output(const pvh_conn *c, size_t *len);
void pvh_conn_written(pvh_conn *c, size_t n, int64_t now_ms);

/* When pvh_conn_timeout must be called (monotonic ms), or INT64_MAX. */
int64_t pvh_conn_deadline_ms(const pvh_conn *c);
/* Apply expired timeouts at now_ms (408 + close, or close). */
void pvh_conn_timeout(pvh_conn *c, int64_t now_ms);

/* Stop keep-alive: answer the current request (if any) with Connection:
 * close; close at once when idle (graceful shutdown). */
void pvh_conn_drain(pvh_conn *c, int64_t now_ms);

pvh_state pvh_conn_state(const pvh_conn *c);
uint32_t pvh_conn_id(const pvh_conn *c);
/* 1 while a request has been dispatched and not answered yet. */
int pvh_conn_busy(const pvh_conn *c);
/* 1 if open with nothing in progress (no partial request, no unparsed
 * input, no queued output): safe to close when connections run out. */
int pvh_conn_idle(const pvh_conn *c);
/* Bytes after the upgrade request (the new protocol's first bytes). */
const char *pvh_conn_leftover(const pvh_conn *c, size_t *len);
/* Why the connection closed/closes (static text, for logs) or NULL. */
const char *pvh_conn_close_reason(const pvh_conn *c);
/* The peer address text set by the shell (for rate limits and logs). */
void pvh_conn_set_peer(pvh_conn *c, const char *ip);
const char *pvh_conn_peer(const pvh_conn *c);
/* An opaque pointer for the request handler (the app). */
void pvh_conn_set_user(pvh_conn *c, void *user);
void *pvh_conn_user(const pvh_conn *c);
/* An opaque pointer for the socket owner (the shell). */
void pvh_conn_set_owner(pvh_conn *c, void *owner);
void *pvh_conn_owner(const pvh_conn *c);

/* ---- answering (http_resp.c) ---- */

typedef struct pvh_response {
    int status;               /* 100..599 */
    const char *content_type; /* NULL: no body headers beyond Content-Length */
    const char *body;
    size_t body_len;
    const char *extra_headers; /* complete "Name: value\r\n" lines, or NULL */
    int close;                 /* 1: Connection: close after this response */
} pvh_response;

/*
 * Queue the response to the current request. Adds Content-Length, Date
 * (the handler's date), Connection, Cache-Control:
 * no-store and X-Content-Type-Options: nosniff. Returns 0, PV_ESTATE (no
 * request waiting for an answer) or PV_EINVAL (bad status, body or header
 * lines too long).
 */
int pvh_respond(pvh_conn *c, const pvh_response *r, int64_t now_ms);

/* The JSON error shape {"error":{"code":code,"message":message}}. */
int pvh_respond_error(pvh_conn *c, int status, const char *code, const char *message,
                      const char *extra_headers, int64_t now_ms);

/*
 * Answer the upgrade request with raw bytes (the 101 response built by the
 * upgrade owner) and switch to PVH_UPGRADED: after the output is flushed the
 * shell hands the socket and pvh_conn_leftover() to the upgrade owner.
 * Returns 0 or PV_ESTATE (not an upgrade request awaiting an answer).
 */
int pvh_conn_upgrade(pvh_conn *c, const char *response, size_t len, int64_t now_ms);

/* Reason phrase of a status code ("OK", "Not Found", ...). */
const char *pvh_status_text(int status);
/* IMF-fixdate of a Unix time in seconds into out[30]. */
void pvh_format_date(char out[30], int64_t unix_s);

#endif
