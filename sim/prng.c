/*
 * prng.c - splitmix64 for sub-seeds, xoshiro256** for streams.
 *
 * Both are the public-domain algorithms by Vigna et al., written out from
 * their published definitions. Output is identical on every platform because
 * only unsigned 64-bit arithmetic is involved.
 */
#include "sim_prng.h"

uint64_t sim_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed) {
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&st);
    /* xoshiro must not start from the all-zero state; splitmix64 never yields
     * four zeros in a row, but keep the guarantee explicit. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Rejection sampling: draws are retried while they fall in the short tail
 * that would otherwise make small values more likely. */
uint64_t sim_rng_below(sim_rng *r, uint64_t n) {
    if (n == 0) return 0;
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do {
        x = sim_rng_next(r);
    } while (x >= limit);
    return x % n;
}

int64_t sim_rng_range(sim_rng *r, int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) return (int64_t)sim_rng_next(r); /* the full 64-bit range */
    return (int64_t)((uint64_t)lo + sim_rng_below(r, span));
}

int sim_rng_ppm(sim_rng *r, uint32_t ppm) {
    if (ppm == 0) return 0;
    if (ppm >= SIM_PPM) return 1;
    return sim_rng_below(r, SIM_PPM) < ppm;
}

double sim_rng_unit(sim_rng *r) {
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}
