/*
 * test_extauth.c - external authority authentication: shared secret with
 * rotation, JWT mode with a key file (RS256, ES256, HS256), iss/aud checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extauth.h"
#include "fixtures/jwt_fixtures.h"
#include "jwt_helpers.h"
#include "t.h"

#define CUR  "current-shared-secret-0123456789abcdef"
#define PREV "previous-shared-secret-0123456789abcdef"
#define HSK  "hs-key-secret-0123456789abcdef-0123456789"
#define NOW  ((FIX_IAT + 60) * 1000)

static pvextauth A; /* large: static */
static char principal[PVEA_PRINCIPAL_MAX];

static int check(const char *hdr, int64_t now) {
    return pvea_check(&A, hdr, hdr ? strlen(hdr) : 0, now, principal, sizeof principal);
}

static void test_mode_parse(void) {
    CHECK(pvea_mode_parse("shared_secret") == PVEA_SHARED_SECRET);
    CHECK(pvea_mode_parse("jwt") == PVEA_JWT);
    CHECK(pvea_mode_parse("JWT") == 0 && pvea_mode_parse(NULL) == 0);
}

static void test_shared_secret(void) {
    const char *why;
    REQUIRE(pvea_init_shared(&A, CUR, PREV, 5000, &why) == 0);
    CHECK(check("Bearer " CUR, 0) == 0);
    CHECK_STR(principal, "secret:current");
    CHECK(check("bearer " CUR, 0) == 0); /* scheme is case-insensitive */
    CHECK(check("Bearer " PREV, 4999) == 0);
    CHECK_STR(principal, "secret:previous");
    CHECK(check("Bearer " PREV, 5000) == PVJWT_ESIG); /* rotation window over */
    CHECK(principal[0] == '\0');
    CHECK(check("Bearer " CUR "x", 0) == PVJWT_ESIG);
    CHECK(check("Bearer current-shared-secret-0123456789abcdeF", 0) == PVJWT_ESIG);
    CHECK(check("Bearer  " CUR, 0) == PVJWT_ESIG); /* exactly one space */
    CHECK(check(CUR, 0) == PV_EINVAL);
    CHECK(check("Basic " CUR, 0) == PV_EINVAL);
    CHECK(check("Bearer ", 0) == PV_EINVAL);
    CHECK(check(NULL, 0) == PV_EINVAL);
    CHECK(pvea_init_shared(&A, "too-short", NULL, 0, &why) == PV_EINVAL && why);
}

static char keyfile[8192];

static void build_keyfile(void) {
    snprintf(keyfile, sizeof keyfile,
             "# game server keys\n\nkey rk1 RS256\n%skey ek1 ES256\r\n%s\nkey hk1 HS256 %s\n",
             FIX_RSA_PUB, FIX_EC_PUB, HSK);
}

static void test_jwt_keyfile(void) {
    char why[128];
    build_keyfile();
    int n = pvea_init_jwt(&A, keyfile, strlen(keyfile), "game-server", "proximity-voice", why,
                          sizeof why);
    if (n < 0) fprintf(stderr, "    %s\n", why);
    REQUIRE(n == 3);
    CHECK(A.keys[0].alg == PVJWT_RS256 && A.keys[1].alg == PVJWT_ES256 &&
          A.keys[2].alg == PVJWT_HS256);
    char hdr[4096];
    snprintf(hdr, sizeof hdr, "Bearer %s", FIX_RS256_KID);
    CHECK(check(hdr, NOW) == 0);
    CHECK_STR(principal, "jwt:rk1");
    snprintf(hdr, sizeof hdr, "Bearer %s", FIX_ES256_NOKID);
    CHECK(check(hdr, NOW) == 0);
    CHECK_STR(principal, "jwt:ek1");
    snprintf(hdr, sizeof hdr, "Bearer %s", FIX_RS256_BY_RSA2);
    CHECK(check(hdr, NOW) == PVJWT_ESIG);
    snprintf(hdr, sizeof hdr, "Bearer %s", FIX_ES256_KID);
    CHECK(check(hdr, FIX_EXP * 1000 + 30000) == PVJWT_EEXPIRED);
    /* HS256 key from the file */
    char tok[1024];
    REQUIRE(th_hs256(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"hk1\"}",
                     "{\"iss\":\"game-server\",\"aud\":\"proximity-voice\",\"exp\":1700000600}",
                     HSK, strlen(HSK)) > 0);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    CHECK(check(hdr, NOW) == 0);
    CHECK_STR(principal, "jwt:hk1");
    /* iss and aud enforced */
    REQUIRE(th_hs256(tok, sizeof tok, "{\"alg\":\"HS256\"}",
                     "{\"iss\":\"someone-else\",\"aud\":\"proximity-voice\",\"exp\":1700000600}",
                     HSK, strlen(HSK)) > 0);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    CHECK(check(hdr, NOW) == PVJWT_ECLAIM);
    REQUIRE(th_hs256(tok, sizeof tok, "{\"alg\":\"HS256\"}",
                     "{\"iss\":\"game-server\",\"aud\":\"other\",\"exp\":1700000600}", HSK,
                     strlen(HSK)) > 0);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    CHECK(check(hdr, NOW) == PVJWT_ECLAIM);
    /* without iss/aud configuration the same token passes */
    REQUIRE(pvea_init_jwt(&A, keyfile, strlen(keyfile), NULL, "", why, sizeof why) == 3);
    CHECK(check(hdr, NOW) == 0);
    /* the RSA public key as an HMAC secret does not work (alg pinned per key) */
    REQUIRE(th_hs256(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"rk1\"}", "{\"exp\":1700000600}",
                     FIX_RSA_PUB, strlen(FIX_RSA_PUB)) > 0);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    CHECK(check(hdr, NOW) == PVJWT_EKEY);
    /* a shared secret is not accepted in jwt mode */
    CHECK(check("Bearer " CUR, NOW) == PVJWT_EFORMAT);
}

static int bad_file(const char *text, const char *frag) {
    char why[128] = "";
    int rc = pvea_init_jwt(&A, text, strlen(text), NULL, NULL, why, sizeof why);
    if (rc != PV_EINVAL || !strstr(why, frag)) {
        fprintf(stderr, "    rc=%d why=%s\n", rc, why);
        return 0;
    }
    return 1;
}

static void test_jwt_keyfile_errors(void) {
    char buf[4096];
    CHECK(bad_file("", "no keys"));
    CHECK(bad_file("# only a comment\n", "no keys"));
    CHECK(bad_file("kee x RS256\n", "line 1: expected"));
    CHECK(bad_file("key bad/kid HS256 " HSK "\n", "bad kid"));
    CHECK(bad_file("\nkey k1 HS512 " HSK "\n", "line 2: unknown alg"));
    CHECK(bad_file("key k1 HS256 short\n", "shorter than 32"));
    CHECK(bad_file("key k1 HS256 " HSK "\nkey k1 HS256 " HSK "x\n", "line 2: duplicate kid"));
    snprintf(buf, sizeof buf, "key k1 ES256\n%s", FIX_RSA_PUB);
    CHECK(bad_file(buf, "does not match"));
    snprintf(buf, sizeof buf, "key k1 RS256\n%s", FIX_RSA1024_PUB);
    CHECK(bad_file(buf, "unusable"));
    snprintf(buf, sizeof buf, "key k1 RS256\n-----BEGIN PUBLIC KEY-----\nAAAA\n");
    CHECK(bad_file(buf, "without END"));
    snprintf(buf, sizeof buf, "key k1 RS256 extra\n%s", FIX_RSA_PUB);
    CHECK(bad_file(buf, "unexpected text"));
    size_t n = 0;
    for (int i = 0; i <= PVJWT_MAX_KEYS; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "key k%d HS256 %s%d\n", i, HSK, i);
    CHECK(bad_file(buf, "too many keys"));
}

int main(void) {
    T_RUN(test_mode_parse);
    T_RUN(test_shared_secret);
    T_RUN(test_jwt_keyfile);
    T_RUN(test_jwt_keyfile_errors);
    return t_done("io extauth");
}
