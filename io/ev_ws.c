/*
 * ev_ws.c - policy sockets on libev (see ev_ws.h): reading, writing,
 * deadline timers and closing around the libev-free ws_policy module.
 */
#include "ev_ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define READS_PER_EVENT 4  /* bounded work per readable event */
#define FLUSH_ROUNDS    16 /* write / resync alternations per prepare */
#define READ_BYTES      16384

typedef struct evsock evsock;
struct evsock {
    ev_io io;
    ev_timer timer;
    int fd;
    int events;       /* EV_READ / EV_WRITE currently watched */
    int pending;      /* on the pending list */
    int64_t armed_ms; /* deadline the timer is armed for, INT64_MAX = none */
    pvwsp_sock *s;
    pvws_ev *w;
    evsock *next_pending;
};

struct pvws_ev {
    struct ev_loop *loop;
    pvs_clock *clk;
    pvapp *app;
    pvlog *log;
    pvwsp *p;
    ev_prepare prep;
    ev_idle idle; /* keeps the loop from sleeping while work is left */
    evsock *pending;
    int sndbuf; /* SO_SNDBUF of policy sockets */
    char rbuf[READ_BYTES];
};

static int64_t now(pvws_ev *w) {
    int64_t now_ms, wall_ms;
    pvs_clock_get(w->loop, w->clk, &now_ms, &wall_ms);
    pvapp_set_time(w->app, now_ms, wall_ms);
    return now_ms;
}

static void enlist(evsock *e) {
    if (e->pending) return;
    e->pending = 1;
    e->next_pending = e->w->pending;
    e->w->pending = e;
}

static void on_wakeup(void *ud, pvwsp_sock *s) {
    enlist(pvwsp_sock_shell(s));
}

/* ---- watchers ---- */

static void set_events(evsock *e, int events) {
    if (e->events == events) return;
    ev_io_stop(e->w->loop, &e->io);
    ev_io_set(&e->io, e->fd, events);
    if (events) ev_io_start(e->w->loop, &e->io);
    e->events = events;
}

/* Lazy deadline: re-armed only when it moves earlier; a timer firing
 * early (the deadline moved later) just re-arms for the rest. */
static void arm(evsock *e, int64_t t) {
    int64_t d = pvws_conn_deadline_ms(pvwsp_sock_conn(e->s));
    if (d == INT64_MAX) {
        ev_timer_stop(e->w->loop, &e->timer);
        e->armed_ms = INT64_MAX;
        return;
    }
    if (ev_is_active(&e->timer) && e->armed_ms <= d) return;
    e->timer.repeat = d > t ? (double)(d - t) / 1000.0 : 0.001;
    ev_timer_again(e->w->loop, &e->timer);
    e->armed_ms = d;
}

static void timer_cb(struct ev_loop *loop, ev_timer *tw, int revents) {
    evsock *e = tw->data;
    int64_t t = now(e->w);
    ev_timer_stop(loop, tw);
    e->armed_ms = INT64_MAX;
    pvws_conn_timeout(pvwsp_sock_conn(e->s), t);
    enlist(e);
}

static void io_cb(struct ev_loop *loop, ev_io *iw, int revents) {
    evsock *e = iw->data;
    pvws_ev *w = e->w;
    now(w);
    for (int i = 0; (revents & EV_READ) && i < READS_PER_EVENT; i++) {
        if (!pvws_conn_wants_read(pvwsp_sock_conn(e->s))) break;
        ssize_t n = recv(e->fd, w->rbuf, sizeof w->rbuf, 0);
        if (n > 0) {
            pvwsp_received(w->p, e->s, w->rbuf, (size_t)n);
            if ((size_t)n < sizeof w->rbuf) break;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            pvwsp_eof(w->p, e->s);
            break;
        } else if (errno != EINTR) {
            break;
        }
    }
    enlist(e);
}

/* ---- closing ---- */

static void close_sock(evsock *e) {
    pvws_ev *w = e->w;
    ev_io_stop(w->loop, &e->io);
    ev_timer_stop(w->loop, &e->timer);
    close(e->fd);
    pvwsp_closed(w->p, e->s);
    free(e);
    /* one more loop iteration: the shell's "before sleep" (which ran before
     * ours) may be waiting for the last socket to go while draining */
    ev_idle_start(w->loop, &w->idle);
}

/* Write output, update watchers and the timer, close when done. */
static void flush(evsock *e, int64_t t) {
    pvws_conn *c = pvwsp_sock_conn(e->s);
    size_t len = 0;
    for (;;) {
        const char *out = pvws_conn_output(c, &len);
        if (len == 0) break;
        ssize_t n = send(e->fd, out, len, MSG_NOSIGNAL);
        if (n > 0) {
            pvws_conn_written(c, (size_t)n, t);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        pvws_conn_eof(c, t);
        break;
    }
    if (pvws_conn_done(c)) {
        close_sock(e);
        return;
    }
    set_events(e, (pvws_conn_wants_read(c) ? EV_READ : 0) | (len > 0 ? EV_WRITE : 0));
    arm(e, t);
}

static void flush_pending(pvws_ev *w, int64_t t) {
    evsock *list = w->pending;
    w->pending = NULL;
    while (list) {
        evsock *e = list;
        list = e->next_pending;
        e->pending = 0;
        flush(e, t);
    }
}

static void idle_cb(struct ev_loop *loop, ev_idle *iw, int revents) {
    ev_idle_stop(loop, iw);
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *pw, int revents) {
    pvws_ev *w = pw->data;
    int64_t t = now(w);
    for (int round = 0; round < FLUSH_ROUNDS; round++) {
        flush_pending(w, t);
        pvwsp_before_sleep(w->p); /* resync snapshots for drained sockets */
        if (!w->pending) break;
    }
    if (w->pending) ev_idle_start(loop, &w->idle);
    if (w->log) pvlog_flush(w->log);
}

/* ---- upgrade hand-over ---- */

static void upgraded(void *ud, int fd, uint32_t conn_id, const char *leftover, size_t len) {
    pvws_ev *w = ud;
    now(w);
    evsock *e = calloc(1, sizeof *e);
    if (!e) {
        close(fd);
        return;
    }
    /* Bound the kernel's share of a slow client's backlog too: beyond
     * this the output queue's coalescing applies (ws_conn.h). */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &w->sndbuf, sizeof w->sndbuf);
    e->fd = fd;
    e->w = w;
    e->armed_ms = INT64_MAX;
    ev_io_init(&e->io, io_cb, fd, EV_READ);
    e->io.data = e;
    ev_init(&e->timer, timer_cb);
    e->timer.data = e;
    e->s = pvwsp_open(w->p, conn_id, e, leftover, len);
    if (!e->s) {
        /* refused (capacity): a bare TCP close; e was never enlisted */
        close(fd);
        free(e);
        return;
    }
    ev_io_start(w->loop, &e->io);
    e->events = EV_READ;
}

/* ---- life cycle ---- */

/* POLICY_SOCKET_QUEUE_BYTES, raised to twice the largest message this
 * configuration can produce (an audience naming a whole room, or a pose
 * batch of max_subscribed_voices speakers) so that one always fits. */
static uint32_t queue_bytes(const pvcfg *cfg) {
    pv_config pc;
    pv_config_default(&pc);
    uint64_t audience = (uint64_t)cfg->max_room_size * (PV_ID_MAX + 3) + 256;
    uint64_t poses = (uint64_t)pc.max_subscribed_voices * 640 + 256;
    uint64_t need = 2 * (audience > poses ? audience : poses);
    uint64_t q = cfg->ws_queue_bytes > need ? cfg->ws_queue_bytes : need;
    return q > PVWS_MAX_QUEUE_BYTES ? PVWS_MAX_QUEUE_BYTES : (uint32_t)q;
}

int pvws_ev_new(pvws_ev **out, struct ev_loop *loop, pvapp *app, pvlog *log, pvs_clock *clk,
                const pvcfg *cfg, char *err) {
    *out = NULL;
    pvws_ev *w = calloc(1, sizeof *w);
    if (!w) return snprintf(err, PVCFG_ERR_MAX, "out of memory"), -1;
    w->loop = loop;
    w->clk = clk;
    w->app = app;
    w->log = log;
    w->sndbuf = (int)cfg->ws_send_buffer_bytes;
    pvwsp_opts o = {.max_sockets = cfg->max_policy_sockets};
    pvws_limits_default(&o.limits);
    o.limits.max_msg_bytes = cfg->ws_max_message_bytes;
    o.limits.queue_max_bytes = queue_bytes(cfg);
    o.limits.ping_interval_ms = cfg->ws_ping_interval_ms;
    o.limits.idle_timeout_ms = cfg->ws_idle_timeout_ms;
    pvwsp_shell sh = {.ud = w, .upgraded = upgraded, .wakeup = on_wakeup};
    int rc = pvwsp_new(&w->p, app, log, &o, &sh);
    if (rc < 0) {
        snprintf(err, PVCFG_ERR_MAX, "policy socket: %s", pv_strerror(rc));
        free(w);
        return -1;
    }
    ev_prepare_init(&w->prep, prepare_cb);
    w->prep.data = w;
    ev_set_priority(&w->prep, EV_MINPRI);
    ev_prepare_start(loop, &w->prep);
    ev_idle_init(&w->idle, idle_cb);
    *out = w;
    return 0;
}

void pvws_ev_drain(pvws_ev *w) {
    now(w);
    pvwsp_drain(w->p);
}

uint32_t pvws_ev_sockets(const pvws_ev *w) {
    pvwsp_stats st;
    pvwsp_get_stats(w->p, &st);
    return st.sockets;
}

void pvws_ev_close_all(pvws_ev *w) {
    now(w);
    w->pending = NULL; /* every socket is closed below */
    pvwsp_sock *s;
    while ((s = pvwsp_first(w->p)) != NULL)
        close_sock(pvwsp_sock_shell(s));
}

void pvws_ev_free(pvws_ev *w) {
    if (!w) return;
    pvws_ev_close_all(w);
    ev_prepare_stop(w->loop, &w->prep);
    ev_idle_stop(w->loop, &w->idle);
    pvwsp_free(w->p);
    free(w);
}

void pvws_ev_stats(const pvws_ev *w, pvwsp_stats *st) {
    pvwsp_get_stats(w->p, st);
}
