/*
 * sim_trace.h - the run's fingerprint: FNV-1a 64 over every event fed to the
 * core and every effect it returned, serialised field by field (never raw
 * struct bytes: padding and pointers would make the hash meaningless).
 * Two runs of one seed must print the same hash; `make sim-determinism`
 * checks it.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdint.h>

#include "pv.h"

#define SIM_FNV_OFFSET 0xcbf29ce484222325ull

void sim_trace_u64(uint64_t *h, uint64_t v);
void sim_trace_i64(uint64_t *h, int64_t v);
void sim_trace_f64(uint64_t *h, double v);
/* A NUL-terminated string with a length prefix; NULL hashes as a marker. */
void sim_trace_str(uint64_t *h, const char *s);
void sim_trace_event(uint64_t *h, const pv_event *ev);
/* The step's return code, every effect and wake_at_ms. */
void sim_trace_out(uint64_t *h, int rc, const pv_out *out);

#endif /* SIM_TRACE_H */
