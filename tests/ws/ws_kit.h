/*
 * ws_kit.h - helpers of the policy socket protocol tests: a daemon with the
 * black-box kit (tests/blackbox/bb_*.c: process, HTTP client, fake
 * LiveKit), sessions and poses over HTTP, an authenticated WebSocket.
 */
#ifndef PV_WS_KIT_H
#define PV_WS_KIT_H

#include <stdint.h>

#include "bb.h"
#include "wsc.h"

#define WS_TOKEN_MAX 2048

/* A daemon with the black-box default environment plus ("NAME", "value",
 * ..., NULL) overrides (value NULL unsets). Returns 0 or -1. */
int ws_up(bb_daemon *d, bb_env *e, ...);
int64_t ws_wall_ms(void);

/* POST /sessions; the policySocketToken into token. Returns the status. */
int ws_session(int port, const char *room, const char *participant, char *token);

/* One pose of a scripted batch. */
typedef struct ws_pose {
    const char *id;
    double x, y, z;
} ws_pose;
/* POST /policy/poses (timestampMs = now, strictly increasing). Returns the
 * status, or -2 when not every pose was accepted. */
int ws_poses(int port, const char *room, const ws_pose *p, int n);

/* A policy socket token signed like the daemon's (BB_POL_SECRET). */
int ws_mint(char *token, const char *room, const char *participant, int64_t issued_at_wall_ms,
            int64_t ttl_s);

/* Connect and send {"type":"auth","token":token}. Returns 0 or -1. */
int ws_open_auth(wsc *c, int port, const char *token);
/* Wait for a message of the given type, skipping pose batches, audiences
 * and deltas of other types; a copy
 * goes to out. Returns 0, or -1 on timeout/close/other type (printed). */
int ws_expect(wsc *c, const char *type, int timeout_ms, char *out, size_t cap);

#endif
