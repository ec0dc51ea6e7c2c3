/*
 * main.c - pv-sim, the deterministic simulator's command line.
 *
 *   pv-sim --seed N [--duration-ms D] [--verbose] [--quiet]
 *       one run; prints the options, the result, percentiles and the trace
 *       hash; exit 1 on a property failure (with "reproduce: make sim SEED=N").
 *   pv-sim --swarm --first-seed F --count C [--hist-out FILE] [--duration-ms D]
 *   pv-sim --swarm --seeds-file FILE [--hist-out FILE]
 *       many runs, each in a forked child (a core assertion traps only that
 *       child); prints each failure and "sim-swarm: N passed, M failed".
 *   pv-sim --merge-hist FILE...
 *       adds up latency histograms written by --hist-out and prints them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cli.h"

static int usage(void) {
    fprintf(stderr, "usage: pv-sim --seed N [--duration-ms D] [--verbose] [--quiet]\n"
                    "       pv-sim --swarm (--first-seed F --count C | --seeds-file FILE) "
                    "[--hist-out FILE] [--duration-ms D]\n"
                    "       pv-sim --merge-hist FILE...\n"
                    "       --break lk-forward-all|skip-deltas: deliberate fake defects "
                    "(checker self-test)\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

/* Returns 0, or -1 for an unknown --break name. */
static int parse_break(const char *v, uint32_t *flags) {
    if (!strcmp(v, "lk-forward-all"))
        *flags |= SIM_BREAK_LK_FORWARD_ALL;
    else if (!strcmp(v, "skip-deltas"))
        *flags |= SIM_BREAK_SKIP_DELTAS;
    else
        return -1;
    return 0;
}

/* Options that take a value; returns 0 when a (with v) was understood. */
static int parse_valued(const char *a, const char *v, cli *c) {
    uint64_t x;
    if (!strcmp(a, "--seed")) return c->has_seed = 1, parse_u64(v, &c->seed);
    if (!strcmp(a, "--first-seed")) return parse_u64(v, &c->first_seed);
    if (!strcmp(a, "--count")) return parse_u64(v, &c->count);
    if (!strcmp(a, "--duration-ms")) {
        if (parse_u64(v, &x)) return -1;
        c->duration_ms = (int64_t)x;
        return 0;
    }
    if (!strcmp(a, "--hist-out")) return c->hist_out = v, 0;
    if (!strcmp(a, "--seeds-file")) return c->seeds_file = v, 0;
    if (!strcmp(a, "--break")) return parse_break(v, &c->sabotage);
    return -1;
}

static int parse(int argc, char **argv, cli *c) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--verbose"))
            c->verbose++;
        else if (!strcmp(a, "--quiet"))
            c->quiet = 1;
        else if (!strcmp(a, "--swarm"))
            c->swarm = 1;
        else if (!strcmp(a, "--merge-hist"))
            c->merge = argv + i + 1, c->n_merge = argc - i - 1, i = argc;
        else if (i + 1 >= argc || parse_valued(a, argv[i + 1], c) != 0)
            return -1;
        else
            i++;
    }
    return 0;
}

/* The safety phase length that makes the whole run last duration_ms. */
static int64_t safety_for(uint64_t seed, int64_t duration_ms) {
    if (duration_ms <= 0) return -1;
    sim_opts o;
    sim_opts_derive(&o, seed, -1);
    int64_t rest = o.liveness_ms + o.converge_ms;
    return duration_ms - rest > 1000 ? duration_ms - rest : 1000;
}

static void print_report(const sim *s) {
    printf("seed %" PRIu64 ": %s at %lld ms; steps=%llu faults=%llu poses sent=%llu accepted=%llu "
           "deltas=%llu snapshots=%llu audiences=%llu acks=%llu gaps=%llu disconnects=%llu "
           "1008=%llu sessions=%llu\n",
           s->o.seed, s->failed ? "FAILED" : "passed", (long long)s->now_ms,
           (unsigned long long)s->steps, (unsigned long long)s->faults,
           (unsigned long long)s->poses_sent, (unsigned long long)s->poses_accepted,
           (unsigned long long)s->deltas, (unsigned long long)s->snapshots,
           (unsigned long long)s->audiences, (unsigned long long)s->acks,
           (unsigned long long)s->gaps, (unsigned long long)s->disconnects,
           (unsigned long long)s->closes_1008, (unsigned long long)s->sessions);
    printf("livekit: calls=%llu failed=%llu timeouts=%llu not_found=%llu removed=%llu "
           "restarts=%llu webhooks=%llu; converged %lld ms after players stopped; queue high "
           "water %u\n",
           (unsigned long long)s->lk.calls, (unsigned long long)s->lk.calls_failed,
           (unsigned long long)s->lk.calls_timeout, (unsigned long long)s->lk.not_found,
           (unsigned long long)s->lk.removed, (unsigned long long)s->lk.restarts,
           (unsigned long long)s->lk.webhooks,
           (long long)(s->chk.converged_ms < 0 ? -1 : s->chk.converged_ms - s->converge_start_ms),
           s->q.high_water);
    printf("checks evaluated: safety(core)=%llu safety(livekit)=%llu liveness=%llu no-flap=%llu "
           "cap=%llu malicious=%llu\n",
           (unsigned long long)s->chk.n_safety_core, (unsigned long long)s->chk.n_safety_lk,
           (unsigned long long)s->chk.n_liveness, (unsigned long long)s->chk.n_band,
           (unsigned long long)s->chk.n_cap, (unsigned long long)s->chk.n_mal);
    sim_hist_print("enter->forwarded", &s->met.enter_ms);
    sim_hist_print("exit->unforwarded", &s->met.exit_ms);
}

static void print_failure(const sim *s) {
    printf("FAILED seed %" PRIu64 " at %lld ms (phase %d): %s\n", s->o.seed, (long long)s->now_ms,
           s->phase, s->failure);
    printf("reproduce: make sim SEED=%" PRIu64 "\n", s->o.seed);
}

/* One run. Returns 0 pass, 1 property failure, 2 setup error. */
int sim_run_one(uint64_t seed, const cli *c, run_result *res) {
    static sim s; /* large: keep it off the stack */
    if (sim_init(&s, seed, safety_for(seed, c->duration_ms), c->verbose, c->sabotage) != 0) {
        fprintf(stderr, "pv-sim: cannot initialise seed %" PRIu64 "\n", seed);
        sim_free(&s);
        return 2;
    }
    if (!c->quiet) printf("seed %" PRIu64 "\n", seed), sim_opts_print(&s.o);
    int rc = sim_run(&s);
    if (!c->quiet) print_report(&s);
    if (rc) print_failure(&s);
    if (!c->quiet) printf("trace %016" PRIx64 "\n", s.trace);
    if (res) res->failed = rc, res->enter = s.met.enter_ms, res->exit = s.met.exit_ms;
    sim_free(&s);
    return rc;
}

int main(int argc, char **argv) {
    static cli c;
    if (parse(argc, argv, &c) != 0) return usage();
    if (c.merge) return sim_merge_hist(&c);
    if (c.swarm) return sim_swarm(&c);
    if (!c.has_seed) return usage();
    return sim_run_one(c.seed, &c, NULL);
}
