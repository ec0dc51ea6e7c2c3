/*
 * http_client.h - the outgoing HTTP interface the app uses (LiveKit's API,
 * the readiness probe). Implemented on libcurl multi + libev in
 * io/ev_curl.c; declared here, libev-free, so app code and tests depend
 * only on these types.
 *
 * MUST rules:
 *  - The completion callback is never called from inside pvhc_submit(),
 *    not even for an immediate failure: it always runs later from the event
 *    loop, so a caller may submit while handling core effects without being
 *    re-entered.
 *  - Exactly one completion per accepted submission (also on shutdown:
 *    pending transfers complete with status 0 and error "cancelled").
 *  - The request's strings are copied at submission; the result's body is
 *    valid only during the callback.
 *  - Bounded: at most max_concurrency transfers run at once (connections are
 *    reused per host); at most max_queued wait; beyond that pvhc_submit
 *    returns PV_EFULL. Each transfer has its own timeout (ms, never rounded
 *    to seconds) and a bounded response body (PVHC_MAX_RESPONSE_BYTES).
 */
#ifndef PV_HTTP_CLIENT_H
#define PV_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define PVHC_MAX_RESPONSE_BYTES (1024 * 1024)
#define PVHC_MAX_HEADERS        8

typedef struct pvhc_request {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *headers[PVHC_MAX_HEADERS]; /* "Name: value", NULL-terminated list */
    const char *body;                      /* POST body (may be NULL) */
    size_t body_len;
    int64_t timeout_ms; /* whole transfer, including connect */
} pvhc_request;

typedef struct pvhc_result {
    int status;        /* HTTP status, or 0 when no response was received */
    const char *error; /* NULL on a received response; else why (timeout, refused...) */
    const char *body;  /* response body ("" if none), NUL-terminated */
    size_t body_len;
    int64_t elapsed_ms;
} pvhc_result;

typedef void (*pvhc_done_fn)(void *ud, const pvhc_result *res);

typedef struct pvhc pvhc;

#endif
