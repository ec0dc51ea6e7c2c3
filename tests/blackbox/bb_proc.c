/*
 * bb_proc.c - start/stop the daemon under test with a controlled environment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bb.h"

const char *bb_daemon_path;
char bb_tmpdir[256];

int64_t bb_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bb_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

void bb_env_set(bb_env *e, const char *name, const char *value) {
    size_t nl = strlen(name);
    char *v = malloc(nl + strlen(value) + 2);
    sprintf(v, "%s=%s", name, value);
    for (int i = 0; i < e->n; i++) {
        if (strncmp(e->vars[i], name, nl) == 0 && e->vars[i][nl] == '=') {
            free(e->vars[i]);
            e->vars[i] = v;
            return;
        }
    }
    if (e->n < BB_ENV_MAX - 1)
        e->vars[e->n++] = v;
    else
        free(v);
}

void bb_env_unset(bb_env *e, const char *name) {
    size_t nl = strlen(name);
    for (int i = 0; i < e->n; i++) {
        if (strncmp(e->vars[i], name, nl) == 0 && e->vars[i][nl] == '=') {
            free(e->vars[i]);
            e->vars[i] = e->vars[--e->n];
            return;
        }
    }
}

void bb_env_free(bb_env *e) {
    for (int i = 0; i < e->n; i++)
        free(e->vars[i]);
    e->n = 0;
}

void bb_env_default(bb_env *e, int port, int lk_port) {
    memset(e, 0, sizeof *e);
    char buf[64];
    bb_env_set(e, "NODE_ENV", "development");
    bb_env_set(e, "HOST", "127.0.0.1");
    snprintf(buf, sizeof buf, "%d", port);
    bb_env_set(e, "PORT", buf);
    snprintf(buf, sizeof buf, "http://127.0.0.1:%d", lk_port);
    bb_env_set(e, "LIVEKIT_URL", buf);
    bb_env_set(e, "LIVEKIT_API_KEY", "devkey");
    bb_env_set(e, "LIVEKIT_API_SECRET", BB_LK_SECRET);
    bb_env_set(e, "POLICY_SOCKET_JWT_SECRET", BB_POL_SECRET);
    bb_env_set(e, "EXTERNAL_SHARED_SECRET", BB_EXT_SECRET);
    bb_env_set(e, "LOG_LEVEL", "debug");
    bb_env_set(e, "READY_CACHE_MS", "300");
}

int bb_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static int env_port(const bb_env *e) {
    for (int i = 0; i < e->n; i++)
        if (strncmp(e->vars[i], "PORT=", 5) == 0) return atoi(e->vars[i] + 5);
    return 0;
}

static pid_t spawn(const bb_env *e, const char *arg, const char *out, const char *err) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fo, 1);
    dup2(fe, 2);
    char *envp[BB_ENV_MAX + 1];
    for (int i = 0; i < e->n; i++)
        envp[i] = e->vars[i];
    envp[e->n] = NULL;
    char *argv[] = {(char *)bb_daemon_path, (char *)arg, NULL};
    execve(bb_daemon_path, argv, envp);
    _exit(127);
}

static int status_code(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

int bb_daemon_start(bb_daemon *d, const bb_env *e) {
    static int seq;
    memset(d, 0, sizeof *d);
    d->port = env_port(e);
    seq++;
    snprintf(d->log_path, sizeof d->log_path, "%s/daemon-%d.log", bb_tmpdir, seq);
    snprintf(d->err_path, sizeof d->err_path, "%s/daemon-%d.err", bb_tmpdir, seq);
    d->pid = spawn(e, NULL, d->log_path, d->err_path);
    for (int i = 0; i < 300; i++) { /* up to 3 s (ASan builds start slower) */
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            fprintf(stderr, "  daemon exited early (status %d), see %s\n", status_code(st),
                    d->err_path);
            d->pid = 0;
            return -1;
        }
        bb_conn c;
        if (bb_connect(&c, d->port, NULL) == 0) {
            bb_close(&c);
            return 0;
        }
        bb_sleep_ms(10);
    }
    bb_daemon_stop(d, SIGKILL, 1000);
    return -1;
}

int bb_daemon_signal(bb_daemon *d, int sig) {
    return d->pid > 0 ? kill(d->pid, sig) : -1;
}

int bb_daemon_stop(bb_daemon *d, int sig, int timeout_ms) {
    if (d->pid <= 0) return -1;
    kill(d->pid, sig);
    int64_t end = bb_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            d->pid = 0;
            return status_code(st);
        }
        if (bb_now_ms() > end) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &st, 0);
            d->pid = 0;
            return -1;
        }
        bb_sleep_ms(5);
    }
}

static size_t read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

size_t bb_daemon_log(const bb_daemon *d, char *buf, size_t cap) {
    return read_file(d->log_path, buf, cap);
}

int bb_daemon_run(const bb_env *e, const char *arg, char *out, size_t cap) {
    char o[300], er[300];
    snprintf(o, sizeof o, "%s/run.out", bb_tmpdir);
    snprintf(er, sizeof er, "%s/run.err", bb_tmpdir);
    pid_t pid = spawn(e, arg, o, er);
    int st = 0;
    waitpid(pid, &st, 0);
    size_t n = read_file(o, out, cap);
    read_file(er, out + n, cap - n);
    return status_code(st);
}
