/*
 * oracle.c - the checkers' own record of where everyone is: the positions
 * the core RECEIVED and accepted, by mirroring the core's staleness rule
 * (a pose is dropped when older than the participant's latest accepted one,
 * older than wall - pose_staleness_ms, newer than wall + pose_future_ms, or
 * for a participant the core does not know). Boundary cases the rule does
 * not pin down (equal timestamps, exactly at a bound, just after the oracle
 * forgot a participant) are "maybe": the oracle then forgets that pose,
 * which only ever removes checks, never invents one. The core's reply count
 * must fall inside the [sure, sure + maybe] range (sim_check_poses_reply).
 *
 * From these positions it keeps, per ordered pair, since when the pair has
 * been near (<= 24 m and among the listener's 12 nearest of all peers within
 * 26 m), far (> 26 m) and in the hysteresis band (24, 26].
 */
#include <math.h>
#include <stdlib.h>

#include "sim.h"

double sim_dist(const pv_vec3 *a, const pv_vec3 *b) {
    double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
    return sqrt(dx * dx + dy * dy + dz * dz);
}

static int core_knows(sim *s, uint8_t room, uint16_t p) {
    const char *ids[PV_CAP_MAX];
    return pv_core_can_hear(s->core, s->room_id[room], s->pl[p].id, ids, PV_CAP_MAX) >= 0;
}

/* 0 stale, 1 accepted, 2 maybe. */
static int verdict(sim *s, uint16_t p, int64_t ts) {
    sim_oracle *o = &s->oracle;
    int64_t lo = sim_wall_ms(s) - s->o.cfg.pose_staleness_ms;
    int64_t hi = sim_wall_ms(s) + s->o.cfg.pose_future_ms;
    if (ts < lo || ts > hi) return 0;
    if (ts == lo || ts == hi) return 2;
    if (o->unsure[p]) return ts > o->ts_ms[p] ? 1 : 2;
    if (!o->has[p]) return 1;
    if (ts < o->ts_ms[p]) return 0;
    return ts == o->ts_ms[p] ? 2 : 1;
}

void sim_oracle_feed(sim *s, const sim_batch *b) {
    sim_oracle *o = &s->oracle;
    uint32_t sure = 0, maybe = 0;
    for (uint16_t i = 0; i < b->n; i++) {
        uint16_t p = b->p[i].player;
        if (!core_knows(s, b->room, p)) continue;
        int v = verdict(s, p, b->p[i].ts_ms);
        if (v == 2) {
            maybe++;
            sim_oracle_forget(s, p);
            if (b->p[i].ts_ms > o->ts_ms[p]) o->ts_ms[p] = b->p[i].ts_ms;
        } else if (v == 1) {
            sure++;
            o->has[p] = 1;
            o->unsure[p] = 0;
            o->pos[p] = b->p[i].pos;
            o->ts_ms[p] = b->p[i].ts_ms;
        }
    }
    s->pred_request = b->request_id;
    s->pred_min = sure;
    s->pred_max = sure + maybe;
}

typedef struct near_ent {
    double d;
    uint16_t p;
} near_ent;

static int cmp_near(const void *x, const void *y) {
    const near_ent *a = x, *b = y;
    if (a->d != b->d) return a->d < b->d ? -1 : 1;
    return (int)a->p - (int)b->p;
}

/* Entries of v (sorted by d) with d <= x. */
static uint32_t upper_bound(const near_ent *v, uint32_t n, double x) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v[mid].d <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void set_since(int64_t *since, int cond, int64_t now) {
    if (!cond)
        *since = -1;
    else if (*since < 0)
        *since = now;
}

static void update_pair(sim *s, uint16_t l, uint16_t sp, double d, uint32_t nearer) {
    sim_pair *pr = &s->chk.pair[l][sp];
    int near = d <= 24.0 - SIM_EPS_M && nearer < SIM_CAP;
    int far = d > 26.0 + SIM_EPS_M;
    int band = d > 24.0 + SIM_EPS_M && d <= 26.0 - SIM_EPS_M;
    int was_near = pr->near_since >= 0, was_far = pr->far_since >= 0;
    set_since(&pr->near_since, near, s->now_ms);
    set_since(&pr->far_since, far, s->now_ms);
    set_since(&pr->band_since, band, s->now_ms);
    if (!band) pr->band_state = -1;
    sim_metrics_on_pair(s, l, sp, near && !was_near, far && !was_far);
}

static void reset_pair(sim *s, uint16_t l, uint16_t sp) {
    sim_pair *pr = &s->chk.pair[l][sp];
    pr->near_since = pr->far_since = pr->band_since = -1;
    pr->band_state = -1;
}

/* Forgetting a pose ends every condition involving it at once. */
void sim_oracle_forget(sim *s, uint16_t p) {
    s->oracle.has[p] = 0;
    s->oracle.unsure[p] = 1;
    for (uint16_t q = 0; q < s->o.players; q++)
        if (q != p) reset_pair(s, p, q), reset_pair(s, q, p);
}

/* One listener: distances to everyone in the room with a pose, sorted;
 * nearer = peers within 26 m at most eps farther than the speaker (ties
 * count against the speaker: conservative for liveness). */
static void update_listener(sim *s, uint8_t room, uint16_t l) {
    near_ent v[SIM_PLAYERS_MAX];
    double d[SIM_PLAYERS_MAX];
    uint32_t n = 0;
    for (uint16_t sp = 0; sp < s->o.players; sp++) {
        if (sp == l || s->pl[sp].room != room) continue;
        if (!s->oracle.has[sp]) {
            reset_pair(s, l, sp);
            continue;
        }
        d[sp] = sim_dist(&s->oracle.pos[l], &s->oracle.pos[sp]);
        if (d[sp] <= 26.0 + SIM_EPS_M) v[n++] = (near_ent){d[sp], sp};
    }
    qsort(v, n, sizeof(v[0]), cmp_near);
    for (uint16_t sp = 0; sp < s->o.players; sp++) {
        if (sp == l || s->pl[sp].room != room || !s->oracle.has[sp]) continue;
        uint32_t at_most = upper_bound(v, n, d[sp] + SIM_EPS_M);
        uint32_t nearer = at_most - (d[sp] <= 26.0 + SIM_EPS_M ? 1 : 0);
        update_pair(s, l, sp, d[sp], nearer);
    }
}

void sim_oracle_update_pairs(sim *s, uint8_t room) {
    for (uint16_t l = 0; l < s->o.players; l++) {
        if (s->pl[l].room != room) continue;
        if (s->oracle.has[l]) {
            update_listener(s, room, l);
            continue;
        }
        for (uint16_t sp = 0; sp < s->o.players; sp++)
            if (sp != l) reset_pair(s, l, sp);
    }
}
