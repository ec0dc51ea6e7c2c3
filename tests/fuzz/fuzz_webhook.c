/*
 * fuzz_webhook - LiveKit webhook authentication and body parsing.
 * Input: "<authorization header>\n<body>". Properties:
 *  - the fuzzed header never authenticates (the key is secret to the fuzzer
 *    only in the sense that forging HMAC-SHA256 is infeasible) unless it is
 *    byte-identical to a token we minted for this body;
 *  - a token we mint for the body always verifies, and stops verifying when
 *    the body changes;
 *  - the body parser (also used on ListParticipants replies) keeps its bounds.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "json_in.h"
#include "tokens.h"

#define KEY "APIfuzz"
#define NOW 1760000000000LL

static pvj_ctx *ctx;
static pvsecret secret;
static char mem[PVTOK_BUF_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) {
        ctx = pvj_ctx_new(64 * 1024);
        pvsecret_set(&secret, "fuzz-webhook-secret-0123456789abcdef", NULL, 0, NULL);
    }
    const char *nl = memchr(data, '\n', size);
    const char *auth = (const char *)data, *body = nl ? nl + 1 : (const char *)data;
    size_t auth_len = nl ? (size_t)(nl - auth) : 0, body_len = size - (size_t)(body - auth);
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    assert(pvtok_webhook_mint(&b, KEY, &secret, body, body_len, NOW, 300) == 0);
    int rc = pvtok_webhook_verify(auth, auth_len, KEY, &secret, body, body_len, NOW, 30000);
    if (rc == 0)
        assert(auth_len == b.len && memcmp(auth, b.p, b.len) == 0 ||
               (auth_len == b.len + 7 && memcmp(auth + 7, b.p, b.len) == 0));
    assert(pvtok_webhook_verify(b.p, b.len, KEY, &secret, body, body_len, NOW, 30000) == 0);
    if (body_len > 0)
        assert(pvtok_webhook_verify(b.p, b.len, KEY, &secret, body, body_len - 1, NOW, 30000) != 0);
    pvj_webhook w;
    pvj_err err;
    if (pvj_parse_webhook(ctx, body, body_len, &w, &err) == 0) {
        assert(w.event);
        if (w.relevant) {
            assert(pv_id_valid(w.wh.room_id));
            if (w.wh.kind != PV_WH_ROOM_FINISHED) assert(pv_id_valid(w.wh.identity));
        }
    }
    const pv_lk_participant *p;
    uint32_t n, skipped;
    if (pvj_parse_lk_participants(ctx, body, body_len, 256, &p, &n, &skipped, &err) == 0) {
        assert(n <= 256);
        for (uint32_t i = 0; i < n; i++) {
            assert(pv_id_valid(p[i].identity));
            assert(!p[i].mic_track_sid || pv_id_valid(p[i].mic_track_sid));
        }
    }
    return 0;
}
