/*
 * test_tokens.c - LiveKit access/admin tokens (exact claims, determinism),
 * policy socket tokens, LiveKit webhook authentication.
 */
#include <bearssl.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "jwt_helpers.h"
#include "t.h"
#include "tokens.h"

#define LK_KEY "APIkey123"
#define LK_SEC "lk-secret-0123456789abcdef0123456789abcdef"
#define PS_SEC "policy-socket-secret-0123456789abcdef0123"
#define T0     1760000000123LL /* issued_at_wall_ms */

static pvsecret LK, PS;
static char mem[PVTOK_BUF_BYTES], mem2[PVTOK_BUF_BYTES], json[PVTOK_BUF_BYTES];
static pvbuf B, B2;

static void setup(void) {
    const char *why;
    if (pvsecret_set(&LK, LK_SEC, NULL, 0, &why) || pvsecret_set(&PS, PS_SEC, NULL, 0, &why))
        exit(2);
    pvbuf_init(&B, mem, sizeof mem);
    pvbuf_init(&B2, mem2, sizeof mem2);
}

static void test_livekit_access(void) {
    pv_meta_pair md[2] = {{"role", "default"}, {"q", "a\"b"}};
    pvtok_livekit t = {LK_KEY, "room_alpha", "p_123", "Player \"1\"", md, 2, T0, 600};
    int64_t exp_ms = 0;
    REQUIRE(pvtok_livekit_access(&B, &LK, &t, &exp_ms) == 0);
    CHECK_EQ_INT(exp_ms, (1760000000LL + 600) * 1000);
    REQUIRE(th_payload(mem, json, sizeof json) > 0);
    CHECK_STR(json,
              "{\"iss\":\"APIkey123\",\"sub\":\"p_123\",\"nbf\":1760000000,\"iat\":1760000000,"
              "\"exp\":1760000600,\"name\":\"Player \\\"1\\\"\",\"metadata\":\"{\\\"role\\\":"
              "\\\"default\\\",\\\"q\\\":\\\"a\\\\\\\"b\\\"}\",\"video\":{\"room\":"
              "\"room_alpha\",\"roomJoin\":true,\"canPublish\":true,\"canPublishSources\":["
              "\"microphone\"],\"canSubscribe\":true,\"canPublishData\":false}}");
    CHECK(strstr(json, "roomAdmin") == NULL && strstr(json, "recorder") == NULL &&
          strstr(json, "hidden") == NULL);
    char hdr[128];
    REQUIRE(th_header(mem, hdr, sizeof hdr) > 0);
    CHECK_STR(hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    /* deterministic: same inputs, same bytes; time within the same second too */
    t.issued_at_wall_ms = T0 + 500;
    REQUIRE(pvtok_livekit_access(&B2, &LK, &t, NULL) == 0);
    CHECK_STR(mem, mem2);
    /* verifies with our own verifier (HS256, LiveKit secret) */
    pvjwt_key k;
    pvjwt_claims c;
    REQUIRE(pvjwt_key_hs256(&k, NULL, &LK) == 0);
    REQUIRE(pvjwt_verify(mem, B.len, &k, 1, T0, 0, &c) == 0);
    CHECK_STR(c.iss, LK_KEY);
    CHECK_STR(c.sub, "p_123");
    /* a different secret gives a different signature */
    pvsecret other;
    REQUIRE(pvsecret_set(&other, "another-secret-0123456789abcdef0123456", NULL, 0, NULL) == 0);
    REQUIRE(pvtok_livekit_access(&B2, &other, &t, NULL) == 0);
    CHECK(strcmp(mem, mem2) != 0);
    /* minimal: no name, no metadata */
    pvtok_livekit m = {LK_KEY, "r", "p", NULL, NULL, 0, T0, 300};
    REQUIRE(pvtok_livekit_access(&B, &LK, &m, NULL) == 0);
    REQUIRE(th_payload(mem, json, sizeof json) > 0);
    CHECK(strstr(json, "\"name\"") == NULL && strstr(json, "\"metadata\"") == NULL);
    CHECK(pvj_validate(json, strlen(json), NULL) == 0);
}

static void test_livekit_access_invalid(void) {
    pvtok_livekit t = {LK_KEY, "room_alpha", "p_123", NULL, NULL, 0, T0, 600};
    pvtok_livekit bad = t;
    bad.room_id = "bad room";
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    bad = t, bad.participant_id = "";
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    bad = t, bad.api_key = "key with space";
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    bad = t, bad.ttl_s = 5;
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    bad = t, bad.ttl_s = 86401;
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    bad = t, bad.issued_at_wall_ms = -1;
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    bad = t, bad.metadata_count = 1;
    CHECK(pvtok_livekit_access(&B, &LK, &bad, NULL) == PV_EINVAL);
    CHECK(pvtok_livekit_access(&B, NULL, &t, NULL) == PV_EINVAL);
    char small[64];
    pvbuf sb;
    pvbuf_init(&sb, small, sizeof small);
    CHECK(pvtok_livekit_access(&sb, &LK, &t, NULL) == PV_EOVERFLOW);
}

static void test_livekit_access_max_metadata(void) {
    /* worst case the session parser allows: 1024 bytes of quote-heavy metadata */
    static char vals[4][257];
    pv_meta_pair md[4];
    for (int i = 0; i < 4; i++) {
        memset(vals[i], '"', 255);
        vals[i][255] = 0;
        md[i].key = i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" : "d";
        md[i].value = vals[i];
    }
    char name[PV_NAME_MAX + 1];
    memset(name, '\\', PV_NAME_MAX);
    name[PV_NAME_MAX] = 0;
    pvtok_livekit t = {LK_KEY, "room_alpha", "p_123", name, md, 4, T0, 600};
    REQUIRE(pvtok_livekit_access(&B, &LK, &t, NULL) == 0);
    CHECK(B.len <= PVJWT_MAX_BYTES);
    pvjwt_key k;
    pvjwt_claims c;
    REQUIRE(pvjwt_key_hs256(&k, NULL, &LK) == 0);
    CHECK(pvjwt_verify(mem, B.len, &k, 1, T0, 0, &c) == 0);
}

static void test_livekit_admin(void) {
    int64_t exp_ms;
    REQUIRE(pvtok_livekit_admin(&B, LK_KEY, &LK, "room_alpha", T0, 600, &exp_ms) == 0);
    CHECK_EQ_INT(exp_ms, 1760000600000LL);
    REQUIRE(th_payload(mem, json, sizeof json) > 0);
    CHECK_STR(json, "{\"iss\":\"APIkey123\",\"nbf\":1760000000,\"iat\":1760000000,\"exp\":"
                    "1760000600,\"video\":{\"room\":\"room_alpha\",\"roomAdmin\":true}}");
    CHECK(pvtok_livekit_admin(&B, LK_KEY, &LK, "a/b", T0, 600, NULL) == PV_EINVAL);
}

static void test_policy_token(void) {
    int64_t exp_ms;
    REQUIRE(pvtok_policy_mint(&B, &PS, "room_alpha", "p_123", T0, 120, &exp_ms) == 0);
    CHECK_EQ_INT(exp_ms, 1760000120000LL);
    REQUIRE(th_payload(mem, json, sizeof json) > 0);
    CHECK_STR(json, "{\"sub\":\"p_123\",\"room\":\"room_alpha\",\"aud\":\"policy-socket\",\"iat\":"
                    "1760000000,\"exp\":1760000120}");
    pvtok_policy_claims c;
    REQUIRE(pvtok_policy_verify(mem, B.len, &PS, T0 + 1000, 30000, &c) == 0);
    CHECK_STR(c.room_id, "room_alpha");
    CHECK_STR(c.participant_id, "p_123");
    CHECK_EQ_INT(c.expires_wall_ms, 1760000120000LL);
    CHECK(pvtok_policy_verify(mem, B.len, &PS, 1760000150000LL, 30000, &c) == PVJWT_EEXPIRED);
    CHECK(c.room_id[0] == '\0');
    CHECK(pvtok_policy_verify(mem, B.len, &LK, T0, 30000, &c) == PVJWT_ESIG);
    /* a LiveKit token (right secret, wrong audience) is not a policy token */
    pvtok_livekit lt = {LK_KEY, "room_alpha", "p_123", NULL, NULL, 0, T0, 600};
    REQUIRE(pvtok_livekit_access(&B2, &PS, &lt, NULL) == 0);
    CHECK(pvtok_policy_verify(mem2, B2.len, &PS, T0, 30000, &c) == PVJWT_ECLAIM);
    /* hand-made tokens with the right secret but bad claims */
    char t[1024];
    const char *h = "{\"alg\":\"HS256\"}";
    REQUIRE(th_hs256(t, sizeof t, h, "{\"sub\":\"p\",\"aud\":\"policy-socket\",\"exp\":1760000100}",
                     PS_SEC, strlen(PS_SEC)) > 0);
    CHECK(pvtok_policy_verify(t, strlen(t), &PS, T0, 0, &c) == PVJWT_ECLAIM); /* no room */
    REQUIRE(
        th_hs256(t, sizeof t, h,
                 "{\"sub\":\"p q\",\"room\":\"r\",\"aud\":\"policy-socket\",\"exp\":1760000100}",
                 PS_SEC, strlen(PS_SEC)) > 0);
    CHECK(pvtok_policy_verify(t, strlen(t), &PS, T0, 0, &c) == PVJWT_ECLAIM); /* bad sub */
    REQUIRE(th_hs256(t, sizeof t, h,
                     "{\"sub\":\"p\",\"room\":\"r\",\"aud\":[\"x\",\"policy-socket\"],\"exp\":"
                     "1760000100}",
                     PS_SEC, strlen(PS_SEC)) > 0);
    CHECK(pvtok_policy_verify(t, strlen(t), &PS, T0, 0, &c) == 0);
    /* rotation: a token minted before the rotation verifies inside the window */
    pvsecret rot;
    REQUIRE(pvsecret_set(&rot, "rotated-policy-secret-0123456789abcdef", PS_SEC, T0 + 60000,
                         NULL) == 0);
    CHECK(pvtok_policy_verify(mem, B.len, &rot, T0 + 59999, 0, &c) == 0);
    CHECK(pvtok_policy_verify(mem, B.len, &rot, T0 + 60000, 0, &c) == PVJWT_ESIG);
    REQUIRE(pvtok_policy_mint(&B2, &rot, "room_alpha", "p_123", T0, 120, NULL) == 0);
    CHECK(pvtok_policy_verify(mem2, B2.len, &PS, T0, 0, &c) == PVJWT_ESIG); /* minted w/ current */
}

static void test_webhook(void) {
    const char *body = "{\"event\":\"participant_joined\",\"room\":{\"name\":\"r\"},"
                       "\"participant\":{\"identity\":\"p\"},\"createdAt\":\"1760000000\"}";
    REQUIRE(pvtok_webhook_mint(&B, LK_KEY, &LK, body, strlen(body), T0, 300) == 0);
    REQUIRE(th_payload(mem, json, sizeof json) > 0);
    /* sha256 claim is standard padded base64: 44 chars ending in '=' */
    const char *h = strstr(json, "\"sha256\":\"");
    REQUIRE(h);
    CHECK(h[10 + 43] == '=' && h[10 + 44] == '"');
    CHECK(pvtok_webhook_verify(mem, B.len, LK_KEY, &LK, body, strlen(body), T0, 30000) == 0);
    /* "Bearer " tolerated */
    char with_bearer[PVTOK_BUF_BYTES + 8];
    snprintf(with_bearer, sizeof with_bearer, "Bearer %s", mem);
    CHECK(pvtok_webhook_verify(with_bearer, strlen(with_bearer), LK_KEY, &LK, body, strlen(body),
                               T0, 30000) == 0);
    /* body altered by one byte */
    char altered[512];
    strcpy(altered, body);
    altered[strlen(altered) - 3] = '1';
    CHECK(pvtok_webhook_verify(mem, B.len, LK_KEY, &LK, altered, strlen(altered), T0, 30000) ==
          PVJWT_ECLAIM);
    CHECK(pvtok_webhook_verify(mem, B.len, LK_KEY, &LK, body, strlen(body) - 1, T0, 30000) ==
          PVJWT_ECLAIM);
    CHECK(pvtok_webhook_verify(mem, B.len, "otherkey", &LK, body, strlen(body), T0, 30000) ==
          PVJWT_ECLAIM);
    CHECK(pvtok_webhook_verify(mem, B.len, LK_KEY, &PS, body, strlen(body), T0, 30000) ==
          PVJWT_ESIG);
    CHECK(pvtok_webhook_verify(mem, B.len, LK_KEY, &LK, body, strlen(body), T0 + 331000, 30000) ==
          PVJWT_EEXPIRED);
    CHECK(pvtok_webhook_verify("", 0, LK_KEY, &LK, body, strlen(body), T0, 30000) == PVJWT_EFORMAT);
    CHECK(pvtok_webhook_verify(NULL, 0, LK_KEY, &LK, body, strlen(body), T0, 30000) == PV_EINVAL);
    /* a token without sha256 (e.g. an access token) is refused */
    pvtok_livekit lt = {LK_KEY, "r", "p", NULL, NULL, 0, T0, 600};
    REQUIRE(pvtok_livekit_access(&B2, &LK, &lt, NULL) == 0);
    CHECK(pvtok_webhook_verify(mem2, B2.len, LK_KEY, &LK, body, strlen(body), T0, 30000) ==
          PVJWT_ECLAIM);
    /* independent check of the hash against BearSSL directly */
    br_sha256_context sc;
    unsigned char d[32];
    char want[64];
    br_sha256_init(&sc);
    br_sha256_update(&sc, body, strlen(body));
    br_sha256_out(&sc, d);
    pvb64_encode(want, sizeof want, d, 32, PVB64_STD);
    CHECK(strncmp(h + 10, want, 44) == 0);
}

int main(void) {
    setup();
    T_RUN(test_livekit_access);
    T_RUN(test_livekit_access_invalid);
    T_RUN(test_livekit_access_max_metadata);
    T_RUN(test_livekit_admin);
    T_RUN(test_policy_token);
    T_RUN(test_webhook);
    return t_done("io tokens");
}
