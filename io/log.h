/*
 * log.h - structured JSON log lines (MVP-SPEC 19.1) to a file descriptor.
 *
 * Every line is one JSON object terminated by '\n':
 *   {"timestamp":"2025-11-21T10:52:08.123Z","level":"info",
 *    "service":"proximity-voice-control","message":"session created",
 *    "roomId":"r1","participantId":"p1","requestId":"00000001a2b3c4d5", ...}
 * roomId / participantId / requestId / connectionId appear when known.
 *
 * Lines are appended to an in-memory buffer and written out by
 * pvlog_flush(), which the daemon calls before its loop sleeps (like Redis'
 * beforeSleep), or when the buffer fills up. Nothing here allocates.
 *
 * MUST rules:
 *  - A line is built between pvlog_begin() (returns 0 when the level is
 *    filtered: then skip the field calls, they would be no-ops anyway) and
 *    pvlog_end(). Lines do not nest.
 *  - Keys are static ASCII literals (not escaped); values are escaped.
 *  - A line longer than PVLOG_LINE_MAX is replaced by a short line saying so.
 */
#ifndef PV_LOG_H
#define PV_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "json_out.h"
#include "pv.h"

#define PVLOG_LINE_MAX  2048
#define PVLOG_BUF_BYTES 65536
#define PVLOG_SERVICE   "proximity-voice-control"

typedef struct pvlog {
    int fd;        /* -1: keep lines in memory only (tests read buf) */
    int min_level; /* pv_log_level */
    char buf[PVLOG_BUF_BYTES];
    size_t len;
    uint64_t lines, dropped_bytes;
    int in_line;
    const char *cur_message; /* of the line being built (for truncation) */
    int cur_level;
    int64_t cur_wall_ms;
    pvbuf line;
    char line_mem[PVLOG_LINE_MAX + 1];
    int64_t ts_sec; /* cached formatted second */
    char ts[32];
} pvlog;

void pvlog_init(pvlog *l, int fd, pv_log_level min_level);

/* Start a line at wall time wall_ms. Returns 1, or 0 if level < min_level. */
int pvlog_begin(pvlog *l, int64_t wall_ms, pv_log_level level, const char *message);
/* Fields; a NULL string value omits the field. */
void pvlog_str(pvlog *l, const char *key, const char *value);
void pvlog_strn(pvlog *l, const char *key, const char *value, size_t n);
void pvlog_int(pvlog *l, const char *key, int64_t value);
/* roomId, participantId, requestId (16 hex digits) and connectionId; each
 * omitted when NULL / 0. */
void pvlog_ids(pvlog *l, const char *room_id, const char *participant_id, uint64_t request_id,
               uint32_t conn_id);
/* Finish the line and queue it. */
void pvlog_end(pvlog *l);

/* Write queued lines to fd. Returns 0, or -1 if a write failed (the lines
 * are dropped and counted: a stuck stdout must not stall the daemon). */
int pvlog_flush(pvlog *l);

const char *pvlog_level_name(pv_log_level level);

/* Format a request id as 16 lowercase hex digits (out: 17 bytes). */
void pvlog_format_id(char out[17], uint64_t id);

#endif
