/*
 * sim.h - the simulated world: one core, a game server, a fake LiveKit, the
 * clients, a network between them, and the checkers watching it all.
 *
 * Everything is driven from one priority queue of sim_ev (sim_queue.h) and
 * the core's single wake-up time. Nothing reads a real clock or calls rand():
 * a run is a pure function of its seed. Components own their state and
 * their own PRNG stream; the checkers (check*.c, oracle.c) keep their own
 * records and never trust the fakes' bookkeeping for the property they test.
 *
 * Limits: SIM_PLAYERS_MAX players, SIM_QUEUE_CAP pending events, the pools
 * below; a breach ends the run as a simulator failure, never silently.
 */
#ifndef SIM_H
#define SIM_H

#include <stdint.h>

#include "pv.h"
#include "sim_opts.h"
#include "sim_pool.h"
#include "sim_prng.h"
#include "sim_pset.h"
#include "sim_queue.h"

#define SIM_EPOCH_WALL_MS 1760000000000LL /* wall_ms = this + now_ms */
#define SIM_QUEUE_CAP     65536
#define SIM_BATCH_POOL    512
#define SIM_LIST_POOL     8192
#define SIM_LIST_MAX      128   /* ids in one socket message / LiveKit call */
#define SIM_CONN_MAX      16384 /* conn table slots (conn_id % SIM_CONN_MAX) */
#define SIM_HELD_MAX      16    /* deltas a client holds while waiting for a snapshot */
#define SIM_GAME_TICK_MS  250
#define SIM_CHECK_TICK_MS 100
#define SIM_CAP           12
#define SIM_EPS_M         0.001 /* geometry margin of the oracle (1 mm) */
#define SIM_WINDOW_MS     2000  /* the 2-second guarantee */
#define SIM_TOKEN_TTL_MS  (10 * 60 * 1000)

enum sim_kind {
    K_NONE = 0,
    /* game server */
    K_GAME_TICK,
    K_PLAYER_JOIN,
    K_PLAYER_LEAVE,
    /* deliveries to the core (epoch carries SIM_FL_* flags) */
    K_CORE_SESSION,
    K_CORE_POSES,
    K_CORE_SOCK_OPEN,
    K_CORE_SOCK_AUTH,
    K_CORE_SOCK_MSG,
    K_CORE_SOCK_CLOSED,
    K_CORE_LK_RESULT,
    K_CORE_WEBHOOK,
    /* deliveries and timers of clients (epoch = client epoch) */
    K_CL_SESSION_REPLY,
    K_CL_SESSION_TIMEOUT,
    K_CL_SOCK_RETRY,
    K_CL_SOCK_OPENED,
    K_CL_SOCK_MSG,
    K_CL_SOCK_CLOSED,
    K_CL_LK_RETRY,
    K_CL_LK_LOST,
    K_CL_LK_JOINED,
    K_CL_ALLOW_DONE,
    /* requests reaching the fake LiveKit */
    K_LK_JOIN,
    K_LK_PUBLISH,
    K_LK_SET_ALLOW,
    K_LK_LEAVE,
    K_LK_CALL_APPLY,
    K_LK_RESTART,
    K_LK_UP,
    K_LK_ROOM_EMPTY,
    /* faults, checks and phases */
    K_CHECK_TICK,
    K_STORM_TOGGLE,
    K_PHASE_LIVENESS,
    K_PHASE_CONVERGE,
    K_END,
    K_COUNT
};

#define SIM_FL_FAULTY 1u /* the delivery itself is a fault (duplicate, late) */

enum sim_phase { PH_SAFETY = 0, PH_LIVENESS, PH_CONVERGE, PH_DONE };
enum sim_role { ROLE_HONEST = 0, ROLE_MAL_LISTENER, ROLE_MAL_SPEAKER };

/* A pose batch in flight from the game server to the core. */
typedef struct sim_batch {
    uint8_t room;
    uint16_t n;
    uint64_t request_id;
    struct {
        uint16_t player;
        uint8_t has_orient;
        pv_vec3 pos;
        pv_orient orient;
        int64_t ts_ms;
    } p[SIM_PLAYERS_MAX];
} sim_batch;

/* A list payload: a policy message to a client, an allow-list update, a
 * LiveKit call, or a ListParticipants answer. */
typedef struct sim_list {
    uint8_t type; /* pv_server_msg_type or pv_lk_method */
    uint8_t room;
    uint8_t subscribe;
    uint8_t error;   /* pv_api_error (policy.error) */
    uint16_t player; /* identity of a LiveKit call */
    uint16_t n;
    uint8_t bad_ids; /* ids the simulator could not map to a player */
    uint64_t revision, prev_revision;
    uint64_t call_id;
    uint16_t ids[SIM_LIST_MAX];
    uint32_t aux[SIM_LIST_MAX];  /* track numbers */
    uint32_t join[SIM_LIST_MAX]; /* ListParticipants: LiveKit join epochs (participant SIDs) */
} sim_list;

typedef struct sim_player {
    char id[8];
    uint8_t room, in_game, running;
    uint16_t hover_target; /* SIM_NOBODY or the partner it hovers around */
    double hover_dist_m, hover_angle;
    pv_vec3 pos;
    double heading;
} sim_player;

enum sim_sock { SK_DOWN = 0, SK_WAIT, SK_CONNECTING, SK_AUTHING, SK_LIVE };
enum sim_lkst { LKS_DOWN = 0, LKS_WAIT, LKS_JOINING, LKS_JOINED };
enum sim_sess { SS_NONE = 0, SS_REQUESTING, SS_OK };

typedef struct sim_client {
    uint8_t role, active;
    uint32_t epoch; /* bumped on leave: invalidates every pending client event */
    /* session */
    uint8_t sess;
    uint32_t sess_attempts, sess_count;
    int64_t token_expires_wall_ms;
    /* policy socket */
    uint8_t sock, blocked_1008;
    uint32_t conn_id, sock_failures;
    uint64_t rev;  /* last applied revision, 0 = none this session */
    sim_pset hear; /* applied canHear */
    uint8_t gap, have_snapshot;
    uint32_t held[SIM_HELD_MAX], n_held;
    /* LiveKit */
    uint8_t lk;
    uint32_t lk_attempt, lk_failures;
    uint32_t lk_join;               /* LiveKit's join epoch of our current participant */
    uint64_t aud_rev;               /* last audience applied at LiveKit */
    uint32_t pend_aud;              /* audience received while not joined, or SIM_NO_BLOB */
    int64_t sig_up_ms, sig_down_ms; /* LiveKit signalling keeps order both ways */
    int64_t ready_since;            /* -1 while not ready */
} sim_client;

typedef struct sim_lk_part {
    uint8_t joined, room, allow_all;
    uint32_t join_epoch, attempt;
    uint32_t track; /* 0: nothing published */
    sim_pset allow;
    uint32_t sub[SIM_PLAYERS_MAX]; /* track subscribed per speaker; 0 none */
} sim_lk_part;

typedef struct sim_lk {
    uint8_t up;
    uint32_t boot, next_track, next_join;
    uint64_t changes; /* bumped on every forwarding-relevant change */
    uint64_t calls, calls_failed, calls_timeout, not_found, removed, restarts, webhooks;
    sim_lk_part p[SIM_PLAYERS_MAX];
} sim_lk;

typedef struct sim_conn {
    uint32_t conn_id;
    uint16_t player;
    uint8_t core_open;    /* the core was told SOCKET_OPEN and not yet SOCKET_CLOSED */
    uint8_t client_alive; /* the client still reads it */
    uint8_t closing;      /* the core closed it: deliver what is queued, then the close */
    int64_t s2c_last_ms, c2s_last_ms; /* TCP keeps order per direction */
    uint64_t last_delta_rev;          /* checker: DELTA revisions strictly increase per conn */
    uint32_t deltas_queued;           /* DELTAs in flight to the client on this connection */
    int64_t batch_tat_ms;             /* checker: GCRA of pose batches per conn; -1 = none yet */
    uint32_t batches;                 /* pose batches sent on this conn */
} sim_conn;

/* Oracle + checker state for one ordered pair (listener, speaker). */
typedef struct sim_pair {
    int64_t near_since, far_since, band_since; /* -1: condition not holding */
    int8_t band_state; /* pv_core_pair_in_range seen in the band, -1 unknown */
} sim_pair;

typedef struct sim_oracle {
    uint8_t has[SIM_PLAYERS_MAX];
    uint8_t unsure[SIM_PLAYERS_MAX]; /* the core's latest timestamp is not known exactly */
    pv_vec3 pos[SIM_PLAYERS_MAX];
    int64_t ts_ms[SIM_PLAYERS_MAX];
} sim_oracle;

#define SIM_PENDING_MAX 4096
typedef struct sim_pending {
    uint16_t l, s;
    int64_t since_ms;
} sim_pending;

#define SIM_HIST_MS 10000 /* latency histogram: 1 ms buckets, the last one is "or more" */
typedef struct sim_hist {
    uint64_t n, max_ms;
    uint32_t bucket[SIM_HIST_MS + 1];
} sim_hist;

typedef struct sim_metrics {
    sim_pending enter[SIM_PENDING_MAX], exit[SIM_PENDING_MAX];
    uint32_t n_enter, n_exit, dropped;
    sim_hist enter_ms, exit_ms;
} sim_metrics;

typedef struct sim_check {
    sim_pair pair[SIM_PLAYERS_MAX][SIM_PLAYERS_MAX];
    uint64_t room_rev[SIM_ROOMS_MAX];
    uint64_t recomputes;
    uint64_t client_rev[SIM_PLAYERS_MAX]; /* last applied, per session */
    /* malicious speaker: the time an unacked shrink was sent to its join */
    sim_pset mal_last_aud;
    int64_t mal_shrink_ms;
    uint32_t mal_shrink_join;
    int64_t converged_ms;
    uint64_t checks;
    /* how often each property was actually evaluated (a check that never
     * runs proves nothing; the report prints these) */
    uint64_t n_safety_core, n_safety_lk, n_liveness, n_band, n_cap, n_mal;
} sim_check;

/* Deliberate defects in the fakes (--break NAME) that prove the checkers can
 * fail: `make test-sim` runs each and expects the named property to fire. */
#define SIM_BREAK_LK_FORWARD_ALL 1u /* LiveKit forwards every published track */
#define SIM_BREAK_SKIP_DELTAS    2u /* clients silently drop every 4th delta */

typedef struct sim {
    sim_opts o;
    int verbose;
    uint32_t sabotage; /* SIM_BREAK_* */
    uint32_t skipped;
    int64_t now_ms, end_ms;
    sim_queue q;
    pv_core *core;
    int64_t core_wake_ms;
    uint32_t same_time_steps;
    uint64_t trace, steps;
    sim_rng rng_game, rng_net, rng_lk, rng_client, rng_fault;
    sim_pool batches, lists;
    int phase, storm;
    int64_t last_fault_ms, liveness_start_ms, converge_start_ms;
    uint32_t next_conn_id;
    uint64_t next_pose_req;
    uint64_t pred_request; /* the pose batch the oracle just predicted */
    uint32_t pred_min, pred_max;
    char room_id[SIM_ROOMS_MAX][8];
    sim_player pl[SIM_PLAYERS_MAX];
    sim_client cl[SIM_PLAYERS_MAX];
    sim_lk lk;
    sim_conn *conns;
    sim_oracle oracle;
    sim_check chk;
    sim_metrics met;
    /* scratch for building core events (valid during one step) */
    pv_pose_in scratch_poses[SIM_PLAYERS_MAX];
    pv_lk_participant scratch_parts[SIM_PLAYERS_MAX];
    char scratch_sids[SIM_PLAYERS_MAX][16];
    char scratch_psids[SIM_PLAYERS_MAX][16]; /* participant SIDs "PA_<join epoch>" */
    /* counters for the report */
    uint64_t faults, poses_sent, poses_accepted, deltas, snapshots, audiences, acks;
    uint64_t disconnects, closes_1008, sessions, gaps;
    /* failure */
    int failed;
    char failure[512];
} sim;

/* loop.c */
int sim_init(sim *s, uint64_t seed, int64_t safety_ms_override, int verbose, uint32_t sabotage);
void sim_free(sim *s);
int sim_run(sim *s); /* 0 pass, 1 property failure */
void sim_schedule(sim *s, int64_t at_ms, const sim_ev *ev);
void sim_fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line of the --verbose trace (prefixed with now_ms); nothing otherwise. */
void sim_log(const sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_note_fault(sim *s);
int sim_faults_on(const sim *s);
int64_t sim_wall_ms(const sim *s);
uint32_t sim_list_new(sim *s);
sim_list *sim_list_at(sim *s, uint32_t h);
void sim_list_free(sim *s, uint32_t h);

/* ids.c: player / room / track ids <-> strings */
int sim_player_of(const sim *s, const char *id);
int sim_room_of(const sim *s, const char *id);
uint32_t sim_track_of(const char *sid);
const char *sim_track_sid(sim *s, uint32_t slot, uint32_t track);
const char *sim_participant_sid(sim *s, uint32_t slot, uint32_t join);

/* drive.c: the only place that calls pv_core_step */
void sim_core_step(sim *s, pv_event *ev);
void sim_core_tick(sim *s);
void sim_core_deliver(sim *s, const sim_ev *ev);

/* effects.c */
void sim_on_effect(sim *s, const pv_effect *e);

/* net.c */
int64_t sim_net_delay(sim *s, int64_t lo, int64_t hi);
void sim_net_post_poses(sim *s, uint32_t batch);
void sim_net_session_request(sim *s, uint16_t player, uint64_t request_id);
void sim_net_session_reply(sim *s, uint16_t player, const pv_session_reply *r);
void sim_net_webhook(sim *s, pv_webhook_kind kind, uint16_t player, uint32_t track);
uint32_t sim_conn_open(sim *s, uint16_t player);
sim_conn *sim_conn_get(sim *s, uint32_t conn_id);
void sim_sock_to_core(sim *s, uint32_t conn_id, sim_ev *ev);
void sim_sock_to_client(sim *s, uint32_t conn_id, sim_ev *ev);
void sim_sock_kill(sim *s, uint32_t conn_id);
void sim_sock_client_close(sim *s, uint32_t conn_id);
int sim_sock_shed_delta(sim *s, sim_conn *c);
void sim_sock_stall(sim *s, uint32_t conn_id, int64_t ms);
void sim_sock_core_close(sim *s, uint32_t conn_id, uint16_t code);

/* game.c */
void sim_game_start(sim *s);
void sim_game_on_event(sim *s, const sim_ev *ev);

/* client.c, client_sock.c, client_lk.c */
void sim_client_start(sim *s, uint16_t p);
void sim_client_stop(sim *s, uint16_t p);
void sim_client_on_event(sim *s, const sim_ev *ev);
void sim_client_session_reply(sim *s, const sim_ev *ev);
void sim_client_sock_event(sim *s, const sim_ev *ev);
void sim_client_sock_open(sim *s, uint16_t p);
void sim_client_sock_reset(sim *s, uint16_t p);
void sim_client_lk_event(sim *s, const sim_ev *ev);
void sim_client_lk_connect(sim *s, uint16_t p);
void sim_client_update_ready(sim *s, uint16_t p);
void sim_client_audience(sim *s, uint16_t p, uint32_t blob);
void sim_client_lk_stop(sim *s, uint16_t p);
void sim_signal_to_lk(sim *s, uint16_t p, sim_ev *ev);
void sim_signal_to_client(sim *s, uint16_t p, sim_ev *ev, int64_t extra_ms);
void sim_client_sock_stop(sim *s, uint16_t p);
void sim_client_request_session(sim *s, uint16_t p);
int64_t sim_backoff_ms(sim *s, uint32_t failures);

/* livekit_fake.c, livekit_calls.c */
void sim_lk_on_event(sim *s, const sim_ev *ev);
void sim_lk_on_call(sim *s, const pv_livekit_call *c);
void sim_lk_apply_call(sim *s, const sim_ev *ev);
void sim_lk_drop_participant(sim *s, uint16_t p, int webhooks);
void sim_lk_kick(sim *s, uint16_t p, pv_webhook_kind why);
int sim_lk_forwarded(const sim *s, uint16_t l, uint16_t sp);

/* faults.c */
void sim_faults_start(sim *s);
void sim_faults_on_event(sim *s, const sim_ev *ev);
void sim_faults_check_tick(sim *s);

/* oracle.c */
void sim_oracle_feed(sim *s, const sim_batch *b);
void sim_oracle_forget(sim *s, uint16_t p);
void sim_oracle_update_pairs(sim *s, uint8_t room);
void sim_check_init(sim *s);
double sim_dist(const pv_vec3 *a, const pv_vec3 *b);

/* check.c, check_pairs.c, check_converge.c */
void sim_check_after_step(sim *s);
void sim_check_tick(sim *s);
void sim_check_sent(sim *s, sim_conn *c, const pv_socket_send *m);
void sim_check_client_applied(sim *s, uint16_t p, uint64_t revision);
void sim_check_poses_reply(sim *s, const pv_poses_reply *r);
void sim_check_pairs_tick(sim *s);
void sim_check_cap(sim *s);
void sim_check_malicious_tick(sim *s);
void sim_check_converge_tick(sim *s);
int sim_pair_ready(const sim *s, uint16_t l, uint16_t sp, int64_t *since_ms);

/* metrics.c */
void sim_metrics_on_pair(sim *s, uint16_t l, uint16_t sp, int near_now, int far_now);
void sim_metrics_scan(sim *s);
void sim_hist_add(sim_hist *h, int64_t ms);
void sim_hist_merge(sim_hist *dst, const sim_hist *src);
void sim_hist_print(const char *name, const sim_hist *h);

#endif /* SIM_H */
