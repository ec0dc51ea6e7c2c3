/*
 * wsc.c - blocking WebSocket test client (see wsc.h).
 */
#define _GNU_SOURCE
#include "wsc.h"

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
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "ws_hs.h"

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const void *p, size_t n) {
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *ud) {
    wsc *c = ud;
    if (c->in_off == c->in_len) {
        wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = c->in_len - c->in_off < len ? c->in_len - c->in_off : len;
    memcpy(buf, c->in + c->in_off, n);
    c->in_off += n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags,
                       void *ud) {
    wsc *c = ud;
    if (send_all(c->fd, data, len) < 0) {
        wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len, void *ud) {
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(rand() & 0xff);
    return 0;
}

static void on_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud) {
    wsc *c = ud;
    if (a->opcode == WSLAY_CONNECTION_CLOSE) {
        c->closed = 1;
        c->close_code = a->status_code;
        size_t n = a->msg_length > 2 ? a->msg_length - 2 : 0;
        if (n >= sizeof c->close_reason) n = sizeof c->close_reason - 1;
        if (n) memcpy(c->close_reason, a->msg + 2, n);
        c->close_reason[n] = '\0';
        return;
    }
    if (a->opcode == WSLAY_BINARY_FRAME) c->binary_seen = 1;
    if (a->opcode != WSLAY_TEXT_FRAME) return;
    c->received++;
    if (c->count == WSC_MAX_MSGS) {
        c->dropped++;
        return;
    }
    wsc_msg *m = &c->msgs[(c->head + c->count++) % WSC_MAX_MSGS];
    m->text = malloc(a->msg_length + 1);
    memcpy(m->text, a->msg, a->msg_length);
    m->text[a->msg_length] = '\0';
    m->len = a->msg_length;
}

/* ---- connecting ---- */

static int tcp_connect(int port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Read the HTTP answer head; bytes after it stay in c->in. */
static int read_head(wsc *c, int timeout_ms) {
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        c->in[c->in_len] = '\0';
        char *eoh = strstr((char *)c->in, "\r\n\r\n");
        if (eoh) {
            size_t hl = (size_t)(eoh + 4 - (char *)c->in);
            snprintf(c->http_head, sizeof c->http_head, "%.*s", (int)hl, (char *)c->in);
            c->in_off = hl;
            if (sscanf(c->http_head, "HTTP/1.1 %d", &c->http_status) != 1) c->http_status = 0;
            return 0;
        }
        int left = (int)(end - mono_ms());
        struct pollfd p = {c->fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) <= 0) return -1;
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, 0);
        if (n <= 0) return -1;
        c->in_len += (size_t)n;
    }
}

int wsc_connect(wsc *c, int port, const wsc_opts *o) {
    static const wsc_opts none;
    if (!o) o = &none;
    memset(c, 0, sizeof *c);
    c->fd = tcp_connect(port, o->rcvbuf);
    if (c->fd < 0) return -1;
    char key[PVWS_KEY_LEN + 1];
    if (o->key) {
        snprintf(key, sizeof key, "%s", o->key);
    } else {
        unsigned char raw[16];
        for (int i = 0; i < 16; i++)
            raw[i] = (unsigned char)rand();
        pvb64_encode(key, sizeof key, raw, 16, PVB64_STD);
    }
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: %s\r\n%s\r\n",
                     o->path ? o->path : "/policy-socket", port, key,
                     o->version ? o->version : "13", o->extra_headers ? o->extra_headers : "");
    if (send_all(c->fd, req, (size_t)n) < 0 || read_head(c, 3000) < 0) return -1;
    if (c->http_status != 101) return -1;
    char want[PVWS_ACCEPT_LEN + 1], line[80];
    pvws_hs_accept(key, strlen(key), want);
    snprintf(line, sizeof line, "Sec-WebSocket-Accept: %s\r\n", want);
    if (!strcasestr(c->http_head, line)) return -1;
    struct wslay_event_callbacks cb = {.recv_callback = recv_cb,
                                       .send_callback = send_cb,
                                       .genmask_callback = genmask_cb,
                                       .on_msg_recv_callback = on_msg};
    if (wslay_event_context_client_init(&c->ws, &cb, c) != 0) return -1;
    wslay_event_config_set_max_recv_msg_length(c->ws, 16u << 20);
    if (c->in_off < c->in_len) wslay_event_recv(c->ws); /* frames right after the 101 */
    return 0;
}

void wsc_free(wsc *c) {
    while (c->count > 0) {
        free(c->msgs[c->head].text);
        c->head = (c->head + 1) % WSC_MAX_MSGS;
        c->count--;
    }
    if (c->ws) wslay_event_context_free(c->ws);
    if (c->fd >= 0) close(c->fd);
    c->ws = NULL;
    c->fd = -1;
}

/* ---- sending ---- */

static int queue_and_send(wsc *c, uint8_t opcode, const void *p, size_t n) {
    struct wslay_event_msg m = {opcode, p, n};
    if (!c->ws || wslay_event_queue_msg(c->ws, &m) != 0) return -1;
    return wslay_event_send(c->ws) == 0 ? 0 : -1;
}

int wsc_send_text(wsc *c, const char *text) {
    return queue_and_send(c, WSLAY_TEXT_FRAME, text, strlen(text));
}
int wsc_send_binary(wsc *c, const void *p, size_t n) {
    return queue_and_send(c, WSLAY_BINARY_FRAME, p, n);
}
int wsc_send_raw(wsc *c, const void *p, size_t n) {
    return send_all(c->fd, p, n);
}

int wsc_close(wsc *c, uint16_t code) {
    if (!c->ws || wslay_event_queue_close(c->ws, code, NULL, 0) != 0) return -1;
    return wslay_event_send(c->ws) == 0 ? 0 : -1;
}

/* ---- receiving ---- */

/* One poll + read + parse step; 0 data handled, -1 timeout, -2 closed. */
static int read_once(wsc *c, int timeout_ms) {
    if (c->closed) return -2;
    struct pollfd p = {c->fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r <= 0) return -1;
    if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n <= 0) {
        c->closed = 1;
        return -2;
    }
    c->in_len += (size_t)n;
    wslay_event_recv(c->ws);
    if (wslay_event_want_write(c->ws)) wslay_event_send(c->ws); /* pongs, close echo */
    return 0;
}

void wsc_pump(wsc *c, int timeout_ms) {
    int64_t end = mono_ms() + timeout_ms;
    while (!c->closed) {
        int left = (int)(end - mono_ms());
        if (left < 0 || read_once(c, left) == -1) break;
    }
}

static const char *pop(wsc *c) {
    static char *last;
    free(last);
    last = NULL;
    if (c->count == 0) return NULL;
    wsc_msg *m = &c->msgs[c->head];
    c->head = (c->head + 1) % WSC_MAX_MSGS;
    c->count--;
    last = m->text;
    return last;
}

const char *wsc_recv(wsc *c, int timeout_ms) {
    int64_t end = mono_ms() + timeout_ms;
    while (c->count == 0 && !c->closed) {
        int left = (int)(end - mono_ms());
        if (left < 0 || read_once(c, left) == -2) break;
    }
    return pop(c);
}

const char *wsc_recv_skip(wsc *c, const char *skip_type, int timeout_ms) {
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        int left = (int)(end - mono_ms());
        const char *m = wsc_recv(c, left < 0 ? 0 : left);
        if (!m) return NULL;
        char t[64];
        if (!skip_type || strcmp(wsc_type(m, t, sizeof t), skip_type) != 0) return m;
    }
}

int wsc_wait_close(wsc *c, int timeout_ms) {
    int64_t end = mono_ms() + timeout_ms;
    while (!c->closed) {
        int left = (int)(end - mono_ms());
        if (left < 0) return -1;
        read_once(c, left);
    }
    return c->close_code;
}

/* ---- JSON field readers ---- */

static const char *field(const char *msg, const char *key) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(msg, pat);
    return p ? p + strlen(pat) : NULL;
}

const char *wsc_type(const char *msg, char *out, size_t cap) {
    if (!wsc_str(msg, "type", out, cap)) out[0] = '\0';
    return out;
}

int64_t wsc_int(const char *msg, const char *key) {
    const char *p = field(msg, key);
    return p ? strtoll(p, NULL, 10) : -1;
}

const char *wsc_str(const char *msg, const char *key, char *out, size_t cap) {
    const char *p = field(msg, key);
    if (!p || *p != '"') return NULL;
    size_t n = strcspn(p + 1, "\"");
    snprintf(out, cap, "%.*s", (int)n, p + 1);
    return out;
}

const char *wsc_ids(const char *msg, const char *key, char *out, size_t cap) {
    const char *p = field(msg, key);
    if (!p || *p != '[') return NULL;
    size_t w = 0;
    out[0] = '\0';
    for (p++; *p && *p != ']'; p++) {
        if (*p == '"' || (*p == ',' && w == 0)) continue;
        if (w + 1 < cap) out[w++] = *p;
    }
    out[w] = '\0';
    return out;
}
