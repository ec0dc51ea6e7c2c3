/*
 * bb_fakelk.c - a fake LiveKit HTTP API on loopback: answers "OK" on GET /
 * (LiveKit's health answer), records Twirp RoomService calls and answers
 * them like LiveKit would (ListParticipants: no participants).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bb.h"

#define MAX_CALLS 256

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int root_status = 200, delay_ms = 0, root_hits, n_calls;
static bb_lk_call calls[MAX_CALLS];
static int lfd;

static void record(const char *path, const char *head, const char *body) {
    pthread_mutex_lock(&mu);
    if (n_calls < MAX_CALLS) {
        bb_lk_call *c = &calls[n_calls];
        snprintf(c->path, sizeof c->path, "%s", path);
        const char *a = strcasestr(head, "\r\nAuthorization: ");
        c->auth[0] = '\0';
        if (a) snprintf(c->auth, sizeof c->auth, "%.*s", (int)strcspn(a + 17, "\r"), a + 17);
        snprintf(c->body, sizeof c->body, "%s", body);
    }
    n_calls++;
    pthread_mutex_unlock(&mu);
}

static void answer(int fd, int status, const char *body) {
    char buf[4096];
    int n =
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                 status, strlen(body), body);
    (void)!write(fd, buf, (size_t)n);
}

static void *conn_thread(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - len - 1);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end;
        while ((end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "Content-Length: ");
            size_t blen = cl && cl < end ? (size_t)atoi(cl + 16) : 0;
            size_t total = (size_t)(end + 4 - buf) + blen;
            if (len < total) break;
            char method[16] = "", path[128] = "";
            sscanf(buf, "%15s %127s", method, path);
            char head[8192], body[8192];
            snprintf(head, sizeof head, "%.*s", (int)(end - buf), buf);
            snprintf(body, sizeof body, "%.*s", (int)blen, end + 4);
            pthread_mutex_lock(&mu);
            int d = delay_ms, rs = root_status;
            pthread_mutex_unlock(&mu);
            if (d) bb_sleep_ms(d);
            if (strcmp(path, "/") == 0) {
                pthread_mutex_lock(&mu);
                root_hits++;
                pthread_mutex_unlock(&mu);
                answer(fd, rs, rs == 200 ? "OK" : "down");
            } else if (strncmp(path, "/twirp/livekit.RoomService/", 27) == 0) {
                record(path, head, body);
                answer(fd, 200, strstr(path, "ListParticipants") ? "{\"participants\":[]}" : "{}");
            } else {
                answer(fd, 404, "{\"code\":\"not_found\",\"msg\":\"no route\"}");
            }
            memmove(buf, buf + total, len - total);
            len -= total;
            buf[len] = '\0';
        }
    }
    close(fd);
    return NULL;
}

static void *accept_thread(void *arg) {
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        pthread_t t;
        pthread_create(&t, NULL, conn_thread, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
    return NULL;
}

int bb_lk_start(void) {
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(lfd, (struct sockaddr *)&a, sizeof a);
    listen(lfd, 64);
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    pthread_t t;
    pthread_create(&t, NULL, accept_thread, NULL);
    pthread_detach(t);
    return ntohs(a.sin_port);
}

void bb_lk_set(int status, int delay) {
    pthread_mutex_lock(&mu);
    root_status = status;
    delay_ms = delay;
    pthread_mutex_unlock(&mu);
}

int bb_lk_root_hits(void) {
    pthread_mutex_lock(&mu);
    int n = root_hits;
    pthread_mutex_unlock(&mu);
    return n;
}

int bb_lk_calls(bb_lk_call *out, int max) {
    pthread_mutex_lock(&mu);
    int n = n_calls;
    for (int i = 0; i < n && i < max && i < MAX_CALLS; i++)
        out[i] = calls[i];
    pthread_mutex_unlock(&mu);
    return n;
}

void bb_lk_reset(void) {
    pthread_mutex_lock(&mu);
    n_calls = 0;
    root_hits = 0;
    root_status = 200;
    delay_ms = 0;
    pthread_mutex_unlock(&mu);
}
