/*
 * sim_prng.h - the simulator's own pseudo-random numbers.
 *
 * One u64 seed decides a whole run. splitmix64 turns it into independent
 * sub-seeds (one per component), each component then draws from its own
 * xoshiro256** stream, so adding a draw in one component never shifts the
 * numbers another component sees. Probabilities are integer ratios in parts
 * per million (ppm): no floats decide a fault. rand() is never used.
 */
#ifndef SIM_PRNG_H
#define SIM_PRNG_H

#include <stdint.h>

#define SIM_PPM 1000000u /* a probability of 1 */

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

/* Advances *state and returns the next splitmix64 output. */
uint64_t sim_splitmix64(uint64_t *state);
/* Seeds a xoshiro256** stream (the four words come from splitmix64(seed)). */
void sim_rng_seed(sim_rng *r, uint64_t seed);
/* The next raw 64-bit output. */
uint64_t sim_rng_next(sim_rng *r);
/* Uniform in [0, n) without modulo bias; returns 0 when n == 0. */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);
/* Uniform in [lo, hi] (inclusive); returns lo when hi <= lo. */
int64_t sim_rng_range(sim_rng *r, int64_t lo, int64_t hi);
/* 1 with probability ppm / SIM_PPM, else 0. ppm >= SIM_PPM is always 1. */
int sim_rng_ppm(sim_rng *r, uint32_t ppm);
/* Uniform double in [0, 1) from the top 53 bits (geometry only, never faults). */
double sim_rng_unit(sim_rng *r);

#endif /* SIM_PRNG_H */
