/*
 * client_sock.c - the client's policy socket (MVP-SPEC section 9).
 *
 * Rules followed: auth first; ignore stale revisions; apply only monotonic
 * ones; on a gap (delta.previous_revision != local revision) send
 * policy.snapshot.request and hold deltas until the snapshot; reconnect with
 * jittered exponential backoff (250 ms .. 5 s) after a disconnect; after a
 * 1008 close, no retry until a new session has been obtained.
 */
#include <stdio.h>

#include "sim.h"

static void free_held(sim *s, sim_client *c) {
    for (uint32_t i = 0; i < c->n_held; i++)
        sim_list_free(s, c->held[i]);
    c->n_held = 0;
}

void sim_client_sock_open(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    if (!c->active || c->sess != SS_OK || c->blocked_1008) return;
    if (c->sock == SK_CONNECTING || c->sock == SK_AUTHING || c->sock == SK_LIVE) return;
    free_held(s, c);
    c->have_snapshot = 0;
    c->gap = 0;
    c->conn_id = sim_conn_open(s, p);
    c->sock = c->conn_id ? SK_CONNECTING : SK_DOWN;
}

void sim_client_sock_stop(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    if (c->conn_id) sim_sock_client_close(s, c->conn_id);
    free_held(s, c);
    c->conn_id = 0;
    c->sock = SK_DOWN;
    c->have_snapshot = 0;
    c->gap = 0;
}

static void send_msg(sim *s, sim_client *c, uint16_t p, pv_client_msg_type type, uint64_t rev) {
    sim_ev ev = {.kind = K_CORE_SOCK_MSG, .player = p, .conn_id = c->conn_id, .a = type, .b = rev};
    sim_sock_to_core(s, c->conn_id, &ev);
}

static void apply_set(sim *s, uint16_t p, const sim_list *l) {
    sim_client *c = &s->cl[p];
    sim_log(s, "client %s applies revision %llu (%u ids)", s->pl[p].id,
            (unsigned long long)l->revision, l->n);
    pset_clear(&c->hear);
    for (uint16_t i = 0; i < l->n; i++)
        pset_add(&c->hear, l->ids[i]);
    c->rev = l->revision;
    sim_check_client_applied(s, p, l->revision);
}

static void request_snapshot(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    c->gap = 1;
    s->gaps++;
    send_msg(s, c, p, PV_CMSG_SNAPSHOT_REQUEST, c->rev);
}

/* Holds a delta (bounded: the oldest goes first, a snapshot supersedes it). */
static void hold(sim *s, sim_client *c, uint32_t h) {
    if (c->n_held == SIM_HELD_MAX) {
        sim_list_free(s, c->held[0]);
        for (uint32_t i = 1; i < c->n_held; i++)
            c->held[i - 1] = c->held[i];
        c->n_held--;
    }
    c->held[c->n_held++] = h;
}

/* After a snapshot: apply the held deltas that chain on, in revision order. */
static void drain_held(sim *s, uint16_t p) {
    sim_client *c = &s->cl[p];
    for (;;) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < c->n_held; i++)
            if (best == UINT32_MAX ||
                sim_list_at(s, c->held[i])->revision < sim_list_at(s, c->held[best])->revision)
                best = i;
        if (best == UINT32_MAX) return;
        uint32_t h = c->held[best];
        sim_list *l = sim_list_at(s, h);
        if (l->revision > c->rev && l->prev_revision != c->rev) {
            request_snapshot(s, p); /* still a hole: ask again, keep holding */
            return;
        }
        c->held[best] = c->held[--c->n_held];
        if (l->revision > c->rev) apply_set(s, p, l);
        sim_list_free(s, h);
    }
}

/* Returns 1 when the blob was kept (held). */
static int on_delta(sim *s, uint16_t p, uint32_t h) {
    sim_client *c = &s->cl[p];
    const sim_list *l = sim_list_at(s, h);
    if (!c->have_snapshot || c->gap) {
        hold(s, c, h);
        return 1;
    }
    sim_log(s, "client %s got delta %llu prev %llu (local %llu, snapshot %d, gap %d)", s->pl[p].id,
            (unsigned long long)l->revision, (unsigned long long)l->prev_revision,
            (unsigned long long)c->rev, c->have_snapshot, c->gap);
    if (l->revision <= c->rev) return 0; /* stale */
    if ((s->sabotage & SIM_BREAK_SKIP_DELTAS) && ++s->skipped % 4 == 0) return 0;
    if (l->prev_revision != c->rev) {
        request_snapshot(s, p);
        hold(s, c, h);
        return 1;
    }
    apply_set(s, p, l);
    return 0;
}

static void on_snapshot(sim *s, uint16_t p, const sim_list *l) {
    sim_client *c = &s->cl[p];
    if (l->revision < c->rev) return; /* stale: keep waiting for a newer one */
    if (l->revision == c->rev) {      /* a repeat (reconnect, or revision 0 = nothing yet) */
        sim_pset set = {{0}};
        for (uint16_t i = 0; i < l->n; i++)
            pset_add(&set, l->ids[i]);
        if (!pset_eq(&set, &c->hear))
            sim_fail(s, "core: snapshot for %s repeats revision %llu with a different canHear",
                     s->pl[p].id, (unsigned long long)l->revision);
    } else {
        apply_set(s, p, l);
    }
    c->gap = 0;
    c->have_snapshot = 1;
    c->sock = SK_LIVE;
    c->sock_failures = 0;
    drain_held(s, p);
}

static void on_msg(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    sim_conn *cn = sim_conn_get(s, ev->conn_id);
    int kept = 0;
    if (ev->conn_id != c->conn_id || !cn || !cn->client_alive) {
        sim_list_free(s, ev->blob);
        return;
    }
    sim_list *l = sim_list_at(s, ev->blob);
    if (l->type == PV_SMSG_DELTA && sim_sock_shed_delta(s, cn)) {
        sim_log(s, "shell sheds delta %llu to %s", (unsigned long long)l->revision,
                s->pl[ev->player].id);
        sim_list_free(s, ev->blob);
        return;
    }
    if (l->bad_ids) sim_fail(s, "core: policy message with %u unknown ids", l->bad_ids);
    switch (l->type) {
    case PV_SMSG_SNAPSHOT:
        on_snapshot(s, ev->player, l);
        break;
    case PV_SMSG_DELTA:
        kept = on_delta(s, ev->player, ev->blob);
        break;
    case PV_SMSG_AUDIENCE:
        sim_client_audience(s, ev->player, ev->blob);
        kept = 1; /* sim_client_audience owns it now */
        break;
    default:
        break; /* policy.error: the close that follows decides */
    }
    if (!kept) sim_list_free(s, ev->blob);
}

static void on_closed(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    if (ev->conn_id != c->conn_id) return;
    sim_conn *cn = sim_conn_get(s, ev->conn_id);
    if (cn) cn->client_alive = 0;
    free_held(s, c);
    c->conn_id = 0;
    c->have_snapshot = 0;
    c->gap = 0;
    if (ev->a == 1008) {
        c->sock = SK_DOWN;
        c->blocked_1008 = 1; /* credentials first */
        sim_client_request_session(s, ev->player);
        return;
    }
    c->sock = SK_WAIT;
    sim_ev t = {.kind = K_CL_SOCK_RETRY, .player = ev->player, .epoch = c->epoch};
    sim_schedule(s, s->now_ms + sim_backoff_ms(s, c->sock_failures++), &t);
}

void sim_client_sock_event(sim *s, const sim_ev *ev) {
    sim_client *c = &s->cl[ev->player];
    switch (ev->kind) {
    case K_CL_SOCK_RETRY:
        if (c->sock == SK_WAIT) c->sock = SK_DOWN, sim_client_sock_open(s, ev->player);
        break;
    case K_CL_SOCK_OPENED:
        if (ev->conn_id != c->conn_id || c->sock != SK_CONNECTING) break;
        c->sock = SK_AUTHING;
        sim_ev auth = {.kind = K_CORE_SOCK_AUTH, .player = ev->player, .conn_id = c->conn_id};
        auth.a = (uint64_t)c->token_expires_wall_ms;
        sim_sock_to_core(s, c->conn_id, &auth);
        break;
    case K_CL_SOCK_MSG:
        on_msg(s, ev);
        break;
    case K_CL_SOCK_CLOSED:
        on_closed(s, ev);
        break;
    default:
        break;
    }
}
