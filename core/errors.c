/*
 * errors.c - names of the core's error codes and of the API error model
 * (MVP-SPEC section 18) with their HTTP statuses.
 */
#include "pv.h"

/* Returns a static name for a PV_E* code ("unknown error" otherwise). */
const char *pv_strerror(int code) {
    switch (code) {
    case PV_OK:
        return "ok";
    case PV_EINVAL:
        return "invalid argument";
    case PV_ENOMEM:
        return "out of memory";
    case PV_EFULL:
        return "pool full";
    case PV_ENOTFOUND:
        return "not found";
    case PV_ESTATE:
        return "invalid state";
    case PV_EOVERFLOW:
        return "effect buffer overflow";
    default:
        return "unknown error";
    }
}

/* Returns the spec's code name ("NONE" for PV_ERR_NONE). */
const char *pv_api_error_name(pv_api_error e) {
    switch (e) {
    case PV_ERR_NONE:
        return "NONE";
    case PV_ERR_UNAUTHORIZED:
        return "UNAUTHORIZED";
    case PV_ERR_FORBIDDEN:
        return "FORBIDDEN";
    case PV_ERR_INVALID_PAYLOAD:
        return "INVALID_PAYLOAD";
    case PV_ERR_ROOM_NOT_FOUND:
        return "ROOM_NOT_FOUND";
    case PV_ERR_PARTICIPANT_NOT_FOUND:
        return "PARTICIPANT_NOT_FOUND";
    case PV_ERR_STALE_REVISION:
        return "STALE_REVISION";
    case PV_ERR_RATE_LIMITED:
        return "RATE_LIMITED";
    case PV_ERR_INTERNAL_ERROR:
        return "INTERNAL_ERROR";
    }
    return "INTERNAL_ERROR";
}

/* Returns the HTTP status of an API error (200 for PV_ERR_NONE). */
int pv_api_error_status(pv_api_error e) {
    switch (e) {
    case PV_ERR_NONE:
        return 200;
    case PV_ERR_UNAUTHORIZED:
        return 401;
    case PV_ERR_FORBIDDEN:
        return 403;
    case PV_ERR_INVALID_PAYLOAD:
        return 400;
    case PV_ERR_ROOM_NOT_FOUND:
        return 404;
    case PV_ERR_PARTICIPANT_NOT_FOUND:
        return 404;
    case PV_ERR_STALE_REVISION:
        return 409;
    case PV_ERR_RATE_LIMITED:
        return 429;
    case PV_ERR_INTERNAL_ERROR:
        return 500;
    }
    return 500;
}
