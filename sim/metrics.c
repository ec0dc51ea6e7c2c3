/*
 * metrics.c - latency of the pipeline in simulated time, measured only when
 * no fault can be blamed (liveness and converge phases, after settle):
 *  - enter -> forwarded: from the pose delivery that made a pair of ready
 *    clients near (oracle) to the moment the fake LiveKit forwards it;
 *  - exit -> unforwarded: from the pose delivery that made a forwarded pair
 *    far (> 26 m) to the moment LiveKit stops forwarding it.
 * A sample is dropped when its condition breaks, or either client stops being
 * ready, before it resolves. Pending
 * samples are re-examined whenever LiveKit's state changes, so latencies are
 * exact to the millisecond.
 */
#include <stdio.h>

#include "sim.h"

static int measuring(const sim *s) {
    int64_t from =
        (s->liveness_start_ms > s->last_fault_ms ? s->liveness_start_ms : s->last_fault_ms) +
        s->o.settle_live_ms;
    return s->phase != PH_SAFETY && s->now_ms >= from;
}

static void push(sim *s, sim_pending *v, uint32_t *n, uint16_t l, uint16_t sp) {
    if (*n >= SIM_PENDING_MAX) {
        s->met.dropped++;
        return;
    }
    v[(*n)++] = (sim_pending){l, sp, s->now_ms};
}

void sim_metrics_on_pair(sim *s, uint16_t l, uint16_t sp, int entered_near, int entered_far) {
    int64_t since;
    if (!measuring(s) || s->cl[sp].role == ROLE_MAL_SPEAKER || s->cl[l].role == ROLE_MAL_SPEAKER)
        return;
    if (!sim_pair_ready(s, l, sp, &since)) return;
    if (entered_near && !sim_lk_forwarded(s, l, sp)) push(s, s->met.enter, &s->met.n_enter, l, sp);
    if (entered_far && sim_lk_forwarded(s, l, sp)) push(s, s->met.exit, &s->met.n_exit, l, sp);
}

/* Resolves or drops pending samples. enter = 1 for enter samples. */
static void scan(sim *s, sim_pending *v, uint32_t *n, sim_hist *h, int enter) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < *n; i++) {
        const sim_pair *pr = &s->chk.pair[v[i].l][v[i].s];
        int64_t cond = enter ? pr->near_since : pr->far_since, ready;
        if (cond < 0 || cond > v[i].since_ms) continue; /* condition broke: drop */
        if (!sim_pair_ready(s, v[i].l, v[i].s, &ready) || ready > v[i].since_ms) continue;
        if (sim_lk_forwarded(s, v[i].l, v[i].s) == enter) {
            sim_hist_add(h, s->now_ms - v[i].since_ms);
            continue;
        }
        v[k++] = v[i];
    }
    *n = k;
}

void sim_metrics_scan(sim *s) {
    scan(s, s->met.enter, &s->met.n_enter, &s->met.enter_ms, 1);
    scan(s, s->met.exit, &s->met.n_exit, &s->met.exit_ms, 0);
}

void sim_hist_add(sim_hist *h, int64_t ms) {
    if (ms < 0) ms = 0;
    h->bucket[ms > SIM_HIST_MS ? SIM_HIST_MS : ms]++;
    h->n++;
    if ((uint64_t)ms > h->max_ms) h->max_ms = (uint64_t)ms;
}

void sim_hist_merge(sim_hist *dst, const sim_hist *src) {
    for (uint32_t i = 0; i <= SIM_HIST_MS; i++)
        dst->bucket[i] += src->bucket[i];
    dst->n += src->n;
    if (src->max_ms > dst->max_ms) dst->max_ms = src->max_ms;
}

/* The smallest bucket b with at least pct% of the samples at or below b. */
static uint64_t percentile(const sim_hist *h, uint32_t pct) {
    uint64_t want = (h->n * pct + 99) / 100, seen = 0;
    for (uint32_t i = 0; i <= SIM_HIST_MS; i++) {
        seen += h->bucket[i];
        if (seen >= want && seen > 0) return i;
    }
    return h->max_ms;
}

void sim_hist_print(const char *name, const sim_hist *h) {
    if (h->n == 0) {
        printf("%s: no samples\n", name);
        return;
    }
    printf("%s: n=%llu p50=%llu p90=%llu p99=%llu max=%llu ms\n", name, (unsigned long long)h->n,
           (unsigned long long)percentile(h, 50), (unsigned long long)percentile(h, 90),
           (unsigned long long)percentile(h, 99), (unsigned long long)h->max_ms);
}
