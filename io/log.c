/*
 * log.c - structured JSON log lines, buffered, flushed before the loop sleeps.
 */
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const char *pvlog_level_name(pv_log_level level) {
    return (unsigned)level < 4 ? level_names[level] : "info";
}

void pvlog_init(pvlog *l, int fd, pv_log_level min_level) {
    memset(l, 0, sizeof *l);
    l->fd = fd;
    l->min_level = (int)min_level;
    l->ts_sec = INT64_MIN;
    pvbuf_init(&l->line, l->line_mem, sizeof l->line_mem);
}

/* ISO 8601 UTC with milliseconds; the date part is cached per second. */
static void format_ts(pvlog *l, int64_t wall_ms, char out[32]) {
    int64_t sec = wall_ms >= 0 ? wall_ms / 1000 : (wall_ms - 999) / 1000;
    int ms = (int)(wall_ms - sec * 1000);
    if (sec != l->ts_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(l->ts, sizeof l->ts, "%Y-%m-%dT%H:%M:%S", &tm);
        l->ts_sec = sec;
    }
    size_t n = strlen(l->ts);
    memcpy(out, l->ts, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

int pvlog_begin(pvlog *l, int64_t wall_ms, pv_log_level level, const char *message) {
    assert(!l->in_line);
    if ((int)level < l->min_level) return 0;
    char ts[32];
    format_ts(l, wall_ms, ts);
    pvbuf_reset(&l->line);
    pvbuf_cstr(&l->line, "{\"timestamp\":\"");
    pvbuf_cstr(&l->line, ts);
    pvbuf_cstr(&l->line, "\",\"level\":\"");
    pvbuf_cstr(&l->line, pvlog_level_name(level));
    pvbuf_cstr(&l->line, "\",\"service\":\"" PVLOG_SERVICE "\",\"message\":");
    pvbuf_jstr(&l->line, message ? message : "");
    l->in_line = 1;
    l->cur_message = message ? message : "";
    l->cur_level = (int)level;
    l->cur_wall_ms = wall_ms;
    return 1;
}

static void key(pvlog *l, const char *k) {
    pvbuf_cstr(&l->line, ",\"");
    pvbuf_cstr(&l->line, k);
    pvbuf_cstr(&l->line, "\":");
}

void pvlog_str(pvlog *l, const char *k, const char *value) {
    if (!l->in_line || !value) return;
    key(l, k);
    pvbuf_jstr(&l->line, value);
}

void pvlog_strn(pvlog *l, const char *k, const char *value, size_t n) {
    if (!l->in_line || !value) return;
    key(l, k);
    pvbuf_jstrn(&l->line, value, n);
}

void pvlog_int(pvlog *l, const char *k, int64_t value) {
    if (!l->in_line) return;
    key(l, k);
    pvbuf_i64(&l->line, value);
}

void pvlog_format_id(char out[17], uint64_t id) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[id & 15];
        id >>= 4;
    }
    out[16] = '\0';
}

void pvlog_ids(pvlog *l, const char *room_id, const char *participant_id, uint64_t request_id,
               uint32_t conn_id) {
    pvlog_str(l, "roomId", room_id);
    pvlog_str(l, "participantId", participant_id);
    if (request_id) {
        char id[17];
        pvlog_format_id(id, request_id);
        pvlog_str(l, "requestId", id);
    }
    if (conn_id) pvlog_int(l, "connectionId", conn_id);
}

static void queue(pvlog *l, const char *s, size_t n) {
    if (l->len + n > sizeof l->buf) pvlog_flush(l);
    if (l->len + n > sizeof l->buf) { /* fd < 0 and full: keep the newest */
        l->dropped_bytes += l->len;
        l->len = 0;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

void pvlog_end(pvlog *l) {
    if (!l->in_line) return;
    l->in_line = 0;
    pvbuf_cstr(&l->line, "}\n");
    if (pvbuf_status(&l->line) != 0) {
        /* Too long: keep the head fields only, and say so. */
        const char *msg = l->cur_message;
        size_t n = strlen(msg);
        pv_log_level level = (pv_log_level)l->cur_level;
        pvlog_begin(l, l->cur_wall_ms, level, NULL);
        l->in_line = 0;
        l->line.len -= 2; /* drop the empty message "" */
        pvbuf_jstrn(&l->line, msg, n > 256 ? 256 : n);
        pvbuf_cstr(&l->line, ",\"truncated\":true}\n");
        assert(pvbuf_status(&l->line) == 0);
    }
    queue(l, l->line.p, l->line.len);
    l->lines++;
}

int pvlog_flush(pvlog *l) {
    if (l->fd < 0) return 0;
    size_t off = 0;
    while (off < l->len) {
        ssize_t w = write(l->fd, l->buf + off, l->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            l->dropped_bytes += l->len - off;
            l->len = 0;
            return -1;
        }
        off += (size_t)w;
    }
    l->len = 0;
    return 0;
}
