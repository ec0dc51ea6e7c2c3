/*
 * drive.c - the only caller of pv_core_step(). Builds core events from
 * queued deliveries, hashes every event and every effect into the trace,
 * hands the effects to effects.c (which only schedules: the core is never
 * re-entered), then runs the checks that must see the state right after a
 * step.
 */
#include <stdio.h>

#include "sim.h"
#include "sim_trace.h"

static const pv_meta_pair k_meta[] = {{"role", "default"}, {"team", "blue"}};

void sim_core_step(sim *s, pv_event *ev) {
    pv_out out = {0};
    ev->now_ms = s->now_ms;
    ev->wall_ms = sim_wall_ms(s);
    sim_trace_event(&s->trace, ev);
    int rc = pv_core_step(s->core, ev, &out);
    sim_trace_out(&s->trace, rc, &out);
    s->steps++;
    s->core_wake_ms = out.wake_at_ms;
    if (rc != 0) {
        sim_fail(s, "core: pv_core_step rejected a well-formed event type %d: %s", ev->type,
                 pv_strerror(rc));
        return;
    }
    if (out.wake_at_ms < s->now_ms)
        sim_fail(s, "core: wake_at_ms %lld is before now_ms %lld", (long long)out.wake_at_ms,
                 (long long)s->now_ms);
    for (uint32_t i = 0; i < out.count; i++)
        sim_on_effect(s, &out.effects[i]);
    sim_check_after_step(s);
}

void sim_core_tick(sim *s) {
    pv_event ev = {.type = PV_EV_TICK};
    sim_core_step(s, &ev);
}

static void deliver_session(sim *s, const sim_ev *e) {
    const sim_player *pl = &s->pl[e->player];
    pv_event ev = {.type = PV_EV_SESSION_REQUEST};
    char name[32];
    snprintf(name, sizeof(name), "Player %u", e->player);
    ev.u.session.request_id = e->a;
    ev.u.session.room_id = s->room_id[pl->room];
    ev.u.session.participant_id = pl->id;
    ev.u.session.display_name = e->player % 3 ? name : NULL;
    ev.u.session.metadata = k_meta;
    ev.u.session.metadata_count = e->player % 4 == 0 ? 2 : e->player % 4 == 1 ? 1 : 0;
    sim_core_step(s, &ev);
}

static void deliver_poses(sim *s, const sim_ev *e) {
    sim_batch *b = sim_pool_ptr(&s->batches, e->blob);
    pv_event ev = {.type = PV_EV_POSE_BATCH};
    for (uint16_t i = 0; i < b->n; i++) {
        pv_pose_in *p = &s->scratch_poses[i];
        p->participant_id = s->pl[b->p[i].player].id;
        p->position = b->p[i].pos;
        p->has_orientation = b->p[i].has_orient;
        p->orientation = b->p[i].orient;
        p->timestamp_ms = b->p[i].ts_ms;
    }
    ev.u.poses.request_id = b->request_id;
    ev.u.poses.room_id = s->room_id[b->room];
    ev.u.poses.poses = s->scratch_poses;
    ev.u.poses.count = b->n;
    if (e->epoch & SIM_FL_FAULTY) sim_note_fault(s);
    sim_oracle_feed(s, b); /* the mirror decides before the core does */
    sim_core_step(s, &ev);
    sim_oracle_update_pairs(s, b->room);
    sim_pool_put(&s->batches, e->blob);
}

static void deliver_socket(sim *s, const sim_ev *e) {
    sim_conn *c = sim_conn_get(s, e->conn_id);
    pv_event ev = {0};
    if (!c) return;
    if (e->kind == K_CORE_SOCK_OPEN) {
        ev.type = PV_EV_SOCKET_OPEN, ev.u.conn_id = e->conn_id, c->core_open = 1;
    } else if (e->kind == K_CORE_SOCK_CLOSED) {
        if (!c->core_open) return; /* the core already forgot it */
        ev.type = PV_EV_SOCKET_CLOSED, ev.u.conn_id = e->conn_id, c->core_open = 0;
    } else if (!c->core_open || c->closing) {
        return; /* the shell does not deliver messages on a socket it closed */
    } else if (e->kind == K_CORE_SOCK_AUTH) {
        const sim_player *pl = &s->pl[e->player];
        ev.type = PV_EV_SOCKET_AUTH;
        ev.u.auth.conn_id = e->conn_id;
        ev.u.auth.room_id = s->room_id[pl->room];
        ev.u.auth.participant_id = pl->id;
        ev.u.auth.token_expires_wall_ms = (int64_t)e->a;
    } else {
        ev.type = PV_EV_SOCKET_MESSAGE;
        ev.u.msg.conn_id = e->conn_id;
        ev.u.msg.type = (pv_client_msg_type)e->a;
        ev.u.msg.revision = e->b;
    }
    sim_core_step(s, &ev);
}

static void deliver_lk_result(sim *s, const sim_ev *e) {
    pv_event ev = {.type = PV_EV_LIVEKIT_RESULT};
    ev.u.livekit.call_id = e->a;
    ev.u.livekit.outcome = (pv_lk_outcome)e->b;
    if (e->epoch & SIM_FL_FAULTY) sim_note_fault(s);
    if (e->blob != SIM_NO_BLOB) {
        sim_list *l = sim_list_at(s, e->blob);
        for (uint16_t i = 0; i < l->n; i++) {
            s->scratch_parts[i].identity = s->pl[l->ids[i]].id;
            s->scratch_parts[i].mic_track_sid = l->aux[i] ? sim_track_sid(s, i, l->aux[i]) : NULL;
            s->scratch_parts[i].participant_sid = sim_participant_sid(s, i, l->join[i]);
        }
        ev.u.livekit.participants = s->scratch_parts;
        ev.u.livekit.participant_count = l->n;
    }
    sim_core_step(s, &ev);
    sim_list_free(s, e->blob);
}

/* Webhook fields: a = kind | room << 8 | track << 32, b = created_at_s. */
static void deliver_webhook(sim *s, const sim_ev *e) {
    pv_event ev = {.type = PV_EV_WEBHOOK};
    uint32_t track = (uint32_t)(e->a >> 32);
    ev.u.webhook.kind = (pv_webhook_kind)(e->a & 0xff);
    ev.u.webhook.room_id = s->room_id[(e->a >> 8) & 0xff];
    ev.u.webhook.identity = ev.u.webhook.kind == PV_WH_ROOM_FINISHED ? NULL : s->pl[e->player].id;
    ev.u.webhook.track_sid = track ? sim_track_sid(s, 0, track) : NULL;
    ev.u.webhook.created_at_s = (int64_t)e->b;
    ev.u.webhook.participant_sid = e->conn_id ? sim_participant_sid(s, 0, e->conn_id) : NULL;
    if (e->epoch & SIM_FL_FAULTY) sim_note_fault(s);
    sim_log(s, "webhook %d %s %s track %s created %lld%s", ev.u.webhook.kind,
            ev.u.webhook.identity ? ev.u.webhook.identity : "-",
            ev.u.webhook.participant_sid ? ev.u.webhook.participant_sid : "-",
            ev.u.webhook.track_sid ? ev.u.webhook.track_sid : "-",
            (long long)ev.u.webhook.created_at_s, e->epoch & SIM_FL_FAULTY ? " (faulty)" : "");
    sim_core_step(s, &ev);
}

void sim_core_deliver(sim *s, const sim_ev *e) {
    switch (e->kind) {
    case K_CORE_SESSION:
        deliver_session(s, e);
        break;
    case K_CORE_POSES:
        deliver_poses(s, e);
        break;
    case K_CORE_LK_RESULT:
        deliver_lk_result(s, e);
        break;
    case K_CORE_WEBHOOK:
        deliver_webhook(s, e);
        break;
    default:
        deliver_socket(s, e);
        break;
    }
}
