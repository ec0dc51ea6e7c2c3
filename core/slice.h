/*
 * slice.h - rounds spread over phases (internal to core/).
 *
 * Why: with every room's recompute at the same instant, a daemon with 10,000
 * sockets computes and writes every room's deltas and audiences in one
 * burst, and the last socket of the burst waits for all the others. (Pose
 * batches, the bulk of the traffic, follow ingest instead: ADR 0005.) Each
 * round of interval_ms is
 * therefore cut into `slices` phases of slice_ms; a room belongs to the
 * phase (room slot % slices), so its rounds keep the full interval but
 * different rooms take turns. Room slot 0 keeps the phase of the interval
 * itself. With slices == 1 every room runs at once (the old behaviour).
 */
#ifndef PV_SLICE_H
#define PV_SLICE_H

#include <stdint.h>

/* The phase length: interval_ms / slices, at least 1 ms. */
int64_t pv_slice_ms(int64_t interval_ms, uint32_t slices);

/* 1 if a phase boundary of room slot `slot` lies in [due_ms, now_ms]: the
 * boundaries are the multiples k * slice_ms with k % slices == slot % slices.
 * due_ms is the first boundary not yet handled (a multiple of slice_ms).
 * When the step is late by a whole round or more, every room is due. */
int pv_slice_due(int64_t due_ms, int64_t now_ms, int64_t slice_ms, uint32_t slices, uint32_t slot);

#endif
