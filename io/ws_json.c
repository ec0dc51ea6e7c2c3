/*
 * ws_json.c - pose batches from cached per-speaker fragments (ws_json.h).
 *
 * A batch document is
 *   {"type":"policy.pose.batch","roomId":R,"timestampMs":T,"poses":[F1,F2,..]}
 * json_out writes the part before the fragments (a batch with no poses,
 * minus its closing "]}") and each fragment (a one-pose batch with a fixed
 * room and time, minus that same prefix and "]}"), so this file never
 * formats a number itself.
 */
#include "ws_json.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX (2 * (PV_ID_MAX + 1))

typedef struct slot {
    uint64_t hash;     /* 0 = free */
    uint64_t used;     /* LRU stamp */
    char key[KEY_MAX]; /* room \0 participant */
    pv_pose_out pose;  /* participant_id not kept (the key has it) */
    uint16_t key_len, frag_len;
    char frag[PVWSJ_FRAG_MAX];
} slot;

struct pvwsj {
    slot *slots;
    uint32_t mask;
    uint64_t clock;
    pvwsj_stats st;
    char tmp[PVWSJ_FRAG_MAX + 256]; /* a one-pose document */
};

int pvwsj_new(pvwsj **out, uint32_t min_slots) {
    *out = NULL;
    if (min_slots == 0 || min_slots > PVWSJ_MAX_SLOTS) return PV_EINVAL;
    uint32_t n = PVWSJ_PROBE;
    while (n < min_slots)
        n *= 2;
    pvwsj *j = calloc(1, sizeof *j);
    if (!j || !(j->slots = calloc(n, sizeof *j->slots))) {
        free(j);
        return PV_ENOMEM;
    }
    j->mask = n - 1;
    *out = j;
    return 0;
}

void pvwsj_free(pvwsj *j) {
    if (!j) return;
    free(j->slots);
    free(j);
}

void pvwsj_get_stats(const pvwsj *j, pvwsj_stats *st) {
    *st = j->st;
}

static uint64_t hash_key(const char *k, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h ? h : 1;
}

/* Same pose as cached? Doubles compare as bits: -0.0 and 0.0 print apart. */
static int same_pose(const pv_pose_out *a, const pv_pose_out *b) {
    if (a->has_orientation != b->has_orientation || a->timestamp_ms != b->timestamp_ms ||
        memcmp(&a->position, &b->position, sizeof a->position) != 0)
        return 0;
    return !a->has_orientation ||
           memcmp(&a->orientation, &b->orientation, sizeof a->orientation) == 0;
}

/* The json_out text of pose p alone into s->frag. 0, or -1 if too long. */
static int write_fragment(pvwsj *j, slot *s, const pv_pose_out *p) {
    pv_socket_send one = {.type = PV_SMSG_POSE_BATCH, .room_id = "r", .poses = p, .pose_count = 1};
    pvbuf b;
    pvbuf_init(&b, j->tmp, sizeof j->tmp);
    static const char prefix[] = "{\"type\":\"policy.pose.batch\",\"roomId\":\"r\","
                                 "\"timestampMs\":0,\"poses\":[";
    if (pvjo_socket_send(&b, &one) < 0 || b.len < sizeof prefix - 1 + 2) return -1;
    size_t n = b.len - (sizeof prefix - 1) - 2;
    if (n > PVWSJ_FRAG_MAX || memcmp(b.p, prefix, sizeof prefix - 1) != 0) return -1;
    memcpy(s->frag, b.p + sizeof prefix - 1, n);
    s->frag_len = (uint16_t)n;
    return 0;
}

/* The cached fragment of (room, p), written if missing or stale; NULL
 * when it cannot be cached (then the caller writes the batch uncached). */
static const slot *fragment(pvwsj *j, const char *room, const pv_pose_out *p) {
    char key[KEY_MAX];
    size_t rl = strlen(room), pl = strlen(p->participant_id);
    if (rl > PV_ID_MAX || pl > PV_ID_MAX) return NULL;
    memcpy(key, room, rl + 1);
    memcpy(key + rl + 1, p->participant_id, pl);
    size_t kl = rl + 1 + pl;
    uint64_t h = hash_key(key, kl);
    slot *victim = NULL;
    for (uint32_t i = 0; i < PVWSJ_PROBE; i++) {
        slot *s = &j->slots[(h + i) & j->mask];
        if (s->hash == h && s->key_len == kl && memcmp(s->key, key, kl) == 0) {
            s->used = ++j->clock;
            if (same_pose(&s->pose, p)) {
                j->st.hits++;
                return s;
            }
            victim = s;
            break;
        }
        if (!victim || s->used < victim->used) victim = s; /* free slots have used 0 */
    }
    j->st.misses++;
    if (write_fragment(j, victim, p) < 0) {
        victim->hash = 0;
        victim->used = 0;
        return NULL;
    }
    victim->hash = h;
    victim->used = ++j->clock;
    memcpy(victim->key, key, kl);
    victim->key_len = (uint16_t)kl;
    victim->pose = *p;
    victim->pose.participant_id = NULL;
    return victim;
}

static int pose_batch(pvwsj *j, pvbuf *b, const pv_socket_send *s) {
    pv_socket_send head = *s;
    head.pose_count = 0;
    int rc = pvjo_socket_send(b, &head); /* ...,"poses":[]} */
    if (rc < 0) return rc;
    b->len -= 2; /* drop "]}" and append the fragments */
    for (uint32_t i = 0; i < s->pose_count; i++) {
        const slot *f = fragment(j, s->room_id, &s->poses[i]);
        if (!f) {
            j->st.uncached++;
            return pvjo_socket_send(b, s);
        }
        if (i) pvbuf_raw(b, ",", 1);
        pvbuf_raw(b, f->frag, f->frag_len);
    }
    pvbuf_raw(b, "]}", 2);
    return pvbuf_status(b);
}

int pvwsj_socket_send(pvwsj *j, pvbuf *b, const pv_socket_send *s) {
    if (s->type != PV_SMSG_POSE_BATCH || !s->room_id) return pvjo_socket_send(b, s);
    return pose_batch(j, b, s);
}
