/*
 * fuzz_json_session - POST /sessions body parser, plus a differential check
 * of our grammar validator against jsmn: every text the validator accepts
 * must tokenise with jsmn (the reverse is not expected: jsmn is lenient).
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"

static pvj_ctx *ctx;
static jsmntok_t toks[1 << 16];

static void check_request(const pv_session_request *r) {
    assert(pv_id_valid(r->room_id) && pv_id_valid(r->participant_id));
    assert(!r->display_name || strlen(r->display_name) <= PV_NAME_MAX);
    assert(r->metadata_count <= PV_META_MAX_PAIRS);
    size_t total = 0;
    for (uint32_t i = 0; i < r->metadata_count; i++) {
        size_t k = strlen(r->metadata[i].key), v = strlen(r->metadata[i].value);
        assert(k >= 1 && k <= PV_META_KEY_MAX && v <= PV_META_VALUE_MAX);
        total += k + v;
        for (uint32_t j = 0; j < i; j++)
            assert(strcmp(r->metadata[i].key, r->metadata[j].key));
    }
    assert(total <= PVJ_META_TOTAL_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) ctx = pvj_ctx_new(64 * 1024);
    pvj_err err;
    pv_session_request r;
    if (pvj_parse_session(ctx, (const char *)data, size, &r, &err) == 0)
        check_request(&r);
    else
        assert(err.code == PV_ERR_INVALID_PAYLOAD && err.message[0]);
    if (size <= 64 * 1024 && pvj_validate((const char *)data, size, NULL) == 0) {
        jsmn_parser p;
        jsmn_init(&p);
        int n = jsmn_parse(&p, (const char *)data, size, toks, sizeof toks / sizeof toks[0]);
        assert(n >= 1);
        assert(toks[0].end == (int)size || toks[0].end <= (int)size);
    }
    return 0;
}
