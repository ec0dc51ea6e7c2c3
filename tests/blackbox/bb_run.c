/*
 * bb_run.c - the case registry and runner shared by the black-box suite
 * (tests/blackbox/main.c) and the policy-socket suite (tests/ws/ws_main.c):
 * `PROGRAM DAEMON [FILTER]` runs every registered case (or those whose name
 * contains FILTER) in name order against the real binary, each with a fresh
 * fake LiveKit record, and prints "SUITE: N passed, M failed".
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb.h"

#define MAX_CASES 128 /* limit: cases per program */

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

int bb_env_up(bb_daemon *d, bb_env *e, va_list ap) {
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name) break;
        const char *value = va_arg(ap, const char *);
        if (value)
            bb_env_set(e, name, value);
        else
            bb_env_unset(e, name);
    }
    return bb_daemon_start(d, e);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_case(int i) {
    bb_case_failed = 0;
    bb_lk_reset();
    int64_t t0 = bb_now_ms();
    cases[i].fn();
    int64_t ms = bb_now_ms() - t0;
    printf("%s %s (%lld ms)\n", bb_case_failed ? "not ok" : "ok", cases[i].name, (long long)ms);
    fflush(stdout);
    return !bb_case_failed;
}

int bb_run_main(int argc, char **argv, const bb_run_opts *o) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON [FILTER]\n", argv[0]);
        return 2;
    }
    bb_daemon_path = argv[1];
    const char *filter = argc > 2 ? argv[2] : NULL;
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid());
    snprintf(bb_tmpdir, sizeof bb_tmpdir, "/tmp/%s.XXXXXX", o->tmp_prefix);
    if (!mkdtemp(bb_tmpdir)) return 2;
    bb_lk_port = bb_lk_start();
    if (o->before) o->before();
    qsort(cases, (size_t)n_cases, sizeof cases[0], by_name);
    int passed = 0, failed = 0;
    for (int i = 0; i < n_cases; i++) {
        if (filter && !strstr(cases[i].name, filter)) continue;
        if (run_case(i))
            passed++;
        else
            failed++;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", bb_tmpdir);
    if (!failed && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", bb_tmpdir);
    if (failed) fprintf(stderr, "daemon logs kept in %s\n", bb_tmpdir);
    printf("%s: %d passed, %d failed\n", o->suite, passed, failed);
    return failed ? 1 : 0;
}
