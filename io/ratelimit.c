/*
 * ratelimit.c - token buckets in a bounded open-addressing table.
 * See ratelimit.h for the eviction rule and why it is bounded.
 */
#include <string.h>

#include "pv.h"
#include "ratelimit.h"

#define MILLI 1000

int pvrl_init(pvrl *rl, pvrl_slot *slots, uint32_t n_slots, uint32_t burst, uint32_t per_second,
              uint64_t seed) {
    if (!rl || !slots || n_slots < PVRL_PROBE || (n_slots & (n_slots - 1)) != 0) return PV_EINVAL;
    if (burst < 1 || burst > 1000000 || per_second < 1 || per_second > 1000000) return PV_EINVAL;
    memset(slots, 0, sizeof *slots * n_slots);
    rl->slots = slots;
    rl->n_slots = n_slots;
    rl->burst = burst;
    rl->per_second = per_second;
    rl->seed = seed;
    rl->use_counter = 0;
    rl->evictions = 0;
    return 0;
}

/* FNV-1a over the key, mixed with the seed, then a final avalanche. */
static uint64_t hash_key(uint64_t seed, const char *k, size_t n) {
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Tokens (milli) of slot s at now_ms, after refill. */
static int64_t refilled(const pvrl *rl, const pvrl_slot *s, int64_t now_ms) {
    int64_t cap = (int64_t)rl->burst * MILLI;
    int64_t elapsed = now_ms - s->last_ms;
    if (elapsed <= 0) return s->tokens_milli;
    /* Cap elapsed so elapsed * per_second cannot overflow. */
    if (elapsed > cap) elapsed = cap; /* refill per ms >= 1 milli-token: cap ms suffice */
    int64_t t = s->tokens_milli + elapsed * (int64_t)rl->per_second;
    return t > cap ? cap : t;
}

/* The slot for key: found, or a free/evicted one re-initialised full.
 * Slots are never freed, so a key inserted at home+i found home..home+i-1
 * occupied and they still are: reaching a free slot means "not present". */
static pvrl_slot *lookup(pvrl *rl, const char *key, size_t n, int64_t now_ms) {
    uint32_t mask = rl->n_slots - 1;
    uint32_t home = (uint32_t)hash_key(rl->seed, key, n) & mask;
    pvrl_slot *victim = NULL;
    int victim_full = 0;
    for (uint32_t i = 0; i < PVRL_PROBE; i++) {
        pvrl_slot *s = &rl->slots[(home + i) & mask];
        if (s->key[0] == '\0') {
            victim = s;
            break;
        }
        if (strcmp(s->key, key) == 0) return s;
        /* Prefer a bucket that is full again (it carries no information),
         * then the least recently used; ties keep the lower slot. */
        int full = refilled(rl, s, now_ms) == (int64_t)rl->burst * MILLI;
        if (!victim || full > victim_full ||
            (full == victim_full && s->last_use < victim->last_use))
            victim = s, victim_full = full;
    }
    if (victim->key[0] != '\0') rl->evictions++;
    memcpy(victim->key, key, n + 1);
    victim->tokens_milli = (int64_t)rl->burst * MILLI;
    victim->last_ms = now_ms;
    return victim;
}

int pvrl_take(pvrl *rl, const char *key, int64_t now_ms, int64_t *retry_after_ms) {
    size_t n = key ? strnlen(key, PVRL_KEY_MAX + 1) : 0;
    if (n == 0 || n > PVRL_KEY_MAX) return PV_EINVAL;
    pvrl_slot *s = lookup(rl, key, n, now_ms);
    s->tokens_milli = refilled(rl, s, now_ms);
    if (now_ms > s->last_ms) s->last_ms = now_ms;
    s->last_use = ++rl->use_counter;
    if (s->tokens_milli >= MILLI) {
        s->tokens_milli -= MILLI;
        return 1;
    }
    if (retry_after_ms) {
        int64_t missing = MILLI - s->tokens_milli;
        *retry_after_ms = (missing + rl->per_second - 1) / rl->per_second;
        if (*retry_after_ms < 1) *retry_after_ms = 1;
    }
    return 0;
}

uint32_t pvrl_used(const pvrl *rl) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < rl->n_slots; i++)
        n += rl->slots[i].key[0] != '\0';
    return n;
}
