/*
 * ws_json.h - policy.pose.batch serialisation with a per-speaker fragment
 * cache.
 *
 * Why: a pose batch goes to every listener of a speaker, so with a cap of 12
 * voices each pose is written ~12 times per 250 ms round, and writing a
 * pose means nine shortest-round-trip doubles (json_out.h), the daemon's
 * largest CPU cost at 10,000 sockets. Here each speaker's pose fragment
 * ({"participantId":..,"position":..,..}) is written once, by json_out
 * itself, and reused while the pose is unchanged, so the output is
 * byte-for-byte what pvjo_socket_send() writes (tests/io/test_ws_json.c
 * checks that on random batches).
 *
 * The cache is a fixed table (open addressing, PVWSJ_PROBE slots per key,
 * least recently used slot of the window replaced): bounded memory, no
 * allocation after pvwsj_new(). A fragment that does not fit a slot is
 * simply not cached.
 *
 * MUST rules: outputs follow json_out.h (b is reset; 0 or PV_EOVERFLOW /
 * PV_EINVAL). Single-threaded.
 */
#ifndef PV_WS_JSON_H
#define PV_WS_JSON_H

#include <stdint.h>

#include "json_out.h"
#include "pv.h"

#define PVWSJ_PROBE     8
#define PVWSJ_FRAG_MAX  480 /* bytes of one cached pose fragment */
#define PVWSJ_MAX_SLOTS (1u << 20)

typedef struct pvwsj pvwsj;

typedef struct pvwsj_stats {
    uint64_t hits, misses, uncached;
} pvwsj_stats;

/* A cache of at least min_slots slots (rounded up to a power of two, at
 * most PVWSJ_MAX_SLOTS). Returns 0, PV_EINVAL or PV_ENOMEM. */
int pvwsj_new(pvwsj **out, uint32_t min_slots);
void pvwsj_free(pvwsj *j);

/*
 * Write any server message: POSE_BATCH through the cache, every other type
 * with pvjo_socket_send(). Returns 0, PV_EOVERFLOW or PV_EINVAL.
 */
int pvwsj_socket_send(pvwsj *j, pvbuf *b, const pv_socket_send *s);

void pvwsj_get_stats(const pvwsj *j, pvwsj_stats *st);

#endif
