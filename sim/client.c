/*
 * client.c - a browser client (MVP-SPEC section 9): its lifecycle, session
 * requests and the "ready" state the checkers use.
 *
 * A client is ready when it has a session, is joined to LiveKit with its
 * microphone published, and its policy socket has applied a snapshot (no
 * gap outstanding). ready_since is when that last became true; any loss
 * resets it to -1. The socket side is in client_sock.c, LiveKit in
 * client_lk.c.
 */
#include <stdio.h>

#include "sim.h"

#define SESSION_TIMEOUT_MS 1500

/* Jittered exponential backoff, 250 ms .. 5 s (spec section 9). */
int64_t sim_backoff_ms(sim *s, uint32_t failures) {
    int64_t b = 250;
    for (uint32_t i = 0; i < failures && b < 5000; i++)
        b *= 2;
    if (b > 5000) b = 5000;
    int64_t d = sim_rng_range(&s->rng_client, b / 2, b);
    return d < 250 ? 250 : d;
}

void sim_client_request_session(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    c->sess = SS_REQUESTING;
    c->sess_attempts++;
    s->sessions++;
    sim_net_session_request(s, p, (uint64_t)c->sess_attempts << 16 | p);
    sim_ev t = {.kind = K_CL_SESSION_TIMEOUT, .player = p, .epoch = c->epoch};
    t.a = c->sess_attempts;
    sim_schedule(s, s->now_ms + SESSION_TIMEOUT_MS, &t);
}

void sim_client_start(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    c->active = 1;
    c->epoch++;
    c->sess = SS_NONE;
    c->blocked_1008 = 0;
    c->sock_failures = c->lk_failures = 0;
    sim_client_request_session(s, p);
}

void sim_client_stop(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    sim_client_sock_stop(s, p);
    sim_client_lk_stop(s, p);
    c->active = 0;
    c->epoch++;
    c->sess = SS_NONE;
    c->ready_since = -1;
}

static void on_session_reply(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    if (c->sess != SS_REQUESTING || ev->conn_id != c->sess_attempts) return; /* an old reply */
    if ((ev->a & 0xff) != PV_ERR_NONE) {
        sim_ev t = {.kind = K_CL_SESSION_TIMEOUT, .player = ev->player, .epoch = c->epoch};
        t.a = c->sess_attempts;
        sim_schedule(s, s->now_ms + sim_backoff_ms(s, c->sess_attempts), &t);
        return;
    }
    c->sess = SS_OK;
    c->sess_count++;
    c->token_expires_wall_ms = (int64_t)ev->b + SIM_TOKEN_TTL_MS;
    c->blocked_1008 = 0;
    c->rev = 0; /* a new session starts a new revision history */
    pset_clear(&c->hear);
    s->chk.client_rev[ev->player] = 0;
    sim_client_lk_connect(s, ev->player);
    sim_client_sock_open(s, ev->player);
}

void sim_client_update_ready(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    const sim_lk_part *lp = &s->lk.p[p];
    int ready = c->active && c->sess == SS_OK && c->sock == SK_LIVE && c->have_snapshot &&
                !c->gap && c->lk == LKS_JOINED && lp->joined && lp->join_epoch == c->lk_join &&
                lp->track != 0;
    if (ready && c->ready_since < 0) c->ready_since = s->now_ms;
    if (!ready) c->ready_since = -1;
}

void sim_client_on_event(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    if (ev->epoch != c->epoch || !c->active) {
        if (ev->kind == K_CL_SOCK_MSG) sim_list_free(s, ev->blob);
        return; /* addressed to an earlier life of this client */
    }
    switch (ev->kind) {
    case K_CL_SESSION_REPLY:
        on_session_reply(s, ev);
        break;
    case K_CL_SESSION_TIMEOUT:
        if (c->sess == SS_REQUESTING && ev->a == c->sess_attempts)
            sim_client_request_session(s, ev->player);
        break;
    case K_CL_SOCK_RETRY:
    case K_CL_SOCK_OPENED:
    case K_CL_SOCK_MSG:
    case K_CL_SOCK_CLOSED:
        sim_client_sock_event(s, ev);
        break;
    default:
        sim_client_lk_event(s, ev);
        break;
    }
    sim_client_update_ready(s, ev->player);
}
