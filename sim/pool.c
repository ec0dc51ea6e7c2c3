/*
 * pool.c - slot pool with a LIFO free list (deterministic reuse order).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_pool.h"

int sim_pool_init(sim_pool *p, uint32_t cap, size_t slot_bytes) {
    p->mem = calloc(cap, slot_bytes);
    p->free_list = calloc(cap, sizeof(uint32_t));
    p->cap = cap;
    p->slot_bytes = slot_bytes;
    p->in_use_max = 0;
    if (!p->mem || !p->free_list) return -1;
    p->n_free = cap;
    for (uint32_t i = 0; i < cap; i++)
        p->free_list[i] = cap - 1 - i;
    return 0;
}

void sim_pool_free(sim_pool *p) {
    free(p->mem);
    free(p->free_list);
    memset(p, 0, sizeof(*p));
}

uint32_t sim_pool_get(sim_pool *p) {
    if (p->n_free == 0) return UINT32_MAX;
    uint32_t h = p->free_list[--p->n_free];
    memset(sim_pool_ptr(p, h), 0, p->slot_bytes);
    if (p->cap - p->n_free > p->in_use_max) p->in_use_max = p->cap - p->n_free;
    return h;
}

void sim_pool_put(sim_pool *p, uint32_t h) {
    assert(h < p->cap && p->n_free < p->cap);
    p->free_list[p->n_free++] = h;
}

void *sim_pool_ptr(const sim_pool *p, uint32_t h) {
    assert(h < p->cap);
    return p->mem + (size_t)h * p->slot_bytes;
}
