/*
 * test_jwt.c - JWT verification and signing: RFC 7515 A.1 known answer,
 * OpenSSL-made RS256/ES256 fixtures, every rejection path, key loading,
 * secret rotation; plus base64 codecs.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fixtures/jwt_fixtures.h"
#include "jwt.h"
#include "jwt_helpers.h"
#include "t.h"

#define SEC    "0123456789abcdef0123456789abcdef-test-secret"
#define NOW_MS ((FIX_IAT + 60) * 1000) /* inside every fixture's validity */

static pvsecret S1;
static pvjwt_key HK;
static char tok[PVJWT_MAX_BYTES + 64];

static int verify1(const pvjwt_key *k, const char *t, int64_t now_ms, pvjwt_claims *c) {
    pvjwt_claims tmp;
    return pvjwt_verify(t, strlen(t), k, 1, now_ms, 30000, c ? c : &tmp);
}

static int hs(const char *header, const char *payload) {
    return th_hs256(tok, sizeof tok, header, payload, SEC, strlen(SEC));
}

static const char *HDR = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void setup(void) {
    const char *why;
    if (pvsecret_set(&S1, SEC, NULL, 0, &why) || pvjwt_key_hs256(&HK, NULL, &S1)) abort();
}

static void test_b64(void) {
    /* RFC 4648 section 10 vectors */
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char out[32];
    for (int i = 0; i < 7; i++) {
        CHECK(pvb64_encode(out, sizeof out, plain[i], strlen(plain[i]), PVB64_STD) ==
              (int)strlen(std[i]));
        CHECK_STR(out, std[i]);
        CHECK(pvb64_encode(out, sizeof out, plain[i], strlen(plain[i]), PVB64_URL) ==
              (int)strlen(url[i]));
        CHECK_STR(out, url[i]);
        int n = pvb64_decode(out, sizeof out, std[i], strlen(std[i]), PVB64_STD);
        CHECK(n == (int)strlen(plain[i]) && memcmp(out, plain[i], (size_t)n) == 0);
        n = pvb64_decode(out, sizeof out, url[i], strlen(url[i]), PVB64_URL);
        CHECK(n == (int)strlen(plain[i]) && memcmp(out, plain[i], (size_t)n) == 0);
    }
    unsigned char bin[3] = {0xfb, 0xff, 0xfe};
    CHECK(pvb64_encode(out, sizeof out, bin, 3, PVB64_STD) == 4);
    CHECK_STR(out, "+//+");
    CHECK(pvb64_encode(out, sizeof out, bin, 3, PVB64_URL) == 4);
    CHECK_STR(out, "-__-");
    /* strictness */
    CHECK(pvb64_decode(out, sizeof out, "Zg", 2, PVB64_STD) == PV_EINVAL);   /* no padding */
    CHECK(pvb64_decode(out, sizeof out, "Zg==", 4, PVB64_URL) == PV_EINVAL); /* padding */
    CHECK(pvb64_decode(out, sizeof out, "Zh==", 4, PVB64_STD) == PV_EINVAL); /* stray bits */
    CHECK(pvb64_decode(out, sizeof out, "Zh", 2, PVB64_URL) == PV_EINVAL);
    CHECK(pvb64_decode(out, sizeof out, "Z", 1, PVB64_URL) == PV_EINVAL); /* 1 mod 4 */
    CHECK(pvb64_decode(out, sizeof out, "Zm9v\n", 5, PVB64_URL) == PV_EINVAL);
    CHECK(pvb64_decode(out, sizeof out, "+//+", 4, PVB64_URL) == PV_EINVAL);
    CHECK(pvb64_decode(out, sizeof out, "-__-", 4, PVB64_STD) == PV_EINVAL);
    CHECK(pvb64_decode(out, sizeof out, "====", 4, PVB64_STD) == PV_EINVAL);
    CHECK(pvb64_decode(out, sizeof out, "Zm=v", 4, PVB64_STD) == PV_EINVAL);
    CHECK(pvb64_decode(out, 2, "Zm9v", 4, PVB64_URL) == PV_EOVERFLOW);
    CHECK(pvb64_encode(out, 4, "foo", 3, PVB64_URL) == PV_EOVERFLOW);
    CHECK(pvb64_encode(out, 5, "foo", 3, PVB64_URL) == 4);
}

/* RFC 7515 appendix A.1: HS256 with a JWK "oct" key, header with CRLFs. */
static void test_rfc7515_a1(void) {
    static const char k_b64[] =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    static const char jws[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQog"
        "Imh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_"
        "wW1gFWFOEjXk";
    pvsecret s;
    memset(&s, 0, sizeof s);
    int n = pvb64_decode(s.current, sizeof s.current, k_b64, strlen(k_b64), PVB64_URL);
    REQUIRE(n == 64);
    s.current_len = (size_t)n;
    pvjwt_key k;
    REQUIRE(pvjwt_key_hs256(&k, NULL, &s) == 0);
    pvjwt_claims c;
    REQUIRE(verify1(&k, jws, 1300819000LL * 1000, &c) == 0);
    CHECK_STR(c.iss, "joe");
    CHECK_EQ_INT(c.exp_s, 1300819380LL);
    CHECK(c.alg == PVJWT_HS256 && c.key_index == 0 && c.key_previous == 0);
    CHECK(verify1(&k, jws, 1300819380LL * 1000 + 30000, &c) == PVJWT_EEXPIRED);
    CHECK(verify1(&k, jws, 1300819380LL * 1000 + 29999, &c) == 0); /* leeway */
    s.current[0] ^= 1;
    CHECK(verify1(&k, jws, 1300819000LL * 1000, &c) == PVJWT_ESIG);
}

static void test_sign_roundtrip(void) {
    char mem[PVJWT_MAX_BYTES + 64], mem2[PVJWT_MAX_BYTES + 64];
    pvbuf b, b2;
    pvbuf_init(&b, mem, sizeof mem);
    pvbuf_init(&b2, mem2, sizeof mem2);
    const char *p = "{\"sub\":\"x\",\"exp\":1700000600,\"aud\":[\"a\",\"b\"],\"jti\":\"j\"}";
    REQUIRE(pvjwt_sign_hs256(&b, SEC, strlen(SEC), p, strlen(p)) == 0);
    REQUIRE(pvjwt_sign_hs256(&b2, SEC, strlen(SEC), p, strlen(p)) == 0);
    CHECK_STR(mem, mem2); /* deterministic */
    /* independent HMAC over the same input yields the same bytes */
    REQUIRE(hs(HDR, p) > 0);
    CHECK_STR(mem, tok);
    pvjwt_claims c;
    REQUIRE(verify1(&HK, mem, NOW_MS, &c) == 0);
    CHECK_STR(c.sub, "x");
    CHECK_STR(c.jti, "j");
    CHECK(c.aud_count == 2 && pvjwt_claims_has_aud(&c, "b") && !pvjwt_claims_has_aud(&c, "c"));
    /* output too small */
    char small[40];
    pvbuf sb;
    pvbuf_init(&sb, small, sizeof small);
    CHECK(pvjwt_sign_hs256(&sb, SEC, strlen(SEC), p, strlen(p)) == PV_EOVERFLOW);
}

static void test_reject_alg(void) {
    const char *p = "{\"exp\":1700000600}";
    REQUIRE(hs("{\"alg\":\"none\"}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EALG);
    /* unsigned "none" token with an empty signature part */
    char none[256];
    int n = pvb64_encode(none, sizeof none, "{\"alg\":\"none\"}", 14, PVB64_URL);
    none[n++] = '.';
    n += pvb64_encode(none + n, sizeof none - (size_t)n, p, strlen(p), PVB64_URL);
    strcpy(none + n, ".");
    CHECK(verify1(&HK, none, NOW_MS, NULL) == PVJWT_EFORMAT);
    REQUIRE(hs("{\"alg\":\"HS512\"}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EALG);
    REQUIRE(hs("{\"alg\":\"hs256\"}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EALG);
    REQUIRE(hs("{\"typ\":\"JWT\"}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EFORMAT);
    REQUIRE(hs("{\"alg\":\"HS256\",\"alg\":\"none\"}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EFORMAT);
    REQUIRE(hs("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EFORMAT);
    REQUIRE(hs("{\"alg\":1}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == PVJWT_EALG);
    /* valid control */
    REQUIRE(hs("{\"alg\":\"HS256\"}", p) > 0);
    CHECK(verify1(&HK, tok, NOW_MS, NULL) == 0);
}

static void test_key_confusion(void) {
    pvjwt_key keys[2];
    REQUIRE(pvjwt_key_public(&keys[0], PVJWT_RS256, "rk1", FIX_RSA_PUB, strlen(FIX_RSA_PUB)) == 0);
    REQUIRE(pvjwt_key_public(&keys[1], PVJWT_ES256, "ek1", FIX_EC_PUB, strlen(FIX_EC_PUB)) == 0);
    pvjwt_claims c;
    /* classic confusion: HS256 "signed" with the RSA public key as the HMAC secret */
    REQUIRE(th_hs256(tok, sizeof tok, "{\"alg\":\"HS256\"}", FIX_PAYLOAD, FIX_RSA_PUB,
                     strlen(FIX_RSA_PUB)) > 0);
    CHECK(pvjwt_verify(tok, strlen(tok), keys, 2, NOW_MS, 0, &c) == PVJWT_EALG);
    REQUIRE(th_hs256(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"rk1\"}", FIX_PAYLOAD,
                     FIX_RSA_PUB, strlen(FIX_RSA_PUB)) > 0);
    CHECK(pvjwt_verify(tok, strlen(tok), keys, 2, NOW_MS, 0, &c) == PVJWT_EKEY);
    /* an RS256 token against an HS256-only key set */
    CHECK(verify1(&HK, FIX_RS256_NOKID, NOW_MS, &c) == PVJWT_EALG);
    /* ES key signature under an "RS256" header: only RS keys are tried, and fail */
    CHECK(pvjwt_verify(FIX_ES256_CLAIMS_RS, strlen(FIX_ES256_CLAIMS_RS), keys, 2, NOW_MS, 0, &c) ==
          PVJWT_ESIG);
    CHECK(pvjwt_verify(FIX_ES256_CLAIMS_RS, strlen(FIX_ES256_CLAIMS_RS), &keys[1], 1, NOW_MS, 0,
                       &c) == PVJWT_EALG);
    CHECK(c.key_index == -1 && c.sub[0] == '\0'); /* zeroed on failure */
}

static void test_rs256_es256_fixtures(void) {
    pvjwt_key keys[3];
    pvjwt_claims c;
    REQUIRE(pvjwt_key_public(&keys[0], PVJWT_ES256, "ek1", FIX_EC_PUB, strlen(FIX_EC_PUB)) == 0);
    REQUIRE(pvjwt_key_public(&keys[1], PVJWT_RS256, "rk1", FIX_RSA_PUB, strlen(FIX_RSA_PUB)) == 0);
    REQUIRE(pvjwt_key_public(&keys[2], PVJWT_RS256, "rk2", FIX_RSA2_PUB, strlen(FIX_RSA2_PUB)) ==
            0);
    REQUIRE(pvjwt_verify(FIX_RS256_KID, strlen(FIX_RS256_KID), keys, 3, NOW_MS, 0, &c) == 0);
    CHECK(c.key_index == 1 && c.alg == PVJWT_RS256);
    CHECK_STR(c.kid, "rk1");
    CHECK_STR(c.iss, "game-server");
    CHECK_STR(c.sub, "srv-1");
    CHECK(pvjwt_claims_has_aud(&c, "proximity-voice"));
    CHECK_EQ_INT(c.iat_s, FIX_IAT);
    CHECK_EQ_INT(c.exp_s, FIX_EXP);
    /* no kid: every RS256 key is tried in order */
    REQUIRE(pvjwt_verify(FIX_RS256_NOKID, strlen(FIX_RS256_NOKID), keys, 3, NOW_MS, 0, &c) == 0);
    CHECK(c.key_index == 1);
    REQUIRE(pvjwt_verify(FIX_RS256_BY_RSA2, strlen(FIX_RS256_BY_RSA2), keys, 3, NOW_MS, 0, &c) ==
            0);
    CHECK(c.key_index == 2);
    CHECK(pvjwt_verify(FIX_RS256_BY_RSA2, strlen(FIX_RS256_BY_RSA2), keys, 2, NOW_MS, 0, &c) ==
          PVJWT_ESIG);
    REQUIRE(pvjwt_verify(FIX_ES256_KID, strlen(FIX_ES256_KID), keys, 3, NOW_MS, 0, &c) == 0);
    CHECK(c.key_index == 0 && c.alg == PVJWT_ES256);
    REQUIRE(pvjwt_verify(FIX_ES256_NOKID, strlen(FIX_ES256_NOKID), keys, 3, NOW_MS, 0, &c) == 0);
    /* unknown kid */
    char t2[2048];
    strcpy(t2, FIX_RS256_KID);
    CHECK(pvjwt_verify(t2, strlen(t2), &keys[2], 1, NOW_MS, 0, &c) == PVJWT_EKEY);
    /* flip one bit in each part: header -> format/alg/kid, payload and signature -> sig */
    for (int which = 0; which < 2; which++) {
        const char *src = which ? FIX_ES256_KID : FIX_RS256_KID;
        size_t len = strlen(src);
        const char *d2 = strrchr(src, '.');
        size_t pay = (size_t)(strchr(src, '.') - src) + 5, sig = (size_t)(d2 - src) + 5;
        strcpy(t2, src);
        t2[pay] = t2[pay] == 'A' ? 'B' : 'A';
        CHECK(pvjwt_verify(t2, len, keys, 3, NOW_MS, 0, &c) != 0);
        strcpy(t2, src);
        t2[sig] = t2[sig] == 'A' ? 'B' : 'A';
        CHECK(pvjwt_verify(t2, len, keys, 3, NOW_MS, 0, &c) == PVJWT_ESIG);
        /* signature truncated by one byte (4 chars) */
        strcpy(t2, src);
        t2[len - 4] = '\0';
        CHECK(pvjwt_verify(t2, len - 4, keys, 3, NOW_MS, 0, &c) != 0);
    }
    /* expiry applies to asymmetric tokens too */
    CHECK(pvjwt_verify(FIX_ES256_KID, strlen(FIX_ES256_KID), keys, 3, FIX_EXP * 1000, 0, &c) ==
          PVJWT_EEXPIRED);
}

static void test_key_loading(void) {
    pvjwt_key k;
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, NULL, FIX_RSA_PUB, strlen(FIX_RSA_PUB)) == PV_EINVAL);
    CHECK(pvjwt_key_public(&k, PVJWT_RS256, NULL, FIX_EC_PUB, strlen(FIX_EC_PUB)) == PV_EINVAL);
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, NULL, FIX_EC384_PUB, strlen(FIX_EC384_PUB)) ==
          PVJWT_EBADKEY);
    CHECK(pvjwt_key_public(&k, PVJWT_RS256, NULL, FIX_RSA1024_PUB, strlen(FIX_RSA1024_PUB)) ==
          PVJWT_EBADKEY);
    CHECK(pvjwt_key_public(&k, PVJWT_HS256, NULL, FIX_RSA_PUB, strlen(FIX_RSA_PUB)) == PV_EINVAL);
    CHECK(pvjwt_key_public(&k, PVJWT_RS256, NULL, "garbage", 7) == PVJWT_EBADKEY);
    char pem[1024];
    strcpy(pem, FIX_RSA_PUB);
    pem[100] = '!';
    CHECK(pvjwt_key_public(&k, PVJWT_RS256, NULL, pem, strlen(pem)) == PVJWT_EBADKEY);
    strcpy(pem, FIX_EC_PUB);
    *strstr(pem, "-----END") = '\0';
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, NULL, pem, strlen(pem)) == PVJWT_EBADKEY);
    /* DER form of the same key works; a point off the curve does not */
    unsigned char der[1024];
    const char *b = strchr(FIX_EC_PUB, '\n') + 1, *e = strstr(FIX_EC_PUB, "-----END");
    char b64[1024];
    size_t m = 0;
    for (const char *q = b; q < e; q++)
        if (*q != '\n') b64[m++] = *q;
    int n = pvb64_decode(der, sizeof der, b64, m, PVB64_STD);
    REQUIRE(n == 91);
    REQUIRE(pvjwt_key_public(&k, PVJWT_ES256, "d", der, (size_t)n) == 0);
    pvjwt_claims c;
    CHECK(pvjwt_verify(FIX_ES256_NOKID, strlen(FIX_ES256_NOKID), &k, 1, NOW_MS, 0, &c) == 0);
    der[n - 1] ^= 1; /* y coordinate changed: not on the curve */
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, NULL, der, (size_t)n) == PVJWT_EBADKEY);
    der[n - 1] ^= 1;
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, NULL, der, (size_t)n - 1) == PVJWT_EBADKEY);
    der[1] = 0x81; /* non-minimal length form */
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, NULL, der, (size_t)n) == PVJWT_EBADKEY);
    char kid[80];
    memset(kid, 'k', 70);
    kid[70] = 0;
    CHECK(pvjwt_key_public(&k, PVJWT_ES256, kid, FIX_EC_PUB, strlen(FIX_EC_PUB)) == PV_EINVAL);
}

static void test_times(void) {
    int64_t now = 1700000000LL * 1000;
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"nbf\":1700000000,\"iat\":1700000000}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == 0);
    CHECK(verify1(&HK, tok, now + 100000 + 29999, NULL) == 0);
    CHECK(verify1(&HK, tok, now + 100000 + 30000, NULL) == PVJWT_EEXPIRED);
    CHECK(verify1(&HK, tok, now - 30000, NULL) == 0);
    CHECK(verify1(&HK, tok, now - 30001, NULL) == PVJWT_ENOTYET);
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"iat\":1700000050}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ENOTYET);
    REQUIRE(hs(HDR, "{\"sub\":\"no-exp\"}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_EEXPIRED);
    REQUIRE(hs(HDR, "{\"exp\":\"1700000100\"}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ECLAIM);
    REQUIRE(hs(HDR, "{\"exp\":1700000100.5}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ECLAIM);
    REQUIRE(hs(HDR, "{\"exp\":-5}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ECLAIM);
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"exp\":1900000000}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_EFORMAT);
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"sub\":5}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ECLAIM);
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"aud\":[\"a\",1]}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ECLAIM);
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"aud\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_ECLAIM);
    REQUIRE(hs(HDR, "[1]") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_EFORMAT);
    REQUIRE(hs(HDR, "{\"exp\":1700000100,}") > 0);
    CHECK(verify1(&HK, tok, now, NULL) == PVJWT_EFORMAT);
    /* unknown claims of any shape are ignored */
    REQUIRE(hs(HDR, "{\"exp\":1700000100,\"video\":{\"room\":\"r\",\"x\":[1,2,{}]},\"n\":null}") >
            0);
    CHECK(verify1(&HK, tok, now, NULL) == 0);
}

static void test_format(void) {
    REQUIRE(hs(HDR, "{\"exp\":1700000100}") > 0);
    int64_t now = 1700000000LL * 1000;
    char t2[sizeof tok + 8];
    size_t len = strlen(tok);
    CHECK(verify1(&HK, tok, now, NULL) == 0);
    CHECK(pvjwt_verify(tok, len - 1, &HK, 1, now, 0, &(pvjwt_claims){0}) != 0);
    snprintf(t2, sizeof t2, "%s.x", tok);
    CHECK(verify1(&HK, t2, now, NULL) == PVJWT_EFORMAT);
    strcpy(t2, tok);
    *strrchr(t2, '.') = '\0';
    CHECK(verify1(&HK, t2, now, NULL) == PVJWT_EFORMAT);
    snprintf(t2, sizeof t2, "%s=", tok);
    CHECK(verify1(&HK, t2, now, NULL) == PVJWT_EFORMAT);
    snprintf(t2, sizeof t2, " %s", tok);
    CHECK(verify1(&HK, t2, now, NULL) == PVJWT_EFORMAT);
    CHECK(verify1(&HK, "..", now, NULL) == PVJWT_EFORMAT);
    CHECK(verify1(&HK, "", now, NULL) == PVJWT_EFORMAT);
    /* tampered payload (re-encoded claims, old signature) */
    char forged[512];
    const char *dot2 = strrchr(tok, '.');
    int n = pvb64_encode(forged, sizeof forged, HDR, strlen(HDR), PVB64_URL);
    forged[n++] = '.';
    n += pvb64_encode(forged + n, sizeof forged - (size_t)n, "{\"exp\":1900000000}", 18, PVB64_URL);
    strcpy(forged + n, dot2);
    CHECK(verify1(&HK, forged, now, NULL) == PVJWT_ESIG);
    /* oversize: rejected before decoding */
    char *big = malloc(PVJWT_MAX_BYTES + 2);
    REQUIRE(big);
    memset(big, 'A', PVJWT_MAX_BYTES + 1);
    big[PVJWT_MAX_BYTES + 1] = 0;
    CHECK(verify1(&HK, big, now, NULL) == PVJWT_ETOOBIG);
    free(big);
    /* a large but legal token verifies */
    char payload[5000];
    snprintf(payload, sizeof payload, "{\"exp\":1700000100,\"pad\":\"%04000d\"}", 0);
    REQUIRE(hs(HDR, payload) > 0);
    CHECK(strlen(tok) < PVJWT_MAX_BYTES);
    CHECK(verify1(&HK, tok, now, NULL) == 0);
}

static void test_rotation(void) {
    pvsecret s;
    pvjwt_key k;
    const char *why;
    int64_t now = 1700000000LL * 1000;
    const char *p = "{\"exp\":1700000100}";
    REQUIRE(th_hs256(tok, sizeof tok, HDR, p, SEC, strlen(SEC)) > 0); /* made with the old secret */
    REQUIRE(pvsecret_set(&s, "NEW-secret-0123456789abcdef-0123456789", SEC, now + 5000, &why) == 0);
    REQUIRE(pvjwt_key_hs256(&k, NULL, &s) == 0);
    pvjwt_claims c;
    REQUIRE(verify1(&k, tok, now, &c) == 0);
    CHECK(c.key_previous == 1);
    CHECK(verify1(&k, tok, now + 4999, &c) == 0);
    CHECK(verify1(&k, tok, now + 5000, &c) == PVJWT_ESIG); /* window closed */
    /* minting uses current: a token with the new secret verifies, not previous */
    REQUIRE(th_hs256(tok, sizeof tok, HDR, p, s.current, s.current_len) > 0);
    REQUIRE(verify1(&k, tok, now + 10000, &c) == 0);
    CHECK(c.key_previous == 0);
    /* secret rules */
    CHECK(pvsecret_set(&s, "short", NULL, 0, &why) == PV_EINVAL && why);
    CHECK(pvsecret_set(&s, SEC, SEC, now, &why) == PV_EINVAL);
    CHECK(pvsecret_set(&s, SEC, "short", now, &why) == PV_EINVAL);
    CHECK(pvsecret_set(&s, SEC, "", now, &why) == 0 && s.previous_len == 0);
    CHECK(pvsecret_match(&s, SEC, strlen(SEC), now) == 1);
    CHECK(pvsecret_match(&s, SEC, strlen(SEC) - 1, now) == 0);
    CHECK(pv_ct_equal("abc", 3, "abc", 3) == 1 && pv_ct_equal("abc", 3, "abd", 3) == 0 &&
          pv_ct_equal("abc", 3, "abcd", 4) == 0 && pv_ct_equal("", 0, "", 0) == 1);
    pvsecret_wipe(&s);
    CHECK(s.current_len == 0 && s.current[0] == 0);
}

static void test_strerror(void) {
    for (int code = -28; code <= -20; code++)
        CHECK(strncmp(pvjwt_strerror(code), "jwt: ", 5) == 0);
    CHECK(pvjwt_alg_parse("ES256") == PVJWT_ES256 && pvjwt_alg_parse("none") == PVJWT_ALG_NONE &&
          pvjwt_alg_parse(NULL) == PVJWT_ALG_NONE);
}

int main(void) {
    setup();
    T_RUN(test_b64);
    T_RUN(test_rfc7515_a1);
    T_RUN(test_sign_roundtrip);
    T_RUN(test_reject_alg);
    T_RUN(test_key_confusion);
    T_RUN(test_rs256_es256_fixtures);
    T_RUN(test_key_loading);
    T_RUN(test_times);
    T_RUN(test_format);
    T_RUN(test_rotation);
    T_RUN(test_strerror);
    return t_done("io jwt");
}
