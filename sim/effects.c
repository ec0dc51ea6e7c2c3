/*
 * effects.c - carries out the core's effects. Everything here only copies
 * data out of the effect (it is valid until the next step) and schedules
 * deliveries; nothing calls back into the core.
 */
#include <stdio.h>

#include "sim.h"

static void on_session_reply(sim *s, const pv_session_reply *r) {
    uint16_t p = (uint16_t)(r->request_id & 0xffff);
    if (p >= s->o.players) {
        sim_fail(s, "core: session reply with unknown request_id %llu",
                 (unsigned long long)r->request_id);
        return;
    }
    /* A new session may be a fresh participant record without a pose:
     * forgetting the oracle's pose is always the conservative choice. */
    if (r->error == PV_ERR_NONE && r->created) sim_oracle_forget(s, p);
    sim_net_session_reply(s, p, r);
}

/* Copies a policy message into a list blob, ids mapped to player indices. */
static uint32_t copy_send(sim *s, const pv_socket_send *m) {
    uint32_t h = sim_list_new(s);
    if (h == SIM_NO_BLOB) return h;
    sim_list *l = sim_list_at(s, h);
    l->type = (uint8_t)m->type;
    l->revision = m->revision;
    l->prev_revision = m->previous_revision;
    l->error = (uint8_t)m->error;
    for (uint32_t i = 0; i < m->id_count; i++) {
        int p = sim_player_of(s, m->ids[i]);
        if (p < 0 || l->n >= SIM_LIST_MAX) {
            l->bad_ids++;
            continue;
        }
        l->ids[l->n++] = (uint16_t)p;
    }
    return h;
}

/* --verbose: the message with (up to 24 of) its ids. */
static void log_send(const sim *s, const sim_conn *c, const pv_socket_send *m) {
    char ids[24 * 6 + 8] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < m->id_count && i < 24 && s->verbose; i++)
        used += (size_t)snprintf(ids + used, sizeof(ids) - used, " %s", m->ids[i]);
    sim_log(s, "core -> %s conn %u: type %d rev %llu prev %llu ids %u:%s", s->pl[c->player].id,
            m->conn_id, m->type, (unsigned long long)m->revision,
            (unsigned long long)m->previous_revision, m->id_count, ids);
}

static void on_send(sim *s, const pv_socket_send *m) {
    sim_conn *c = sim_conn_get(s, m->conn_id);
    if (!c || !c->core_open || c->closing) {
        sim_fail(s, "core: socket send type %d on conn %u that is not open", m->type, m->conn_id);
        return;
    }
    sim_check_sent(s, c, m);
    if (m->type != PV_SMSG_POSE_BATCH) log_send(s, c, m);
    if (m->type == PV_SMSG_POSE_BATCH || !c->client_alive) return; /* clients ignore poses */
    if (m->type == PV_SMSG_DELTA) s->deltas++, c->deltas_queued++;
    if (m->type == PV_SMSG_SNAPSHOT) s->snapshots++;
    if (m->type == PV_SMSG_AUDIENCE) s->audiences++;
    sim_ev ev = {.kind = K_CL_SOCK_MSG, .player = c->player, .conn_id = m->conn_id};
    ev.blob = copy_send(s, m);
    if (ev.blob == SIM_NO_BLOB) return;
    sim_sock_to_client(s, m->conn_id, &ev);
}

static void on_log(sim *s, const pv_log *l) {
    if (s->verbose < 2 && l->level < PV_LOG_WARN) return;
    if (!s->verbose) return;
    printf("%8lld core log %d %s room=%s part=%s conn=%u value=%lld\n", (long long)s->now_ms,
           l->level, l->message, l->room_id ? l->room_id : "-",
           l->participant_id ? l->participant_id : "-", l->conn_id, (long long)l->value);
}

void sim_on_effect(sim *s, const pv_effect *e) {
    switch (e->type) {
    case PV_FX_SESSION_REPLY:
        on_session_reply(s, &e->u.session);
        break;
    case PV_FX_POSES_REPLY:
        sim_check_poses_reply(s, &e->u.poses);
        break;
    case PV_FX_SOCKET_SEND:
        on_send(s, &e->u.send);
        break;
    case PV_FX_SOCKET_CLOSE:
        sim_sock_core_close(s, e->u.close.conn_id, e->u.close.code);
        break;
    case PV_FX_LIVEKIT_CALL:
        sim_lk_on_call(s, &e->u.call);
        break;
    case PV_FX_LOG:
        on_log(s, &e->u.log);
        break;
    default:
        sim_fail(s, "core: unknown effect type %d", e->type);
    }
}
