/*
 * ev_loop.c - the loop's clock: monotonic and wall time in milliseconds,
 * read once per loop iteration (like quicly's lock_now) so every event of
 * one iteration carries the same time and the clocks are not read for each
 * of thousands of requests.
 */
#include "ev_shell.h"

#include <time.h>

static int64_t ms_of(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pvs_clock_read(int64_t *now_ms, int64_t *wall_ms) {
    *now_ms = ms_of(CLOCK_MONOTONIC);
    *wall_ms = ms_of(CLOCK_REALTIME);
}

void pvs_clock_get(struct ev_loop *loop, pvs_clock *clk, int64_t *now_ms, int64_t *wall_ms) {
    /* ev_iteration() changes right before each poll, so a new iteration
     * (after the loop woke up) reads the clocks again. */
    unsigned int it = ev_iteration(loop);
    if (!clk->valid || clk->iteration != it) {
        int64_t now, wall;
        pvs_clock_read(&now, &wall);
        if (clk->valid && now < clk->now_ms) now = clk->now_ms; /* never backwards */
        clk->now_ms = now;
        clk->wall_ms = wall;
        clk->iteration = it;
        clk->valid = 1;
    }
    *now_ms = clk->now_ms;
    *wall_ms = clk->wall_ms;
}
