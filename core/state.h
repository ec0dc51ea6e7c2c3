/*
 * state.h - the core's internal state (private to core/).
 *
 * Everything here is allocated once in pv_core_new(): fixed pools of rooms,
 * participants and connections, a timer heap, the effect arena and the
 * scratch of the audibility engine. Nothing is allocated afterwards.
 *
 * MUST rules inside core/:
 *  - Iterate rooms in room-ID order (core->room_order) and participants in
 *    participant-ID order (room->members); never in slot order when the
 *    order is visible in effects.
 *  - A freed slot goes to limbo and becomes reusable only at the next step,
 *    so strings in this step's effects that point into it stay valid.
 *  - Use PV_ASSERT for invariants: it stays on in release builds.
 */
#ifndef PV_STATE_H
#define PV_STATE_H

#include "pv.h"
#include "audib.h"

/* Assertions stay on in release: a broken invariant traps at once. */
#define PV_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (!(c)) __builtin_trap();                                                                \
    } while (0)

#define PV_NONE UINT32_MAX

/* The first multiple of interval_ms strictly after now_ms (rounds are
 * aligned to the clock, not to event arrival). */
static inline int64_t pv_next_multiple(int64_t now_ms, int64_t interval_ms) {
    int64_t r = now_ms % interval_ms;
    if (r < 0) r += interval_ms;
    return now_ms - r + interval_ms;
}
#define PV_ACK_QUEUE   8  /* outstanding audience shrinks tracked exactly per speaker */
#define PV_FX_RESERVE  16 /* effects kept back for the event being handled */
#define PV_PART_TIMERS 3  /* timer kinds per participant (pv_ptimer) */

/* Per-participant timer kinds (timer id = slot * PV_PART_TIMERS + kind). */
typedef enum pv_ptimer {
    PV_PT_PRESENCE = 0, /* idle session expiry or reconnect-grace expiry */
    PV_PT_ACK = 1,      /* audience acknowledgement deadline */
    PV_PT_LK = 2,       /* LiveKit subscription retry after backoff */
} pv_ptimer;

/* A subscription the listener holds at LiveKit: the speaker and the
 * generation of the speaker's microphone track (a new track = new gen). */
typedef struct pv_lk_entry {
    uint32_t speaker; /* slot; valid while parts[speaker].uid == speaker_uid */
    uint64_t speaker_uid;
    uint64_t mic_gen;
    uint8_t uncertain; /* applied: a failed call may or may not have taken effect */
} pv_lk_entry;

typedef struct pv_ack_pending {
    uint64_t revision; /* the speaker must ack a revision >= this */
    int64_t due_ms;
    uint8_t sent; /* the speaker's socket has had an AUDIENCE of this revision */
} pv_ack_pending;

typedef struct pv_part {
    char id[PV_ID_MAX + 1];
    char display_name[PV_NAME_MAX + 1];
    uint8_t live, has_display_name;
    uint64_t uid;  /* core-global, never reused */
    uint32_t room; /* room slot */
    uint32_t conn; /* authenticated connection slot, or PV_NONE */
    uint32_t next_free;
    uint32_t member_index; /* scratch: index in room->members, set by build_audiences */
    /* session */
    int64_t issued_now_ms, issued_wall_ms;
    uint8_t ever_connected;
    /* pose */
    uint8_t has_pose, has_orient;
    pv_vec3 pos;
    pv_orient orient;
    int64_t pose_ts_ms; /* latest accepted pose timestamp */
    uint64_t pose_seq;  /* core pose sequence number of the latest accepted pose */
    /* audibility (pair state and the capped canHear) */
    uint64_t *in_uids; /* PV_AUDIB_K slots, ascending */
    uint16_t in_count;
    uint64_t *hear_uid;  /* cfg.max_subscribed_voices, in participant-ID order */
    uint32_t *hear_slot; /* the same speakers as slots (check hear_uid before use) */
    uint32_t hear_count;
    uint8_t hear_posed;  /* canHear has been computed from a pose of this participant */
    uint64_t hear_seq;   /* core sequence bumped whenever the set changes */
    uint64_t client_rev; /* revision of the last SNAPSHOT/DELTA sent to the socket */
    uint64_t batch_seq;  /* core pose/hear sequence at this socket's last pose batch */
    /* audience (this participant as a speaker) */
    uint64_t aud_rev, aud_acked_rev;
    uint8_t aud_changed, aud_shrunk, aud_resend; /* resend: fresh LiveKit connection */
    pv_ack_pending ack[PV_ACK_QUEUE];
    uint32_t ack_n;
    /* LiveKit */
    uint8_t lk_present, has_mic, lk_dirty, remove_pending;
    int64_t lk_event_s, trk_event_s;             /* created_at of the last applied webhooks */
    int64_t presence_changed_ms, trk_changed_ms; /* now_ms of the last webhook change */
    char mic_sid[PV_TRACK_SID_MAX + 1];
    /* the last mic SID of this LiveKit presence (kept after an unpublish) */
    char seen_sid[PV_TRACK_SID_MAX + 1];
    /* LiveKit participant SID of the current presence ("" = unknown) */
    char conn_sid[PV_TRACK_SID_MAX + 1];
    uint64_t mic_gen;
    uint64_t lk_gen;      /* bumped on each fresh LiveKit connection / absence */
    pv_lk_entry *applied; /* cfg.max_subscribed_voices */
    uint32_t applied_n;
    /* Present in LiveKit since before this process saw it join (found by a
     * ListParticipants, e.g. after a daemon restart): what it is subscribed
     * to there is unknown, so every microphone of the room it should not
     * hear is unsubscribed once, in chunks of the cap (lkreconcile.c);
     * sweep_next: the room member index to go on from. The sweep waits
     * until canHear was computed from a pose of this participant (or
     * pose_staleness_ms passed since sweep_from_ms), so that pairs which
     * should go on hearing are not cut off for a moment. */
    uint8_t subs_unknown;
    uint32_t sweep_next;
    int64_t sweep_from_ms;
    uint32_t call; /* in-flight UPDATE_SUBSCRIPTIONS call slot, or PV_NONE */
    int64_t lk_backoff_ms, lk_retry_ms;
} pv_part;

typedef struct pv_room {
    char id[PV_ID_MAX + 1];
    uint8_t live, dirty, rc_pending, kick, list_pending, list_inflight, list_again, changed;
    uint8_t aud_resend;
    uint64_t uid;
    uint64_t revision;
    uint32_t *members; /* participant slots sorted by participant id */
    uint32_t n;
    uint32_t pairs; /* in-range pairs after the last compute */
    uint32_t next_free;
    uint32_t lk_dirty_n;     /* members with lk_dirty */
    int64_t list_backoff_ms; /* next ListParticipants retry delay after a failure */
    int64_t recomputed_ms;   /* now_ms of the last recompute; -1 before the first */
    /* pose batches (posebatch.c): a round follows the change that wants it,
     * at most every pose_batch_interval_ms */
    uint8_t pb_want;     /* a change since the last round start; the batch timer is set */
    uint8_t pb_due;      /* the batch timer fired; members' batches are being sent */
    uint8_t pb_begun;    /* pb_due and some members were already handled */
    uint8_t pb_again;    /* a change came after members were handled: another round */
    uint8_t pb_sent;     /* this round sent at least one batch */
    int64_t pb_fired_ms; /* now_ms the current round's timer fired */
    int64_t pb_tat_ms;   /* GCRA theoretical time of the next round; 0 (<= every now_ms) at first */
} pv_room;

typedef enum pv_conn_state { PV_CONN_FREE = 0, PV_CONN_OPEN, PV_CONN_AUTHED } pv_conn_state;

typedef struct pv_conn {
    uint32_t conn_id;
    uint8_t state;
    uint8_t pb_pending; /* pose batch due in the current round */
    uint32_t part;      /* participant slot when authenticated */
    uint32_t next_free;
} pv_conn;

typedef struct pv_call {
    uint64_t call_id; /* 0 = free slot */
    pv_lk_method method;
    uint32_t room, part;
    uint64_t room_uid, part_uid, lk_gen;
    int subscribe;
    int64_t issued_ms;
    pv_lk_entry entries[PV_CAP_MAX];
    uint32_t n;
    uint8_t sweep;      /* an unsubscribe of a subs_unknown sweep */
    uint32_t sweep_end; /* member index after its last entry */
} pv_call;

/* Indexed binary min-heap of timers, ordered by (due_ms, timer id). */
typedef struct pv_timers {
    int64_t *due;  /* [count] per timer id */
    uint32_t *pos; /* [count] heap index or PV_NONE */
    uint32_t *heap;
    uint32_t n, count;
} pv_timers;

/* Effects of one step plus the arena their arrays live in. */
typedef struct pv_outbuf {
    pv_effect *fx;
    uint32_t count, cap, budget;
    unsigned char *arena;
    size_t used_bytes, cap_bytes, budget_bytes;
    uint8_t more; /* deferred work remains: wake at now */
} pv_outbuf;

struct pv_core {
    pv_config cfg;
    pv_allocator a;
    pv_audib *au;
    int64_t now_ms, wall_ms;
    uint64_t next_uid, next_call_id, seq;
    uint64_t revision_hwm; /* highest revision any room of this core has had */
    /* pools */
    pv_room *rooms;
    uint32_t *room_order; /* live room slots sorted by room id */
    uint32_t n_rooms, room_free, room_limbo;
    pv_part *parts;
    uint32_t n_parts, part_free, part_limbo;
    pv_conn *conns;
    uint32_t *conn_order; /* used conn slots sorted by conn_id */
    uint32_t n_conns, n_authed, conn_free, conn_limbo;
    pv_call *calls;
    uint32_t n_calls, lk_dirty_n, list_pending_n;
    /* per-participant arrays (sized max_participants * x) */
    uint64_t *in_pool, *hear_uid_pool;
    uint32_t *hear_slot_pool, *member_pool;
    pv_lk_entry *applied_pool;
    /* recompute scratch, sized max_room_size */
    pv_vec3 *s_pos;
    uint64_t *s_uid;
    uint64_t **s_in;
    uint16_t *s_in_count;
    uint32_t *s_hear, *s_slot, *s_aud_off;
    uint8_t *s_hear_count;
    /* schedule */
    pv_timers timers;
    int64_t next_recompute_ms;
    uint8_t rc_round, pb_round, kicked; /* rooms/sockets flagged for work */
    int64_t wake_ms;
    char lk_cursor_room[PV_ID_MAX + 1], lk_cursor_part[PV_ID_MAX + 1];
    pv_outbuf out;
    pv_stats st;
};

/* ids.c */
int pv_copy_id(char *dst, const char *src);
int pv_copy_str(char *dst, size_t cap_bytes, const char *src);

/* timer.c */
int pv_timers_init(pv_timers *t, uint32_t count, const pv_allocator *a);
void pv_timers_free(pv_timers *t, const pv_allocator *a);
void pv_timer_set(pv_timers *t, uint32_t id, int64_t due_ms);
void pv_timer_clear(pv_timers *t, uint32_t id);
int64_t pv_timer_next(const pv_timers *t);
uint32_t pv_timer_pop_due(pv_timers *t, int64_t now_ms);
uint32_t pv_timer_part(const pv_core *c, uint32_t slot, pv_ptimer kind);
uint32_t pv_timer_conn(const pv_core *c, uint32_t slot);
uint32_t pv_timer_room(const pv_core *c, uint32_t slot);
uint32_t pv_timer_room_batch(const pv_core *c, uint32_t slot);

/* out.c */
int pv_out_init(pv_outbuf *o, const pv_config *cfg, const pv_allocator *a);
void pv_out_free(pv_outbuf *o, const pv_allocator *a);
void pv_out_reset(pv_outbuf *o);
int pv_out_fits(pv_outbuf *o, uint32_t effects, size_t bytes);
pv_effect *pv_out_push(pv_core *c, pv_effect_type type);
void *pv_out_alloc(pv_core *c, size_t bytes);
void pv_out_log(pv_core *c, pv_log_level lvl, const char *msg, const pv_part *p, uint32_t conn_id,
                int64_t value);

/* room.c */
uint32_t pv_room_find(const pv_core *c, const char *room_id);
uint32_t pv_room_create(pv_core *c, const char *room_id);
void pv_room_remove(pv_core *c, uint32_t r);
uint32_t pv_member_find(const pv_core *c, const pv_room *room, const char *participant_id);
uint32_t pv_room_lower_bound(const pv_core *c, const char *room_id);
uint32_t pv_member_upper_bound(const pv_core *c, const pv_room *room, const char *pid);
uint32_t pv_member_index(const pv_core *c, const pv_room *room, uint32_t slot);
uint32_t pv_part_create(pv_core *c, uint32_t r, const char *participant_id);
void pv_part_remove(pv_core *c, uint32_t p, const char *why);
void pv_release_limbo(pv_core *c);

/* session.c */
void pv_on_session(pv_core *c, const pv_session_request *req);
void pv_presence_update(pv_core *c, uint32_t p);
void pv_session_touch(pv_core *c, uint32_t p);
void pv_on_presence_timer(pv_core *c, uint32_t p);

/* pose.c */
void pv_on_poses(pv_core *c, const pv_pose_batch *b);

/* recompute.c */
void pv_recompute_due(pv_core *c);
void pv_recompute_room(pv_core *c, uint32_t r);
size_t pv_recompute_cost_bytes(const pv_core *c, uint32_t n);

/* socket.c */
void pv_on_socket_open(pv_core *c, uint32_t conn_id);
void pv_on_socket_auth(pv_core *c, const pv_socket_auth *a);
void pv_on_socket_message(pv_core *c, const pv_socket_message *m);
void pv_on_socket_closed(pv_core *c, uint32_t conn_id);
void pv_on_auth_timer(pv_core *c, uint32_t slot);
void pv_send_snapshot(pv_core *c, uint32_t p);
void pv_conn_close(pv_core *c, uint32_t slot, uint16_t code, const char *reason);
int pv_conn_known(const pv_core *c, uint32_t conn_id);

/* posebatch.c */
void pv_pose_batches_due(pv_core *c);
void pv_pose_batch_want(pv_core *c, uint32_t room);
void pv_on_batch_timer(pv_core *c, uint32_t room);
int pv_send_pose_batch(pv_core *c, uint32_t p);

/* audience.c */
void pv_send_audience(pv_core *c, uint32_t p);
void pv_audience_flush(pv_core *c, uint32_t r);
void pv_audience_require_ack(pv_core *c, uint32_t p, uint64_t revision);
void pv_on_audience_ack(pv_core *c, uint32_t p, uint64_t revision);
void pv_audience_on_publish(pv_core *c, uint32_t p);
void pv_audience_on_fresh_connection(pv_core *c, uint32_t p);
void pv_on_ack_timer(pv_core *c, uint32_t p);

/* lkreconcile.c */
void pv_lk_mark_room(pv_core *c, uint32_t r);
void pv_lk_mark(pv_core *c, uint32_t p);
void pv_lk_unmark(pv_core *c, uint32_t p);
void pv_lk_reset(pv_core *c, uint32_t p);
void pv_lk_reconcile(pv_core *c);
void pv_on_lk_timer(pv_core *c, uint32_t p);

/* lkcall.c */
uint32_t pv_call_new(pv_core *c, pv_lk_method m, uint32_t r, uint32_t p);
void pv_call_emit(pv_core *c, uint32_t k, const char *const *sids, uint32_t n);
void pv_on_livekit_result(pv_core *c, const pv_livekit_result *res);

void pv_lk_calls_forget_part(pv_core *c, uint32_t p);
void pv_lk_calls_forget_room(pv_core *c, uint32_t r);
void pv_lk_update_result(pv_core *c, const pv_call *call, pv_lk_outcome outcome);
void pv_lk_remove_result(pv_core *c, const pv_call *call, pv_lk_outcome outcome);
void pv_lk_list_result(pv_core *c, const pv_call *call, const pv_livekit_result *res);

/* lklist.c */
void pv_on_reconcile_timer(pv_core *c, uint32_t r);
void pv_lk_list_soon(pv_core *c, uint32_t r);
int pv_lk_issue_lists(pv_core *c);

/* webhook.c */
void pv_on_webhook(pv_core *c, const pv_webhook *w);
void pv_lk_set_absent(pv_core *c, uint32_t p);
void pv_lk_set_present(pv_core *c, uint32_t p);
int pv_lk_note_conn(pv_core *c, uint32_t p, const char *participant_sid);
void pv_lk_set_mic(pv_core *c, uint32_t p, const char *sid);

#endif /* PV_STATE_H */
