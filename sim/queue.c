/*
 * queue.c - a binary min-heap of sim_qent keyed by (at_ms, seq).
 */
#include <stdlib.h>

#include "sim_queue.h"

int sim_queue_init(sim_queue *q, uint32_t cap) {
    q->heap = calloc(cap, sizeof(*q->heap));
    q->n = 0;
    q->cap = cap;
    q->high_water = 0;
    q->next_seq = 1;
    return q->heap ? 0 : -1;
}

void sim_queue_free(sim_queue *q) {
    free(q->heap);
    q->heap = NULL;
    q->n = q->cap = 0;
}

static int before(const sim_qent *x, const sim_qent *y) {
    if (x->at_ms != y->at_ms) return x->at_ms < y->at_ms;
    return x->seq < y->seq;
}

static void sift_up(sim_queue *q, uint32_t i) {
    sim_qent e = q->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(&e, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
}

static void sift_down(sim_queue *q, uint32_t i) {
    sim_qent e = q->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, best = i;
        const sim_qent *cur = &e;
        if (l < q->n && before(&q->heap[l], cur)) best = l, cur = &q->heap[l];
        if (l + 1 < q->n && before(&q->heap[l + 1], cur)) best = l + 1;
        if (best == i) break;
        q->heap[i] = q->heap[best];
        i = best;
    }
    q->heap[i] = e;
}

int sim_queue_push(sim_queue *q, int64_t at_ms, const sim_ev *ev) {
    if (q->n >= q->cap) return -1;
    sim_qent *e = &q->heap[q->n];
    e->at_ms = at_ms;
    e->seq = q->next_seq++;
    e->ev = *ev;
    sift_up(q, q->n++);
    if (q->n > q->high_water) q->high_water = q->n;
    return 0;
}

int sim_queue_pop(sim_queue *q, sim_qent *out) {
    if (q->n == 0) return 0;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    if (q->n > 0) sift_down(q, 0);
    return 1;
}

int64_t sim_queue_peek_ms(const sim_queue *q) {
    return q->n ? q->heap[0].at_ms : INT64_MAX;
}
