/*
 * ev_curl.c - asynchronous HTTP client: libcurl multi driven by libev.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to wake it up (CURLMOPT_TIMERFUNCTION); we watch them with ev_io / one
 * ev_timer and call curl_multi_socket_action() from those callbacks, never
 * from inside curl's callbacks. Completions are read with
 * curl_multi_info_read() after socket_action returns, so completion
 * callbacks may submit new transfers.
 *
 * Why our own queue on top of curl: bounded memory and an explicit
 * PV_EFULL when LiveKit is slow, instead of an ever-growing curl queue.
 * Connection reuse comes from curl's connection cache (the multi handle
 * keeps idle connections per host).
 *
 * Not copied from curl's evhiperfifo.c: its timer callback converts the
 * timeout with integer division (timeout_ms / 1000), which turns 999 ms
 * into 0 s and 1500 ms into 1 s. Here timeouts are (double)ms / 1000.
 */
#include "ev_shell.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"

typedef struct xfer xfer;
struct xfer {
    pvhc *c;
    CURL *easy;
    struct curl_slist *headers;
    pvhc_done_fn done;
    void *ud;
    char *resp;
    size_t resp_len, resp_cap;
    int too_big;
    int64_t start_ms, timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
    xfer *next;                /* queue link */
    xfer *run_prev, *run_next; /* running list (curl 7.88 cannot list handles) */
};

typedef struct sockw {
    ev_io io;
    pvhc *c;
    curl_socket_t fd;
} sockw;

struct pvhc {
    struct ev_loop *loop;
    pvs_clock *clk;
    CURLM *multi;
    ev_timer timer;
    pvhc_opts o;
    uint32_t running, queued;
    xfer *q_head, *q_tail;
    xfer *run_head;
    uint64_t connects;
    int closing;
};

static int64_t clock_now(pvhc *c) {
    int64_t now, wall;
    pvs_clock_get(c->loop, c->clk, &now, &wall);
    return now;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    if (x->resp_len + len + 1 > PVHC_MAX_RESPONSE_BYTES) {
        x->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (x->resp_len + len + 1 > x->resp_cap) {
        size_t cap = x->resp_cap ? x->resp_cap : 1024;
        while (cap < x->resp_len + len + 1)
            cap *= 2;
        char *nb = realloc(x->resp, cap);
        if (!nb) return 0;
        x->resp = nb;
        x->resp_cap = cap;
    }
    memcpy(x->resp + x->resp_len, p, len);
    x->resp_len += len;
    x->resp[x->resp_len] = '\0';
    return len;
}

/* curl opened a connection (not reused from the cache). */
static curl_socket_t open_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
    pvhc *c = ud;
    c->connects++;
    return socket(a->family, a->socktype, a->protocol);
}

static void xfer_free(xfer *x) {
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->resp);
    free(x);
}

static void complete(xfer *x, int status, const char *error) {
    pvhc_result r = {.status = status,
                     .error = error,
                     .body = x->resp ? x->resp : "",
                     .body_len = x->resp_len,
                     .elapsed_ms = clock_now(x->c) - x->start_ms};
    x->done(x->ud, &r);
    xfer_free(x);
}

static void start_queued(pvhc *c) {
    while (c->q_head && c->running < c->o.max_concurrency && !c->closing) {
        xfer *x = c->q_head;
        c->q_head = x->next;
        if (!c->q_head) c->q_tail = NULL;
        c->queued--;
        x->start_ms = clock_now(c); /* the timeout counts from the start */
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
        if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
            complete(x, 0, "cannot start transfer");
            continue;
        }
        c->running++;
        x->run_next = c->run_head;
        if (c->run_head) c->run_head->run_prev = x;
        c->run_head = x;
    }
}

static void run_unlink(pvhc *c, xfer *x) {
    if (x->run_prev)
        x->run_prev->run_next = x->run_next;
    else
        c->run_head = x->run_next;
    if (x->run_next) x->run_next->run_prev = x->run_prev;
    x->run_prev = x->run_next = NULL;
}

static void check_done(pvhc *c) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode rc = m->data.result;
        curl_multi_remove_handle(c->multi, m->easy_handle);
        c->running--;
        run_unlink(c, x);
        long status = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        const char *err = rc == CURLE_OK ? NULL
                          : x->too_big   ? "response too large"
                          : x->errbuf[0] ? x->errbuf
                                         : curl_easy_strerror(rc);
        complete(x, rc == CURLE_OK ? (int)status : 0, err);
    }
    start_queued(c);
}

static void sock_cb_ev(struct ev_loop *loop, ev_io *w, int revents) {
    sockw *s = w->data;
    pvhc *c = s->c;
    int action =
        (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int still;
    curl_multi_socket_action(c->multi, s->fd, action, &still);
    check_done(c);
}

static void timer_cb_ev(struct ev_loop *loop, ev_timer *w, int revents) {
    pvhc *c = w->data;
    int still;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget a socket. */
static int socket_fn(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    pvhc *c = userp;
    sockw *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(c->loop, &s->io);
            curl_multi_assign(c->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        s->c = c;
        s->fd = fd;
        ev_init(&s->io, sock_cb_ev);
        s->io.data = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_stop(c->loop, &s->io);
    ev_io_set(&s->io, fd, events);
    ev_io_start(c->loop, &s->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer; -1 stops it. Milliseconds stay exact. */
static int timer_fn(CURLM *m, long timeout_ms, void *userp) {
    pvhc *c = userp;
    ev_timer_stop(c->loop, &c->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0.0);
        ev_timer_start(c->loop, &c->timer);
    }
    return 0;
}

int pvhc_new(pvhc **out, struct ev_loop *loop, const pvhc_opts *o, pvs_clock *clk) {
    static int global_done;
    if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    global_done = 1;
    pvhc *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->loop = loop;
    c->clk = clk;
    c->o = *o;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return -1;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->max_concurrency);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)o->max_concurrency);
    ev_init(&c->timer, timer_cb_ev);
    c->timer.data = c;
    *out = c;
    return 0;
}

static int setup_easy(pvhc *c, xfer *x, const pvhc_request *r) {
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    x->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    for (int i = 0; i < PVHC_MAX_HEADERS && r->headers[i] && x->headers; i++)
        x->headers = curl_slist_append(x->headers, r->headers[i]);
    if (!x->headers) return PV_ENOMEM;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->body ? r->body : "");
    } else if (strcmp(r->method, "GET") != 0) {
        return PV_EINVAL;
    }
    return 0;
}

int pvhc_submit(pvhc *c, const pvhc_request *r, pvhc_done_fn done, void *ud) {
    if (!r->url || !r->method || !done || r->timeout_ms <= 0 || c->closing) return PV_EINVAL;
    if (c->running >= c->o.max_concurrency && c->queued >= c->o.max_queued) return PV_EFULL;
    xfer *x = calloc(1, sizeof *x);
    if (!x) return PV_ENOMEM;
    x->c = c;
    x->done = done;
    x->ud = ud;
    x->timeout_ms = r->timeout_ms;
    x->easy = curl_easy_init();
    int rc = x->easy ? setup_easy(c, x, r) : PV_ENOMEM;
    if (rc < 0) {
        xfer_free(x);
        return rc;
    }
    if (c->q_tail)
        c->q_tail->next = x;
    else
        c->q_head = x;
    c->q_tail = x;
    c->queued++;
    start_queued(c); /* curl only arms its timer here; nothing completes yet */
    return 0;
}

void pvhc_counts(const pvhc *c, uint32_t *running, uint32_t *queued, uint64_t *connects) {
    *running = c->running;
    *queued = c->queued;
    *connects = c->connects;
}

void pvhc_free(pvhc *c) {
    if (!c) return;
    c->closing = 1;
    while (c->q_head) {
        xfer *x = c->q_head;
        c->q_head = x->next;
        c->queued--;
        complete(x, 0, "cancelled");
    }
    while (c->run_head) {
        xfer *x = c->run_head;
        run_unlink(c, x);
        curl_multi_remove_handle(c->multi, x->easy);
        c->running--;
        complete(x, 0, "cancelled");
    }
    ev_timer_stop(c->loop, &c->timer);
    curl_multi_cleanup(c->multi);
    free(c);
}
