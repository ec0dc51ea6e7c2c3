/*
 * test_cors.c - CORS allowlist parsing, normalisation and matching.
 */
#include <string.h>

#include "cors.h"
#include "pv.h"
#include "t.h"

static pvcors C;

static int allowed(const char *o) {
    return pvcors_allowed(&C, o, strlen(o));
}

static void test_parse_and_match(void) {
    const char *why;
    REQUIRE(pvcors_parse(&C,
                         " https://Game.Example.com , http://localhost:5173,https://a.b:443,"
                         "http://[::1]:8080,http://x.y:80",
                         1, &why) == 5);
    CHECK_STR(C.origins[0], "https://game.example.com");
    CHECK_STR(C.origins[2], "https://a.b");
    CHECK_STR(C.origins[4], "http://x.y");
    CHECK(allowed("https://game.example.com"));
    CHECK(allowed("HTTPS://GAME.EXAMPLE.COM"));
    CHECK(allowed("https://game.example.com:443"));
    CHECK(allowed("http://localhost:5173"));
    CHECK(allowed("https://a.b"));
    CHECK(allowed("http://[::1]:8080"));
    CHECK(allowed("http://x.y"));
    CHECK(!allowed("http://game.example.com"));       /* scheme matters */
    CHECK(!allowed("https://game.example.com:8443")); /* port matters */
    CHECK(!allowed("https://evil.game.example.com"));
    CHECK(!allowed("https://game.example.com.evil.com"));
    CHECK(!allowed("https://game.example.com/"));
    CHECK(!allowed("http://localhost"));
    CHECK(!allowed("null"));
    CHECK(!allowed(""));
    CHECK(!allowed("https://game.example.com\r\nX: y"));
    CHECK(!pvcors_allowed(&C, NULL, 0));
}

static void test_parse_errors(void) {
    const char *why = NULL;
    CHECK(pvcors_parse(&C, "*", 1, &why) == PV_EINVAL && why && strstr(why, "production"));
    CHECK(pvcors_parse(&C, "https://a.com/path", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "https://*.a.com", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "ftp://a.com", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "a.com", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "https://a.com:0", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "https://a.com:65536", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "https://a.com:", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "https://user@a.com", 0, &why) == PV_EINVAL);
    CHECK(pvcors_parse(&C, "https://", 0, &why) == PV_EINVAL);
    char many[2048] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, "https://a.com,");
    CHECK(pvcors_parse(&C, many, 0, &why) == PV_EINVAL);
}

static void test_wildcard_and_empty(void) {
    const char *why;
    CHECK(pvcors_parse(&C, "", 1, &why) == 0);
    CHECK(!allowed("https://a.com"));
    CHECK(pvcors_parse(&C, NULL, 1, &why) == 0);
    CHECK(pvcors_parse(&C, " , ,", 1, &why) == 0);
    REQUIRE(pvcors_parse(&C, "*", 0, &why) == 1);
    CHECK(allowed("https://anything.example"));
    CHECK(allowed("http://localhost:3000"));
    CHECK(!allowed("null")); /* never, even with "*" */
    CHECK(!allowed("javascript:alert(1)"));
}

int main(void) {
    T_RUN(test_parse_and_match);
    T_RUN(test_parse_errors);
    T_RUN(test_wildcard_and_empty);
    return t_done("io cors");
}
