/*
 * fuzz_keys - configuration parsers that read operator-supplied text:
 * SubjectPublicKeyInfo (DER and PEM), the external-auth key file, and the
 * CORS allowlist. The first byte picks the parser.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"
#include "extauth.h"
#include "jwt.h"

static pvextauth ea;
static pvcors cors;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++, size--;
    if (sel % 4 == 0 || sel % 4 == 1) {
        pvjwt_key k;
        int rc = pvjwt_key_public(&k, sel % 4 ? PVJWT_ES256 : PVJWT_RS256, "k", data, size);
        if (rc == 0) assert(k.alg == (sel % 4 ? PVJWT_ES256 : PVJWT_RS256));
        if (rc == 0 && k.alg == PVJWT_RS256) assert(k.n_len >= 256 && k.n_len <= 512);
    } else if (sel % 4 == 2) {
        char why[128];
        int rc = pvea_init_jwt(&ea, (const char *)data, size, "iss", "aud", why, sizeof why);
        assert(rc == PV_EINVAL || (rc >= 1 && rc <= PVJWT_MAX_KEYS));
    } else {
        char *s = malloc(size + 1);
        memcpy(s, data, size);
        s[size] = '\0';
        const char *why;
        int rc = pvcors_parse(&cors, s, sel & 4, &why);
        assert(rc == PV_EINVAL || (rc >= 0 && rc <= PVCORS_MAX_ORIGINS + 1));
        if (rc > 0) {
            for (unsigned i = 0; i < cors.count; i++)
                assert(pvcors_allowed(&cors, cors.origins[i], strlen(cors.origins[i])));
            assert(!pvcors_allowed(&cors, "null", 4));
        }
        free(s);
    }
    return 0;
}
