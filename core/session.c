/*
 * session.c - POST /sessions: create or refresh a participant's session.
 *
 * Sessions are keyed by roomId + participantId. A repeat request inside
 * session_idempotency_ms of the last issue returns the same issued_at, so the
 * shell's deterministic token minting yields byte-identical tokens; after the
 * window the session is refreshed with a new issued_at. Both update the
 * display name; metadata is echoed from the request (the core keeps none).
 */
#include <string.h>

#include "state.h"

static int meta_valid(const pv_session_request *req) {
    if (req->metadata_count > PV_META_MAX_PAIRS) return 0;
    if (req->metadata_count > 0 && !req->metadata) return 0;
    for (uint32_t i = 0; i < req->metadata_count; i++) {
        const pv_meta_pair *m = &req->metadata[i];
        if (!m->key || !m->value || m->key[0] == '\0') return 0;
        if (!memchr(m->key, '\0', PV_META_KEY_MAX + 1)) return 0;
        if (!memchr(m->value, '\0', PV_META_VALUE_MAX + 1)) return 0;
    }
    return 1;
}

static int request_valid(const pv_session_request *req) {
    if (!pv_id_valid(req->room_id) || !pv_id_valid(req->participant_id)) return 0;
    if (req->display_name && !memchr(req->display_name, '\0', PV_NAME_MAX + 1)) return 0;
    return meta_valid(req);
}

static const char *arena_str(pv_core *c, const char *s) {
    size_t n = strlen(s);
    char *d = pv_out_alloc(c, n + 1);
    memcpy(d, s, n + 1);
    return d;
}

/* Copies the (validated) metadata into the arena for the reply. */
static void reply_meta(pv_core *c, pv_session_reply *rep, const pv_session_request *req) {
    if (req->metadata_count == 0) return;
    pv_meta_pair *m = pv_out_alloc(c, sizeof(*m) * req->metadata_count);
    for (uint32_t i = 0; i < req->metadata_count; i++) {
        m[i].key = arena_str(c, req->metadata[i].key);
        m[i].value = arena_str(c, req->metadata[i].value);
    }
    rep->metadata = m;
    rep->metadata_count = req->metadata_count;
}

static void reply_error(pv_core *c, pv_session_reply *rep, const pv_session_request *req,
                        pv_api_error err, const char *msg) {
    rep->error = err;
    rep->message = msg;
    if (pv_id_valid(req->room_id)) rep->room_id = arena_str(c, req->room_id);
    if (pv_id_valid(req->participant_id)) rep->participant_id = arena_str(c, req->participant_id);
    pv_out_log(c, PV_LOG_INFO, "session rejected", NULL, 0, (int64_t)err);
    c->out.fx[c->out.count - 1].u.log.request_id = req->request_id;
}

/* Finds or creates the participant. Returns its slot, or PV_NONE with
 * *msg set (room full, capacity). *created says whether it is new. */
static uint32_t find_or_create(pv_core *c, const pv_session_request *req, int *created,
                               const char **msg) {
    uint32_t r = pv_room_find(c, req->room_id);
    uint32_t p = r == PV_NONE ? PV_NONE : pv_member_find(c, &c->rooms[r], req->participant_id);
    *created = p == PV_NONE;
    if (p != PV_NONE) return p;
    if (r != PV_NONE && c->rooms[r].n >= c->cfg.max_room_size)
        return *msg = "room is full", PV_NONE;
    if (c->part_free == PV_NONE) return *msg = "server at capacity", PV_NONE;
    if (r == PV_NONE) r = pv_room_create(c, req->room_id);
    if (r == PV_NONE) return *msg = "server at capacity", PV_NONE;
    p = pv_part_create(c, r, req->participant_id);
    PV_ASSERT(p != PV_NONE);
    return p;
}

static void issue(pv_core *c, pv_part *p, int created) {
    int within = !created && c->now_ms - p->issued_now_ms < c->cfg.session_idempotency_ms;
    if (!within) {
        p->issued_now_ms = c->now_ms;
        p->issued_wall_ms = c->wall_ms;
    }
}

/* Handles PV_EV_SESSION_REQUEST: always emits one PV_FX_SESSION_REPLY. */
void pv_on_session(pv_core *c, const pv_session_request *req) {
    pv_effect *e = pv_out_push(c, PV_FX_SESSION_REPLY);
    pv_session_reply *rep = &e->u.session;
    rep->request_id = req->request_id;
    if (!request_valid(req)) {
        reply_error(c, rep, req, PV_ERR_INVALID_PAYLOAD, "invalid session request");
        return;
    }
    int created = 0;
    const char *msg = NULL;
    uint32_t slot = find_or_create(c, req, &created, &msg);
    if (slot == PV_NONE) {
        reply_error(c, rep, req, PV_ERR_FORBIDDEN, msg);
        return;
    }
    pv_part *p = &c->parts[slot];
    issue(c, p, created);
    p->has_display_name = req->display_name != NULL;
    PV_ASSERT(pv_copy_str(p->display_name, sizeof(p->display_name),
                          req->display_name ? req->display_name : "") == 0);
    rep->room_id = c->rooms[p->room].id;
    rep->participant_id = p->id;
    rep->display_name = p->has_display_name ? p->display_name : NULL;
    reply_meta(c, rep, req);
    rep->policy_revision = c->rooms[p->room].revision;
    rep->issued_at_wall_ms = p->issued_wall_ms;
    rep->created = created;
    pv_session_touch(c, slot);
    pv_out_log(c, PV_LOG_INFO, created ? "session created" : "session refreshed", p, 0,
               p->issued_wall_ms);
    c->out.fx[c->out.count - 1].u.log.request_id = req->request_id;
}
