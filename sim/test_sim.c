/*
 * test_sim.c - unit tests of the simulator's own machinery: the PRNG
 * (known splitmix64 outputs, stream independence, ranges, ppm rates) and the
 * event queue ((time, seq) order, FIFO among equal times, capacity) and the
 * slot pool.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sim_pool.h"
#include "sim_prng.h"
#include "sim_queue.h"
#include "t.h"

static void test_splitmix64_reference(void) {
    /* Reference outputs of splitmix64 from state 0 (Vigna's splitmix64.c). */
    uint64_t st = 0;
    CHECK(sim_splitmix64(&st) == 0xe220a8397b1dcdafull);
    CHECK(sim_splitmix64(&st) == 0x6e789e6aa1b965f4ull);
    CHECK(sim_splitmix64(&st) == 0x06c45d188009454full);
}

static void test_rng_deterministic_and_distinct(void) {
    sim_rng a, b, c;
    sim_rng_seed(&a, 42);
    sim_rng_seed(&b, 42);
    sim_rng_seed(&c, 43);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a);
        CHECK(x == sim_rng_next(&b));
        same_c += x == sim_rng_next(&c);
    }
    CHECK(same_c == 0);
}

static void test_rng_range_bounds(void) {
    sim_rng r;
    sim_rng_seed(&r, 7);
    int seen[11] = {0};
    for (int i = 0; i < 20000; i++) {
        int64_t v = sim_rng_range(&r, -5, 5);
        REQUIRE(v >= -5 && v <= 5);
        seen[v + 5]++;
    }
    for (int i = 0; i < 11; i++)
        CHECK(seen[i] > 1500 && seen[i] < 2200);
    CHECK(sim_rng_range(&r, 3, 3) == 3);
    CHECK(sim_rng_range(&r, 5, 1) == 5);
    CHECK(sim_rng_below(&r, 0) == 0);
    for (int i = 0; i < 1000; i++) {
        double u = sim_rng_unit(&r);
        CHECK(u >= 0.0 && u < 1.0);
    }
}

static void test_rng_ppm_rate(void) {
    sim_rng r;
    sim_rng_seed(&r, 99);
    int hits = 0;
    for (int i = 0; i < 100000; i++)
        hits += sim_rng_ppm(&r, 250000);
    CHECK(hits > 24000 && hits < 26000);
    CHECK(sim_rng_ppm(&r, 0) == 0);
    CHECK(sim_rng_ppm(&r, SIM_PPM) == 1);
}

static void test_queue_order(void) {
    sim_queue q;
    REQUIRE(sim_queue_init(&q, 1024) == 0);
    sim_rng r;
    sim_rng_seed(&r, 1);
    for (uint32_t i = 0; i < 1000; i++) {
        sim_ev ev = {.kind = 1, .a = i};
        REQUIRE(sim_queue_push(&q, sim_rng_range(&r, 0, 50), &ev) == 0);
    }
    sim_qent prev = {0}, e;
    int n = 0;
    while (sim_queue_pop(&q, &e)) {
        if (n > 0) {
            CHECK(e.at_ms >= prev.at_ms);
            if (e.at_ms == prev.at_ms) CHECK(e.seq > prev.seq && e.ev.a > prev.ev.a);
        }
        prev = e;
        n++;
    }
    CHECK(n == 1000);
    CHECK(sim_queue_peek_ms(&q) == INT64_MAX);
    sim_queue_free(&q);
}

static void test_queue_capacity(void) {
    sim_queue q;
    REQUIRE(sim_queue_init(&q, 4) == 0);
    sim_ev ev = {0};
    for (int i = 0; i < 4; i++)
        CHECK(sim_queue_push(&q, 10 - i, &ev) == 0);
    CHECK(sim_queue_push(&q, 1, &ev) == -1);
    CHECK(sim_queue_peek_ms(&q) == 7);
    CHECK(q.high_water == 4);
    sim_queue_free(&q);
}

static void test_pool(void) {
    sim_pool p;
    REQUIRE(sim_pool_init(&p, 3, 16) == 0);
    uint32_t a = sim_pool_get(&p), b = sim_pool_get(&p), c = sim_pool_get(&p);
    CHECK(a != b && b != c && a != c);
    CHECK(sim_pool_get(&p) == UINT32_MAX);
    ((unsigned char *)sim_pool_ptr(&p, b))[0] = 9;
    sim_pool_put(&p, b);
    uint32_t d = sim_pool_get(&p);
    CHECK(d == b && ((unsigned char *)sim_pool_ptr(&p, d))[0] == 0);
    CHECK(p.in_use_max == 3);
    sim_pool_free(&p);
}

int main(void) {
    T_RUN(test_splitmix64_reference);
    T_RUN(test_rng_deterministic_and_distinct);
    T_RUN(test_rng_range_bounds);
    T_RUN(test_rng_ppm_rate);
    T_RUN(test_queue_order);
    T_RUN(test_queue_capacity);
    T_RUN(test_pool);
    return t_done("sim-units");
}
