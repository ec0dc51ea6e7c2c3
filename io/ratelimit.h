/*
 * ratelimit.h - token-bucket rate limiting with a bounded table.
 *
 * One bucket per key (client IP, or the external authority's principal), each
 * holding up to `burst` tokens and refilled at `per_second` tokens per second
 * (integer arithmetic in milli-tokens: exact and deterministic). A request
 * takes one token or is refused with the time until one is available.
 *
 * The table is a fixed array (caller-owned memory, power-of-two slot count)
 * with open addressing: a key lives in one of PVRL_PROBE consecutive slots
 * starting at its hash. When all of them are taken, the entry evicted is
 * (1) one whose bucket has refilled completely (forgetting it loses nothing),
 * else (2) the least recently used one in that window (ties: lowest slot).
 * So memory and work per call are bounded (O(PVRL_PROBE)), and the outcome
 * is a pure function of the seed, the keys and the times. Eviction can give
 * an evicted, throttled key a fresh bucket: the price of being bounded; size
 * the table above the expected number of concurrently active keys.
 *
 * MUST rules:
 *  - now_ms is monotonic; a time going backwards is treated as no elapsed time.
 *  - Keys are 1..PVRL_KEY_MAX bytes (longer keys are PV_EINVAL, not truncated,
 *    so two long keys never share a bucket by accident).
 *  - The seed should be random per process (hash flooding); tests fix it.
 */
#ifndef PV_RATELIMIT_H
#define PV_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define PVRL_KEY_MAX       79 /* fits an IPv6 text address or an extauth principal */
#define PVRL_PROBE         8  /* slots a key may occupy */
#define PVRL_DEFAULT_SLOTS 4096

typedef struct pvrl_slot {
    char key[PVRL_KEY_MAX + 1]; /* "" = free */
    int64_t tokens_milli;       /* tokens * 1000 at last_ms */
    int64_t last_ms;            /* last refill time */
    uint64_t last_use;          /* LRU stamp (a counter, not a time) */
} pvrl_slot;

typedef struct pvrl {
    pvrl_slot *slots;
    uint32_t n_slots; /* power of two */
    uint32_t burst;   /* bucket capacity, tokens */
    uint32_t per_second;
    uint64_t seed;
    uint64_t use_counter;
    uint64_t evictions; /* statistics */
} pvrl;

/*
 * Set up over slots[0..n_slots) (zeroed here). n_slots a power of two >=
 * PVRL_PROBE; 1 <= burst <= 1e6; 1 <= per_second <= 1e6.
 * Returns 0 or PV_EINVAL.
 */
int pvrl_init(pvrl *rl, pvrl_slot *slots, uint32_t n_slots, uint32_t burst, uint32_t per_second,
              uint64_t seed);

/*
 * Take one token from key's bucket at now_ms.
 * Returns 1 (allowed), 0 (refused: *retry_after_ms, if not NULL, is the
 * wait until a token is available, >= 1), or PV_EINVAL (empty/oversize key).
 */
int pvrl_take(pvrl *rl, const char *key, int64_t now_ms, int64_t *retry_after_ms);

/* Number of occupied slots (for stats and tests). */
uint32_t pvrl_used(const pvrl *rl);

#endif
