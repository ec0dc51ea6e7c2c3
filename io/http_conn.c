/*
 * http_conn.c - HTTP/1.1 request side of a connection: parsing with
 * http-parser, request assembly, limits, pipelining and timeouts.
 *
 * Why pause at every message end: http-parser would otherwise run through
 * all pipelined requests in one call, and we could neither answer them in
 * order nor bound the output they generate. Pausing makes one request the
 * unit of work; unparsed bytes simply stay in the input buffer.
 */
#include "http_conn_int.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pv.h"

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static pvh_conn *conn_of(http_parser *p) {
    return (pvh_conn *)p->data;
}

/* Decide a refusal inside a parser callback; returning non-zero stops it. */
static int refuse_cb(pvh_conn *c, int status, const char *msg) {
    if (c->refuse_status == 0) {
        c->refuse_status = status;
        c->refuse_msg = msg;
    }
    return -1;
}

/* Append to the header store, NUL-terminated segments. */
static int hs_put(pvh_conn *c, const char *p, size_t n, int lower) {
    if (c->hs_len + n + 1 > c->hs_cap) return -1;
    char *dst = c->hs + c->hs_len;
    if (lower) {
        for (size_t i = 0; i < n; i++)
            dst[i] = (char)tolower((unsigned char)p[i]);
    } else {
        memcpy(dst, p, n);
    }
    c->hs_len += n;
    c->hs[c->hs_len] = '\0';
    return 0;
}

static int count_hdr(pvh_conn *c, size_t n, int status, const char *msg) {
    c->hdr_bytes += (uint32_t)n;
    if (c->hdr_bytes > c->lim->max_header_bytes) return refuse_cb(c, status, msg);
    return 0;
}

static int on_message_begin(http_parser *p) {
    pvh_conn *c = conn_of(p);
    c->rq = RQ_READING;
    c->req_start_ms = c->now_ms;
    c->hs_len = 0;
    c->hs[0] = '\0';
    c->body_len = 0;
    c->hdr_bytes = 0;
    c->hdr_last_value = 1;
    c->target_off = 0;
    c->in_trailer = 0;
    memset(&c->req, 0, sizeof c->req);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
    pvh_conn *c = conn_of(p);
    if (count_hdr(c, n, 414, "request target too long") < 0) return -1;
    return hs_put(c, at, n, 0) < 0 ? refuse_cb(c, 414, "request target too long") : 0;
}

/* RFC 9110 tchar. Debian's http-parser is built non-strict and lets spaces
 * into field names ("Bad Header:"), a request-smuggling vector: refuse. */
static int is_tchar(unsigned char ch) {
    if (ch >= 'a' && ch <= 'z') return 1;
    if (ch >= 'A' && ch <= 'Z') return 1;
    if (ch >= '0' && ch <= '9') return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
    pvh_conn *c = conn_of(p);
    for (size_t i = 0; i < n; i++) {
        if (!is_tchar((unsigned char)at[i]))
            return refuse_cb(c, 400, "malformed HTTP request: invalid header name");
    }
    /* a header line costs its bytes plus ": " and CRLF */
    if (count_hdr(c, n + (c->hdr_last_value ? 4 : 0), 431, "request headers too large") < 0)
        return -1;
    if (c->in_trailer) return 0; /* chunked trailers: counted, never stored */
    if (c->hdr_last_value) {     /* a new header line starts */
        if (c->req.header_count == PVH_MAX_HEADERS)
            return refuse_cb(c, 431, "too many request headers");
        c->hs_len++; /* keep the previous segment's NUL */
        c->name_off[c->req.header_count++] = (uint32_t)c->hs_len;
        c->hdr_last_value = 0;
    }
    return hs_put(c, at, n, 1) < 0 ? refuse_cb(c, 431, "request headers too large") : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
    pvh_conn *c = conn_of(p);
    if (count_hdr(c, n, 431, "request headers too large") < 0) return -1;
    if (c->in_trailer) return 0;
    if (!c->hdr_last_value) {
        c->hs_len++;
        c->value_off[c->req.header_count - 1] = (uint32_t)c->hs_len;
        c->hdr_last_value = 1;
        if (c->hs_len + 1 > c->hs_cap) return refuse_cb(c, 431, "request headers too large");
        c->hs[c->hs_len] = '\0';
    }
    return hs_put(c, at, n, 0) < 0 ? refuse_cb(c, 431, "request headers too large") : 0;
}

/* Resolve header offsets into pointers and split the target. */
static int finish_headers(pvh_conn *c) {
    pvh_request *r = &c->req;
    if (!c->hdr_last_value) { /* a name without value cannot happen; be safe */
        if (c->hs_len + 2 > c->hs_cap) return refuse_cb(c, 431, "request headers too large");
        c->hs_len++;
        c->value_off[r->header_count - 1] = (uint32_t)c->hs_len;
        c->hs[c->hs_len] = '\0';
    }
    for (uint32_t i = 0; i < r->header_count; i++) {
        r->headers[i].name = c->hs + c->name_off[i];
        r->headers[i].name_len = (uint32_t)strlen(r->headers[i].name);
        r->headers[i].value = c->hs + c->value_off[i];
        r->headers[i].value_len = (uint32_t)strlen(r->headers[i].value);
    }
    r->target = c->hs + c->target_off;
    size_t tlen = strlen(r->target);
    const char *q = memchr(r->target, '?', tlen);
    size_t plen = q ? (size_t)(q - r->target) : tlen;
    c->hs_len++;
    size_t path_off = c->hs_len;
    if (hs_put(c, r->target, plen, 0) < 0) return refuse_cb(c, 414, "request target too long");
    r->path = c->hs + path_off;
    r->path_len = plen;
    r->query = q ? q + 1 : NULL;
    return 0;
}

static int on_headers_complete(http_parser *p) {
    pvh_conn *c = conn_of(p);
    c->in_trailer = 1; /* header callbacks after this are chunked trailers */
    if (finish_headers(c) < 0) return -1;
    if (p->http_major != 1) return refuse_cb(c, 505, "only HTTP/1.x is supported");
    /* RFC 9112 3.2: an HTTP/1.1 request without Host, or any with several,
     * MUST be answered 400. */
    uint32_t hosts = 0;
    pvh_header_find(&c->req, "host", &hosts);
    if (hosts > 1 || (p->http_minor >= 1 && hosts == 0))
        return refuse_cb(c, 400, "malformed HTTP request: missing or duplicate Host");
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->lim->max_body_bytes)
        return refuse_cb(c, 413, "request body too large");
    const pvh_header *expect = pvh_header_find(&c->req, "expect", NULL);
    if (expect) {
        if (strcasecmp(expect->value, "100-continue") != 0)
            return refuse_cb(c, 417, "unsupported Expect value");
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (pvh_out_append(c, cont, sizeof cont - 1, c->now_ms) < 0)
            return refuse_cb(c, 500, "out of memory");
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
    pvh_conn *c = conn_of(p);
    if (c->body_len + n > c->lim->max_body_bytes)
        return refuse_cb(c, 413, "request body too large");
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        if (cap > (size_t)c->lim->max_body_bytes + 1) cap = (size_t)c->lim->max_body_bytes + 1;
        char *nb = realloc(c->body, cap);
        if (!nb) return refuse_cb(c, 500, "out of memory");
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *p) {
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

const pvh_header *pvh_header_find(const pvh_request *r, const char *lname, uint32_t *count) {
    const pvh_header *first = NULL;
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->header_count; i++) {
        if (strcmp(r->headers[i].name, lname) != 0) continue;
        if (!first) first = &r->headers[i];
        n++;
    }
    if (count) *count = n;
    return first;
}

int pvh_conn_init(pvh_conn **out, const pvh_limits *lim, const pvh_handler *h, uint32_t id,
                  int64_t now_ms) {
    pvh_conn *c = calloc(1, sizeof *c);
    if (!c) return PV_ENOMEM;
    c->hs_cap = 2 * (size_t)lim->max_header_bytes + 4 * PVH_MAX_HEADERS + 16;
    c->hs = malloc(c->hs_cap);
    if (!c->hs) {
        free(c);
        return PV_ENOMEM;
    }
    c->hs[0] = '\0';
    c->lim = lim;
    c->h = h;
    c->id = id;
    c->last_activity_ms = now_ms;
    http_parser_set_max_header_size(lim->max_header_bytes + 1024);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    *out = c;
    return 0;
}

void pvh_conn_free(pvh_conn *c) {
    if (!c) return;
    free(c->hs);
    free(c->body);
    free(c->out);
    free(c);
}

static void close_now(pvh_conn *c, const char *reason) {
    if (c->state == PVH_CLOSED) return;
    c->state = PVH_CLOSED;
    if (!c->close_reason) c->close_reason = reason;
}

/* Answer a request the connection refuses by itself, then close. */
static void refuse(pvh_conn *c, int status, const char *msg) {
    c->rq = RQ_WAITING;
    c->close_reason = msg;
    if (c->h->on_refused) c->h->on_refused(c->h->ud, c, status, msg);
    const char *code = status == 408                    ? "REQUEST_TIMEOUT"
                       : status >= 500 && status != 505 ? "INTERNAL_ERROR"
                                                        : "INVALID_PAYLOAD";
    if (pvh_respond_error(c, status, code, msg, NULL, c->now_ms) < 0) close_now(c, msg);
    c->state = c->state == PVH_CLOSED ? PVH_CLOSED : PVH_CLOSING;
}

static void dispatch(pvh_conn *c) {
    pvh_request *r = &c->req;
    r->method = (int)c->parser.method;
    r->method_name = http_method_str((enum http_method)c->parser.method);
    r->body = c->body ? c->body : "";
    if (c->body) c->body[c->body_len] = '\0';
    r->body_len = c->body_len;
    r->keep_alive = http_should_keep_alive(&c->parser);
    r->upgrade = c->parser.upgrade;
    r->http_minor = c->parser.http_minor;
    r->seq = ++c->seq;
    r->start_ms = c->req_start_ms;
    c->rq = RQ_WAITING;
    if (r->upgrade) c->parser_upgrade = 1; /* the rest belongs to another protocol */
    c->h->on_request(c->h->ud, c, r);
}

static const char *parse_error_text(enum http_errno e) {
    switch (e) {
    case HPE_HEADER_OVERFLOW:
        return "request headers too large";
    case HPE_INVALID_METHOD:
        return "malformed HTTP request: invalid method";
    case HPE_INVALID_VERSION:
        return "malformed HTTP request: invalid version";
    case HPE_INVALID_URL:
        return "malformed HTTP request: invalid target";
    case HPE_INVALID_HEADER_TOKEN:
        return "malformed HTTP request: invalid header";
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return "malformed HTTP request: bad Content-Length";
    case HPE_INVALID_TRANSFER_ENCODING:
        return "malformed HTTP request: bad Transfer-Encoding";
    case HPE_INVALID_CHUNK_SIZE:
        return "malformed HTTP request: bad chunk";
    default:
        return "malformed HTTP request";
    }
}

static size_t out_queued(const pvh_conn *c) {
    return c->out_len - c->out_off;
}

void pvh_conn_process(pvh_conn *c, int64_t now_ms) {
    while (c->state == PVH_OPEN && c->rq != RQ_WAITING && !c->parser_upgrade &&
           c->in_off < c->in_len && out_queued(c) < PVH_OUT_HIGH_BYTES) {
        c->now_ms = now_ms;
        size_t avail = c->in_len - c->in_off;
        size_t n = http_parser_execute(&c->parser, &settings, c->in + c->in_off, avail);
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            dispatch(c);
            continue;
        }
        if (e != HPE_OK) {
            int status = c->refuse_status ? c->refuse_status : e == HPE_HEADER_OVERFLOW ? 431 : 400;
            refuse(c, status, c->refuse_status ? c->refuse_msg : parse_error_text(e));
            break;
        }
        assert(n == avail);
    }
    if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
    if (c->state == PVH_OPEN && c->peer_eof && c->rq == RQ_IDLE && c->in_len == 0)
        c->state = out_queued(c) ? PVH_CLOSING : PVH_CLOSED;
    if (c->state == PVH_CLOSING && out_queued(c) == 0) close_now(c, "closed after response");
}

char *pvh_conn_read_space(pvh_conn *c, size_t *space) {
    *space = 0;
    if (c->state != PVH_OPEN || c->peer_eof || c->parser_upgrade) return c->in;
    if (c->in_off > 0 && c->in_len == PVH_IN_BYTES) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    *space = PVH_IN_BYTES - c->in_len;
    return c->in + c->in_len;
}

void pvh_conn_received(pvh_conn *c, size_t n, int64_t now_ms) {
    assert(c->in_len + n <= PVH_IN_BYTES);
    c->in_len += n;
    pvh_conn_process(c, now_ms);
}

void pvh_conn_eof(pvh_conn *c, int64_t now_ms) {
    c->peer_eof = 1;
    if (c->rq == RQ_READING) {
        close_now(c, "peer closed mid-request");
        return;
    }
    pvh_conn_process(c, now_ms);
}

const char *pvh_conn_output(const pvh_conn *c, size_t *len) {
    *len = out_queued(c);
    return c->out ? c->out + c->out_off : "";
}

void pvh_conn_written(pvh_conn *c, size_t n, int64_t now_ms) {
    assert(n <= out_queued(c));
    c->out_off += n;
    if (n > 0) c->out_since_ms = now_ms; /* progress restarts the write clock */
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        c->last_activity_ms = now_ms;
        if (c->state == PVH_CLOSING) close_now(c, "closed after response");
    }
    pvh_conn_process(c, now_ms);
}

int64_t pvh_conn_deadline_ms(const pvh_conn *c) {
    if (c->state == PVH_CLOSED) return INT64_MAX;
    int64_t d = INT64_MAX;
    if (out_queued(c)) d = c->out_since_ms + c->lim->write_timeout_ms;
    if (c->state == PVH_UPGRADED) return d;
    if (c->rq == RQ_READING) d = min64(d, c->req_start_ms + c->lim->request_timeout_ms);
    if (c->rq == RQ_IDLE && !out_queued(c))
        d = min64(d, c->last_activity_ms + c->lim->idle_timeout_ms);
    return d;
}

void pvh_conn_timeout(pvh_conn *c, int64_t now_ms) {
    if (c->state == PVH_CLOSED) return;
    if (out_queued(c) && now_ms >= c->out_since_ms + c->lim->write_timeout_ms) {
        close_now(c, "write timeout");
    } else if (c->rq == RQ_READING && now_ms >= c->req_start_ms + c->lim->request_timeout_ms) {
        c->now_ms = now_ms;
        refuse(c, 408, "request not complete within REQUEST_TIMEOUT_MS");
    } else if (c->rq == RQ_IDLE && !out_queued(c) && c->state == PVH_OPEN &&
               now_ms >= c->last_activity_ms + c->lim->idle_timeout_ms) {
        close_now(c, "idle timeout");
    }
}

void pvh_conn_drain(pvh_conn *c, int64_t now_ms) {
    c->draining = 1;
    if (c->state != PVH_OPEN) return;
    if (c->rq == RQ_IDLE) c->state = out_queued(c) ? PVH_CLOSING : PVH_CLOSED;
    if (c->state == PVH_CLOSED && !c->close_reason) c->close_reason = "shutdown";
}

pvh_state pvh_conn_state(const pvh_conn *c) {
    return c->state;
}
uint32_t pvh_conn_id(const pvh_conn *c) {
    return c->id;
}
int pvh_conn_busy(const pvh_conn *c) {
    return c->rq == RQ_WAITING;
}
const char *pvh_conn_close_reason(const pvh_conn *c) {
    return c->close_reason;
}
void pvh_conn_set_user(pvh_conn *c, void *user) {
    c->user = user;
}
void *pvh_conn_user(const pvh_conn *c) {
    return c->user;
}
const char *pvh_conn_peer(const pvh_conn *c) {
    return c->peer;
}

void pvh_conn_set_peer(pvh_conn *c, const char *ip) {
    size_t n = strlen(ip);
    if (n >= sizeof c->peer) n = sizeof c->peer - 1;
    memcpy(c->peer, ip, n);
    c->peer[n] = '\0';
}

const char *pvh_conn_leftover(const pvh_conn *c, size_t *len) {
    *len = c->in_len - c->in_off;
    return c->in + c->in_off;
}

int pvh_conn_wants_process(const pvh_conn *c) {
    return c->state == PVH_OPEN && c->rq != RQ_WAITING && !c->parser_upgrade &&
           c->in_off < c->in_len && out_queued(c) < PVH_OUT_HIGH_BYTES;
}

int pvh_conn_idle(const pvh_conn *c) {
    return c->state == PVH_OPEN && c->rq == RQ_IDLE && c->in_len == c->in_off && !out_queued(c);
}

void pvh_conn_set_owner(pvh_conn *c, void *owner) {
    c->owner = owner;
}
void *pvh_conn_owner(const pvh_conn *c) {
    return c->owner;
}
