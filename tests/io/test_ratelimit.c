/*
 * test_ratelimit.c - token buckets: burst, refill, retry-after, time going
 * backwards, bounded table with deterministic eviction.
 */
#include <stdio.h>
#include <string.h>

#include "pv.h"
#include "ratelimit.h"
#include "t.h"

static pvrl_slot SLOTS[PVRL_DEFAULT_SLOTS];

static void test_init(void) {
    pvrl rl;
    CHECK(pvrl_init(&rl, SLOTS, 100, 5, 1, 0) == PV_EINVAL); /* not a power of two */
    CHECK(pvrl_init(&rl, SLOTS, 4, 5, 1, 0) == PV_EINVAL);   /* fewer than PVRL_PROBE */
    CHECK(pvrl_init(&rl, SLOTS, 64, 0, 1, 0) == PV_EINVAL);
    CHECK(pvrl_init(&rl, SLOTS, 64, 5, 0, 0) == PV_EINVAL);
    CHECK(pvrl_init(&rl, SLOTS, 64, 5, 1, 0) == 0);
    CHECK(pvrl_take(&rl, "", 0, NULL) == PV_EINVAL);
    CHECK(pvrl_take(&rl, NULL, 0, NULL) == PV_EINVAL);
    char longkey[PVRL_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    CHECK(pvrl_take(&rl, longkey, 0, NULL) == PV_EINVAL);
    longkey[PVRL_KEY_MAX] = 0;
    CHECK(pvrl_take(&rl, longkey, 0, NULL) == 1);
}

static void test_burst_and_refill(void) {
    pvrl rl;
    int64_t retry = 0;
    REQUIRE(pvrl_init(&rl, SLOTS, 64, 3, 2, 7) == 0); /* burst 3, 2 per second */
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        CHECK(pvrl_take(&rl, "10.0.0.1", t, &retry) == 1);
    CHECK(pvrl_take(&rl, "10.0.0.1", t, &retry) == 0);
    CHECK_EQ_INT(retry, 500);                          /* one token per 500 ms */
    CHECK(pvrl_take(&rl, "10.0.0.2", t, &retry) == 1); /* keys are independent */
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 499, &retry) == 0);
    CHECK_EQ_INT(retry, 1);
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 500, &retry) == 1);
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 500, &retry) == 0);
    CHECK_EQ_INT(retry, 500);
    /* partial refill accumulates: 250 ms = half a token, twice = one */
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 750, &retry) == 0);
    CHECK_EQ_INT(retry, 250);
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 1000, &retry) == 1);
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 3; i++)
        CHECK(pvrl_take(&rl, "10.0.0.1", t + 3600000, &retry) == 1);
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 3600000, &retry) == 0);
    /* time going backwards gives nothing (and does not break later refills) */
    CHECK(pvrl_take(&rl, "10.0.0.1", t, &retry) == 0);
    CHECK(pvrl_take(&rl, "10.0.0.1", t + 3600500, &retry) == 1);
}

static void test_sustained_rate(void) {
    pvrl rl;
    REQUIRE(pvrl_init(&rl, SLOTS, 64, 10, 4, 1) == 0);
    int allowed = 0;
    /* 100 requests per second for 10 s: burst 10 + 4/s * 10 s = 50 (+-1) */
    for (int64_t ms = 0; ms < 10000; ms += 10)
        allowed += pvrl_take(&rl, "srv", ms, NULL) == 1;
    CHECK(allowed >= 49 && allowed <= 50);
}

static void test_bounded_eviction(void) {
    pvrl rl;
    REQUIRE(pvrl_init(&rl, SLOTS, 64, 2, 1, 42) == 0);
    char key[32];
    /* 10000 distinct keys into 64 slots: never more than 64 used */
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "192.0.2.%d", i);
        CHECK(pvrl_take(&rl, key, i, NULL) == 1); /* a new key starts with a full bucket */
    }
    CHECK(pvrl_used(&rl) == 64);
    CHECK(rl.evictions > 0);
    /* a throttled key stays throttled while other keys churn, as long as the
     * churn prefers refilled buckets: the churners here are refilled ones */
    REQUIRE(pvrl_init(&rl, SLOTS, 64, 1, 1, 42) == 0);
    CHECK(pvrl_take(&rl, "victim", 0, NULL) == 1);
    CHECK(pvrl_take(&rl, "victim", 0, NULL) == 0);
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "k%d", i);
        pvrl_take(&rl, key, 0, NULL); /* each now empty (burst 1) */
    }
    /* at t=5000 all of k* are full again; new keys evict them, not "victim"
     * (whose bucket, last touched at 0, is also full: so touch it at 4500) */
    int64_t retry;
    CHECK(pvrl_take(&rl, "victim", 4500, &retry) == 1);
    CHECK(pvrl_take(&rl, "victim", 4500, &retry) == 0);
    /* 16 newcomers: each window still holds refilled k* slots to evict.
     * (With hundreds of throttled newcomers the table is overloaded and LRU
     * eviction does reach "victim": the documented price of being bounded.) */
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "new%d", i);
        pvrl_take(&rl, key, 5000, NULL);
    }
    CHECK(pvrl_take(&rl, "victim", 5000, &retry) == 0);
}

static void test_deterministic(void) {
    static pvrl_slot a[64], b[64];
    pvrl ra, rb;
    REQUIRE(pvrl_init(&ra, a, 64, 3, 1, 99) == 0);
    REQUIRE(pvrl_init(&rb, b, 64, 3, 1, 99) == 0);
    char key[32];
    uint64_t state = 12345;
    for (int i = 0; i < 5000; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(key, sizeof key, "ip%u", (unsigned)(state >> 33) % 300);
        int64_t ra_retry = -1, rb_retry = -1;
        int x = pvrl_take(&ra, key, i * 7, &ra_retry), y = pvrl_take(&rb, key, i * 7, &rb_retry);
        CHECK(x == y && ra_retry == rb_retry);
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
}

int main(void) {
    T_RUN(test_init);
    T_RUN(test_burst_and_refill);
    T_RUN(test_sustained_rate);
    T_RUN(test_bounded_eviction);
    T_RUN(test_deterministic);
    return t_done("io ratelimit");
}
