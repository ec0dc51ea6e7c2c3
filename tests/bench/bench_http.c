/*
 * bench_http.c - loopback load generator for POST /policy/poses.
 *
 * Starts the daemon (or uses --port of a running one), registers
 * rooms x batch participants with POST /sessions, then keeps `conns`
 * keep-alive connections busy (closed loop: one request outstanding per
 * connection) posting batches of `batch` poses for a room, each with a fresh
 * timestampMs so none is dropped as stale. Every response is checked
 * (status 200 and "accepted":batch). Reports requests/s, poses/s, latency
 * percentiles (client side: write of the request to the last byte of the
 * response) and the daemon's CPU time over the window (from /proc), giving
 * poses per second per daemon core.
 *
 * usage: bench_http --daemon PATH [--seconds S] [--conns N] [--threads T]
 *                   [--batch B] [--rooms R]
 *        bench_http --port P ...   (a daemon already running on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET    "bench-external-secret-0123456789abcdef"
#define MAX_CONNS 256
#define HIST_US   200000 /* latency histogram: 1 us buckets up to 200 ms */
#define BODY_MAX  32768

static int opt_seconds = 10, opt_conns = 32, opt_threads = 2, opt_batch = 100, opt_rooms = 32;
static int port;
static volatile int running = 1;

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
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

/* ---- one connection's request/response cycle ---- */

typedef struct conn {
    int fd;
    int room;
    char req[BODY_MAX + 512];
    size_t req_len, ts_off; /* where the 13-digit timestampMs sits */
    char in[65536];
    size_t in_len;
    int64_t sent_us, last_ts;
} conn;

static void build_request(conn *c, unsigned seed) {
    char body[BODY_MAX];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "{\"roomId\":\"room%d\",\"timestampMs\":%013lld,"
                                "\"poses\":[",
                                c->room, (long long)wall_ms());
    for (int i = 0; i < opt_batch; i++) {
        seed = seed * 1103515245u + 12345u;
        double x = (seed >> 8) % 20000 / 100.0, z = (seed >> 4) % 20000 / 100.0;
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "%s{\"participantId\":\"p%d\",\"position\":{\"x\":%.2f,\"y\":1.7,"
                              "\"z\":%.2f},\"orientation\":{\"forward\":{\"x\":0,\"y\":0,\"z\":1},"
                              "\"up\":{\"x\":0,\"y\":1,\"z\":0}}}",
                              i ? "," : "", i, x, z);
    }
    n += (size_t)snprintf(body + n, sizeof body - n, "]}");
    int h = snprintf(c->req, sizeof c->req,
                     "POST /policy/poses HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " SECRET
                     "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     n);
    memcpy(c->req + h, body, n);
    c->req_len = (size_t)h + n;
    c->ts_off = (size_t)(strstr(c->req, "\"timestampMs\":") - c->req) + 14;
}

/* Strictly increasing per room (one connection per room): the core
 * treats a pose not newer than the last one as stale, as it should. */
static void stamp(conn *c, int64_t now_ms) {
    if (now_ms <= c->last_ts) now_ms = c->last_ts + 1;
    c->last_ts = now_ms;
    char ts[24];
    snprintf(ts, sizeof ts, "%013lld", (long long)now_ms);
    memcpy(c->req + c->ts_off, ts, 13);
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Parse a complete response from c->in. Returns 1 done (and checks it), 0
 * need more, -1 bad. */
static int take_response(conn *c, int *ok) {
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end + 4 - c->in);
    char *cl = memmem(c->in, head, "Content-Length: ", 16);
    if (!cl) return -1;
    size_t body = (size_t)atol(cl + 16);
    if (c->in_len < head + body) return 0;
    char want[48];
    snprintf(want, sizeof want, "\"accepted\":%d,", opt_batch);
    *ok = strncmp(c->in, "HTTP/1.1 200", 12) == 0 && memmem(end, body + 4, want, strlen(want));
    static int shown;
    if (!*ok && !shown++) fprintf(stderr, "unexpected response: %.*s\n", (int)(head + body), c->in);
    memmove(c->in, c->in + head + body, c->in_len - head - body);
    c->in_len -= head + body;
    return 1;
}

/* ---- worker threads ---- */

typedef struct worker {
    pthread_t t;
    conn *conns;
    int n;
    uint64_t requests, failures;
    uint32_t *hist; /* latency in us */
    uint64_t over;  /* beyond the histogram */
} worker;

static void *work(void *arg) {
    worker *w = arg;
    struct pollfd pfd[MAX_CONNS];
    int64_t now_ms = wall_ms();
    for (int i = 0; i < w->n; i++) {
        stamp(&w->conns[i], now_ms);
        w->conns[i].sent_us = mono_us();
        if (send_all(w->conns[i].fd, w->conns[i].req, w->conns[i].req_len) < 0) w->failures++;
        pfd[i] = (struct pollfd){.fd = w->conns[i].fd, .events = POLLIN};
    }
    while (running) {
        if (poll(pfd, (nfds_t)w->n, 100) <= 0) continue;
        now_ms = wall_ms();
        for (int i = 0; i < w->n; i++) {
            if (!(pfd[i].revents & POLLIN)) continue;
            conn *c = &w->conns[i];
            ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
            if (r <= 0) {
                w->failures++;
                running = 0;
                break;
            }
            c->in_len += (size_t)r;
            int ok = 0;
            if (take_response(c, &ok) <= 0) continue;
            int64_t lat = mono_us() - c->sent_us;
            if (lat < HIST_US)
                w->hist[lat]++;
            else
                w->over++;
            w->requests++;
            if (!ok) w->failures++;
            stamp(c, now_ms);
            c->sent_us = mono_us();
            if (send_all(c->fd, c->req, c->req_len) < 0) w->failures++;
        }
    }
    return NULL;
}

/* ---- daemon control ---- */

static pid_t start_daemon(const char *path) {
    int p = 0;
    { /* a free port */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bind(fd, (struct sockaddr *)&a, sizeof a);
        socklen_t len = sizeof a;
        getsockname(fd, (struct sockaddr *)&a, &len);
        p = ntohs(a.sin_port);
        close(fd);
    }
    port = p;
    char port_s[32], batch_s[32];
    snprintf(port_s, sizeof port_s, "PORT=%d", p);
    snprintf(batch_s, sizeof batch_s, "MAX_POLICY_BATCH_SIZE=%d", opt_batch);
    char *envp[] = {"NODE_ENV=development",
                    port_s,
                    batch_s,
                    "LOG_LEVEL=warn",
                    "LIVEKIT_URL=http://127.0.0.1:1",
                    "LIVEKIT_API_KEY=bench",
                    "LIVEKIT_API_SECRET=bench-livekit-secret-0123456789abcdef",
                    "POLICY_SOCKET_JWT_SECRET=bench-policy-secret-0123456789abcdef",
                    "EXTERNAL_SHARED_SECRET=" SECRET,
                    "RATE_LIMIT_POSES_IP=0",
                    "RATE_LIMIT_POSES_KEY=0",
                    "RATE_LIMIT_SESSIONS_IP=0",
                    "RATE_LIMIT_SESSIONS_KEY=0",
                    "MAX_ROOM_SIZE=200",
                    NULL};
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        char *argv[] = {(char *)path, NULL};
        execve(path, argv, envp);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        int fd = dial();
        if (fd >= 0) {
            close(fd);
            return pid;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    return -1;
}

static double cpu_seconds(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int register_sessions(void) {
    int fd = dial();
    if (fd < 0) return -1;
    char req[1024], in[8192];
    for (int r = 0; r < opt_rooms; r++) {
        for (int i = 0; i < opt_batch; i++) {
            char body[128];
            int bl = snprintf(body, sizeof body,
                              "{\"participantId\":\"p%d\",\"roomId\":\"room%d\"}", i, r);
            int n =
                snprintf(req, sizeof req,
                         "POST /sessions HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " SECRET
                         "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                         bl, body);
            if (send_all(fd, req, (size_t)n) < 0) return -1;
            size_t got = 0;
            for (;;) { /* one response */
                ssize_t k = recv(fd, in + got, sizeof in - got - 1, 0);
                if (k <= 0) return -1;
                got += (size_t)k;
                in[got] = '\0';
                char *e = strstr(in, "\r\n\r\n");
                char *cl = strstr(in, "Content-Length: ");
                if (e && cl && got >= (size_t)(e + 4 - in) + (size_t)atol(cl + 16)) break;
            }
            if (strncmp(in, "HTTP/1.1 200", 12) != 0) return -1;
        }
    }
    close(fd);
    return 0;
}

static int64_t percentile(uint32_t *hist, uint64_t total, double q) {
    uint64_t want = (uint64_t)((double)total * q), acc = 0;
    for (int i = 0; i < HIST_US; i++) {
        acc += hist[i];
        if (acc > want) return i;
    }
    return HIST_US;
}

static void parse_args(int argc, char **argv, const char **daemon) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--daemon"))
            *daemon = v;
        else if (!strcmp(k, "--port"))
            port = atoi(v);
        else if (!strcmp(k, "--seconds"))
            opt_seconds = atoi(v);
        else if (!strcmp(k, "--conns"))
            opt_conns = atoi(v);
        else if (!strcmp(k, "--threads"))
            opt_threads = atoi(v);
        else if (!strcmp(k, "--batch"))
            opt_batch = atoi(v);
        else if (!strcmp(k, "--rooms"))
            opt_rooms = atoi(v);
    }
    if (opt_conns > MAX_CONNS) opt_conns = MAX_CONNS;
    if (opt_threads < 1) opt_threads = 1;
    if (opt_threads > opt_conns) opt_threads = opt_conns;
    /* one connection per room keeps each room's timestamps increasing */
    if (opt_rooms < opt_conns) opt_rooms = opt_conns;
}

int main(int argc, char **argv) {
    const char *daemon = NULL;
    parse_args(argc, argv, &daemon);
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = daemon ? start_daemon(daemon) : 0;
    if (pid < 0 || port == 0) {
        fprintf(stderr, "bench_http: no daemon (use --daemon PATH or --port P)\n");
        return 1;
    }
    if (register_sessions() < 0) {
        fprintf(stderr, "bench_http: registering sessions failed\n");
        if (pid) kill(pid, SIGKILL);
        return 1;
    }
    static conn conns[MAX_CONNS];
    worker *ws = calloc((size_t)opt_threads, sizeof *ws);
    for (int i = 0; i < opt_conns; i++) {
        conns[i].fd = dial();
        conns[i].room = i % opt_rooms;
        build_request(&conns[i], (unsigned)i * 7919u + 1);
    }
    int per = opt_conns / opt_threads;
    double cpu0 = pid ? cpu_seconds(pid) : 0;
    int64_t t0 = mono_us();
    for (int t = 0; t < opt_threads; t++) {
        ws[t].conns = conns + t * per;
        ws[t].n = t == opt_threads - 1 ? opt_conns - t * per : per;
        ws[t].hist = calloc(HIST_US, sizeof(uint32_t));
        pthread_create(&ws[t].t, NULL, work, &ws[t]);
    }
    sleep((unsigned)opt_seconds);
    running = 0;
    uint64_t req = 0, fail = 0, over = 0;
    static uint32_t hist[HIST_US];
    for (int t = 0; t < opt_threads; t++) {
        pthread_join(ws[t].t, NULL);
        req += ws[t].requests;
        fail += ws[t].failures;
        over += ws[t].over;
        for (int i = 0; i < HIST_US; i++)
            hist[i] += ws[t].hist[i];
        free(ws[t].hist);
    }
    double secs = (double)(mono_us() - t0) / 1e6;
    double cpu = pid ? cpu_seconds(pid) - cpu0 : 0;
    double poses = (double)req * opt_batch;
    printf("bench-http: %d s, %d connections, %d threads, %d poses/batch, %d rooms\n", opt_seconds,
           opt_conns, opt_threads, opt_batch, opt_rooms);
    printf("  requests: %llu (%.0f req/s), failed: %llu\n", (unsigned long long)req,
           (double)req / secs, (unsigned long long)fail);
    printf("  poses/s: %.0f\n", poses / secs);
    printf("  latency us: p50 %lld  p90 %lld  p99 %lld  p99.9 %lld  (>200ms: %llu)\n",
           (long long)percentile(hist, req, 0.5), (long long)percentile(hist, req, 0.9),
           (long long)percentile(hist, req, 0.99), (long long)percentile(hist, req, 0.999),
           (unsigned long long)over);
    if (pid) {
        printf("  daemon CPU: %.2f s over %.2f s (%.0f%% of one core)\n", cpu, secs,
               100.0 * cpu / secs);
        if (cpu > 0) printf("  poses per daemon CPU-second: %.0f\n", poses / cpu);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return fail ? 1 : 0;
}
