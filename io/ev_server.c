/*
 * ev_server.c - the HTTP server on real sockets: accept, read, write,
 * deadline timers, connection limits (total and per client IP), deferred
 * frees. All HTTP semantics live in http_conn.c; this file moves bytes.
 */
#define _GNU_SOURCE /* accept4 */
#include "ev_shell.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_EVENT 64
#define IP_TABLE_PROBE    16

typedef struct pvs_conn pvs_conn;
struct pvs_conn {
    ev_io io;
    ev_timer timer;
    int fd;
    int events;  /* EV_READ / EV_WRITE currently watched */
    int pending; /* on the pending list */
    int dead;
    int64_t armed_ms; /* deadline the timer is armed for, INT64_MAX = none */
    pvh_conn *h;
    pvs_server *srv;
    pvs_conn *prev, *next; /* all connections, oldest first */
    pvs_conn *next_pending, *next_dead;
    uint32_t ip_slot;
};

typedef struct ip_count {
    char ip[64];
    uint32_t n;
} ip_count;

struct pvs_server {
    struct ev_loop *loop;
    pvs_clock *clk;
    pvapp *app;
    pvlog *log;
    pvs_server_opts o;
    pvh_handler handler;
    int listen_fd;
    ev_io accept_io;
    uint32_t n_conns, next_id;
    pvs_conn *head, *tail;
    pvs_conn *pending, *dead;
    ip_count *ips;
    uint32_t n_ips; /* power of two */
    int draining;
};

static void now(pvs_server *s, int64_t *now_ms) {
    int64_t wall;
    pvs_clock_get(s->loop, s->clk, now_ms, &wall);
    pvapp_set_time(s->app, *now_ms, wall);
}

static void enlist(pvs_conn *c) {
    if (c->pending || c->dead) return;
    c->pending = 1;
    c->next_pending = c->srv->pending;
    c->srv->pending = c;
}

/* ---- per-IP counts: bounded open addressing, no deletion tombstones
 * needed because a slot is only reused when its count is 0 ---- */

static uint32_t ip_hash(const char *ip) {
    uint32_t h = 2166136261u;
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 16777619u;
    return h;
}

/* Slot for ip (found or claimed), or UINT32_MAX when the window is full. */
static uint32_t ip_slot(pvs_server *s, const char *ip) {
    uint32_t mask = s->n_ips - 1, h = ip_hash(ip), free_slot = UINT32_MAX;
    for (uint32_t i = 0; i < IP_TABLE_PROBE; i++) {
        uint32_t k = (h + i) & mask;
        if (s->ips[k].n > 0 && strcmp(s->ips[k].ip, ip) == 0) return k;
        if (s->ips[k].n == 0 && free_slot == UINT32_MAX) free_slot = k;
    }
    if (free_slot != UINT32_MAX) snprintf(s->ips[free_slot].ip, sizeof s->ips[0].ip, "%s", ip);
    return free_slot;
}

static int ip_exempt(const pvs_server *s, const char *ip) {
    /* behind the trusted local proxy every client shares its address */
    if (s->o.max_connections_per_ip == 0) return 1;
    return s->o.loopback_exempt && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0);
}

/* ---- closing ---- */

static void conn_close(pvs_conn *c, int close_fd) {
    if (c->dead) return;
    pvs_server *s = c->srv;
    ev_io_stop(s->loop, &c->io);
    ev_timer_stop(s->loop, &c->timer);
    if (close_fd) close(c->fd);
    const char *reason = pvh_conn_close_reason(c->h);
    if (pvlog_begin(s->log, pvapp_wall_ms(s->app), PV_LOG_DEBUG, "connection closed")) {
        pvlog_ids(s->log, NULL, NULL, 0, pvh_conn_id(c->h));
        pvlog_str(s->log, "reason", reason ? reason : "closed");
        pvlog_end(s->log);
    }
    pvapp_conn_closed(s->app, c->h);
    if (c->ip_slot != UINT32_MAX && s->ips[c->ip_slot].n > 0) s->ips[c->ip_slot].n--;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    s->n_conns--;
    c->dead = 1;
    c->next_dead = s->dead;
    s->dead = c;
}

static void free_dead(pvs_server *s) {
    while (s->dead) {
        pvs_conn *c = s->dead;
        s->dead = c->next_dead;
        pvh_conn_free(c->h);
        free(c);
    }
}

/* ---- watchers ---- */

static void set_events(pvs_conn *c, int events) {
    if (c->events == events) return;
    ev_io_stop(c->srv->loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    if (events) ev_io_start(c->srv->loop, &c->io);
    c->events = events;
}

/* Lazy deadline timer: re-armed only when the deadline moves earlier; a
 * timer that fires early just re-arms for the rest. */
static void arm_deadline(pvs_conn *c, int64_t now_ms) {
    int64_t d = pvh_conn_deadline_ms(c->h);
    if (d == INT64_MAX) {
        ev_timer_stop(c->srv->loop, &c->timer);
        c->armed_ms = INT64_MAX;
        return;
    }
    if (ev_is_active(&c->timer) && c->armed_ms <= d) return;
    ev_timer_stop(c->srv->loop, &c->timer);
    double after = d > now_ms ? (double)(d - now_ms) / 1000.0 : 0.0;
    ev_timer_set(&c->timer, after, 0.0);
    ev_timer_start(c->srv->loop, &c->timer);
    c->armed_ms = d;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    pvs_conn *c = w->data;
    int64_t t;
    now(c->srv, &t);
    c->armed_ms = INT64_MAX;
    if (t >= pvh_conn_deadline_ms(c->h)) pvh_conn_timeout(c->h, t);
    enlist(c);
}

static void do_read(pvs_conn *c, int64_t t) {
    size_t space;
    char *dst = pvh_conn_read_space(c->h, &space);
    if (space == 0) return;
    ssize_t n = recv(c->fd, dst, space, 0);
    if (n > 0) {
        pvh_conn_received(c->h, (size_t)n, t);
    } else if (n == 0) {
        pvh_conn_eof(c->h, t);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        pvh_conn_eof(c->h, t);
        conn_close(c, 1);
    }
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents) {
    pvs_conn *c = w->data;
    int64_t t;
    now(c->srv, &t);
    if (revents & EV_READ) do_read(c, t);
    enlist(c); /* writing happens before the loop sleeps */
}

/* Write queued output; 0 done or would block, -1 connection failed. */
static int do_write(pvs_conn *c, int64_t t) {
    for (;;) {
        size_t len;
        const char *p = pvh_conn_output(c->h, &len);
        if (len == 0) return 0;
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            pvh_conn_written(c->h, (size_t)n, t);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

/* Parse buffered input, write, update watchers and timers, close. */
static void flush_conn(pvs_conn *c, int64_t t) {
    pvs_server *s = c->srv;
    for (int round = 0; round < 4; round++) { /* bounded: process/write alternation */
        if (pvh_conn_wants_process(c->h)) pvh_conn_process(c->h, t);
        if (do_write(c, t) < 0) {
            conn_close(c, 1);
            return;
        }
        if (!pvh_conn_wants_process(c->h)) break;
    }
    size_t out_len, space;
    pvh_conn_output(c->h, &out_len);
    pvh_state st = pvh_conn_state(c->h);
    if (st == PVH_CLOSED) {
        conn_close(c, 1);
        return;
    }
    if (st == PVH_UPGRADED && out_len == 0) {
        int fd = c->fd;
        ev_io_stop(s->loop, &c->io);
        int taken = pvapp_take_upgraded(s->app, c->h, fd) == 0;
        conn_close(c, !taken);
        return;
    }
    pvh_conn_read_space(c->h, &space);
    int ev = (space > 0 && st == PVH_OPEN ? EV_READ : 0) | (out_len > 0 ? EV_WRITE : 0);
    set_events(c, ev);
    if (pvh_conn_wants_process(c->h)) enlist(c);
    arm_deadline(c, t);
}

void pvs_server_before_sleep(pvs_server *s) {
    int64_t t;
    now(s, &t);
    /* flushing may answer requests whose effects enlist other connections */
    for (int round = 0; round < 8 && s->pending; round++) {
        pvs_conn *list = s->pending;
        s->pending = NULL;
        while (list) {
            pvs_conn *c = list;
            list = c->next_pending;
            c->pending = 0;
            if (!c->dead) flush_conn(c, t);
        }
    }
    free_dead(s);
}

static void on_wakeup(void *ud, pvh_conn *h) {
    pvs_conn *c = pvh_conn_owner(h);
    if (c) enlist(c);
}

static void on_request(void *ud, pvh_conn *h, const pvh_request *req) {
    pvs_server *s = ud;
    pvapp_on_request(s->app, h, req);
}

static void on_refused(void *ud, pvh_conn *h, int status, const char *reason) {
    pvs_server *s = ud;
    pvapp_on_refused(s->app, h, status, reason);
}

/* ---- accepting ---- */

/* A canned answer for connections refused at accept (best effort: the
 * socket buffer of a fresh connection always takes it). */
static void refuse_fd(int fd, int status, const char *code, const char *msg) {
    char buf[400];
    char body[200];
    int bl =
        snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, msg);
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Retry-After: 1\r\nConnection: close\r\n\r\n%s",
                     status, pvh_status_text(status), bl, body);
    if (n > 0) (void)!send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

/* When full, make room by closing the oldest idle keep-alive connection:
 * idle connections are cheap to re-open, new clients must get in. */
static int evict_idle(pvs_server *s) {
    for (pvs_conn *c = s->head; c; c = c->next) {
        if (!c->dead && pvh_conn_idle(c->h)) {
            conn_close(c, 1);
            return 0;
        }
    }
    return -1;
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t cap) {
    out[0] = '\0';
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)cap);
    } else if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
    if (!out[0]) snprintf(out, cap, "unknown");
}

static void add_conn(pvs_server *s, int fd, const char *ip, int64_t t) {
    uint32_t slot = UINT32_MAX;
    if (!ip_exempt(s, ip)) {
        slot = ip_slot(s, ip);
        if (slot == UINT32_MAX || s->ips[slot].n >= s->o.max_connections_per_ip) {
            refuse_fd(fd, 429, "RATE_LIMITED", "too many connections from this address");
            return;
        }
    }
    if (s->n_conns >= s->o.max_connections && evict_idle(s) < 0) {
        refuse_fd(fd, 503, "INTERNAL_ERROR", "connection limit reached");
        return;
    }
    pvs_conn *c = calloc(1, sizeof *c);
    if (!c || pvh_conn_init(&c->h, &s->o.limits, &s->handler, ++s->next_id, t) < 0) {
        free(c);
        refuse_fd(fd, 503, "INTERNAL_ERROR", "out of memory");
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->srv = s;
    c->ip_slot = slot;
    if (slot != UINT32_MAX) s->ips[slot].n++;
    c->armed_ms = INT64_MAX;
    pvh_conn_set_owner(c->h, c);
    pvh_conn_set_peer(c->h, ip);
    ev_io_init(&c->io, io_cb, fd, EV_READ);
    c->io.data = c;
    c->events = EV_READ;
    ev_io_start(s->loop, &c->io);
    ev_init(&c->timer, timer_cb);
    c->timer.data = c;
    c->prev = s->tail;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    s->n_conns++;
    arm_deadline(c, t);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
    pvs_server *s = w->data;
    int64_t t;
    now(s, &t);
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                if (pvlog_begin(s->log, pvapp_wall_ms(s->app), PV_LOG_ERROR,
                                "accept: out of file descriptors"))
                    pvlog_end(s->log);
            }
            return; /* EAGAIN and transient errors: try again on the next event */
        }
        char ip[64];
        peer_text(&ss, ip, sizeof ip);
        add_conn(s, fd, ip, t);
    }
}

static int listen_on(const char *host, uint32_t port, char *err) {
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%u", port);
    int rc = getaddrinfo(host, port_s, &hints, &ai);
    if (rc != 0) {
        snprintf(err, PVCFG_ERR_MAX, "HOST: %s", gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd >= 0 && ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
        snprintf(err, PVCFG_ERR_MAX, "cannot listen on %s port %u: %s", host, port,
                 strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int pvs_server_new(pvs_server **out, struct ev_loop *loop, const pvs_server_opts *o, pvapp *app,
                   pvlog *log, pvs_clock *clk, char *err) {
    pvs_server *s = calloc(1, sizeof *s);
    if (!s) return snprintf(err, PVCFG_ERR_MAX, "out of memory"), -1;
    s->loop = loop;
    s->clk = clk;
    s->app = app;
    s->log = log;
    s->o = *o;
    s->n_ips = 64;
    while (s->n_ips < 2 * o->max_connections)
        s->n_ips *= 2;
    s->ips = calloc(s->n_ips, sizeof *s->ips);
    s->handler = (pvh_handler){.on_request = on_request,
                               .on_refused = on_refused,
                               .on_wakeup = on_wakeup,
                               .ud = s,
                               .date = pvapp_date(app)};
    s->listen_fd = s->ips ? listen_on(o->host, o->port, err) : -1;
    if (s->listen_fd < 0) {
        if (!s->ips) snprintf(err, PVCFG_ERR_MAX, "out of memory");
        free(s->ips);
        free(s);
        return -1;
    }
    ev_io_init(&s->accept_io, accept_cb, s->listen_fd, EV_READ);
    s->accept_io.data = s;
    ev_io_start(loop, &s->accept_io);
    *out = s;
    return 0;
}

void pvs_server_drain(pvs_server *s) {
    int64_t t;
    now(s, &t);
    if (!s->draining) {
        s->draining = 1;
        ev_io_stop(s->loop, &s->accept_io);
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    for (pvs_conn *c = s->head; c; c = c->next) {
        pvh_conn_drain(c->h, t);
        enlist(c);
    }
}

void pvs_server_close_all(pvs_server *s) {
    while (s->head)
        conn_close(s->head, 1);
    s->pending = NULL;
    free_dead(s);
}

uint32_t pvs_server_connections(const pvs_server *s) {
    return s->n_conns;
}

void pvs_server_free(pvs_server *s) {
    if (!s) return;
    pvs_server_close_all(s);
    if (s->listen_fd >= 0) {
        ev_io_stop(s->loop, &s->accept_io);
        close(s->listen_fd);
    }
    free(s->ips);
    free(s);
}
