/*
 * client_lk.c - the client's LiveKit side.
 *
 * Join with an EMPTY allow-list (set before publishing: before any permission
 * is sent LiveKit lets everyone subscribe), publish the microphone, then
 * apply each policy.audience to the allow-list and acknowledge it once
 * LiveKit applied it. After losing LiveKit (restart, removal, network) the
 * client rejoins with jittered backoff and again an empty allow-list; an
 * audience that arrived while it was not joined is applied right after the
 * rejoin. Malicious roles deviate as documented in docs/SIMULATION.md.
 */
#include "sim.h"

static int64_t signal_delay(sim *s) {
    return sim_rng_range(&s->rng_client, s->o.lk_signal_min_ms, s->o.lk_signal_max_ms);
}

/* Client -> LiveKit signalling is one WebSocket: ordered. */
void sim_signal_to_lk(sim *s, uint16_t p, sim_ev *ev) {
    sim_client *c = &s->cl[p];
    int64_t at = s->now_ms + signal_delay(s);
    if (at < c->sig_up_ms) at = c->sig_up_ms;
    c->sig_up_ms = at;
    ev->player = p;
    sim_schedule(s, at, ev);
}

void sim_signal_to_client(sim *s, uint16_t p, sim_ev *ev, int64_t extra_ms) {
    sim_client *c = &s->cl[p];
    int64_t at = s->now_ms + signal_delay(s) + extra_ms;
    if (at < c->sig_down_ms) at = c->sig_down_ms;
    c->sig_down_ms = at;
    ev->player = p;
    ev->epoch = c->epoch;
    sim_schedule(s, at, ev);
}

void sim_client_lk_connect(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    if (!c->active || c->sess != SS_OK || c->lk == LKS_JOINING || c->lk == LKS_JOINED) return;
    c->lk = LKS_JOINING;
    c->lk_attempt++;
    sim_ev ev = {.kind = K_LK_JOIN, .a = c->lk_attempt};
    sim_signal_to_lk(s, p, &ev);
}

void sim_client_lk_stop(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    if (c->lk == LKS_JOINING || c->lk == LKS_JOINED) {
        sim_ev ev = {.kind = K_LK_LEAVE, .a = c->lk_attempt};
        sim_signal_to_lk(s, p, &ev);
    }
    sim_list_free(s, c->pend_aud);
    c->pend_aud = SIM_NO_BLOB;
    c->lk = LKS_DOWN;
}

static void apply_audience(sim *s, uint16_t p, uint32_t h) {
    sim_client *c = &s->cl[p];
    c->aud_rev = sim_list_at(s, h)->revision;
    sim_ev ev = {.kind = K_LK_SET_ALLOW, .blob = h, .a = c->aud_rev, .b = c->lk_join};
    sim_signal_to_lk(s, p, &ev);
}

static void send_ack(sim *s, uint16_t p, uint64_t revision) {
    sim_client *c = &s->cl[p];
    if (c->sock != SK_AUTHING && c->sock != SK_LIVE) return; /* re-pushed after reconnect */
    s->acks++;
    sim_ev ev = {.kind = K_CORE_SOCK_MSG, .player = p, .conn_id = c->conn_id};
    ev.a = PV_CMSG_AUDIENCE_ACK;
    ev.b = revision;
    sim_sock_to_core(s, c->conn_id, &ev);
}

void sim_client_audience(sim *s, uint16_t p, uint32_t h) {
    sim_client *c = &s->cl[p];
    uint64_t rev = sim_list_at(s, h)->revision;
    if (c->role == ROLE_MAL_SPEAKER || rev < c->aud_rev) {
        sim_list_free(s, h); /* never applies / stale */
        return;
    }
    if (c->lk != LKS_JOINED) {
        sim_list_free(s, c->pend_aud);
        c->pend_aud = h;
        return;
    }
    if (rev == c->aud_rev) { /* already applied at this join: confirm again */
        sim_list_free(s, h);
        send_ack(s, p, rev);
        return;
    }
    apply_audience(s, p, h);
}

static void on_joined(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    if (c->lk != LKS_JOINING || ev->a != c->lk_attempt) return;
    c->lk = LKS_JOINED;
    c->lk_join = (uint32_t)ev->b;
    c->lk_failures = 0;
    c->aud_rev = 0; /* the allow-list is empty again */
    if (c->pend_aud != SIM_NO_BLOB) {
        uint32_t h = c->pend_aud;
        c->pend_aud = SIM_NO_BLOB;
        apply_audience(s, ev->player, h);
    }
    sim_ev pub = {.kind = K_LK_PUBLISH, .a = c->lk_attempt, .b = c->lk_join};
    sim_signal_to_lk(s, ev->player, &pub);
}

static void on_lost(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    int joining = c->lk == LKS_JOINING && ev->a == c->lk_attempt;
    int joined = c->lk == LKS_JOINED && ev->b == c->lk_join;
    if (!joining && !joined) return;
    c->lk = LKS_WAIT;
    sim_ev t = {.kind = K_CL_LK_RETRY, .player = ev->player, .epoch = c->epoch};
    sim_schedule(s, s->now_ms + sim_backoff_ms(s, c->lk_failures++), &t);
}

void sim_client_lk_event(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    switch (ev->kind) {
    case K_CL_LK_JOINED:
        on_joined(s, ev);
        break;
    case K_CL_LK_LOST:
        on_lost(s, ev);
        break;
    case K_CL_LK_RETRY:
        if (c->lk == LKS_WAIT) c->lk = LKS_DOWN, sim_client_lk_connect(s, ev->player);
        break;
    case K_CL_ALLOW_DONE:
        if (c->lk == LKS_JOINED && ev->b == c->lk_join) send_ack(s, ev->player, ev->a);
        break;
    default:
        break;
    }
}
