/*
 * http_conn_int.h - private layout of pvh_conn, shared by http_conn.c
 * (parsing, limits, timeouts) and http_resp.c (response framing).
 */
#ifndef PV_HTTP_CONN_INT_H
#define PV_HTTP_CONN_INT_H

#include "http_conn.h"

/* Where the request on this connection is. */
enum {
    RQ_IDLE = 0, /* between requests */
    RQ_READING,  /* some bytes of a request parsed, not complete */
    RQ_WAITING,  /* dispatched; the handler has not answered yet */
};

struct pvh_conn {
    http_parser parser;
    const pvh_limits *lim;
    const pvh_handler *h;
    uint32_t id;
    pvh_state state;
    int rq;             /* RQ_* */
    int draining;       /* no more keep-alive */
    int parser_upgrade; /* http-parser stopped at an Upgrade request */
    int peer_eof;       /* the peer shut down its sending side */
    int64_t now_ms;     /* time of the current entry point (callbacks read it) */
    void *user;
    void *owner;
    char peer[64];
    const char *close_reason;

    /* input: bytes [in_off, in_len) are not parsed yet */
    char in[PVH_IN_BYTES];
    size_t in_off, in_len;

    /* header store: target, header names/values, path copy (NUL-separated) */
    char *hs;
    size_t hs_len, hs_cap;
    int hdr_last_value; /* 1 if the last header callback was a value */
    int in_trailer;     /* headers complete: further header callbacks are trailers */
    uint32_t hdr_bytes; /* request line + header bytes seen (limit) */

    char *body;
    size_t body_len, body_cap;
    uint32_t name_off[PVH_MAX_HEADERS], value_off[PVH_MAX_HEADERS];
    uint32_t target_off;

    /* output: bytes [out_off, out_len) are queued */
    char *out;
    size_t out_off, out_len, out_cap;

    int64_t last_activity_ms, req_start_ms, out_since_ms;
    uint64_t seq;
    pvh_request req;

    /* refusal decided inside a parser callback */
    int refuse_status;
    const char *refuse_msg;
};

/* Append n bytes of output at now_ms. Returns 0 or PV_ENOMEM / PV_EINVAL
 * (beyond PVH_OUT_MAX_BYTES queued). */
int pvh_out_append(pvh_conn *c, const char *p, size_t n, int64_t now_ms);
/* Called by the response code once the current request is answered. */
void pvh_conn_answered(pvh_conn *c, int close);

#endif
