/*
 * slice.c - which rooms a round phase covers (see slice.h for why).
 */
#include "slice.h"

int64_t pv_slice_ms(int64_t interval_ms, uint32_t slices) {
    int64_t s = interval_ms / (int64_t)(slices ? slices : 1);
    return s > 0 ? s : 1;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t mod_pos(int64_t a, int64_t m) {
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

int pv_slice_due(int64_t due_ms, int64_t now_ms, int64_t slice_ms, uint32_t slices, uint32_t slot) {
    if (slices <= 1) return 1;
    int64_t first = floor_div(due_ms, slice_ms), last = floor_div(now_ms, slice_ms);
    if (last < first) return 0;
    if (last - first + 1 >= (int64_t)slices) return 1;
    /* the first k >= first with k % slices == slot % slices */
    int64_t want = (int64_t)(slot % slices);
    int64_t k = first + mod_pos(want - mod_pos(first, (int64_t)slices), (int64_t)slices);
    return k <= last;
}
