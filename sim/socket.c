/*
 * socket.c - policy-socket connections between clients and the core.
 *
 * A connection has two ordered directions. Opening takes one client->core
 * delay for the core's SOCKET_OPEN and one more for the client to learn it
 * is open. Disconnects (faults) and closes by either side are delivered
 * after everything already queued in that direction.
 */
#include "sim.h"

static int64_t sock_delay(sim *s) {
    return sim_net_delay(s, s->o.sock_delay_min_ms, s->o.sock_delay_max_ms);
}

sim_conn *sim_conn_get(sim *s, uint32_t conn_id) {
    sim_conn *c = &s->conns[conn_id % SIM_CONN_MAX];
    return conn_id && c->conn_id == conn_id ? c : NULL;
}

/* Returns the new connection id, or 0 when the table is full. */
uint32_t sim_conn_open(sim *s, uint16_t player) {
    uint32_t id = s->next_conn_id++;
    sim_conn *c = &s->conns[id % SIM_CONN_MAX];
    if (c->conn_id && (c->core_open || c->client_alive)) {
        sim_fail(s, "simulator limit: connection table full (%u)", SIM_CONN_MAX);
        return 0;
    }
    *c = (sim_conn){.conn_id = id, .player = player, .client_alive = 1, .batch_tat_ms = -1};
    c->s2c_last_ms = c->c2s_last_ms = s->now_ms;
    sim_ev open = {.kind = K_CORE_SOCK_OPEN, .player = player, .conn_id = id};
    sim_sock_to_core(s, id, &open);
    c->s2c_last_ms = c->c2s_last_ms + sock_delay(s); /* the handshake answer comes back */
    sim_ev opened = {.kind = K_CL_SOCK_OPENED, .player = player, .conn_id = id};
    sim_sock_to_client(s, id, &opened);
    return id;
}

void sim_sock_to_core(sim *s, uint32_t conn_id, sim_ev *ev) {
    sim_conn *c = sim_conn_get(s, conn_id);
    if (!c) return;
    int64_t at = s->now_ms + sock_delay(s);
    if (at < c->c2s_last_ms) at = c->c2s_last_ms;
    c->c2s_last_ms = at;
    sim_schedule(s, at, ev);
}

void sim_sock_to_client(sim *s, uint32_t conn_id, sim_ev *ev) {
    sim_conn *c = sim_conn_get(s, conn_id);
    if (!c) return;
    int64_t at = s->now_ms + sock_delay(s);
    if (at < c->s2c_last_ms) at = c->s2c_last_ms;
    c->s2c_last_ms = at;
    ev->epoch = s->cl[c->player].epoch;
    sim_schedule(s, at, ev);
}

/* The connection breaks (network fault, or the client goes away): the
 * client stops reading at once; the core hears SOCKET_CLOSED after what was
 * already on its way. `notify_client` schedules the client's close event. */
static void sock_break(sim *s, sim_conn *c, int notify_client) {
    c->client_alive = 0;
    sim_ev closed = {.kind = K_CORE_SOCK_CLOSED, .player = c->player, .conn_id = c->conn_id};
    sim_sock_to_core(s, c->conn_id, &closed);
    if (!notify_client) return;
    sim_ev ev = {.kind = K_CL_SOCK_CLOSED, .player = c->player, .conn_id = c->conn_id, .a = 1006};
    ev.epoch = s->cl[c->player].epoch;
    sim_schedule(s, s->now_ms + sock_delay(s), &ev);
}

void sim_sock_kill(sim *s, uint32_t conn_id) {
    sim_conn *c = sim_conn_get(s, conn_id);
    if (c && c->client_alive) sock_break(s, c, 1);
}

/* The client closes its own socket (leaving): no event back to the client. */
void sim_sock_client_close(sim *s, uint32_t conn_id) {
    sim_conn *c = sim_conn_get(s, conn_id);
    if (c && c->client_alive) sock_break(s, c, 0);
}

/* The core closed it: queued messages still reach the client, then the
 * close; the shell reports SOCKET_CLOSED for it like for any teardown. */
void sim_sock_core_close(sim *s, uint32_t conn_id, uint16_t code) {
    sim_conn *c = sim_conn_get(s, conn_id);
    if (!c || !c->core_open || c->closing) {
        sim_fail(s, "core: close of conn %u that is not open", conn_id);
        return;
    }
    c->closing = 1;
    if (code == 1008) s->closes_1008++;
    if (c->client_alive) {
        sim_ev ev = {.kind = K_CL_SOCK_CLOSED, .player = c->player, .conn_id = conn_id, .a = code};
        sim_sock_to_client(s, conn_id, &ev);
    }
    sim_ev closed = {.kind = K_CORE_SOCK_CLOSED, .player = c->player, .conn_id = conn_id};
    sim_schedule(s, s->now_ms, &closed);
}

/* Called as a DELTA reaches the client. A shell that conflates the queue of
 * a slow consumer drops an older DELTA when a newer one is queued behind it;
 * the newer one then shows the client a gap (previous_revision differs), which
 * exercises policy.snapshot.request. Never the last one queued: a gap must be
 * detectable. Returns 1 when this DELTA is shed. */
int sim_sock_shed_delta(sim *s, sim_conn *c) {
    if (c->deltas_queued > 0) c->deltas_queued--;
    if (c->deltas_queued == 0 || !sim_faults_on(s)) return 0;
    if (!sim_rng_ppm(&s->rng_net, s->o.delta_drop_ppm)) return 0;
    sim_note_fault(s);
    return 1;
}

/* The connection stops delivering to the client for ms (a stalled TCP
 * stream): later messages queue behind it, in order. */
void sim_sock_stall(sim *s, uint32_t conn_id, int64_t ms) {
    sim_conn *c = sim_conn_get(s, conn_id);
    if (c && c->s2c_last_ms < s->now_ms + ms) c->s2c_last_ms = s->now_ms + ms;
}
