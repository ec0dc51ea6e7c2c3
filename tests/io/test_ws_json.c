/*
 * test_ws_json.c - pose batches written through the per-speaker fragment
 * cache (io/ws_json.c) are byte-for-byte pvjo_socket_send()'s output, for
 * random batches with changing, repeated and evicted poses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "ws_json.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static double rnd_coord(void) {
    switch (rnd() % 6) {
    case 0:
        return 0.0;
    case 1:
        return -0.0;
    case 2:
        return (double)(int)(rnd() % 2001) - 1000; /* integral */
    case 3:
        return ((double)rnd() / 4294967296.0 - 0.5) * 2e6; /* big */
    case 4:
        return 1.0 / 3.0 * (double)(rnd() % 100); /* long digits */
    default:
        return (double)(rnd() % 100000) / 100.0; /* 2 decimals */
    }
}

static void rnd_vec(pv_vec3 *v) {
    v->x = rnd_coord();
    v->y = rnd_coord();
    v->z = rnd_coord();
}

static char ids[64][PV_ID_MAX + 1];

static void make_ids(void) {
    for (int i = 0; i < 64; i++) {
        if (i % 8 == 7) /* some 64-byte ids */
            snprintf(ids[i], sizeof ids[i], "p%02d_%060d", i, i);
        else
            snprintf(ids[i], sizeof ids[i], "p_%d", i);
    }
}

/* Compare one batch both ways. */
static int same(pvwsj *j, const pv_socket_send *s) {
    static char m1[65536], m2[65536];
    pvbuf a, b;
    pvbuf_init(&a, m1, sizeof m1);
    pvbuf_init(&b, m2, sizeof m2);
    int ra = pvwsj_socket_send(j, &a, s), rb = pvjo_socket_send(&b, s);
    if (ra != rb || a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
        fprintf(stderr, "    cached: %.*s\n    direct: %.*s\n", (int)a.len, a.p, (int)b.len, b.p);
        return 0;
    }
    return 1;
}

static void test_random_batches_identical(void) {
    make_ids();
    pvwsj *j = NULL;
    REQUIRE(pvwsj_new(&j, 16) == 0); /* small: evictions happen */
    static pv_pose_out state[2][64];
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 64; i++) {
            state[r][i].participant_id = ids[i];
            rnd_vec(&state[r][i].position);
            state[r][i].timestamp_ms = 1760000000000 + i;
        }
    int ok = 1;
    for (int round = 0; round < 2000 && ok; round++) {
        int r = (int)(rnd() % 2);
        /* move a few speakers */
        for (int k = 0; k < 4; k++) {
            pv_pose_out *p = &state[r][rnd() % 64];
            rnd_vec(&p->position);
            p->has_orientation = (int)(rnd() % 2);
            rnd_vec(&p->orientation.forward);
            rnd_vec(&p->orientation.up);
            p->timestamp_ms += rnd() % 300;
        }
        pv_pose_out poses[12];
        uint32_t n = rnd() % 13;
        for (uint32_t i = 0; i < n; i++)
            poses[i] = state[r][(rnd() % 16) + (round % 4) * 16];
        pv_socket_send s = {.type = PV_SMSG_POSE_BATCH,
                            .room_id = r ? "room_b" : "room_a",
                            .participant_id = "listener",
                            .poses = poses,
                            .pose_count = n,
                            .timestamp_ms = 1760000000000 + round};
        ok = same(j, &s);
    }
    CHECK(ok);
    pvwsj_stats st;
    pvwsj_get_stats(j, &st);
    CHECK(st.hits > 0 && st.misses > 0 && st.uncached == 0);
    pvwsj_free(j);
}

static void test_hits_when_unchanged(void) {
    make_ids();
    pvwsj *j = NULL;
    REQUIRE(pvwsj_new(&j, 1024) == 0);
    pv_pose_out poses[12];
    for (int i = 0; i < 12; i++)
        poses[i] = (pv_pose_out){.participant_id = ids[i],
                                 .position = {i, 0.5, -i},
                                 .has_orientation = 1,
                                 .orientation = {{1, 0, 0}, {0, 1, 0}},
                                 .timestamp_ms = 1760000000123};
    pv_socket_send s = {.type = PV_SMSG_POSE_BATCH,
                        .room_id = "room",
                        .poses = poses,
                        .pose_count = 12,
                        .timestamp_ms = 1760000000200};
    /* twelve listeners hearing the same twelve speakers: formatted once */
    for (int l = 0; l < 12; l++)
        CHECK(same(j, &s));
    pvwsj_stats st;
    pvwsj_get_stats(j, &st);
    CHECK_EQ_INT(st.misses, 12);
    CHECK_EQ_INT(st.hits, 11 * 12);
    /* a moved speaker is rewritten, -0.0 is not 0.0 */
    poses[3].position.x = -0.0;
    poses[4].position.x = 0.0;
    CHECK(same(j, &s));
    pvwsj_get_stats(j, &st);
    CHECK_EQ_INT(st.misses, 14);
    /* other message types pass through */
    const char *heard[] = {"a", "b"};
    pv_socket_send d = {.type = PV_SMSG_DELTA,
                        .room_id = "room",
                        .participant_id = "x",
                        .revision = 5,
                        .previous_revision = 4,
                        .ids = heard,
                        .id_count = 2};
    CHECK(same(j, &d));
    /* an empty batch */
    s.pose_count = 0;
    CHECK(same(j, &s));
    /* too small a buffer: overflow like json_out */
    char tiny[40];
    pvbuf b;
    pvbuf_init(&b, tiny, sizeof tiny);
    s.pose_count = 12;
    CHECK(pvwsj_socket_send(j, &b, &s) == PV_EOVERFLOW);
    pvwsj_free(j);
}

int main(void) {
    T_RUN(test_random_batches_identical);
    T_RUN(test_hits_when_unchanged);
    return t_done("io ws_json");
}
