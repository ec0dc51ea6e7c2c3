/*
 * test_fakes.c - unit tests of the simulator's fakes and helpers, run on a
 * freshly initialised world (no events processed): the fake LiveKit's
 * forwarding rule, id parsing, the client backoff range, and that a seed
 * derives the same options twice.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "t.h"

static sim *world(uint64_t seed) {
    static sim s;
    sim_free(&s);
    REQUIRE(sim_init(&s, seed, 1000, 0, 0) == 0);
    return &s;
}

static void join(sim *s, uint16_t p, uint32_t track) {
    sim_lk_part *lp = &s->lk.p[p];
    lp->joined = 1;
    lp->room = s->pl[p].room;
    lp->track = track;
}

static void test_forwarding_rule(void) {
    sim *s = world(11);
    REQUIRE(s->o.players >= 2);
    s->pl[1].room = s->pl[0].room;
    s->cl[0].role = s->cl[1].role = ROLE_HONEST;
    join(s, 0, 0);
    join(s, 1, 7);                     /* speaker 1 publishes TR_7 */
    CHECK(!sim_lk_forwarded(s, 0, 1)); /* not subscribed, empty allow-list */
    s->lk.p[0].sub[1] = 7;
    CHECK(!sim_lk_forwarded(s, 0, 1)); /* subscribed, not allowed */
    pset_add(&s->lk.p[1].allow, 0);
    CHECK(sim_lk_forwarded(s, 0, 1));
    CHECK(!sim_lk_forwarded(s, 1, 0)); /* listener 0 published nothing */
    s->lk.p[0].sub[1] = 6;             /* an old track of the same speaker */
    CHECK(!sim_lk_forwarded(s, 0, 1));
    s->cl[0].role = ROLE_MAL_LISTENER; /* subscribes itself to everything */
    CHECK(sim_lk_forwarded(s, 0, 1));
    pset_clear(&s->lk.p[1].allow); /* ...but the allow-list still gates it */
    CHECK(!sim_lk_forwarded(s, 0, 1));
    s->lk.p[1].allow_all = 1; /* a speaker that never set one */
    CHECK(sim_lk_forwarded(s, 0, 1));
    s->lk.p[1].joined = 0;
    CHECK(!sim_lk_forwarded(s, 0, 1));
}

static void test_ids(void) {
    sim *s = world(12);
    CHECK(sim_player_of(s, "p000") == 0);
    CHECK(sim_player_of(s, "p00") == -1);
    CHECK(sim_player_of(s, "x000") == -1);
    CHECK(sim_player_of(s, "p999") == -1);
    CHECK(sim_room_of(s, "room0") == 0);
    CHECK(sim_room_of(s, "room9") == -1);
    CHECK(sim_track_of("TR_42") == 42);
    CHECK(sim_track_of("TR_") == 0);
    CHECK(sim_track_of("TR_4x") == 0);
    CHECK(sim_track_of(NULL) == 0);
    CHECK(strcmp(sim_track_sid(s, 0, 42), "TR_42") == 0);
}

static void test_backoff_range(void) {
    sim *s = world(13);
    for (uint32_t f = 0; f < 12; f++)
        for (int i = 0; i < 200; i++) {
            int64_t d = sim_backoff_ms(s, f);
            CHECK(d >= 250 && d <= 5000);
            if (f >= 5) CHECK(d >= 2500);
        }
}

static void test_options_deterministic(void) {
    sim_opts a, b;
    sim_opts_derive(&a, 424242, -1);
    sim_opts_derive(&b, 424242, -1);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    CHECK(a.players >= 2 && a.players <= SIM_PLAYERS_MAX);
    CHECK(a.rooms >= 1 && a.rooms <= SIM_ROOMS_MAX);
    CHECK(a.settle_live_ms > a.settle_safety_ms);
    CHECK(pv_config_check(&a.cfg, &(const char *){NULL}) == 0);
}

int main(void) {
    T_RUN(test_forwarding_rule);
    T_RUN(test_ids);
    T_RUN(test_backoff_range);
    T_RUN(test_options_deterministic);
    return t_done("sim-fakes");
}
