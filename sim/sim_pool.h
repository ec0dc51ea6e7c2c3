/*
 * sim_pool.h - fixed-size slots for payloads in flight (pose batches, id
 * lists). Allocated once per run; a handle is a slot index. Running out is a
 * limit breach of the simulator and is reported as such, never silently
 * turned into a network loss.
 */
#ifndef SIM_POOL_H
#define SIM_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_pool {
    unsigned char *mem;
    uint32_t *free_list;
    uint32_t n_free, cap;
    uint32_t in_use_max;
    size_t slot_bytes;
} sim_pool;

/* Returns 0, or -1 when memory cannot be had. */
int sim_pool_init(sim_pool *p, uint32_t cap, size_t slot_bytes);
void sim_pool_free(sim_pool *p);
/* Returns a handle of a zeroed slot, or UINT32_MAX when the pool is empty. */
uint32_t sim_pool_get(sim_pool *p);
void sim_pool_put(sim_pool *p, uint32_t h);
void *sim_pool_ptr(const sim_pool *p, uint32_t h);

#endif /* SIM_POOL_H */
