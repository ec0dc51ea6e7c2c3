/*
 * ws_hs.c - WebSocket opening handshake checks and the 101 answer.
 */
#include "ws_hs.h"

#include <assert.h>
#include <bearssl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "pv.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Value without surrounding spaces/tabs: [*b, *b + *n). */
static void trim(const char *v, size_t len, const char **b, size_t *n) {
    while (len > 0 && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    *b = v;
    *n = len;
}

static int value_is(const pvh_header *h, const char *want) {
    const char *b;
    size_t n;
    trim(h->value, h->value_len, &b, &n);
    return n == strlen(want) && strncasecmp(b, want, n) == 0;
}

/* 1 if any Connection header lists the token (comma-separated, any case). */
static int connection_has(const pvh_request *r, const char *token) {
    size_t tl = strlen(token);
    for (uint32_t i = 0; i < r->header_count; i++) {
        const pvh_header *h = &r->headers[i];
        if (strcmp(h->name, "connection") != 0) continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            const char *b;
            size_t n;
            trim(p, (size_t)(stop - p), &b, &n);
            if (n == tl && strncasecmp(b, token, n) == 0) return 1;
            p = comma ? comma + 1 : end;
        }
    }
    return 0;
}

/* The single header named lname, or NULL if absent or repeated. */
static const pvh_header *single(const pvh_request *r, const char *lname) {
    uint32_t count = 0;
    const pvh_header *h = pvh_header_find(r, lname, &count);
    return count == 1 ? h : NULL;
}

static int fail(int *status, const char **why, int s, const char *w) {
    *status = s;
    *why = w;
    return -1;
}

int pvws_hs_check(const pvh_request *r, char key[PVWS_KEY_LEN + 1], int *status, const char **why) {
    key[0] = '\0';
    if (strcmp(r->method_name, "GET") != 0 || r->http_minor != 1)
        return fail(status, why, 400, "a WebSocket upgrade must be GET over HTTP/1.1");
    const pvh_header *up = single(r, "upgrade");
    if (!up || !value_is(up, "websocket") || !connection_has(r, "upgrade"))
        return fail(status, why, 400, "Upgrade: websocket and Connection: Upgrade required");
    const pvh_header *ver = single(r, "sec-websocket-version");
    if (!ver || !value_is(ver, "13"))
        return fail(status, why, 426, "Sec-WebSocket-Version must be 13");
    const pvh_header *k = single(r, "sec-websocket-key");
    const char *b = "";
    size_t n = 0;
    if (k) trim(k->value, k->value_len, &b, &n);
    unsigned char raw[18];
    if (n != PVWS_KEY_LEN || pvb64_decode(raw, sizeof raw, b, n, PVB64_STD) != 16)
        return fail(status, why, 400, "Sec-WebSocket-Key must be base64 of 16 bytes");
    memcpy(key, b, PVWS_KEY_LEN);
    key[PVWS_KEY_LEN] = '\0';
    return 0;
}

void pvws_hs_accept(const char *key, size_t key_len, char out[PVWS_ACCEPT_LEN + 1]) {
    br_sha1_context sha;
    unsigned char digest[br_sha1_SIZE];
    br_sha1_init(&sha);
    br_sha1_update(&sha, key, key_len);
    br_sha1_update(&sha, ws_guid, sizeof ws_guid - 1);
    br_sha1_out(&sha, digest);
    int n = pvb64_encode(out, PVWS_ACCEPT_LEN + 1, digest, sizeof digest, PVB64_STD);
    assert(n == PVWS_ACCEPT_LEN);
}

int pvws_hs_response(char *out, size_t cap, const char key[PVWS_KEY_LEN + 1]) {
    char accept[PVWS_ACCEPT_LEN + 1];
    pvws_hs_accept(key, strlen(key), accept);
    int n = snprintf(out, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    return n < 0 || (size_t)n >= cap ? PV_EOVERFLOW : n;
}
