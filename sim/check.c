/*
 * check.c - checks on what the core emits and on revisions.
 *
 *  - room revisions never go backwards (while the room exists);
 *  - SNAPSHOT / DELTA: canHear sorted, unique, <= cap, never the listener
 *    itself, revision <= the room's revision; per connection, each DELTA's
 *    revision is above its previous_revision and above every revision sent
 *    before on that connection, a SNAPSHOT never goes below;
 *  - a client never applies a revision <= one it applied before (per
 *    session), recorded here independently of the client's own logic;
 *  - the core's pose acceptance count agrees with the oracle's mirror.
 */
#include <string.h>

#include "sim.h"

void sim_check_init(sim *s) {
    for (uint32_t l = 0; l < SIM_PLAYERS_MAX; l++)
        for (uint32_t sp = 0; sp < SIM_PLAYERS_MAX; sp++) {
            sim_pair *pr = &s->chk.pair[l][sp];
            pr->near_since = pr->far_since = pr->band_since = -1;
            pr->band_state = -1;
        }
    s->chk.mal_shrink_ms = -1;
}

static void check_revisions(sim *s) {
    for (uint32_t r = 0; r < s->o.rooms; r++) {
        uint64_t rev = pv_core_room_revision(s->core, s->room_id[r]);
        if (rev != 0 && rev < s->chk.room_rev[r])
            sim_fail(s, "revisions: room %s went back from %llu to %llu", s->room_id[r],
                     (unsigned long long)s->chk.room_rev[r], (unsigned long long)rev);
        s->chk.room_rev[r] = rev; /* 0: the room is gone; a new one starts afresh */
    }
}

void sim_check_after_step(sim *s) {
    check_revisions(s);
    pv_stats st;
    pv_core_stats(s->core, &st);
    if (st.recomputes != s->chk.recomputes) {
        s->chk.recomputes = st.recomputes;
        sim_check_cap(s); /* the core's positions equal the oracle's right now */
    }
}

static void check_ids(sim *s, const pv_socket_send *m, uint16_t self) {
    uint32_t cap = s->o.cfg.max_subscribed_voices;
    if (m->type != PV_SMSG_AUDIENCE && m->id_count > cap)
        sim_fail(s, "cap: %s sent %u ids > cap %u", s->pl[self].id, m->id_count, cap);
    for (uint32_t i = 0; i < m->id_count; i++) {
        if (i > 0 && strcmp(m->ids[i - 1], m->ids[i]) >= 0)
            sim_fail(s, "core: ids sent to %s not sorted/unique at %u", s->pl[self].id, i);
        if (strcmp(m->ids[i], s->pl[self].id) == 0)
            sim_fail(s, "core: %s's own id in its message type %d", s->pl[self].id, m->type);
    }
}

static void check_policy_revision(sim *s, sim_conn *c, const pv_socket_send *m) {
    uint64_t room_rev = pv_core_room_revision(s->core, s->room_id[s->pl[c->player].room]);
    if (m->revision > room_rev)
        sim_fail(s, "revisions: %s got revision %llu above its room's %llu", s->pl[c->player].id,
                 (unsigned long long)m->revision, (unsigned long long)room_rev);
    if (m->type == PV_SMSG_DELTA &&
        (m->revision <= m->previous_revision || m->revision <= c->last_delta_rev))
        sim_fail(s, "revisions: conn %u (%s) delta %llu (previous %llu) after %llu", c->conn_id,
                 s->pl[c->player].id, (unsigned long long)m->revision,
                 (unsigned long long)m->previous_revision, (unsigned long long)c->last_delta_rev);
    if (m->type == PV_SMSG_SNAPSHOT && m->revision < c->last_delta_rev)
        sim_fail(s, "revisions: conn %u (%s) snapshot %llu after %llu", c->conn_id,
                 s->pl[c->player].id, (unsigned long long)m->revision,
                 (unsigned long long)c->last_delta_rev);
    if (m->revision > c->last_delta_rev) c->last_delta_rev = m->revision;
}

/* The malicious speaker: note when an audience that drops a listener is sent
 * to it; it never acknowledges, so the core must remove it. */
static void note_mal_audience(sim *s, const pv_socket_send *m) {
    sim_pset set = {{0}};
    for (uint32_t i = 0; i < m->id_count; i++) {
        int p = sim_player_of(s, m->ids[i]);
        if (p >= 0) pset_add(&set, (unsigned)p);
    }
    uint16_t mal = s->o.mal_speaker;
    if (pset_first_diff(&s->chk.mal_last_aud, &set) >= 0 && s->chk.mal_shrink_ms < 0 &&
        s->lk.p[mal].joined) {
        s->chk.mal_shrink_ms = s->now_ms;
        s->chk.mal_shrink_join = s->lk.p[mal].join_epoch;
    }
    s->chk.mal_last_aud = set;
}

/* policy.pose.batch: at most one per T = pose_batch_interval_ms per socket
 * on a schedule with T/2 tolerance (GCRA: a batch at t needs t >= tat - T/2,
 * then tat = max(tat, t) + T), stamped with the wall time it was built at.
 * The first batch, sent with the auth snapshot, is outside the room's
 * rounds and does not count. */
static void check_pose_batch(sim *s, sim_conn *c, const pv_socket_send *m) {
    int64_t t_ms = s->o.cfg.pose_batch_interval_ms;
    if (++c->batches == 1) return;
    if (c->batch_tat_ms >= 0 && s->now_ms < c->batch_tat_ms - t_ms / 2)
        sim_fail(s, "pose batch: conn %u got a batch %lld ms before its 4 Hz schedule allows",
                 c->conn_id, (long long)(c->batch_tat_ms - t_ms / 2 - s->now_ms));
    c->batch_tat_ms = (c->batch_tat_ms > s->now_ms ? c->batch_tat_ms : s->now_ms) + t_ms;
    if (m->timestamp_ms != SIM_EPOCH_WALL_MS + s->now_ms)
        sim_fail(s, "pose batch: conn %u stamped %lld, wall is %lld", c->conn_id,
                 (long long)m->timestamp_ms, (long long)(SIM_EPOCH_WALL_MS + s->now_ms));
}

void sim_check_sent(sim *s, sim_conn *c, const pv_socket_send *m) {
    if (m->type == PV_SMSG_POSE_BATCH) check_pose_batch(s, c, m);
    if (m->type == PV_SMSG_SNAPSHOT || m->type == PV_SMSG_DELTA || m->type == PV_SMSG_AUDIENCE)
        check_ids(s, m, c->player);
    if (m->type == PV_SMSG_SNAPSHOT || m->type == PV_SMSG_DELTA) check_policy_revision(s, c, m);
    if (m->type == PV_SMSG_AUDIENCE && c->player == s->o.mal_speaker) note_mal_audience(s, m);
}

void sim_check_client_applied(sim *s, uint16_t p, uint64_t revision) {
    if (s->chk.client_rev[p] != 0 && revision <= s->chk.client_rev[p])
        sim_fail(s, "revisions: client %s applied %llu after %llu", s->pl[p].id,
                 (unsigned long long)revision, (unsigned long long)s->chk.client_rev[p]);
    s->chk.client_rev[p] = revision;
}

void sim_check_poses_reply(sim *s, const pv_poses_reply *r) {
    s->poses_accepted += r->accepted;
    if (r->request_id != s->pred_request) return; /* not the batch just fed */
    if (r->accepted < s->pred_min || r->accepted > s->pred_max)
        sim_fail(s,
                 "oracle: pose batch %llu accepted %u, the staleness mirror says %u..%u "
                 "(stale %u unknown %u error %d)",
                 (unsigned long long)r->request_id, r->accepted, s->pred_min, s->pred_max, r->stale,
                 r->unknown, r->error);
}

void sim_check_tick(sim *s) {
    s->chk.checks++;
    sim_check_pairs_tick(s);
    sim_check_malicious_tick(s);
    sim_check_converge_tick(s);
    sim_metrics_scan(s);
    sim_faults_check_tick(s);
    sim_ev next = {.kind = K_CHECK_TICK};
    sim_schedule(s, s->now_ms + SIM_CHECK_TICK_MS, &next);
}
