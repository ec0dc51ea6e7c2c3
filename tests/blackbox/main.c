/*
 * main.c - black-box runner: `blackbox DAEMON [FILTER]` runs every
 * registered case (or those whose name contains FILTER) against the binary
 * and prints "blackbox: N passed, M failed".
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb.h"

#define MAX_CASES 128

int bb_case_failed;
int bb_lk_port;
static struct {
    const char *name;
    bb_fn fn;
} cases[MAX_CASES];
static int n_cases;

void bb_register(const char *name, bb_fn fn) {
    if (n_cases < MAX_CASES) {
        cases[n_cases].name = name;
        cases[n_cases].fn = fn;
        n_cases++;
    }
}

int bb_up(bb_daemon *d, bb_env *e, ...) {
    bb_env_default(e, bb_free_port(), bb_lk_port);
    va_list ap;
    va_start(ap, e);
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name) break;
        const char *value = va_arg(ap, const char *);
        if (value)
            bb_env_set(e, name, value);
        else
            bb_env_unset(e, name);
    }
    va_end(ap);
    return bb_daemon_start(d, e);
}

void bb_session_body(char *out, size_t cap, const char *room, const char *participant) {
    snprintf(out, cap, "{\"participantId\":\"%s\",\"roomId\":\"%s\",\"displayName\":\"P %s\"}",
             participant, room, participant);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: blackbox DAEMON [FILTER]\n");
        return 2;
    }
    bb_daemon_path = argv[1];
    const char *filter = argc > 2 ? argv[2] : NULL;
    signal(SIGPIPE, SIG_IGN);
    snprintf(bb_tmpdir, sizeof bb_tmpdir, "/tmp/pvbb.XXXXXX");
    if (!mkdtemp(bb_tmpdir)) return 2;
    bb_lk_port = bb_lk_start();
    if (bb_keys_init() < 0) fprintf(stderr, "warning: openssl key generation failed\n");
    qsort(cases, (size_t)n_cases, sizeof cases[0], by_name);
    int passed = 0, failed = 0;
    for (int i = 0; i < n_cases; i++) {
        if (filter && !strstr(cases[i].name, filter)) continue;
        bb_case_failed = 0;
        bb_lk_reset();
        int64_t t0 = bb_now_ms();
        cases[i].fn();
        int64_t ms = bb_now_ms() - t0;
        if (bb_case_failed) {
            failed++;
            printf("not ok %s (%lld ms)\n", cases[i].name, (long long)ms);
        } else {
            passed++;
            printf("ok %s (%lld ms)\n", cases[i].name, (long long)ms);
        }
        fflush(stdout);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", bb_tmpdir);
    if (!failed && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", bb_tmpdir);
    if (failed) fprintf(stderr, "daemon logs kept in %s\n", bb_tmpdir);
    printf("blackbox: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
