/*
 * config.c - configuration defaults (MVP-SPEC section 6.3) and the
 * consistency check run by pv_core_new().
 */
#include "state.h"

/* Fills every field with its default. */
void pv_config_default(pv_config *cfg) {
    *cfg = (pv_config){0};
    cfg->max_rooms = 1024;
    cfg->max_participants = 10000;
    cfg->max_room_size = 200;
    cfg->max_connections = 10000;
    cfg->max_pairs = 64u * cfg->max_participants;
    cfg->max_inflight_calls = 64;
    cfg->max_subscribed_voices = 12;
    cfg->enter_radius_m = 24.0;
    cfg->exit_radius_m = 26.0;
    cfg->recompute_interval_ms = 250;
    cfg->recompute_on_pose = 0;
    cfg->pose_staleness_ms = 2000;
    cfg->pose_future_ms = 5000;
    cfg->session_idempotency_ms = 10000;
    cfg->session_idle_ms = 600000;
    cfg->reconnect_grace_ms = 20000;
    cfg->audience_ack_deadline_ms = 2000;
    cfg->livekit_backoff_min_ms = 100;
    cfg->livekit_backoff_max_ms = 1000;
    cfg->pose_batch_interval_ms = 250;
    cfg->socket_auth_deadline_ms = 5000;
    cfg->livekit_reconcile_interval_ms = 10000;
    cfg->max_effects_per_step = 65536;
    cfg->round_slices = 10;
}

#define DAY_MS (86400LL * 1000)

static int check_counts(const pv_config *c, const char **why) {
    if (c->round_slices < 1 || c->round_slices > 1000) return *why = "round_slices", PV_EINVAL;
    if (c->max_rooms < 1 || c->max_rooms > 1000000) return *why = "max_rooms", PV_EINVAL;
    if (c->max_participants < 1 || c->max_participants > 10000000)
        return *why = "max_participants", PV_EINVAL;
    if (c->max_room_size < 1 || c->max_room_size > 65535) return *why = "max_room_size", PV_EINVAL;
    if (c->max_connections < 1 || c->max_connections > 10000000)
        return *why = "max_connections", PV_EINVAL;
    if (c->max_pairs < 1) return *why = "max_pairs", PV_EINVAL;
    if (c->max_inflight_calls < 1 || c->max_inflight_calls > 65536)
        return *why = "max_inflight_calls", PV_EINVAL;
    if (c->max_subscribed_voices < 1 || c->max_subscribed_voices > PV_CAP_MAX)
        return *why = "max_subscribed_voices", PV_EINVAL;
    if (c->max_effects_per_step < 16 || c->max_effects_per_step > 16000000)
        return *why = "max_effects_per_step", PV_EINVAL;
    return 0;
}

static int ms_ok(int64_t v, int64_t min) {
    return v >= min && v <= DAY_MS * 365;
}

static int check_times(const pv_config *c, const char **why) {
    if (!ms_ok(c->recompute_interval_ms, 1)) return *why = "recompute_interval_ms", PV_EINVAL;
    if (!ms_ok(c->pose_staleness_ms, 0)) return *why = "pose_staleness_ms", PV_EINVAL;
    if (!ms_ok(c->pose_future_ms, 0)) return *why = "pose_future_ms", PV_EINVAL;
    if (!ms_ok(c->session_idempotency_ms, 0)) return *why = "session_idempotency_ms", PV_EINVAL;
    if (!ms_ok(c->session_idle_ms, 1)) return *why = "session_idle_ms", PV_EINVAL;
    if (!ms_ok(c->reconnect_grace_ms, 0)) return *why = "reconnect_grace_ms", PV_EINVAL;
    if (!ms_ok(c->audience_ack_deadline_ms, 1)) return *why = "audience_ack_deadline_ms", PV_EINVAL;
    if (!ms_ok(c->livekit_backoff_min_ms, 1)) return *why = "livekit_backoff_min_ms", PV_EINVAL;
    if (!ms_ok(c->livekit_backoff_max_ms, c->livekit_backoff_min_ms))
        return *why = "livekit_backoff_max_ms", PV_EINVAL;
    if (!ms_ok(c->pose_batch_interval_ms, 1)) return *why = "pose_batch_interval_ms", PV_EINVAL;
    if (!ms_ok(c->socket_auth_deadline_ms, 1)) return *why = "socket_auth_deadline_ms", PV_EINVAL;
    if (!ms_ok(c->livekit_reconcile_interval_ms, 1))
        return *why = "livekit_reconcile_interval_ms", PV_EINVAL;
    return 0;
}

/* Returns 0 if consistent, else PV_EINVAL with *why naming the field. */
int pv_config_check(const pv_config *cfg, const char **why) {
    const char *dummy;
    if (!why) why = &dummy;
    *why = NULL;
    if (!cfg) return *why = "cfg", PV_EINVAL;
    int rc = check_counts(cfg, why);
    if (rc == 0) rc = check_times(cfg, why);
    if (rc != 0) return rc;
    /* NaN fails both comparisons below. */
    if (!(cfg->enter_radius_m > 0.0 && cfg->enter_radius_m <= 1e6))
        return *why = "enter_radius_m", PV_EINVAL;
    if (!(cfg->exit_radius_m >= cfg->enter_radius_m && cfg->exit_radius_m <= 1e6))
        return *why = "exit_radius_m", PV_EINVAL;
    if (cfg->recompute_on_pose != 0 && cfg->recompute_on_pose != 1)
        return *why = "recompute_on_pose", PV_EINVAL;
    return 0;
}
