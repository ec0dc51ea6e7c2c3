/*
 * game.c - the game server: players walking, running, teleporting, hovering
 * between 24 and 26 m of a partner, joining and leaving; one pose batch per
 * room every 250 ms with a per-pose timestamp (wall time at sampling).
 */
#include <math.h>
#include <stdio.h>

#include "sim.h"

#define WALK_MPS    1.4
#define RUN_MPS     6.0
#define HOVER_MIN_M 24.3
#define HOVER_MAX_M 25.7

static pv_vec3 random_spot(sim *s) {
    double a = s->o.area_m;
    return (pv_vec3){sim_rng_unit(&s->rng_game) * a, sim_rng_unit(&s->rng_game) * 3.0,
                     sim_rng_unit(&s->rng_game) * a};
}

/* Hover pairs: a hoverer follows a target of its room that is not itself a
 * hoverer, so one pass over targets then one over hoverers settles all. */
static void pick_hover_pairs(sim *s) {
    for (uint32_t k = 0; k < s->o.hover_pairs; k++) {
        uint16_t h = (uint16_t)sim_rng_below(&s->rng_game, s->o.players);
        uint16_t t = (uint16_t)sim_rng_below(&s->rng_game, s->o.players);
        if (h == t || s->pl[h].room != s->pl[t].room) continue;
        if (s->pl[t].hover_target != SIM_NOBODY || s->pl[h].hover_target != SIM_NOBODY) continue;
        int targeted = 0;
        for (uint32_t i = 0; i < s->o.players; i++)
            targeted |= s->pl[i].hover_target == h;
        if (targeted) continue;
        s->pl[h].hover_target = t;
        s->pl[h].hover_dist_m = 25.0;
        s->pl[h].hover_angle = sim_rng_unit(&s->rng_game) * 6.283185307179586;
    }
}

void sim_game_start(sim *s) {
    for (uint16_t p = 0; p < s->o.players; p++) {
        sim_player *pl = &s->pl[p];
        snprintf(pl->id, sizeof(pl->id), "p%03u", p % 1000u);
        pl->room = (uint8_t)sim_rng_below(&s->rng_game, s->o.rooms);
        pl->hover_target = SIM_NOBODY;
        pl->pos = random_spot(s);
        pl->heading = sim_rng_unit(&s->rng_game) * 6.283185307179586;
        s->cl[p].role = p == s->o.mal_listener  ? ROLE_MAL_LISTENER
                        : p == s->o.mal_speaker ? ROLE_MAL_SPEAKER
                                                : ROLE_HONEST;
        s->cl[p].ready_since = -1;
        sim_ev join = {.kind = K_PLAYER_JOIN, .player = p};
        sim_schedule(s, sim_rng_range(&s->rng_game, 0, 3000), &join);
    }
    pick_hover_pairs(s);
    for (uint16_t r = 0; r < s->o.rooms; r++) {
        sim_ev tick = {.kind = K_GAME_TICK, .player = r};
        sim_schedule(s, 50 + 61 * r, &tick);
    }
}

static void walk(sim *s, sim_player *pl) {
    double a = s->o.area_m;
    if (sim_rng_ppm(&s->rng_game, s->o.teleport_ppm)) {
        pl->pos = random_spot(s);
        return;
    }
    if (sim_rng_ppm(&s->rng_game, s->o.run_toggle_ppm)) pl->running = !pl->running;
    pl->heading += (sim_rng_unit(&s->rng_game) - 0.5) * 0.8;
    double step = (pl->running ? RUN_MPS : WALK_MPS) * SIM_GAME_TICK_MS / 1000.0;
    pl->pos.x += cos(pl->heading) * step;
    pl->pos.z += sin(pl->heading) * step;
    if (pl->pos.x < 0 || pl->pos.x > a || pl->pos.z < 0 || pl->pos.z > a) {
        pl->heading += 3.141592653589793; /* bounce off the edge */
        pl->pos.x = pl->pos.x < 0 ? 0 : pl->pos.x > a ? a : pl->pos.x;
        pl->pos.z = pl->pos.z < 0 ? 0 : pl->pos.z > a ? a : pl->pos.z;
    }
}

static void hover(sim *s, sim_player *pl) {
    const sim_player *t = &s->pl[pl->hover_target];
    pl->hover_angle += (sim_rng_unit(&s->rng_game) - 0.5) * 0.2;
    pl->hover_dist_m += (sim_rng_unit(&s->rng_game) - 0.5) * 0.4;
    if (pl->hover_dist_m < HOVER_MIN_M) pl->hover_dist_m = HOVER_MIN_M;
    if (pl->hover_dist_m > HOVER_MAX_M) pl->hover_dist_m = HOVER_MAX_M;
    pl->pos.x = t->pos.x + cos(pl->hover_angle) * pl->hover_dist_m;
    pl->pos.y = t->pos.y;
    pl->pos.z = t->pos.z + sin(pl->hover_angle) * pl->hover_dist_m;
}

static void move_room(sim *s, uint8_t room) {
    if (s->phase >= PH_CONVERGE) return; /* players stand still while converging */
    for (int pass = 0; pass < 2; pass++) {
        for (uint16_t p = 0; p < s->o.players; p++) {
            sim_player *pl = &s->pl[p];
            int hovers = pl->hover_target != SIM_NOBODY && s->pl[pl->hover_target].in_game;
            if (pl->room != room || !pl->in_game || hovers != pass) continue;
            if (hovers)
                hover(s, pl);
            else
                walk(s, pl);
        }
    }
}

static void post_batch(sim *s, uint8_t room) {
    uint32_t h = sim_pool_get(&s->batches);
    if (h == UINT32_MAX) {
        sim_fail(s, "simulator limit: batch pool exhausted (%u)", s->batches.cap);
        return;
    }
    sim_batch *b = sim_pool_ptr(&s->batches, h);
    b->room = room;
    b->request_id = ++s->next_pose_req;
    for (uint16_t p = 0; p < s->o.players; p++) {
        const sim_player *pl = &s->pl[p];
        if (pl->room != room || !pl->in_game) continue;
        uint16_t i = b->n++;
        b->p[i].player = p;
        b->p[i].pos = pl->pos;
        b->p[i].has_orient = p % 3 != 0;
        b->p[i].orient.forward = (pv_vec3){cos(pl->heading), 0, sin(pl->heading)};
        b->p[i].orient.up = (pv_vec3){0, 1, 0};
        b->p[i].ts_ms = sim_wall_ms(s) - sim_rng_range(&s->rng_game, 0, 20);
    }
    if (b->n == 0) {
        sim_pool_put(&s->batches, h);
        return;
    }
    s->poses_sent += b->n;
    sim_net_post_poses(s, h);
}

static void maybe_leave(sim *s, uint8_t room) {
    if (s->phase >= PH_CONVERGE || s->o.leave_ppm == 0) return;
    for (uint16_t p = 0; p < s->o.players; p++) {
        if (s->pl[p].room != room || !s->pl[p].in_game) continue;
        if (!sim_rng_ppm(&s->rng_game, s->o.leave_ppm / (1000 / SIM_GAME_TICK_MS))) continue;
        sim_ev ev = {.kind = K_PLAYER_LEAVE, .player = p};
        sim_schedule(s, s->now_ms, &ev);
    }
}

static void on_join(sim *s, uint16_t p) {
    if (s->pl[p].in_game || s->phase >= PH_CONVERGE) return;
    s->pl[p].in_game = 1;
    sim_log(s, "player %s joins", s->pl[p].id);
    sim_client_start(s, p);
}

static void on_leave(sim *s, uint16_t p) {
    if (!s->pl[p].in_game) return;
    s->pl[p].in_game = 0;
    sim_log(s, "player %s leaves", s->pl[p].id);
    sim_client_stop(s, p);
    sim_ev join = {.kind = K_PLAYER_JOIN, .player = p};
    sim_schedule(s, s->now_ms + sim_rng_range(&s->rng_game, s->o.rejoin_min_ms, s->o.rejoin_max_ms),
                 &join);
}

void sim_game_on_event(sim *s, const sim_ev *ev) {
    if (ev->kind == K_PLAYER_JOIN) {
        on_join(s, ev->player);
    } else if (ev->kind == K_PLAYER_LEAVE) {
        on_leave(s, ev->player);
    } else {
        uint8_t room = (uint8_t)ev->player;
        move_room(s, room);
        post_batch(s, room);
        maybe_leave(s, room);
        sim_ev next = *ev;
        sim_schedule(s, s->now_ms + SIM_GAME_TICK_MS, &next);
    }
}
