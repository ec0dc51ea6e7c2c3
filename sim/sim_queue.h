/*
 * sim_queue.h - the simulator's bounded priority queue of pending events.
 *
 * Every message in flight, timer and scheduled fault is one sim_ev ordered by
 * (at_ms, seq): seq is a push counter, so two events due at the same time
 * leave in the order they were scheduled. That makes the order total and
 * the run deterministic without depending on heap internals.
 */
#ifndef SIM_QUEUE_H
#define SIM_QUEUE_H

#include <stdint.h>

#define SIM_NO_BLOB UINT32_MAX

/* One pending event. kind selects the handler; the meaning of the other
 * fields depends on kind (see sim.h). Kept small: the heap moves it. */
typedef struct sim_ev {
    uint16_t kind;
    uint16_t player;  /* player / client index, or a room index */
    uint32_t conn_id; /* policy-socket connection, or 0 */
    uint32_t epoch;   /* invalidation counter of the addressee at send time */
    uint32_t blob;    /* payload handle in a sim_pool, or SIM_NO_BLOB */
    uint64_t a, b;    /* small payload (call id, revision, kind, time...) */
} sim_ev;

typedef struct sim_qent {
    int64_t at_ms;
    uint64_t seq;
    sim_ev ev;
} sim_qent;

typedef struct sim_queue {
    sim_qent *heap;
    uint32_t n, cap;
    uint32_t high_water; /* the largest n seen: sizes the limit honestly */
    uint64_t next_seq;
} sim_queue;

/* Returns 0, or -1 when memory for cap entries cannot be had. */
int sim_queue_init(sim_queue *q, uint32_t cap);
void sim_queue_free(sim_queue *q);
/* Returns 0, or -1 when the queue is full (the caller treats it as a limit
 * breach of the simulator, never as a fault). */
int sim_queue_push(sim_queue *q, int64_t at_ms, const sim_ev *ev);
/* Returns 1 and the earliest entry in *out, or 0 when empty. */
int sim_queue_pop(sim_queue *q, sim_qent *out);
/* Time of the earliest entry, or INT64_MAX when empty. */
int64_t sim_queue_peek_ms(const sim_queue *q);

#endif /* SIM_QUEUE_H */
