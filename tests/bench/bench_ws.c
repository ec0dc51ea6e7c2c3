/*
 * bench_ws.c - policy socket fan-out benchmark on loopback.
 *
 * Starts the daemon, registers rooms x players sessions, opens one policy
 * socket per player (WebSocket, authenticated), then moves every player at
 * 4 Hz (one POST /policy/poses per room every 250 ms, rooms spread over the
 * interval) and reads every socket on one epoll thread. For each
 * policy.pose.batch received it records:
 *   - fan-out latency: receipt wall time - the batch's timestampMs (the wall
 *     time of the core step that produced it): what the daemon adds to
 *     serialise, queue and write 10,000 sockets, plus the client's read;
 *   - end-to-end latency: receipt - the newest pose's timestampMs (set by
 *     the poster just before its POST): ingest + the wait for the next 4 Hz
 *     batch tick (0..250 ms by design) + fan-out.
 * Also the daemon's CPU time over the window (/proc/PID/stat) and RSS.
 * A tiny fake LiveKit answers RoomService calls so no failing calls skew
 * the daemon's CPU.
 *
 * usage: bench_ws --daemon PATH [--rooms 100] [--players 100] [--seconds 20]
 *                 [--warmup 5] [--nice N] [--no-ack] [--daemon-cpu N] [--rps]
 * Every policy.audience is acknowledged (policy.audience.ack) as the browser
 * client does, unless --no-ack.
 * --nice N (root, N < 0) runs the daemon and the load generator at that
 * priority, for a machine shared with other work.
 * Needs 2 x (rooms x players) file descriptors: RLIMIT_NOFILE is raised to
 * its hard limit (the daemon inherits it).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXT_SECRET   "bench-external-secret-0123456789abcdef"
#define HIST_MS      10000 /* latency histogram: 1 ms buckets up to 10 s */
#define INFLIGHT_MAX 256   /* handshakes in progress at once */
#define TOKEN_MAX    1024

static int opt_rooms = 100, opt_players = 100, opt_seconds = 20, opt_warmup = 5, opt_nice = 0;
static int opt_daemon_cpu = -1, opt_rps = 0; /* --daemon-cpu N, --rps */
static int opt_ack = 1;                      /* --no-ack: do not acknowledge policy.audience */
static int port, lk_port;
static volatile int moving = 1;

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(int p, int nonblock) {
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, 100);
            continue;
        }
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- blocking HTTP/1.1 client (keep-alive, Content-Length framing) ---- */

typedef struct http {
    int fd;
    char buf[65536];
    size_t len;
} http;

/* Send one request and read its answer; body into out. Returns the status. */
static int http_do(http *h, const char *method, const char *path, const char *body, char *out,
                   size_t cap) {
    char req[66000];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " EXT_SECRET
                     "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, strlen(body), body);
    if (n < 0 || (size_t)n >= sizeof req || send_all(h->fd, req, (size_t)n) < 0) return -1;
    for (;;) {
        h->buf[h->len] = '\0';
        char *eoh = strstr(h->buf, "\r\n\r\n");
        if (eoh) {
            const char *cl = strcasestr(h->buf, "Content-Length:");
            size_t blen = cl && cl < eoh ? (size_t)atol(cl + 15) : 0;
            size_t hl = (size_t)(eoh + 4 - h->buf);
            if (h->len >= hl + blen) {
                int status = atoi(h->buf + 9);
                if (out) snprintf(out, cap, "%.*s", (int)blen, eoh + 4);
                memmove(h->buf, h->buf + hl + blen, h->len - hl - blen);
                h->len -= hl + blen;
                return status;
            }
        }
        ssize_t r = recv(h->fd, h->buf + h->len, sizeof h->buf - 1 - h->len, 0);
        if (r <= 0) return -1;
        h->len += (size_t)r;
    }
}

/* ---- fake LiveKit: every request gets 200 {"participants":[]} ---- */

static void *lk_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t len = 0;
    static const char ans[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: 19\r\n\r\n{\"participants\":[]}";
    for (;;) {
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = '\0';
        char *eoh;
        while ((eoh = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "Content-Length:");
            size_t blen = cl && cl < eoh ? (size_t)atol(cl + 15) : 0;
            size_t used = (size_t)(eoh + 4 - buf) + blen;
            if (len < used) break;
            if (send_all(fd, ans, sizeof ans - 1) < 0) goto out;
            memmove(buf, buf + used, len - used);
            len -= used;
            buf[len] = '\0';
        }
    }
out:
    close(fd);
    return NULL;
}

static void *lk_accept(void *arg) {
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        pthread_t t;
        pthread_create(&t, NULL, lk_conn, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
    return NULL;
}

static int lk_start(void) {
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 64) < 0) return -1;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    pthread_t t;
    pthread_create(&t, NULL, lk_accept, (void *)(intptr_t)lfd);
    pthread_detach(t);
    return ntohs(a.sin_port);
}

/* ---- the daemon ---- */

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_daemon(const char *path) {
    static char p_env[32], lk_env[64], n_env[16];
    snprintf(p_env, sizeof p_env, "PORT=%d", port);
    snprintf(lk_env, sizeof lk_env, "LIVEKIT_URL=http://127.0.0.1:%d", lk_port);
    snprintf(n_env, sizeof n_env, "%d", opt_rooms * opt_players + 1000);
    static char parts[64], socks[64], rooms[64];
    snprintf(parts, sizeof parts, "MAX_PARTICIPANTS=%s", n_env);
    snprintf(socks, sizeof socks, "MAX_POLICY_SOCKETS=%s", n_env);
    snprintf(rooms, sizeof rooms, "MAX_ROOMS=%d", opt_rooms + 16);
    char *envp[] = {"NODE_ENV=development",
                    "HOST=127.0.0.1",
                    p_env,
                    lk_env,
                    "LIVEKIT_API_KEY=bench",
                    "LIVEKIT_API_SECRET=bench-livekit-secret-0123456789abcdef",
                    "POLICY_SOCKET_JWT_SECRET=bench-policy-secret-0123456789abcdef",
                    "EXTERNAL_SHARED_SECRET=" EXT_SECRET,
                    parts,
                    socks,
                    rooms,
                    "MAX_CONNECTIONS_PER_IP=0",
                    "RATE_LIMIT_POSES_IP=0",
                    "RATE_LIMIT_POSES_KEY=0",
                    "RATE_LIMIT_SESSIONS_IP=0",
                    "RATE_LIMIT_SESSIONS_KEY=0",
                    "RATE_LIMIT_SOCKET_AUTH_IP=0",
                    "POLICY_SOCKET_TOKEN_TTL_SECONDS=3600",
                    "LOG_LEVEL=warn",
                    NULL};
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)path, NULL};
        execve(path, argv, envp);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        int fd = dial(port, 0);
        if (fd >= 0) {
            close(fd);
            return pid;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    return -1;
}

/* CPU time of this process's reading thread and mover (the load generator). */
static double self_cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_seconds(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* fields after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime */
    if (p) sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

/* ---- players ---- */

typedef struct player {
    double x, z, vx, vz, yaw;
} player;

static player *players;
static char (*tokens)[TOKEN_MAX];

static void pid_of(char *out, size_t cap, int i) {
    snprintf(out, cap, "p%03d_%03d", i / opt_players, i % opt_players);
}

static int register_sessions(void) {
    http h = {.fd = dial(port, 0)};
    if (h.fd < 0) return -1;
    static char out[8192];
    for (int i = 0; i < opt_rooms * opt_players; i++) {
        char id[32], body[128];
        pid_of(id, sizeof id, i);
        snprintf(body, sizeof body, "{\"participantId\":\"%s\",\"roomId\":\"r%03d\"}", id,
                 i / opt_players);
        if (http_do(&h, "POST", "/sessions", body, out, sizeof out) != 200) return -1;
        const char *t = strstr(out, "\"policySocketToken\":\"");
        if (!t) return -1;
        t += 21;
        snprintf(tokens[i], TOKEN_MAX, "%.*s", (int)strcspn(t, "\""), t);
    }
    close(h.fd);
    return 0;
}

/* Advance a room's players by dt and post their poses. */
static int post_room(http *h, int r, double dt) {
    static char body[65536];
    int64_t ts = wall_ms();
    int w = snprintf(body, sizeof body, "{\"roomId\":\"r%03d\",\"timestampMs\":%lld,\"poses\":[", r,
                     (long long)ts);
    for (int k = 0; k < opt_players; k++) {
        int i = r * opt_players + k;
        player *p = &players[i];
        p->x += p->vx * dt;
        p->z += p->vz * dt;
        if (p->x < 0 || p->x > 100) p->vx = -p->vx;
        if (p->z < 0 || p->z > 100) p->vz = -p->vz;
        p->yaw += 0.3 * dt;
        char id[32];
        pid_of(id, sizeof id, i);
        w += snprintf(body + w, sizeof body - (size_t)w,
                      "%s{\"participantId\":\"%s\",\"position\":{\"x\":%.2f,\"y\":0,\"z\":%.2f},"
                      "\"orientation\":{\"forward\":{\"x\":%.3f,\"y\":0,\"z\":%.3f},"
                      "\"up\":{\"x\":0,\"y\":1,\"z\":0}}}",
                      k ? "," : "", id, p->x, p->z, cos(p->yaw), sin(p->yaw));
    }
    snprintf(body + w, sizeof body - (size_t)w, "]}");
    return http_do(h, "POST", "/policy/poses", body, NULL, 0) == 200 ? 0 : -1;
}

static uint64_t posts_ok, posts_failed;

/* 4 Hz per room, rooms spread evenly over the 250 ms interval. */
static void *mover(void *arg) {
    http *h = calloc(1, sizeof *h);
    h->fd = dial(port, 0);
    int64_t start = mono_ms();
    for (int64_t tick = 0; moving; tick++) {
        for (int r = 0; r < opt_rooms && moving; r++) {
            int64_t due = start + tick * 250 + (int64_t)r * 250 / opt_rooms;
            int64_t now = mono_ms();
            if (due > now) usleep((useconds_t)(due - now) * 1000);
            if (post_room(h, r, 0.25) == 0)
                posts_ok++;
            else
                posts_failed++;
        }
    }
    close(h->fd);
    free(h);
    return NULL;
}

/* ---- policy sockets ---- */

enum { S_CONNECTING, S_UPGRADING, S_AUTHING, S_LIVE, S_DEAD };

typedef struct wsock {
    int fd, state, idx;
    uint8_t *buf;
    size_t len, cap;
} wsock;

static wsock *socks;
static int ep, n_inflight, n_live, n_dead, next_to_open;
static int measuring;
static uint32_t hist_fan[HIST_MS + 1], hist_e2e[HIST_MS + 1], hist_wait[HIST_MS + 1];
static uint64_t n_batches, n_snap, n_delta, n_aud, n_ack, n_err, n_close, n_ping, bytes_in;

/* A masked (zero key) client frame. */
static int send_frame(wsock *s, int op, const char *p, size_t n) {
    char hdr[8];
    size_t h = 0;
    hdr[h++] = (char)(0x80 | op);
    if (n < 126) {
        hdr[h++] = (char)(0x80 | n);
    } else {
        hdr[h++] = (char)(0x80 | 126);
        hdr[h++] = (char)(n >> 8);
        hdr[h++] = (char)n;
    }
    memset(hdr + h, 0, 4);
    h += 4;
    char out[TOKEN_MAX + 128];
    if (h + n > sizeof out) return -1;
    memcpy(out, hdr, h);
    memcpy(out + h, p, n);
    return send_all(s->fd, out, h + n);
}

static void open_next(void) {
    while (n_inflight < INFLIGHT_MAX && next_to_open < opt_rooms * opt_players) {
        wsock *s = &socks[next_to_open];
        s->idx = next_to_open++;
        s->fd = dial(port, 1);
        if (s->fd < 0) {
            s->state = S_DEAD;
            n_dead++;
            continue;
        }
        s->state = S_CONNECTING;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)s->idx};
        epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
        n_inflight++;
    }
}

static void kill_sock(wsock *s, const char *why) {
    if (s->state == S_DEAD) return;
    if (s->state != S_LIVE)
        n_inflight--;
    else
        n_live--;
    if (n_dead < 5 && moving) fprintf(stderr, "socket %d lost: %s\n", s->idx, why);
    s->state = S_DEAD;
    n_dead++;
    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
}

static void record(uint32_t *hist, int64_t ms) {
    if (ms < 0) ms = 0;
    hist[ms > HIST_MS ? HIST_MS : ms]++;
}

static void on_batch(const uint8_t *p, size_t n, int64_t now_wall) {
    n_batches++;
    if (!measuring) return;
    const char *key = "\"timestampMs\":";
    const uint8_t *t = memmem(p, n, key, 14);
    if (!t) return;
    int64_t batch_ts = strtoll((const char *)t + 14, NULL, 10);
    record(hist_fan, now_wall - batch_ts);
    int64_t newest = 0;
    const uint8_t *end = p + n;
    for (t = memmem(t + 14, (size_t)(end - t - 14), key, 14); t;
         t = memmem(t + 14, (size_t)(end - t - 14), key, 14)) {
        int64_t v = strtoll((const char *)t + 14, NULL, 10);
        if (v > newest) newest = v;
    }
    if (newest) record(hist_e2e, now_wall - newest);
    if (newest) record(hist_wait, batch_ts - newest);
}

/* Acknowledge a policy.audience revision as the browser client does (it
 * sends roomId too), so the daemon's ingress path is part of the load. */
static void ack_audience(wsock *s, const uint8_t *p, size_t n) {
    const uint8_t *r = memmem(p, n, "\"revision\":", 11);
    const uint8_t *room = memmem(p, n, "\"roomId\":\"", 10);
    if (!r || !room) return;
    const uint8_t *re = memchr(room + 10, '"', n - (size_t)(room + 10 - p));
    if (!re) return;
    char msg[160];
    int len = snprintf(
        msg, sizeof msg, "{\"type\":\"policy.audience.ack\",\"roomId\":\"%.*s\",\"revision\":%lld}",
        (int)(re - room - 10), (const char *)room + 10, strtoll((const char *)r + 11, NULL, 10));
    if (len > 0 && (size_t)len < sizeof msg) {
        send_frame(s, 1, msg, (size_t)len);
        n_ack++;
    }
}

static void on_text(wsock *s, const uint8_t *p, size_t n, int64_t now_wall) {
    static const char pre[] = "{\"type\":\"policy.";
    if (n < sizeof pre - 1 || memcmp(p, pre, sizeof pre - 1) != 0) return;
    const char *t = (const char *)p + sizeof pre - 1;
    if (strncmp(t, "pose.batch", 10) == 0) {
        on_batch(p, n, now_wall);
    } else if (strncmp(t, "snapshot", 8) == 0) {
        n_snap++;
        if (s->state == S_AUTHING) {
            s->state = S_LIVE;
            n_inflight--;
            n_live++;
        }
    } else if (strncmp(t, "audibility.delta", 16) == 0) {
        n_delta++;
    } else if (strncmp(t, "audience", 8) == 0) {
        n_aud++;
        if (opt_ack) ack_audience(s, p, n);
    } else if (strncmp(t, "error", 5) == 0) {
        if (n_err++ < 3) fprintf(stderr, "policy.error: %.*s\n", (int)n, (const char *)p);
    }
}

/* Parse complete frames in s->buf. */
static void frames(wsock *s, int64_t now_wall) {
    size_t off = 0;
    while (s->len - off >= 2) {
        const uint8_t *b = s->buf + off;
        int op = b[0] & 0x0f;
        uint64_t n = b[1] & 0x7f;
        size_t h = 2;
        if (n == 126) {
            if (s->len - off < 4) break;
            n = (uint64_t)b[2] << 8 | b[3];
            h = 4;
        } else if (n == 127) {
            if (s->len - off < 10) break;
            n = 0;
            for (int i = 2; i < 10; i++)
                n = n << 8 | b[i];
            h = 10;
        }
        if (s->len - off < h + n) break;
        if (op == 1) on_text(s, b + h, (size_t)n, now_wall);
        if (op == 9) {
            n_ping++;
            send_frame(s, 10, (const char *)b + h, (size_t)n);
        }
        if (op == 8) {
            n_close++;
            kill_sock(s, "closed by server");
            return;
        }
        off += h + (size_t)n;
    }
    memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
}

static void upgrade_done(wsock *s) {
    s->buf[s->len] = '\0';
    char *eoh = strstr((char *)s->buf, "\r\n\r\n");
    if (!eoh) return;
    if (strncmp((char *)s->buf, "HTTP/1.1 101", 12) != 0) {
        kill_sock(s, (char *)s->buf);
        return;
    }
    size_t hl = (size_t)(eoh + 4 - (char *)s->buf);
    memmove(s->buf, s->buf + hl, s->len - hl);
    s->len -= hl;
    char msg[TOKEN_MAX + 64];
    int n = snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"token\":\"%s\"}", tokens[s->idx]);
    s->state = S_AUTHING;
    if (send_frame(s, 1, msg, (size_t)n) < 0) kill_sock(s, "auth send");
}

static void on_event(wsock *s, uint32_t events) {
    if (s->state == S_DEAD) return;
    if (s->state == S_CONNECTING && (events & EPOLLOUT)) {
        static const char req[] = "GET /policy-socket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n\r\n";
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)s->idx};
        epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
        if (send_all(s->fd, req, sizeof req - 1) < 0) {
            kill_sock(s, "connect failed");
            return;
        }
        s->state = S_UPGRADING;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    int64_t now_wall = wall_ms();
    for (;;) {
        if (s->cap - s->len < 16384) {
            s->cap = s->cap ? s->cap * 2 : 32768;
            s->buf = realloc(s->buf, s->cap);
        }
        ssize_t r = recv(s->fd, s->buf + s->len, s->cap - s->len - 1, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (r <= 0) {
            kill_sock(s, "connection closed");
            return;
        }
        s->len += (size_t)r;
        bytes_in += (uint64_t)r;
        if (s->state == S_UPGRADING) upgrade_done(s);
        if (s->state == S_AUTHING || s->state == S_LIVE) frames(s, now_wall);
        if (s->state == S_DEAD) return;
        if ((size_t)r < 16384) break;
    }
}

static void pump(int ms) {
    static struct epoll_event evs[1024];
    int n = epoll_wait(ep, evs, 1024, ms);
    for (int i = 0; i < n; i++)
        on_event(&socks[evs[i].data.u32], evs[i].events);
}

static int64_t pct(const uint32_t *hist, double q) {
    uint64_t total = 0, acc = 0;
    for (int i = 0; i <= HIST_MS; i++)
        total += hist[i];
    if (total == 0) return -1;
    for (int i = 0; i <= HIST_MS; i++) {
        acc += hist[i];
        if ((double)acc >= q * (double)total) return i;
    }
    return HIST_MS;
}

static uint64_t hist_total(const uint32_t *hist) {
    uint64_t t = 0;
    for (int i = 0; i <= HIST_MS; i++)
        t += hist[i];
    return t;
}

/* ---- main ---- */

static void parse_args(int argc, char **argv, const char **daemon) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-ack") == 0) {
            opt_ack = 0;
            continue;
        }
        if (strcmp(a, "--rps") == 0) {
            opt_rps = 1;
            continue;
        }
        if (!v) break;
        if (strcmp(a, "--daemon") == 0)
            *daemon = v;
        else if (strcmp(a, "--rooms") == 0)
            opt_rooms = atoi(v);
        else if (strcmp(a, "--players") == 0)
            opt_players = atoi(v);
        else if (strcmp(a, "--seconds") == 0)
            opt_seconds = atoi(v);
        else if (strcmp(a, "--warmup") == 0)
            opt_warmup = atoi(v);
        else if (strcmp(a, "--daemon-cpu") == 0)
            opt_daemon_cpu = atoi(v);
        else if (strcmp(a, "--nice") == 0)
            opt_nice = atoi(v);
        else
            continue;
        i++;
    }
}

static void raise_nofile(int need) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((long)rl.rlim_cur < need)
        fprintf(stderr, "warning: RLIMIT_NOFILE %ld < %d needed (ulimit -n)\n", (long)rl.rlim_cur,
                need);
}

static void connect_all(void) {
    int total = opt_rooms * opt_players;
    int64_t t0 = mono_ms();
    open_next();
    while (n_live + n_dead < total && mono_ms() - t0 < 120000) {
        pump(50);
        open_next();
    }
    printf("sockets: %d live, %d failed, connected+authenticated in %lld ms\n", n_live, n_dead,
           (long long)(mono_ms() - t0));
}

/* --daemon-cpu N: the daemon (pid) runs on CPU N only and this process
 * (pid 0, before it starts threads) on every other CPU, so "the daemon's
 * core" is one core. */
static void pin(pid_t pid) {
    if (opt_daemon_cpu < 0) return;
    cpu_set_t d, rest;
    CPU_ZERO(&d);
    CPU_ZERO(&rest);
    CPU_SET(opt_daemon_cpu, &d);
    for (int i = 0; i < CPU_SETSIZE && i < sysconf(_SC_NPROCESSORS_ONLN); i++)
        if (i != opt_daemon_cpu) CPU_SET(i, &rest);
    if (sched_setaffinity(pid, sizeof(d), pid ? &d : &rest) < 0)
        fprintf(stderr, "warning: sched_setaffinity failed\n");
}

/* --rps: the kernel's loopback receive processing (the clients' TCP receive
 * path, which loopback otherwise runs on the sender's CPU inside its send())
 * is steered to the load generator's CPUs, as a real network would do it on
 * the clients' machines. Restored at exit. Needs root. */
static const char RPS_PATH[] = "/sys/class/net/lo/queues/rx-0/rps_cpus";
static char rps_saved[64];

static void rps_restore(void) {
    FILE *f = rps_saved[0] ? fopen(RPS_PATH, "w") : NULL;
    if (f) fputs(rps_saved, f), fclose(f);
}

static void rps_steer(void) {
    if (!opt_rps) return;
    FILE *f = fopen(RPS_PATH, "r");
    if (!f || !fgets(rps_saved, sizeof rps_saved, f)) rps_saved[0] = 0;
    if (f) fclose(f);
    unsigned mask = 0;
    for (int i = 0; i < 32 && i < sysconf(_SC_NPROCESSORS_ONLN); i++)
        if (i != (opt_daemon_cpu < 0 ? 0 : opt_daemon_cpu)) mask |= 1u << i;
    f = fopen(RPS_PATH, "w");
    if (!f || fprintf(f, "%x\n", mask) < 0) fprintf(stderr, "warning: cannot write %s\n", RPS_PATH);
    if (f) fclose(f);
    atexit(rps_restore);
}

int main(int argc, char **argv) {
    const char *daemon = NULL;
    parse_args(argc, argv, &daemon);
    int total = opt_rooms * opt_players;
    if (!daemon || total <= 0) {
        fprintf(stderr, "usage: bench_ws --daemon PATH [--rooms R] [--players P] [--seconds S]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(total + 64);
    srand(42);
    players = calloc((size_t)total, sizeof *players);
    tokens = calloc((size_t)total, sizeof *tokens);
    socks = calloc((size_t)total, sizeof *socks);
    for (int i = 0; i < total; i++) {
        double a = (double)rand() / RAND_MAX * 6.283;
        players[i] = (player){(double)rand() / RAND_MAX * 100, (double)rand() / RAND_MAX * 100,
                              1.5 * cos(a), 1.5 * sin(a), a};
    }
    pin(0);
    lk_port = lk_start();
    port = free_port();
    pid_t pid = start_daemon(daemon);
    if (pid < 0 || lk_port < 0) {
        fprintf(stderr, "daemon did not start\n");
        return 1;
    }
    pin(pid);
    rps_steer();
    if (opt_nice != 0) { /* a shared machine: ask for the CPU the numbers assume */
        if (setpriority(PRIO_PROCESS, (id_t)pid, opt_nice) < 0 ||
            setpriority(PRIO_PROCESS, 0, opt_nice) < 0)
            fprintf(stderr, "warning: setpriority(%d) failed (needs root)\n", opt_nice);
    }
    int64_t t0 = mono_ms();
    if (register_sessions() < 0) {
        fprintf(stderr, "session registration failed\n");
        kill(pid, SIGKILL);
        return 1;
    }
    printf("sessions: %d in %lld ms\n", total, (long long)(mono_ms() - t0));
    http h = {.fd = dial(port, 0)};
    for (int r = 0; r < opt_rooms; r++)
        post_room(&h, r, 0);
    close(h.fd);
    ep = epoll_create1(0);
    connect_all();
    pthread_t mt;
    pthread_create(&mt, NULL, mover, NULL);
    int64_t end_warm = mono_ms() + opt_warmup * 1000;
    while (mono_ms() < end_warm)
        pump(50);
    uint64_t b0 = n_batches, d0 = n_delta, a0 = n_aud, k0 = n_ack, by0 = bytes_in, p0 = posts_ok;
    double cpu0 = cpu_seconds(pid), self0 = self_cpu_seconds();
    int64_t m0 = mono_ms();
    measuring = 1;
    while (mono_ms() < m0 + opt_seconds * 1000)
        pump(50);
    measuring = 0;
    double secs = (double)(mono_ms() - m0) / 1000.0;
    double cpu = cpu_seconds(pid) - cpu0, self_cpu = self_cpu_seconds() - self0;
    long rss = rss_kb(pid);
    moving = 0;
    pthread_join(mt, NULL);
    printf("window: %.1f s, %d rooms x %d players, %d sockets live at the end (%d lost)\n", secs,
           opt_rooms, opt_players, n_live, n_dead);
    printf("ingest: %.0f pose posts/s (%.0f poses/s), %llu failed\n",
           (double)(posts_ok - p0) / secs, (double)(posts_ok - p0) * opt_players / secs,
           (unsigned long long)posts_failed);
    printf("delivered: %.0f pose batches/s, %.0f deltas/s, %.0f audiences/s, %.1f MB/s; "
           "sent %.0f audience acks/s\n",
           (double)(n_batches - b0) / secs, (double)(n_delta - d0) / secs,
           (double)(n_aud - a0) / secs, (double)(bytes_in - by0) / secs / 1e6,
           (double)(n_ack - k0) / secs);
    printf("fan-out latency (batch tick -> socket receipt): p50 %lld ms, p99 %lld ms, "
           "max %lld ms (n=%llu)\n",
           (long long)pct(hist_fan, 0.50), (long long)pct(hist_fan, 0.99),
           (long long)pct(hist_fan, 1.0), (unsigned long long)hist_total(hist_fan));
    printf("end-to-end (pose POST -> socket receipt): p50 %lld ms, p90 %lld ms, p99 %lld ms\n",
           (long long)pct(hist_e2e, 0.50), (long long)pct(hist_e2e, 0.90),
           (long long)pct(hist_e2e, 0.99));
    printf("  of which pose POST -> batch built (ingest + wait for the room's round): p50 %lld ms, "
           "p90 %lld ms, p99 %lld ms\n",
           (long long)pct(hist_wait, 0.50), (long long)pct(hist_wait, 0.90),
           (long long)pct(hist_wait, 0.99));
    printf("daemon: %.1f%% of one core, RSS %ld MB; errors %llu, server closes %llu, pings %llu\n",
           100.0 * cpu / secs, rss / 1024, (unsigned long long)n_err, (unsigned long long)n_close,
           (unsigned long long)n_ping);
    int ok = n_dead == 0 && n_live == total && hist_total(hist_fan) > 0;
    printf("load generator (this process): %.1f%% of one core\n", 100.0 * self_cpu / secs);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    char cpu_s[16] = "any";
    if (opt_daemon_cpu >= 0) snprintf(cpu_s, sizeof cpu_s, "%d only", opt_daemon_cpu);
    printf("machine: load average %.2f %.2f %.2f on %ld cores, nice %d, daemon cpu %s, "
           "loopback receive steered (rps) %s\n",
           load[0], load[1], load[2], sysconf(_SC_NPROCESSORS_ONLN), opt_nice, cpu_s,
           opt_rps ? "yes" : "no");
    kill(pid, SIGTERM); /* sockets are closed 1001 now: not counted as lost */
    int st = 0;
    for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++) {
        pump(10);
    }
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    printf("bench_ws: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
