/*
 * ws_hs.h - the server side of the WebSocket opening handshake (RFC 6455
 * section 4.2) on an already parsed HTTP request. Pure: no IO, no clock.
 *
 * Checked, in this order (the first failure decides the answer):
 *  - method GET and HTTP/1.1                                   -> 400
 *  - exactly one Upgrade header whose value is "websocket"
 *    (case-insensitive) and a Connection header listing the
 *    token "upgrade"                                           -> 400
 *  - exactly one Sec-WebSocket-Version header, value "13"      -> 426 (the
 *    answer must carry "Sec-WebSocket-Version: 13", RFC 6455 4.4)
 *  - exactly one Sec-WebSocket-Key whose value is the canonical
 *    base64 of 16 bytes                                        -> 400
 * Sec-WebSocket-Protocol and Sec-WebSocket-Extensions are ignored: no
 * subprotocol is selected and no extension (permessage-deflate) is
 * negotiated, so every frame a client may send has RSV bits 0.
 *
 * The Origin allowlist is NOT checked here: the app's request path already
 * answered 403 for an Origin outside CORS_ALLOWED_ORIGINS before the route
 * runs (see app.h); a request without Origin is a non-browser client, which
 * cannot be a cross-site WebSocket hijack.
 */
#ifndef PV_WS_HS_H
#define PV_WS_HS_H

#include <stddef.h>

#include "http_conn.h"

#define PVWS_KEY_LEN     24  /* base64 of 16 bytes */
#define PVWS_ACCEPT_LEN  28  /* base64 of a SHA-1 digest */
#define PVWS_HS_RESP_MAX 160 /* the 101 answer built by pvws_hs_response */

/*
 * Validate r as a WebSocket upgrade. Returns 0 and key[0..PVWS_KEY_LEN]
 * (NUL-terminated) on success, or -1 with *status (400 or 426) and *why
 * (static text for the error body and logs).
 */
int pvws_hs_check(const pvh_request *r, char key[PVWS_KEY_LEN + 1], int *status, const char **why);

/* Sec-WebSocket-Accept for key: base64(SHA-1(key || GUID)), NUL-terminated. */
void pvws_hs_accept(const char *key, size_t key_len, char out[PVWS_ACCEPT_LEN + 1]);

/*
 * The complete "101 Switching Protocols" answer for key into out[0..cap).
 * Returns its length (no NUL counted), or PV_EOVERFLOW if cap is too small.
 */
int pvws_hs_response(char *out, size_t cap, const char key[PVWS_KEY_LEN + 1]);

#endif
