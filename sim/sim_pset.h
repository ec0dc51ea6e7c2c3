/*
 * sim_pset.h - a set of player indices (< SIM_PLAYERS_MAX) as a bitset.
 * Iteration is in index order, which is also participant-ID order because
 * player IDs are zero-padded ("p007").
 */
#ifndef SIM_PSET_H
#define SIM_PSET_H

#include <stdint.h>

#define SIM_PSET_WORDS 2 /* 128 players */

typedef struct sim_pset {
    uint64_t w[SIM_PSET_WORDS];
} sim_pset;

static inline int pset_has(const sim_pset *s, unsigned i) {
    return (s->w[i >> 6] >> (i & 63)) & 1;
}
static inline void pset_add(sim_pset *s, unsigned i) {
    s->w[i >> 6] |= 1ull << (i & 63);
}
static inline void pset_del(sim_pset *s, unsigned i) {
    s->w[i >> 6] &= ~(1ull << (i & 63));
}
static inline void pset_clear(sim_pset *s) {
    for (int k = 0; k < SIM_PSET_WORDS; k++)
        s->w[k] = 0;
}
static inline int pset_eq(const sim_pset *a, const sim_pset *b) {
    for (int k = 0; k < SIM_PSET_WORDS; k++)
        if (a->w[k] != b->w[k]) return 0;
    return 1;
}
static inline unsigned pset_count(const sim_pset *s) {
    unsigned n = 0;
    for (int k = 0; k < SIM_PSET_WORDS; k++)
        n += (unsigned)__builtin_popcountll(s->w[k]);
    return n;
}
/* The first member >= i, or -1. */
static inline int pset_next(const sim_pset *s, unsigned i) {
    for (unsigned k = i >> 6; k < SIM_PSET_WORDS; k++) {
        uint64_t w = s->w[k];
        if (k == (i >> 6)) w &= ~0ull << (i & 63);
        if (w) return (int)(k * 64 + (unsigned)__builtin_ctzll(w));
    }
    return -1;
}
/* Removed elements: a - b; the smallest, or -1. */
static inline int pset_first_diff(const sim_pset *a, const sim_pset *b) {
    for (int k = 0; k < SIM_PSET_WORDS; k++) {
        uint64_t w = a->w[k] & ~b->w[k];
        if (w) return k * 64 + __builtin_ctzll(w);
    }
    return -1;
}

#endif /* SIM_PSET_H */
