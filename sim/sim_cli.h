/*
 * sim_cli.h - what main.c (one run) and swarm.c (many runs) share.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stdint.h>

#include "sim.h"

typedef struct cli {
    uint64_t seed, first_seed, count;
    int64_t duration_ms;
    int verbose, quiet, swarm, has_seed;
    uint32_t sabotage;
    const char *hist_out, *seeds_file;
    char **merge;
    int n_merge;
} cli;

typedef struct run_result {
    int failed;
    sim_hist enter, exit;
} run_result;

/* main.c: one run in this process. Returns 0 pass, 1 failure, 2 setup error. */
int sim_run_one(uint64_t seed, const cli *c, run_result *res);
/* swarm.c: the seeds of c (range or file), forked; returns 0 if all passed. */
int sim_swarm(const cli *c);
/* swarm.c: sums histogram files and prints the percentiles. */
int sim_merge_hist(const cli *c);

#endif /* SIM_CLI_H */
