/*
 * swarm.c - many seeds in a row (make sim-swarm, make test): each seed runs
 * in a forked child with a time limit, so a core assertion (a trap) or a
 * hang fails that seed only; failures are listed with their reproduce line
 * and the children's latency histograms are summed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_cli.h"

#define CHILD_TIME_LIMIT_S 120
#define SEEDS_FILE_MAX     4096

/* Runs one seed in a child; the result comes back over a pipe. */
static int run_forked(uint64_t seed, const cli *c, run_result *res) {
    int fd[2];
    fflush(stdout);
    if (pipe(fd) != 0) return 2;
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        close(fd[0]);
        alarm(CHILD_TIME_LIMIT_S);
        sim_run_one(seed, c, res);
        fflush(stdout);
        ssize_t w = write(fd[1], res, sizeof(*res));
        _exit(w == (ssize_t)sizeof(*res) ? 0 : 3);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof(*res)) {
        ssize_t r = read(fd[0], (char *)res + got, sizeof(*res) - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (got == sizeof(*res) && WIFEXITED(st) && WEXITSTATUS(st) == 0) return res->failed;
    printf("FAILED seed %" PRIu64 ": the run crashed (%s %d)\n", seed,
           WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    printf("reproduce: make sim SEED=%" PRIu64 "\n", seed);
    return 1;
}

static int write_hist(const char *path, const sim_hist *e, const sim_hist *x) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(e, sizeof(*e), 1, f) == 1 && fwrite(x, sizeof(*x), 1, f) == 1;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int sim_merge_hist(const cli *c) {
    static sim_hist e, x, te, tx;
    for (int i = 0; i < c->n_merge; i++) {
        FILE *f = fopen(c->merge[i], "rb");
        if (!f || fread(&e, sizeof(e), 1, f) != 1 || fread(&x, sizeof(x), 1, f) != 1) {
            fprintf(stderr, "pv-sim: cannot read %s\n", c->merge[i]);
            if (f) fclose(f);
            return 2;
        }
        fclose(f);
        sim_hist_merge(&te, &e);
        sim_hist_merge(&tx, &x);
    }
    sim_hist_print("enter->forwarded", &te);
    sim_hist_print("exit->unforwarded", &tx);
    return 0;
}

/* Reads seeds (one per line, '#' starts a comment) into v; returns the count. */
static int read_seeds(const char *path, uint64_t *v, int max) {
    FILE *f = fopen(path, "r");
    char line[256];
    int n = 0;
    if (!f) return -1;
    while (n < max && fgets(line, sizeof(line), f)) {
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *end;
        unsigned long long x = strtoull(line, &end, 0);
        if (end != line) v[n++] = x;
    }
    fclose(f);
    return n;
}

int sim_swarm(const cli *c) {
    static uint64_t seeds[SEEDS_FILE_MAX];
    static run_result res;
    static sim_hist te, tx;
    cli quiet = *c;
    quiet.quiet = 1;
    quiet.verbose = 0;
    int n = (int)(c->count < SEEDS_FILE_MAX ? c->count : SEEDS_FILE_MAX);
    int from_file = c->seeds_file != NULL;
    if (from_file && (n = read_seeds(c->seeds_file, seeds, SEEDS_FILE_MAX)) < 0) {
        fprintf(stderr, "pv-sim: cannot read %s\n", c->seeds_file);
        return 2;
    }
    uint64_t passed = 0, failed = 0, total = from_file ? (uint64_t)n : c->count;
    for (uint64_t i = 0; i < total; i++) {
        uint64_t seed = from_file ? seeds[i] : c->first_seed + i;
        memset(&res, 0, sizeof(res));
        if (run_forked(seed, &quiet, &res) == 0)
            passed++;
        else
            failed++;
        sim_hist_merge(&te, &res.enter);
        sim_hist_merge(&tx, &res.exit);
    }
    if (c->hist_out && write_hist(c->hist_out, &te, &tx) != 0)
        fprintf(stderr, "pv-sim: cannot write %s\n", c->hist_out);
    sim_hist_print("enter->forwarded", &te);
    sim_hist_print("exit->unforwarded", &tx);
    printf("sim-swarm: %" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
    return failed ? 1 : 0;
}
