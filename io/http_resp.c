/*
 * http_resp.c - response framing for pvh_conn: status line, the headers
 * every response carries, the JSON error shape, upgrades.
 */
#include "http_conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_out.h"
#include "pv.h"

const char *pvh_status_text(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void pvh_format_date(char out[30], int64_t unix_s) {
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int pvh_out_append(pvh_conn *c, const char *p, size_t n, int64_t now_ms) {
    if (n == 0) return 0; /* p may be NULL for an empty body */
    size_t queued = c->out_len - c->out_off;
    if (queued + n > PVH_OUT_MAX_BYTES + PVH_OUT_HIGH_BYTES) return PV_EINVAL;
    if (queued == 0) {
        c->out_off = c->out_len = 0;
        c->out_since_ms = now_ms;
    }
    if (c->out_len + n > c->out_cap && c->out_off > 0) { /* compact first */
        memmove(c->out, c->out + c->out_off, queued);
        c->out_len = queued;
        c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *nb = realloc(c->out, cap);
        if (!nb) return PV_ENOMEM;
        c->out = nb;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

void pvh_conn_answered(pvh_conn *c, int close) {
    c->rq = RQ_IDLE;
    if (close && c->state == PVH_OPEN) c->state = PVH_CLOSING;
    if (c->h->on_wakeup) c->h->on_wakeup(c->h->ud, c);
}

/* 1 if s is a sequence of "Name: value\r\n" lines without stray CR/LF. */
static int header_lines_valid(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        const char *eol = memchr(s + i, '\r', n - i);
        if (!eol || eol + 1 >= s + n || eol[1] != '\n') return 0;
        if (memchr(s + i, '\n', (size_t)(eol - (s + i))) || eol == s + i) return 0;
        i = (size_t)(eol - s) + 2;
    }
    return 1;
}

int pvh_respond(pvh_conn *c, const pvh_response *r, int64_t now_ms) {
    if (c->rq != RQ_WAITING || c->state == PVH_CLOSED || c->state == PVH_UPGRADED) return PV_ESTATE;
    size_t extra_len = r->extra_headers ? strlen(r->extra_headers) : 0;
    if (r->status < 200 || r->status > 599 || r->body_len > PVH_OUT_MAX_BYTES ||
        extra_len > PVH_EXTRA_HEADERS_MAX || !header_lines_valid(r->extra_headers, extra_len) ||
        (r->body_len > 0 && !r->body))
        return PV_EINVAL;
    int close = r->close || !c->req.keep_alive || c->draining || c->parser_upgrade || c->peer_eof;
    /* RFC 9110 8.6: no Content-Length (and no body) in a 204 or 304 */
    int no_body = r->status == 204 || r->status == 304;
    if (no_body && r->body_len > 0) return PV_EINVAL;
    char clen[48] = "";
    if (!no_body) snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", r->body_len);
    char head[PVH_EXTRA_HEADERS_MAX + 512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s%s"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s%s\r\n",
                     r->status, pvh_status_text(r->status), c->h->date ? "Date: " : "",
                     c->h->date ? c->h->date : "", c->h->date ? "\r\n" : "", clen,
                     r->content_type ? "Content-Type: " : "",
                     r->content_type ? r->content_type : "", r->content_type ? "\r\n" : "",
                     close                    ? "Connection: close\r\n"
                     : c->req.http_minor == 0 ? "Connection: keep-alive\r\n"
                                              : "",
                     r->extra_headers ? r->extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof head) return PV_EINVAL;
    int head_only = c->req.method == HTTP_HEAD;
    if (pvh_out_append(c, head, (size_t)n, now_ms) < 0 ||
        (!head_only && pvh_out_append(c, r->body, r->body_len, now_ms) < 0)) {
        pvh_conn_answered(c, 1);
        c->state = PVH_CLOSED;
        c->close_reason = "response too large";
        return PV_ENOMEM;
    }
    pvh_conn_answered(c, close);
    return 0;
}

int pvh_respond_error(pvh_conn *c, int status, const char *code, const char *message,
                      const char *extra_headers, int64_t now_ms) {
    char mem[512];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    pvbuf_cstr(&b, "{\"error\":{\"code\":");
    pvbuf_jstr(&b, code);
    pvbuf_cstr(&b, ",\"message\":");
    pvbuf_jstrn(&b, message, strnlen(message, 300));
    pvbuf_cstr(&b, "}}");
    if (pvbuf_status(&b) != 0) return PV_EINVAL;
    pvh_response r = {.status = status,
                      .content_type = "application/json",
                      .body = b.p,
                      .body_len = b.len,
                      .extra_headers = extra_headers,
                      .close = status == 408 || status == 413 || status == 431 || status == 414};
    return pvh_respond(c, &r, now_ms);
}

int pvh_conn_upgrade(pvh_conn *c, const char *response, size_t len, int64_t now_ms) {
    if (c->rq != RQ_WAITING || !c->req.upgrade || c->state != PVH_OPEN) return PV_ESTATE;
    if (pvh_out_append(c, response, len, now_ms) < 0) return PV_ENOMEM;
    c->state = PVH_UPGRADED;
    c->rq = RQ_IDLE;
    if (c->h->on_wakeup) c->h->on_wakeup(c->h->ud, c);
    return 0;
}
