/*
 * bb_http.c - a small blocking HTTP/1.1 client for the black-box tests
 * (keeps unread bytes per connection, so pipelined responses work).
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bb.h"

int bb_connect(bb_conn *c, int port, const char *bind_ip) {
    c->len = 0;
    c->head_request = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) return -1;
    if (bind_ip) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        inet_pton(AF_INET, bind_ip, &b.sin_addr);
        if (bind(c->fd, (struct sockaddr *)&b, sizeof b) < 0) {
            close(c->fd);
            return -1;
        }
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

void bb_close(bb_conn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

int bb_send(bb_conn *c, const char *p, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(c->fd, p + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        off += (size_t)w;
    }
    return 0;
}

int bb_sends(bb_conn *c, const char *s) {
    return bb_send(c, s, strlen(s));
}

/* Read more bytes within the deadline. 1 got bytes, 0 EOF, -1 timeout/error. */
static int fill(bb_conn *c, int64_t deadline) {
    int left = (int)(deadline - bb_now_ms());
    if (left < 0) left = 0;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, left) <= 0) return -1;
    if (c->len == sizeof c->buf) return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n < 0) return -1;
    if (n == 0) return 0;
    c->len += (size_t)n;
    return 1;
}

int bb_read(bb_conn *c, bb_resp *r, int timeout_ms) {
    memset(r, 0, sizeof *r);
    r->status = -1;
    int64_t deadline = bb_now_ms() + timeout_ms;
    char *end;
    for (;;) {
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end) break;
        if (fill(c, deadline) <= 0) return -1;
    }
    size_t hlen = (size_t)(end - c->buf) + 4;
    if (hlen >= sizeof r->head) return -1;
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    r->status = atoi(r->head + 9);
    char v[32];
    size_t blen = bb_header(r, "content-length", v, sizeof v) ? (size_t)atol(v) : 0;
    if (r->status == 100 || c->head_request) blen = 0;
    c->head_request = 0;
    while (c->len < hlen + blen) {
        if (fill(c, deadline) <= 0) return -1;
    }
    if (blen >= sizeof r->body) return -1;
    memcpy(r->body, c->buf + hlen, blen);
    r->body[blen] = '\0';
    r->body_len = blen;
    memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
    c->len -= hlen + blen;
    return 0;
}

int bb_wait_closed(bb_conn *c, int timeout_ms) {
    int64_t deadline = bb_now_ms() + timeout_ms;
    for (;;) {
        int rc = fill(c, deadline);
        if (rc == 0) return 1;
        if (rc < 0) {
            if (errno == ECONNRESET) return 1;
            return bb_now_ms() >= deadline ? 0 : 1;
        }
    }
}

int bb_do(bb_conn *c, const char *method, const char *path, const char *headers, const char *body,
          bb_resp *r) {
    char head[16384];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                     headers ? headers : "");
    if (body) n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", blen);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    c->head_request = strcmp(method, "HEAD") == 0;
    if (bb_send(c, head, (size_t)n) < 0 || (body && bb_send(c, body, blen) < 0)) return -1;
    return bb_read(c, r, 5000);
}

int bb_req(int port, const char *method, const char *path, const char *headers, const char *body,
           bb_resp *r) {
    static bb_conn c;
    if (bb_connect(&c, port, NULL) < 0) return -1;
    int rc = bb_do(&c, method, path, headers, body, r);
    bb_close(&c);
    return rc < 0 ? -1 : r->status;
}

const char *bb_header(const bb_resp *r, const char *name, char *out, size_t cap) {
    char pat[128];
    snprintf(pat, sizeof pat, "\r\n%s:", name);
    const char *p = strcasestr(r->head, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

int bb_error_code(const bb_resp *r, const char *code) {
    char pat[96];
    snprintf(pat, sizeof pat, "{\"error\":{\"code\":\"%s\"", code);
    return strncmp(r->body, pat, strlen(pat)) == 0;
}
