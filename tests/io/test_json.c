/*
 * test_json.c - JSON input parsing (every schema rule, grammar strictness)
 * and JSON output (escaping, round-trip of doubles, documents).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "json_out.h"
#include "t.h"

static pvj_ctx *C;
static pvj_err E;

#define S(lit) lit, sizeof(lit) - 1

static int sess(const char *body, pv_session_request *r) {
    pv_session_request tmp;
    return pvj_parse_session(C, body, strlen(body), r ? r : &tmp, &E);
}

/* Rejected with a message containing `frag`. */
static int rejects(const char *body, const char *frag) {
    pv_session_request r;
    int rc = pvj_parse_session(C, body, strlen(body), &r, &E);
    if (rc != PV_EINVAL) return 0;
    if (E.code != PV_ERR_INVALID_PAYLOAD) return 0;
    if (frag && !strstr(E.message, frag)) {
        fprintf(stderr, "    message was: %s\n", E.message);
        return 0;
    }
    return 1;
}

static void test_session_valid(void) {
    pv_session_request r;
    REQUIRE(sess("{\"participantId\":\"p_123\",\"roomId\":\"room_alpha\",\"displayName\":\"Player "
                 "123\",\"metadata\":{\"role\":\"default\",\"team\":\"red\"}}",
                 &r) == 0);
    CHECK_STR(r.participant_id, "p_123");
    CHECK_STR(r.room_id, "room_alpha");
    CHECK_STR(r.display_name, "Player 123");
    REQUIRE(r.metadata_count == 2);
    CHECK_STR(r.metadata[0].key, "role");
    CHECK_STR(r.metadata[0].value, "default");
    CHECK_STR(r.metadata[1].key, "team");
    CHECK_EQ_INT(r.request_id, 0);
    /* minimal, whitespace everywhere, keys in another order */
    REQUIRE(sess(" \n{ \"roomId\" : \"r1\" ,\t\"participantId\":\"a@b:c.d-e\" }\r\n", &r) == 0);
    CHECK(r.display_name == NULL);
    CHECK(r.metadata == NULL && r.metadata_count == 0);
    CHECK_STR(r.participant_id, "a@b:c.d-e");
}

static void test_session_escapes(void) {
    pv_session_request r;
    /* \u escapes in keys and values; surrogate pair -> 4-byte UTF-8 */
    REQUIRE(sess("{\"participant\\u0049d\":\"p\\u0031\",\"roomId\":\"r\",\"displayName\":"
                 "\"\\\"Q\\\" \\\\ \\/ \\u00e9 \\ud83d\\ude00\"}",
                 &r) == 0);
    CHECK_STR(r.participant_id, "p1");
    CHECK_STR(r.display_name, "\"Q\" \\ / \xc3\xa9 \xf0\x9f\x98\x80");
    /* raw UTF-8 in a name is fine */
    REQUIRE(sess("{\"participantId\":\"p\",\"roomId\":\"r\",\"displayName\":\"J\xc3\xbcrgen\"}",
                 &r) == 0);
    CHECK_STR(r.display_name, "J\xc3\xbcrgen");
}

static void test_session_schema(void) {
    CHECK(rejects("{\"roomId\":\"r\"}", "participantId: required"));
    CHECK(rejects("{\"participantId\":\"p\"}", "roomId: required"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"extra\":1}", "unknown field"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"participantId\":\"q\"}",
                  "duplicate key"));
    CHECK(rejects("{\"participantId\":\"p\",\"room\\u0049d\":\"r\",\"roomId\":\"s\"}",
                  "duplicate key"));
    CHECK(rejects("{\"participantId\":7,\"roomId\":\"r\"}", "participantId: must be a string"));
    CHECK(rejects("{\"participantId\":\"has space\",\"roomId\":\"r\"}", "participantId"));
    CHECK(rejects("{\"participantId\":\"\",\"roomId\":\"r\"}", "participantId"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r/x\"}", "roomId"));
    char id65[128];
    memset(id65, 'a', 65);
    id65[65] = 0;
    char body[512];
    snprintf(body, sizeof body, "{\"participantId\":\"%s\",\"roomId\":\"r\"}", id65);
    CHECK(rejects(body, "participantId"));
    id65[64] = 0; /* exactly PV_ID_MAX is fine */
    snprintf(body, sizeof body, "{\"participantId\":\"%s\",\"roomId\":\"r\"}", id65);
    CHECK(sess(body, NULL) == 0);
    CHECK(rejects("[1]", "must be an object"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"displayName\":null}",
                  "displayName: must be a string"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"displayName\":\"a\\nb\"}",
                  "control characters"));
}

static void test_session_limits(void) {
    char name[PV_NAME_MAX + 2], body[4096];
    memset(name, 'n', PV_NAME_MAX);
    name[PV_NAME_MAX] = 0;
    snprintf(body, sizeof body, "{\"participantId\":\"p\",\"roomId\":\"r\",\"displayName\":\"%s\"}",
             name);
    CHECK(sess(body, NULL) == 0);
    name[PV_NAME_MAX] = 'n', name[PV_NAME_MAX + 1] = 0;
    snprintf(body, sizeof body, "{\"participantId\":\"p\",\"roomId\":\"r\",\"displayName\":\"%s\"}",
             name);
    CHECK(rejects(body, "displayName: longer than 128"));
    /* metadata: 16 pairs ok, 17 rejected */
    size_t n = (size_t)snprintf(body, sizeof body,
                                "{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(body + n, sizeof body - n, "}}");
    CHECK(rejects(body, "more than 16"));
    CHECK(
        rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{\"a\":\"1\",\"a\":\"2\"}}",
                "duplicate key"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{\"a\":1}}",
                  "metadata.a: must be a string"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":[]}",
                  "metadata: must be an object"));
    CHECK(rejects("{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{\"\":\"x\"}}",
                  "empty key"));
    char val[PV_META_VALUE_MAX + 2];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = 0;
    snprintf(body, sizeof body,
             "{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{\"a\":\"%s\"}}", val);
    CHECK(rejects(body, "longer than 256"));
    /* total size limit: 5 values of 250 bytes = 1250 > 1024 */
    val[250] = 0;
    n = (size_t)snprintf(body, sizeof body,
                         "{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{");
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\"k%d\":\"%s\"", i ? "," : "", i, val);
    snprintf(body + n, sizeof body - n, "}}");
    CHECK(rejects(body, "exceed 1024"));
}

/* Grammar: everything jsmn alone would let through must be rejected. */
static void test_grammar_strict(void) {
    static const char *bad[] = {
        "{\"participantId\": }",
        "{\"participantId\":\"p\",\"roomId\":\"r\",}",
        "{\"participantId\":\"p\" \"roomId\":\"r\"}",
        "{\"participantId\":\"p\",,\"roomId\":\"r\"}",
        "{\"participantId\" \"p\"}",
        "{\"participantId\":'p'}",
        "{participantId:\"p\"}",
        "{\"a\":[1 2]}",
        "{\"a\":[1,]}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":1e}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":tru}",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"\xc3\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":1} x",
        "{\"a\":1}{}",
        "{\"a\":\"unterminated}",
        "{\"a\":1",
        "",
        "   ",
        "\"just a string\"",
        "42",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_session_request r;
        int rc = pvj_parse_session(C, bad[i], strlen(bad[i]), &r, &E);
        if (rc != PV_EINVAL) fprintf(stderr, "    accepted: %s\n", bad[i]);
        CHECK(rc == PV_EINVAL);
        CHECK(E.code == PV_ERR_INVALID_PAYLOAD);
        CHECK(pvj_validate(bad[i], strlen(bad[i]), NULL) == PV_EINVAL ||
              strcmp(bad[i], "{\"participantId\" \"p\"}") == 0);
    }
    /* embedded NUL byte in the body */
    CHECK(pvj_validate(S("{\"a\":\"x\0y\"}"), NULL) == PV_EINVAL);
    static const char *good[] = {"{}",
                                 "[]",
                                 "{\"a\":-0.5e+10}",
                                 "{\"a\":[true,false,null,{}]}",
                                 "{\"a\":\"\\ud83d\\ude00\"}",
                                 "[1E5, -0, 0.0]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(pvj_validate(good[i], strlen(good[i]), NULL) == 0);
}

static void test_grammar_depth_and_truncation(void) {
    char deep[200];
    int d = PVJ_MAX_DEPTH;
    for (int i = 0; i < d; i++)
        deep[i] = '[';
    for (int i = 0; i < d; i++)
        deep[d + i] = ']';
    CHECK(pvj_validate(deep, (size_t)(2 * d), NULL) == 0);
    for (int i = 0; i <= d; i++)
        deep[i] = '[';
    for (int i = 0; i <= d; i++)
        deep[d + 1 + i] = ']';
    CHECK(pvj_validate(deep, (size_t)(2 * d + 2), &E) == PV_EINVAL);
    CHECK(strstr(E.message, "nesting") != NULL);
    /* every strict prefix of a valid body is rejected */
    const char *body = "{\"participantId\":\"p\",\"roomId\":\"r\",\"metadata\":{\"k\":\"v\"}}";
    pv_session_request r;
    for (size_t n = 0; n < strlen(body); n++)
        CHECK(pvj_parse_session(C, body, n, &r, &E) == PV_EINVAL);
    CHECK(pvj_parse_session(C, body, strlen(body), &r, &E) == 0);
}

static int poses(const char *body, uint32_t max, pv_pose_batch *b) {
    return pvj_parse_poses(C, body, strlen(body), max, b, &E);
}

static void test_poses_valid(void) {
    pv_pose_batch b;
    const char *body =
        "{\"roomId\":\"room_alpha\",\"timestampMs\":1760000000999,\"poses\":["
        "{\"participantId\":\"p_123\",\"position\":{\"x\":10.1,\"y\":1.8,\"z\":-2.2},"
        "\"orientation\":{\"forward\":{\"x\":0,\"y\":0,\"z\":1},\"up\":{\"x\":0,\"y\":1,\"z\":0}}},"
        "{\"participantId\":\"p_2\",\"position\":{\"z\":-1e6,\"y\":1e-300,\"x\":1E6},"
        "\"timestampMs\":1760000000500}]}";
    REQUIRE(poses(body, 64, &b) == 0);
    CHECK_STR(b.room_id, "room_alpha");
    REQUIRE(b.count == 2);
    CHECK_STR(b.poses[0].participant_id, "p_123");
    CHECK(b.poses[0].position.x == 10.1 && b.poses[0].position.y == 1.8 &&
          b.poses[0].position.z == -2.2);
    CHECK(b.poses[0].has_orientation == 1);
    CHECK(b.poses[0].orientation.forward.z == 1 && b.poses[0].orientation.up.y == 1);
    CHECK_EQ_INT(b.poses[0].timestamp_ms, 1760000000999LL);
    CHECK(b.poses[1].has_orientation == 0);
    CHECK(b.poses[1].position.x == 1e6 && b.poses[1].position.z == -1e6);
    CHECK_EQ_INT(b.poses[1].timestamp_ms, 1760000000500LL);
    REQUIRE(poses("{\"roomId\":\"r\",\"timestampMs\":0,\"poses\":[]}", 64, &b) == 0);
    CHECK(b.count == 0);
}

static int poses_reject(const char *body, const char *frag) {
    pv_pose_batch b;
    if (poses(body, 4, &b) != PV_EINVAL) return 0;
    if (!strstr(E.message, frag)) {
        fprintf(stderr, "    message was: %s\n", E.message);
        return 0;
    }
    return 1;
}

#define P1(pos) "{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":[{\"participantId\":\"a\"," pos "}]}"
#define P3(pos)                                                                                    \
    "{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":["                                              \
    "{\"participantId\":\"a\",\"position\":{\"x\":0,\"y\":0,\"z\":0}},"                            \
    "{\"participantId\":\"b\",\"position\":{\"x\":0,\"y\":0,\"z\":0}},"                            \
    "{\"participantId\":\"c\"," pos "}]}"

static void test_poses_schema(void) {
    CHECK(poses_reject(P3("\"position\":{\"x\":1e999,\"y\":0,\"z\":0}"),
                       "poses[2].position.x: must be a finite number"));
    CHECK(poses_reject(P1("\"position\":{\"x\":1000000.5,\"y\":0,\"z\":0}"),
                       "poses[0].position.x: magnitude"));
    CHECK(
        poses_reject(P1("\"position\":{\"x\":\"1\",\"y\":0,\"z\":0}"), "must be a finite number"));
    CHECK(poses_reject(P1("\"position\":{\"x\":null,\"y\":0,\"z\":0}"), "must be a finite number"));
    CHECK(poses_reject(P1("\"position\":{\"x\":1,\"y\":0}"), "poses[0].position.z: required"));
    CHECK(poses_reject(P1("\"position\":{\"x\":1,\"y\":0,\"z\":0,\"w\":0}"), "unknown field"));
    CHECK(poses_reject(P1("\"position\":{\"x\":1,\"x\":2,\"y\":0,\"z\":0}"), "duplicate key"));
    CHECK(poses_reject(P1("\"position\":[1,2,3]"), "poses[0].position: must be an object"));
    CHECK(poses_reject("{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":[{\"participantId\":\"a\"}]}",
                       "poses[0].position: required"));
    CHECK(poses_reject(P1("\"position\":{\"x\":0,\"y\":0,\"z\":0},\"orientation\":{\"forward\":"
                          "{\"x\":0,\"y\":0,\"z\":1}}"),
                       "poses[0].orientation.up: required"));
    CHECK(poses_reject(P1("\"position\":{\"x\":0,\"y\":0,\"z\":0},\"orientation\":{\"forward\":"
                          "{\"x\":0,\"y\":0,\"z\":-1e400},\"up\":{\"x\":0,\"y\":1,\"z\":0}}"),
                       "poses[0].orientation.forward.z: must be a finite number"));
    CHECK(poses_reject(P1("\"position\":{\"x\":0,\"y\":0,\"z\":0},\"timestampMs\":1.5"),
                       "poses[0].timestampMs: must be an integer"));
    CHECK(poses_reject(P1("\"position\":{\"x\":0,\"y\":0,\"z\":0},\"timestampMs\":1e3"),
                       "timestampMs: must be an integer"));
    CHECK(poses_reject(P1("\"position\":{\"x\":0,\"y\":0,\"z\":0},\"timestampMs\":-1"),
                       "timestampMs: must be an integer in 0.."));
    CHECK(poses_reject("{\"roomId\":\"r\",\"timestampMs\":9007199254740992,\"poses\":[]}",
                       "timestampMs: must be an integer in"));
    CHECK(poses_reject("{\"roomId\":\"r\",\"timestampMs\":99999999999999999999999,\"poses\":[]}",
                       "timestampMs"));
    CHECK(poses_reject("{\"roomId\":\"r\",\"poses\":[]}", "timestampMs: required"));
    CHECK(poses_reject("{\"timestampMs\":1,\"poses\":[]}", "roomId: required"));
    CHECK(poses_reject("{\"roomId\":\"r\",\"timestampMs\":1}", "poses: required"));
    CHECK(poses_reject("{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":{}}",
                       "poses: must be an array"));
    CHECK(poses_reject("{\"roomId\":\"r\",\"timestampMs\":\"1\",\"poses\":[]}",
                       "must be an integer"));
    CHECK(poses_reject(P1("\"position\":{\"x\":0,\"y\":0,\"z\":0},\"participantId\":\"b\""),
                       "duplicate key"));
    /* number literal length limit */
    CHECK(poses_reject(P1("\"position\":{\"x\":0.00000000000000000000000000000000000000001,\"y\":0,"
                          "\"z\":0}"),
                       "number literal too long"));
    /* batch size limit (max 4 here) */
    const char *five = "{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":["
                       "{\"participantId\":\"a\",\"position\":{\"x\":0,\"y\":0,\"z\":0}},"
                       "{\"participantId\":\"b\",\"position\":{\"x\":0,\"y\":0,\"z\":0}},"
                       "{\"participantId\":\"c\",\"position\":{\"x\":0,\"y\":0,\"z\":0}},"
                       "{\"participantId\":\"d\",\"position\":{\"x\":0,\"y\":0,\"z\":0}},"
                       "{\"participantId\":\"e\",\"position\":{\"x\":0,\"y\":0,\"z\":0}}]}";
    CHECK(poses_reject(five, "more than 4 poses"));
    pv_pose_batch b;
    CHECK(poses(five, 5, &b) == 0 && b.count == 5);
}

static void test_poses_big_batch(void) {
    /* PVJ_MAX_POSES poses with orientation fit the default context */
    size_t cap = 400 * PVJ_MAX_POSES + 100, n = 0;
    char *body = malloc(cap);
    REQUIRE(body);
    n += (size_t)snprintf(body + n, cap - n, "{\"roomId\":\"r\",\"timestampMs\":5,\"poses\":[");
    for (int i = 0; i < PVJ_MAX_POSES; i++)
        n += (size_t)snprintf(body + n, cap - n,
                              "%s{\"participantId\":\"p%d\",\"position\":{\"x\":%d.25,\"y\":-1.5,"
                              "\"z\":3},\"orientation\":{\"forward\":{\"x\":0,\"y\":0,\"z\":1},"
                              "\"up\":{\"x\":0,\"y\":1,\"z\":0}}}",
                              i ? "," : "", i, i);
    n += (size_t)snprintf(body + n, cap - n, "]}");
    pv_pose_batch b;
    int rc = pvj_parse_poses(C, body, n, 100000, &b, &E);
    if (rc) fprintf(stderr, "    %s (len %zu)\n", E.message, n);
    REQUIRE(rc == 0);
    CHECK(b.count == PVJ_MAX_POSES);
    CHECK_STR(b.poses[PVJ_MAX_POSES - 1].participant_id, "p1023");
    CHECK(b.poses[1000].position.x == 1000.25);
    /* a body larger than the ctx limit is refused up front */
    pvj_ctx *small = pvj_ctx_new(1024);
    REQUIRE(small);
    CHECK(pvj_parse_poses(small, body, n, 100000, &b, &E) == PV_EINVAL);
    CHECK(strstr(E.message, "larger than 1024") != NULL);
    /* token-dense input hits the token limit, not memory */
    char dense[1024];
    size_t m = 0;
    dense[m++] = '[';
    while (m < sizeof dense - 2)
        dense[m++] = '1', dense[m++] = ',';
    dense[m - 1] = ']';
    CHECK(pvj_parse_poses(small, dense, m, 10, &b, &E) == PV_EINVAL);
    pvj_ctx_free(small);
    free(body);
}

static void test_client_msgs(void) {
    pvj_client_msg m;
    REQUIRE(pvj_parse_client_msg(C, S("{\"type\":\"auth\",\"token\":\"aaa.bbb.c-_c\"}"), &m, &E) ==
            0);
    CHECK(m.kind == PVJ_CLIENT_AUTH);
    CHECK_STR(m.token, "aaa.bbb.c-_c");
    REQUIRE(
        pvj_parse_client_msg(C,
                             S("{\"type\":\"policy.snapshot.request\",\"roomId\":\"room_alpha\","
                               "\"lastAppliedRevision\":47,\"reason\":\"revision_gap\"}"),
                             &m, &E) == 0);
    CHECK(m.kind == PVJ_CLIENT_SNAPSHOT_REQUEST);
    CHECK(m.msg.type == PV_CMSG_SNAPSHOT_REQUEST && m.msg.revision == 47 && m.msg.conn_id == 0);
    CHECK_STR(m.room_id, "room_alpha");
    CHECK_STR(m.reason, "revision_gap");
    REQUIRE(pvj_parse_client_msg(C, S("{\"revision\":9,\"type\":\"policy.audience.ack\"}"), &m,
                                 &E) == 0);
    CHECK(m.kind == PVJ_CLIENT_AUDIENCE_ACK && m.msg.type == PV_CMSG_AUDIENCE_ACK &&
          m.msg.revision == 9);
    CHECK(m.room_id == NULL);
    /* the browser client names its room in the ack */
    REQUIRE(pvj_parse_client_msg(
                C, S("{\"type\":\"policy.audience.ack\",\"roomId\":\"room_alpha\",\"revision\":3}"),
                &m, &E) == 0);
    CHECK(m.kind == PVJ_CLIENT_AUDIENCE_ACK && m.msg.revision == 3);
    CHECK_STR(m.room_id, "room_alpha");
    static const char *bad[] = {
        "{\"type\":\"auth\"}",
        "{\"type\":\"auth\",\"token\":\"\"}",
        "{\"type\":\"auth\",\"token\":\"a b\"}",
        "{\"type\":\"auth\",\"token\":\"x\",\"extra\":1}",
        "{\"type\":\"auth\",\"type\":\"auth\",\"token\":\"x\"}",
        "{\"token\":\"x\"}",
        "{\"type\":7}",
        "{\"type\":\"policy.snapshot\"}",
        "{\"type\":\"policy.snapshot.request\",\"roomId\":\"r\"}",
        "{\"type\":\"policy.snapshot.request\",\"lastAppliedRevision\":1}",
        "{\"type\":\"policy.snapshot.request\",\"roomId\":\"r\",\"lastAppliedRevision\":-1}",
        "{\"type\":\"policy.snapshot.request\",\"roomId\":\"r\",\"lastAppliedRevision\":1,"
        "\"reason\":\"\\u00e9\"}",
        "{\"type\":\"policy.audience.ack\"}",
        "{\"type\":\"policy.audience.ack\",\"revision\":\"1\"}",
        "{\"type\":\"policy.audience.ack\",\"revision\":1.0}",
        "{\"type\":\"policy.audience.ack\",\"revision\":1,\"roomId\":\"bad room\"}",
        "{\"type\":\"policy.audience.ack\",\"revision\":1,\"room\":\"r\"}",
        "[\"auth\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pvj_parse_client_msg(C, bad[i], strlen(bad[i]), &m, &E);
        if (rc != PV_EINVAL) fprintf(stderr, "    accepted: %s\n", bad[i]);
        CHECK(rc == PV_EINVAL && E.code == PV_ERR_INVALID_PAYLOAD && E.message[0]);
    }
}

static void test_webhook(void) {
    pvj_webhook w;
    const char *joined =
        "{\"event\":\"participant_joined\",\"room\":{\"sid\":\"RM_x\",\"name\":\"room_alpha\","
        "\"emptyTimeout\":300,\"creationTime\":\"1692985556\"},\"participant\":{\"sid\":\"PA_1\","
        "\"identity\":\"p_1\",\"state\":\"ACTIVE\",\"tracks\":[],\"permission\":{\"canSubscribe\":"
        "true}},\"id\":\"EV_abc\",\"createdAt\":\"1692985557\"}";
    REQUIRE(pvj_parse_webhook(C, joined, strlen(joined), &w, &E) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_PARTICIPANT_JOINED);
    CHECK_STR(w.wh.room_id, "room_alpha");
    CHECK_STR(w.wh.identity, "p_1");
    CHECK_STR(w.id, "EV_abc");
    CHECK_EQ_INT(w.wh.created_at_s, 1692985557);
    const char *pub = "{\"event\":\"track_published\",\"room\":{\"name\":\"r\"},\"participant\":"
                      "{\"identity\":\"p\"},\"track\":{\"sid\":\"TR_a\",\"type\":\"AUDIO\","
                      "\"source\":\"MICROPHONE\"},\"createdAt\":17}";
    REQUIRE(pvj_parse_webhook(C, pub, strlen(pub), &w, &E) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_TRACK_PUBLISHED);
    CHECK_STR(w.wh.track_sid, "TR_a");
    CHECK_EQ_INT(w.wh.created_at_s, 17);
    /* type omitted = AUDIO (proto default) */
    const char *pub2 =
        "{\"event\":\"track_unpublished\",\"room\":{\"name\":\"r\"},\"participant\":"
        "{\"identity\":\"p\"},\"track\":{\"sid\":\"TR_b\",\"source\":\"MICROPHONE\"}}";
    REQUIRE(pvj_parse_webhook(C, pub2, strlen(pub2), &w, &E) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_TRACK_UNPUBLISHED);
    CHECK_STR(w.wh.track_sid, "TR_b");
    const char *video = "{\"event\":\"track_published\",\"room\":{\"name\":\"r\"},\"participant\":"
                        "{\"identity\":\"p\"},\"track\":{\"sid\":\"TR_v\",\"type\":\"VIDEO\","
                        "\"source\":\"CAMERA\"}}";
    REQUIRE(pvj_parse_webhook(C, video, strlen(video), &w, &E) == 0);
    CHECK(w.relevant == 0);
    const char *screen_audio = "{\"event\":\"track_published\",\"room\":{\"name\":\"r\"},"
                               "\"participant\":{\"identity\":\"p\"},\"track\":{\"sid\":\"TR_s\","
                               "\"type\":\"AUDIO\",\"source\":\"SCREEN_SHARE_AUDIO\"}}";
    REQUIRE(pvj_parse_webhook(C, screen_audio, strlen(screen_audio), &w, &E) == 0);
    CHECK(w.relevant == 0);
    REQUIRE(pvj_parse_webhook(C, S("{\"event\":\"room_started\",\"room\":{\"name\":\"r\"}}"), &w,
                              &E) == 0);
    CHECK(w.relevant == 0);
    CHECK_STR(w.event, "room_started");
    REQUIRE(pvj_parse_webhook(C, S("{\"event\":\"room_finished\",\"room\":{\"name\":\"r\"}}"), &w,
                              &E) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_ROOM_FINISHED);
    /* identities/rooms that cannot be ours are ignored, not rejected */
    REQUIRE(pvj_parse_webhook(C,
                              S("{\"event\":\"participant_left\",\"room\":{\"name\":\"r\"},"
                                "\"participant\":{\"identity\":\"a b\"}}"),
                              &w, &E) == 0);
    CHECK(w.relevant == 0);
    REQUIRE(pvj_parse_webhook(C, S("{\"event\":\"room_finished\",\"room\":{\"name\":\"\"}}"), &w,
                              &E) == 0);
    CHECK(w.relevant == 0);
    /* rejected: missing fields of relevant events, bad track sids, duplicates */
    static const char *bad[] = {
        "{\"room\":{\"name\":\"r\"}}",
        "{\"event\":\"participant_left\",\"room\":{\"name\":\"r\"}}",
        "{\"event\":\"participant_left\",\"participant\":{\"identity\":\"p\"}}",
        "{\"event\":\"participant_left\",\"room\":{\"name\":\"r\",\"name\":\"s\"},\"participant\":{"
        "\"identity\":\"p\"}}",
        "{\"event\":\"track_published\",\"room\":{\"name\":\"r\"},\"participant\":{\"identity\":"
        "\"p\"}}",
        "{\"event\":\"track_published\",\"room\":{\"name\":\"r\"},\"participant\":{\"identity\":"
        "\"p\"},\"track\":{\"source\":\"MICROPHONE\"}}",
        "{\"event\":\"room_finished\",\"room\":{\"name\":\"r\"},\"createdAt\":\"12x\"}",
        "{\"event\":\"room_finished\",\"room\":{\"name\":\"r\"},\"createdAt\":1.5}",
        "{\"event\":\"room_finished\",\"event\":\"room_started\",\"room\":{\"name\":\"r\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pvj_parse_webhook(C, bad[i], strlen(bad[i]), &w, &E);
        if (rc != PV_EINVAL) fprintf(stderr, "    accepted: %s\n", bad[i]);
        CHECK(rc == PV_EINVAL);
    }
}

static void test_lk_participants(void) {
    const pv_lk_participant *p;
    uint32_t n, skipped;
    const char *body =
        "{\"participants\":[{\"sid\":\"PA_1\",\"identity\":\"alice\",\"tracks\":[{\"sid\":\"TR_v\","
        "\"type\":\"VIDEO\",\"source\":\"CAMERA\"},{\"sid\":\"TR_m\",\"type\":\"AUDIO\",\"source\":"
        "\"MICROPHONE\",\"muted\":false}],\"joined_at\":\"1700000000\"},{\"identity\":\"bob\"},"
        "{\"identity\":\"not ours!\",\"tracks\":[]},{\"identity\":\"carol\",\"tracks\":[{\"sid\":"
        "\"TR_c\",\"type\":0,\"source\":2}]}]}";
    REQUIRE(pvj_parse_lk_participants(C, body, strlen(body), 10, &p, &n, &skipped, &E) == 0);
    REQUIRE(n == 3);
    CHECK(skipped == 1);
    CHECK_STR(p[0].identity, "alice");
    CHECK_STR(p[0].mic_track_sid, "TR_m");
    CHECK_STR(p[1].identity, "bob");
    CHECK(p[1].mic_track_sid == NULL);
    CHECK_STR(p[2].mic_track_sid, "TR_c");
    CHECK(pvj_parse_lk_participants(C, S("{}"), 10, &p, &n, &skipped, &E) == 0 && n == 0);
    CHECK(pvj_parse_lk_participants(C, body, strlen(body), 3, &p, &n, &skipped, &E) == PV_EINVAL);
    CHECK(pvj_parse_lk_participants(C, S("{\"participants\":{}}"), 10, &p, &n, &skipped, &E) ==
          PV_EINVAL);
}

/* ---- output ---- */

static void test_out_escaping(void) {
    char mem[256];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    pvbuf_jstr(&b, "a\"b\\c\n\t\x01\x1f\x7f\xc3\xa9/");
    CHECK_STR(mem, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f\xc3\xa9/\"");
    CHECK(pvj_validate(mem, b.len, NULL) == PV_EINVAL); /* a bare string is not a document */
    pvbuf_reset(&b);
    pvbuf_jstr(&b, NULL);
    CHECK_STR(mem, "null");
    /* overflow is sticky and leaves the last complete write */
    char small[8];
    pvbuf_init(&b, small, sizeof small);
    pvbuf_cstr(&b, "1234");
    pvbuf_cstr(&b, "5678");
    CHECK(b.overflow == 1 && pvbuf_status(&b) == PV_EOVERFLOW);
    CHECK_STR(small, "1234");
    pvbuf_cstr(&b, "9");
    CHECK_STR(small, "1234");
}

static void test_out_doubles(void) {
    char mem[64];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    double vals[] = {
        0.1,        10.1, -2.2, 1e6, 1e-300, 5e-324, 1.7976931348623157e308, 0.30000000000000004,
        123456.789, -0.0, 3.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        pvbuf_reset(&b);
        pvbuf_double(&b, vals[i]);
        CHECK(strtod(mem, NULL) == vals[i]);
        CHECK(strchr(mem, 'n') == NULL && strchr(mem, 'i') == NULL);
    }
    pvbuf_reset(&b);
    pvbuf_double(&b, 0.1);
    CHECK_STR(mem, "0.1");
    pvbuf_reset(&b);
    pvbuf_double(&b, -0.0);
    CHECK_STR(mem, "0");
    pvbuf_reset(&b);
    pvbuf_double(&b, NAN);
    CHECK_STR(mem, "0");
    pvbuf_reset(&b);
    pvbuf_double(&b, -INFINITY);
    CHECK_STR(mem, "0");
    pvbuf_reset(&b);
    pvbuf_i64(&b, INT64_MIN);
    CHECK_STR(mem, "-9223372036854775808");
    pvbuf_reset(&b);
    pvbuf_u64(&b, UINT64_MAX);
    CHECK_STR(mem, "18446744073709551615");
}

static void test_out_documents(void) {
    char mem[1024];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    pvjo_detail det[2] = {{"currentRevision", NULL, 44}, {"receivedRevision", NULL, 43}};
    REQUIRE(pvjo_error(&b, PV_ERR_STALE_REVISION, "Policy revision must be greater", det, 2) == 0);
    CHECK_STR(mem, "{\"error\":{\"code\":\"STALE_REVISION\",\"message\":\"Policy revision must be "
                   "greater\",\"details\":{\"currentRevision\":44,\"receivedRevision\":43}}}");
    REQUIRE(pvjo_error(&b, PV_ERR_UNAUTHORIZED, "no", NULL, 0) == 0);
    CHECK_STR(mem, "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"no\"}}");

    pv_session_reply r = {0};
    r.room_id = "room_alpha", r.participant_id = "p_123", r.policy_revision = 42;
    pvjo_session_extra x = {"wss://voice.example.com", "tok.en.x", 1760000000000LL,
                            "wss://voice.example.com/policy-socket", "ps.tok.en"};
    REQUIRE(pvjo_session_reply(&b, &r, &x) == 0);
    CHECK_STR(mem, "{\"roomId\":\"room_alpha\",\"participantId\":\"p_123\",\"livekitUrl\":\"wss://"
                   "voice.example.com\",\"token\":\"tok.en.x\",\"tokenExpiresAtMs\":1760000000000,"
                   "\"policySocketUrl\":\"wss://voice.example.com/policy-socket\","
                   "\"policySocketToken\":\"ps.tok.en\",\"policyRevision\":42}");
    /* what we write, we can read back as JSON */
    CHECK(pvj_validate(mem, b.len, NULL) == 0);
    r.error = PV_ERR_ROOM_NOT_FOUND;
    CHECK(pvjo_session_reply(&b, &r, &x) == PV_EINVAL);

    pv_poses_reply pr = {0};
    pr.accepted = 3, pr.stale = 1, pr.unknown = 2, pr.revision = 7;
    REQUIRE(pvjo_poses_reply(&b, "r", &pr) == 0);
    CHECK_STR(mem, "{\"roomId\":\"r\",\"accepted\":3,\"stale\":1,\"unknown\":2,\"revision\":7}");

    char tiny[16];
    pvbuf t;
    pvbuf_init(&t, tiny, sizeof tiny);
    CHECK(pvjo_poses_reply(&t, "r", &pr) == PV_EOVERFLOW);
}

static void test_out_socket(void) {
    char mem[1024];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    const char *ids[] = {"p_101", "p_205"};
    pv_socket_send s = {0};
    s.type = PV_SMSG_SNAPSHOT, s.room_id = "room_alpha", s.participant_id = "p_123";
    s.revision = 44, s.ids = ids, s.id_count = 2;
    REQUIRE(pvjo_socket_send(&b, &s) == 0);
    CHECK_STR(mem, "{\"type\":\"policy.snapshot\",\"roomId\":\"room_alpha\",\"participantId\":"
                   "\"p_123\",\"revision\":44,\"canHear\":[\"p_101\",\"p_205\"]}");
    s.type = PV_SMSG_DELTA, s.revision = 45, s.previous_revision = 44;
    REQUIRE(pvjo_socket_send(&b, &s) == 0);
    CHECK_STR(mem, "{\"type\":\"policy.audibility.delta\",\"roomId\":\"room_alpha\","
                   "\"participantId\":\"p_123\",\"revision\":45,\"previousRevision\":44,"
                   "\"canHear\":[\"p_101\",\"p_205\"]}");
    s.type = PV_SMSG_AUDIENCE, s.id_count = 0;
    REQUIRE(pvjo_socket_send(&b, &s) == 0);
    CHECK_STR(mem, "{\"type\":\"policy.audience\",\"roomId\":\"room_alpha\",\"revision\":45,"
                   "\"audience\":[]}");
    pv_pose_out po[2] = {{"p_205", {5, 2, 3}, 1, {{1, 0, 0}, {0, 1, 0}}, 1760000002000LL},
                         {"p_9", {-0.5, 0, 1e-7}, 0, {{0, 0, 0}, {0, 0, 0}}, 1760000001999LL}};
    s.type = PV_SMSG_POSE_BATCH, s.poses = po, s.pose_count = 2, s.timestamp_ms = 1760000002000LL;
    REQUIRE(pvjo_socket_send(&b, &s) == 0);
    CHECK_STR(mem, "{\"type\":\"policy.pose.batch\",\"roomId\":\"room_alpha\",\"timestampMs\":"
                   "1760000002000,\"poses\":[{\"participantId\":\"p_205\",\"position\":{\"x\":5,"
                   "\"y\":2,\"z\":3},\"orientation\":{\"forward\":{\"x\":1,\"y\":0,\"z\":0},\"up\":"
                   "{\"x\":0,\"y\":1,\"z\":0}},\"timestampMs\":1760000002000},{\"participantId\":"
                   "\"p_9\",\"position\":{\"x\":-0.5,\"y\":0,\"z\":1e-07},\"timestampMs\":"
                   "1760000001999}]}");
    CHECK(pvj_validate(mem, b.len, NULL) == 0);
    s.type = PV_SMSG_ERROR, s.error = PV_ERR_UNAUTHORIZED,
    s.message = "Policy socket token is invalid";
    REQUIRE(pvjo_socket_send(&b, &s) == 0);
    CHECK_STR(mem, "{\"type\":\"policy.error\",\"code\":\"UNAUTHORIZED\",\"message\":\"Policy "
                   "socket token is invalid\"}");
    s.type = (pv_server_msg_type)99;
    CHECK(pvjo_socket_send(&b, &s) == PV_EINVAL);
}

static void test_out_livekit(void) {
    char mem[512];
    pvbuf b;
    pvbuf_init(&b, mem, sizeof mem);
    const char *sids[] = {"TR_a", "TR_b"};
    pv_livekit_call c = {0};
    c.method = PV_LK_UPDATE_SUBSCRIPTIONS, c.room_id = "r", c.identity = "p", c.subscribe = 1;
    c.track_sids = sids, c.track_count = 2;
    REQUIRE(pvjo_livekit_call(&b, &c) == 0);
    CHECK_STR(mem, "{\"room\":\"r\",\"identity\":\"p\",\"track_sids\":[\"TR_a\",\"TR_b\"],"
                   "\"subscribe\":true}");
    c.method = PV_LK_REMOVE_PARTICIPANT;
    REQUIRE(pvjo_livekit_call(&b, &c) == 0);
    CHECK_STR(mem, "{\"room\":\"r\",\"identity\":\"p\"}");
    c.method = PV_LK_LIST_PARTICIPANTS;
    REQUIRE(pvjo_livekit_call(&b, &c) == 0);
    CHECK_STR(mem, "{\"room\":\"r\"}");
    CHECK_STR(pvjo_livekit_path(PV_LK_LIST_PARTICIPANTS),
              "/twirp/livekit.RoomService/ListParticipants");
    CHECK(pvjo_livekit_path((pv_lk_method)0) == NULL);
}

int main(void) {
    C = pvj_ctx_new(0);
    if (!C) return 2;
    T_RUN(test_session_valid);
    T_RUN(test_session_escapes);
    T_RUN(test_session_schema);
    T_RUN(test_session_limits);
    T_RUN(test_grammar_strict);
    T_RUN(test_grammar_depth_and_truncation);
    T_RUN(test_poses_valid);
    T_RUN(test_poses_schema);
    T_RUN(test_poses_big_batch);
    T_RUN(test_client_msgs);
    T_RUN(test_webhook);
    T_RUN(test_lk_participants);
    T_RUN(test_out_escaping);
    T_RUN(test_out_doubles);
    T_RUN(test_out_documents);
    T_RUN(test_out_socket);
    T_RUN(test_out_livekit);
    pvj_ctx_free(C);
    return t_done("io json");
}
