/*
 * socket.c - policy sockets: open, auth deadline, auth, client messages,
 * close.
 *
 * A socket must authenticate within socket_auth_deadline_ms (else close
 * 1008 "auth timeout"). Auth binds it to a participant that has a session
 * in that room; a second authenticated socket for the same participant
 * replaces the first (closed 1008 "replaced"). After auth the socket gets
 * SNAPSHOT, then AUDIENCE, then a POSE_BATCH when it hears anyone with a
 * pose. Every close the core emits frees the connection at once; a later
 * PV_EV_SOCKET_CLOSED for it is ignored.
 */
#include <string.h>

#include "state.h"

static uint32_t conn_lower_bound(const pv_core *c, uint32_t conn_id) {
    uint32_t lo = 0, hi = c->n_conns;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->conns[c->conn_order[mid]].conn_id < conn_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Returns the connection slot for conn_id, or PV_NONE. */
static uint32_t conn_find(const pv_core *c, uint32_t conn_id) {
    uint32_t i = conn_lower_bound(c, conn_id);
    if (i < c->n_conns && c->conns[c->conn_order[i]].conn_id == conn_id) return c->conn_order[i];
    return PV_NONE;
}

/* Unbinds and frees a connection (no effect emitted). */
static void conn_release(pv_core *c, uint32_t k) {
    pv_conn *cn = &c->conns[k];
    uint32_t i = conn_lower_bound(c, cn->conn_id);
    PV_ASSERT(i < c->n_conns && c->conn_order[i] == k);
    memmove(&c->conn_order[i], &c->conn_order[i + 1], (c->n_conns - i - 1) * sizeof(uint32_t));
    c->n_conns--;
    pv_timer_clear(&c->timers, pv_timer_conn(c, k));
    if (cn->state == PV_CONN_AUTHED) {
        uint32_t p = cn->part;
        PV_ASSERT(c->parts[p].conn == k);
        c->parts[p].conn = PV_NONE;
        c->n_authed--;
        pv_presence_update(c, p);
    }
    cn->state = PV_CONN_FREE;
    cn->next_free = c->conn_limbo;
    c->conn_limbo = k;
}

/* Emits a close for connection slot k and frees it. */
void pv_conn_close(pv_core *c, uint32_t k, uint16_t code, const char *reason) {
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_CLOSE);
    e->u.close.conn_id = c->conns[k].conn_id;
    e->u.close.code = code;
    e->u.close.reason = reason;
    conn_release(c, k);
}

static void close_unbound(pv_core *c, uint32_t conn_id, uint16_t code, const char *reason) {
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_CLOSE);
    e->u.close.conn_id = conn_id;
    e->u.close.code = code;
    e->u.close.reason = reason;
}

/* PV_EV_SOCKET_OPEN. */
void pv_on_socket_open(pv_core *c, uint32_t conn_id) {
    if (conn_find(c, conn_id) != PV_NONE) {
        pv_out_log(c, PV_LOG_WARN, "socket open: connection id already open", NULL, conn_id, 0);
        return;
    }
    if (c->conn_free == PV_NONE) {
        pv_out_log(c, PV_LOG_WARN, "socket refused: connection pool full", NULL, conn_id, 0);
        close_unbound(c, conn_id, 1011, "server at capacity");
        return;
    }
    uint32_t k = c->conn_free;
    pv_conn *cn = &c->conns[k];
    c->conn_free = cn->next_free;
    cn->conn_id = conn_id;
    cn->state = PV_CONN_OPEN;
    cn->pb_pending = 0;
    cn->part = PV_NONE;
    uint32_t i = conn_lower_bound(c, conn_id);
    memmove(&c->conn_order[i + 1], &c->conn_order[i], (c->n_conns - i) * sizeof(uint32_t));
    c->conn_order[i] = k;
    c->n_conns++;
    pv_timer_set(&c->timers, pv_timer_conn(c, k), c->now_ms + c->cfg.socket_auth_deadline_ms);
}

/* Auth deadline fired for a connection that is still not authenticated. */
void pv_on_auth_timer(pv_core *c, uint32_t k) {
    PV_ASSERT(c->conns[k].state == PV_CONN_OPEN);
    pv_out_log(c, PV_LOG_INFO, "socket auth failed: timeout", NULL, c->conns[k].conn_id, 0);
    pv_conn_close(c, k, 1008, "auth timeout");
}

static void auth_fail(pv_core *c, uint32_t k, pv_api_error err, const char *msg) {
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_SEND);
    e->u.send.conn_id = c->conns[k].conn_id;
    e->u.send.type = PV_SMSG_ERROR;
    e->u.send.error = err;
    e->u.send.message = msg;
    pv_out_log(c, PV_LOG_INFO, "socket auth failed", NULL, c->conns[k].conn_id, (int64_t)err);
    pv_conn_close(c, k, 1008, msg);
}

static void bind(pv_core *c, uint32_t k, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    if (p->conn != PV_NONE) {
        pv_out_log(c, PV_LOG_INFO, "socket replaced", p, c->conns[p->conn].conn_id, 0);
        pv_conn_close(c, p->conn, 1008, "replaced");
    }
    pv_conn *cn = &c->conns[k];
    cn->state = PV_CONN_AUTHED;
    cn->part = slot;
    cn->pb_pending = 0;
    p->conn = k;
    p->batch_seq = 0;
    pv_pose_batch_want(c, p->room);
    c->n_authed++;
    pv_timer_clear(&c->timers, pv_timer_conn(c, k));
    pv_presence_update(c, slot);
}

/* PV_EV_SOCKET_AUTH: the shell verified the token. */
void pv_on_socket_auth(pv_core *c, const pv_socket_auth *a) {
    uint32_t k = conn_find(c, a->conn_id);
    if (k == PV_NONE || c->conns[k].state != PV_CONN_OPEN) {
        pv_out_log(c, PV_LOG_WARN, "socket auth ignored: connection not open", NULL, a->conn_id, 0);
        return;
    }
    uint32_t r = pv_room_find(c, a->room_id);
    if (r == PV_NONE) {
        auth_fail(c, k, PV_ERR_ROOM_NOT_FOUND, "room not found");
        return;
    }
    uint32_t slot = pv_member_find(c, &c->rooms[r], a->participant_id);
    if (slot == PV_NONE) {
        auth_fail(c, k, PV_ERR_PARTICIPANT_NOT_FOUND, "participant has no session");
        return;
    }
    bind(c, k, slot);
    pv_out_log(c, PV_LOG_INFO, "socket auth ok", &c->parts[slot], a->conn_id, 0);
    pv_send_snapshot(c, slot);
    pv_send_audience(c, slot);
    pv_send_pose_batch(c, slot);
}

/* Sends listener p a SNAPSHOT of its current canHear at the room revision. */
void pv_send_snapshot(pv_core *c, uint32_t slot) {
    pv_part *p = &c->parts[slot];
    PV_ASSERT(p->conn != PV_NONE);
    const pv_room *room = &c->rooms[p->room];
    const char **ids = pv_out_alloc(c, sizeof(char *) * (p->hear_count ? p->hear_count : 1));
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->hear_count; i++) {
        const pv_part *s = &c->parts[p->hear_slot[i]];
        if (s->live && s->uid == p->hear_uid[i]) ids[n++] = s->id; /* skip who just left */
    }
    pv_effect *e = pv_out_push(c, PV_FX_SOCKET_SEND);
    pv_socket_send *m = &e->u.send;
    m->conn_id = c->conns[p->conn].conn_id;
    m->type = PV_SMSG_SNAPSHOT;
    m->room_id = room->id;
    m->participant_id = p->id;
    m->revision = room->revision;
    m->ids = ids;
    m->id_count = n;
    p->client_rev = room->revision;
}

/* PV_EV_SOCKET_MESSAGE. */
void pv_on_socket_message(pv_core *c, const pv_socket_message *m) {
    uint32_t k = conn_find(c, m->conn_id);
    if (k == PV_NONE || c->conns[k].state != PV_CONN_AUTHED) {
        pv_out_log(c, PV_LOG_DEBUG, "socket message ignored: not authenticated", NULL, m->conn_id,
                   0);
        return;
    }
    uint32_t slot = c->conns[k].part;
    switch (m->type) {
    case PV_CMSG_SNAPSHOT_REQUEST:
        pv_send_snapshot(c, slot);
        return;
    case PV_CMSG_AUDIENCE_ACK:
        pv_on_audience_ack(c, slot, m->revision);
        return;
    }
    pv_out_log(c, PV_LOG_WARN, "socket message ignored: unknown type", &c->parts[slot], m->conn_id,
               (int64_t)m->type);
}

/* PV_EV_SOCKET_CLOSED. */
void pv_on_socket_closed(pv_core *c, uint32_t conn_id) {
    uint32_t k = conn_find(c, conn_id);
    if (k == PV_NONE) return; /* already closed by the core */
    conn_release(c, k);
}

/* Returns 1 if conn_id is an open or authenticated connection. */
int pv_conn_known(const pv_core *c, uint32_t conn_id) {
    return conn_find(c, conn_id) != PV_NONE;
}
