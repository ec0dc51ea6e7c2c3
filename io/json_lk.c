/*
 * json_lk.c - parsers for what LiveKit sends us: webhook bodies and the
 * RoomService ListParticipants reply. LiveKit serialises protobufs with
 * protojson: camelCase (webhooks) or snake_case (Twirp replies), enums as
 * names (numbers tolerated), int64 as strings, and -- depending on the
 * marshaller options -- fields holding their default value may be omitted
 * (TrackType AUDIO is 0, so a missing "type" means audio). Unknown fields
 * are ignored: LiveKit adds fields between versions.
 */
#include <string.h>

#include "json_ctx.h"

/* Enum as protojson writes it: the name, or the number. */
static int enum_is(const pvj_doc *d, int i, const char *name, const char *number) {
    if (d->t[i].type == JSMN_STRING) return pvj_str_eq(d, i, name);
    size_t n = strlen(number);
    return d->t[i].type == JSMN_PRIMITIVE && (size_t)(d->t[i].end - d->t[i].start) == n &&
           memcmp(d->js + d->t[i].start, number, n) == 0;
}

/* An audio track from the microphone: type absent/AUDIO(0), source MICROPHONE(2). */
static int is_mic_audio(const pvj_doc *d, int type_tok, int source_tok) {
    if (type_tok >= 0 && !enum_is(d, type_tok, "AUDIO", "0")) return 0;
    return source_tok >= 0 && enum_is(d, source_tok, "MICROPHONE", "2");
}

static const struct {
    const char *name;
    pv_webhook_kind kind;
} WEBHOOK_EVENTS[] = {
    {"participant_joined", PV_WH_PARTICIPANT_JOINED},
    {"participant_left", PV_WH_PARTICIPANT_LEFT},
    {"participant_connection_aborted", PV_WH_PARTICIPANT_ABORTED},
    {"track_published", PV_WH_TRACK_PUBLISHED},
    {"track_unpublished", PV_WH_TRACK_UNPUBLISHED},
    {"room_finished", PV_WH_ROOM_FINISHED},
};

/* Reads {"<field>": string} from object token obj (other fields ignored).
 * *ours = 0 when the string fails pv_id_valid(): LiveKit rooms and
 * participants we never issued tokens for (egress, agents, other apps). */
static int sub_id(pvj_doc *d, int obj, const char *objname, const char *field, const char *path,
                  const char **out, int *ours) {
    int f[1];
    if (obj < 0) return pvj_fail(d, objname, "required");
    if (pvj_fields(d, obj, objname, &field, 1, f, 0)) return PV_EINVAL;
    if (f[0] < 0) return pvj_fail(d, path, "required");
    if (pvj_get_str(d, f[0], path, 256, out)) return PV_EINVAL;
    if (!pv_id_valid(*out)) *ours = 0;
    return 0;
}

/* LiveKit's participant SID (ParticipantInfo.sid, new per connection) from
 * string token i, or NULL when absent, too long or not an ID: it only
 * sharpens reconnection detection, so a strange one is ignored, not fatal. */
static int participant_sid(pvj_doc *d, int i, const char **out) {
    *out = NULL;
    if (i < 0 || d->t[i].type != JSMN_STRING) return 0;
    if (d->t[i].end - d->t[i].start > PV_TRACK_SID_MAX) return 0;
    if (pvj_get_str(d, i, "participant.sid", PV_TRACK_SID_MAX, out)) return PV_EINVAL;
    if (!pv_id_valid(*out)) *out = NULL;
    return 0;
}

/* participant.sid of a webhook's participant object (checked by sub_id). */
static int webhook_participant_sid(pvj_doc *d, int obj, const char **out) {
    static const char *const names[] = {"sid"};
    int f[1];
    if (pvj_fields(d, obj, "participant", names, 1, f, 0)) return PV_EINVAL;
    return participant_sid(d, f[0], out);
}

/* track: sid (string <= PV_TRACK_SID_MAX), type, source. Sets *relevant. */
static int webhook_track(pvj_doc *d, int obj, pvj_webhook *out) {
    static const char *const names[] = {"sid", "type", "source"};
    int f[3];
    if (obj < 0) return pvj_fail(d, "track", "required");
    if (pvj_fields(d, obj, "track", names, 3, f, 0)) return PV_EINVAL;
    if (!is_mic_audio(d, f[1], f[2])) {
        out->relevant = 0;
        return 0;
    }
    if (f[0] < 0) return pvj_fail(d, "track.sid", "required");
    if (pvj_get_str(d, f[0], "track.sid", PV_TRACK_SID_MAX, &out->wh.track_sid)) return PV_EINVAL;
    if (!pv_id_valid(out->wh.track_sid)) return pvj_fail(d, "track.sid", "invalid characters");
    return 0;
}

int pvj_parse_webhook(pvj_ctx *c, const char *body, size_t len, pvj_webhook *out, pvj_err *err) {
    static const char *const names[] = {"event", "room", "participant", "track", "id", "createdAt"};
    pvj_doc d;
    int f[6];
    memset(out, 0, sizeof *out);
    if (pvj_begin(c, &d, body, len, err, JSMN_OBJECT)) return PV_EINVAL;
    if (pvj_fields(&d, 0, "body", names, 6, f, 0)) return PV_EINVAL;
    if (f[0] < 0) return pvj_fail(&d, "event", "required");
    if (pvj_get_str(&d, f[0], "event", 64, &out->event)) return PV_EINVAL;
    if (f[4] >= 0 && pvj_get_str(&d, f[4], "id", 128, &out->id)) return PV_EINVAL;
    if (f[5] >= 0 &&
        pvj_get_int_or_str(&d, f[5], "createdAt", 0, PVJ_MAX_SAFE_INT, &out->wh.created_at_s))
        return PV_EINVAL;
    size_t k = 0, n = sizeof WEBHOOK_EVENTS / sizeof WEBHOOK_EVENTS[0];
    while (k < n && strcmp(out->event, WEBHOOK_EVENTS[k].name) != 0)
        k++;
    if (k == n) return 0; /* room_started and anything new: not relevant */
    out->relevant = 1;
    out->wh.kind = WEBHOOK_EVENTS[k].kind;
    if (sub_id(&d, f[1], "room", "name", "room.name", &out->wh.room_id, &out->relevant))
        return PV_EINVAL;
    if (out->wh.kind == PV_WH_ROOM_FINISHED) return 0;
    if (sub_id(&d, f[2], "participant", "identity", "participant.identity", &out->wh.identity,
               &out->relevant))
        return PV_EINVAL;
    if (webhook_participant_sid(&d, f[2], &out->wh.participant_sid)) return PV_EINVAL;
    if (out->relevant &&
        (out->wh.kind == PV_WH_TRACK_PUBLISHED || out->wh.kind == PV_WH_TRACK_UNPUBLISHED))
        return webhook_track(&d, f[3], out);
    return 0;
}

/* The first microphone audio track's sid in tracks array arr, or NULL. */
static int first_mic_sid(pvj_doc *d, int arr, const char *path, const char **sid) {
    static const char *const names[] = {"sid", "type", "source"};
    *sid = NULL;
    if (arr < 0) return 0;
    if (d->t[arr].type != JSMN_ARRAY) return pvj_fail(d, path, "must be an array");
    int j = arr + 1;
    for (int m = 0; m < d->t[arr].size; m++, j = pvj_skip(d, j)) {
        int f[3];
        if (*sid) continue;
        if (pvj_fields(d, j, path, names, 3, f, 0)) return PV_EINVAL;
        if (!is_mic_audio(d, f[1], f[2]) || f[0] < 0) continue;
        if (pvj_get_str(d, f[0], path, PV_TRACK_SID_MAX, sid)) return PV_EINVAL;
        if (!pv_id_valid(*sid)) return pvj_fail(d, path, "track sid has invalid characters");
    }
    return 0;
}

/* One ParticipantInfo; *keep = 0 when its identity is not one of ours. */
static int lk_participant(pvj_doc *d, int obj, pv_lk_participant *p, int *keep) {
    static const char *const names[] = {"identity", "tracks", "sid"};
    int f[3];
    *keep = 0;
    if (pvj_fields(d, obj, "participants[]", names, 3, f, 0)) return PV_EINVAL;
    if (f[0] < 0 || d->t[f[0]].type != JSMN_STRING)
        return pvj_fail(d, "participants[].identity", "required string");
    const char *id;
    if (pvj_get_str(d, f[0], "participants[].identity", 256, &id)) return PV_EINVAL;
    if (!pv_id_valid(id)) return 0;
    p->identity = id;
    if (first_mic_sid(d, f[1], "participants[].tracks", &p->mic_track_sid)) return PV_EINVAL;
    if (participant_sid(d, f[2], &p->participant_sid)) return PV_EINVAL;
    *keep = 1;
    return 0;
}

int pvj_parse_lk_participants(pvj_ctx *c, const char *body, size_t len, uint32_t max,
                              const pv_lk_participant **out, uint32_t *count, uint32_t *skipped,
                              pvj_err *err) {
    static const char *const names[] = {"participants"};
    pvj_doc d;
    int f[1];
    *out = NULL;
    *count = 0;
    if (skipped) *skipped = 0;
    if (max > PVJ_MAX_LK_PARTICIPANTS) max = PVJ_MAX_LK_PARTICIPANTS;
    if (pvj_begin(c, &d, body, len, err, JSMN_OBJECT)) return PV_EINVAL;
    if (pvj_fields(&d, 0, "body", names, 1, f, 0)) return PV_EINVAL;
    *out = c->parts;
    if (f[0] < 0) return 0; /* protojson omits an empty repeated field */
    if (d.t[f[0]].type != JSMN_ARRAY) return pvj_fail(&d, "participants", "must be an array");
    if ((uint32_t)d.t[f[0]].size > max)
        return pvj_fail(&d, "participants", "more than %u entries", max);
    int j = f[0] + 1;
    uint32_t n = 0;
    for (int m = 0; m < d.t[f[0]].size; m++, j = pvj_skip(&d, j)) {
        int keep;
        if (lk_participant(&d, j, &c->parts[n], &keep)) return PV_EINVAL;
        if (keep)
            n++;
        else if (skipped)
            (*skipped)++;
    }
    *count = n;
    return 0;
}
