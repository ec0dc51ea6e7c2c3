/*
 * test_api.c - the endpoints of MVP-SPEC 8.2 and the error model of 18,
 * against the running daemon.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "bb.h"
#include "jwt.h"
#include "secrets.h"
#include "json_out.h"
#include "tokens.h"

static bb_resp R;

static long long json_int(const char *body, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(body, pat);
    return p ? atoll(p + strlen(pat)) : -1;
}

static const char *json_str(const char *body, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(body, pat);
    if (!p) return NULL;
    p += strlen(pat);
    size_t n = strcspn(p, "\"");
    if (n >= cap) return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

BB_TEST(api_health_and_request_ids) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    char v[128], id1[64] = "", id2[64] = "";
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", NULL, NULL, &R), 200);
    BB_CHECK(strcmp(R.body, "{\"status\":\"ok\"}") == 0);
    BB_CHECK(bb_header(&R, "content-type", v, sizeof v) && strcmp(v, "application/json") == 0);
    BB_CHECK(bb_header(&R, "date", v, sizeof v) && strstr(v, " GMT"));
    BB_CHECK(bb_header(&R, "x-request-id", id1, sizeof id1) && strlen(id1) == 16);
    BB_CHECK_INT(bb_req(d.port, "HEAD", "/health", NULL, NULL, &R), 200);
    BB_CHECK(bb_header(&R, "x-request-id", id2, sizeof id2) && strcmp(id1, id2) != 0);
    BB_CHECK_INT(bb_req(d.port, "GET", "/nope", NULL, NULL, &R), 404);
    BB_CHECK(bb_error_code(&R, "NOT_FOUND"));
    BB_CHECK_INT(bb_req(d.port, "DELETE", "/sessions", NULL, NULL, &R), 405);
    BB_CHECK(bb_error_code(&R, "METHOD_NOT_ALLOWED"));
    BB_CHECK(bb_header(&R, "allow", v, sizeof v) && strcmp(v, "POST, OPTIONS") == 0);
    /* the failed request is logged with its requestId */
    char id[64];
    bb_header(&R, "x-request-id", id, sizeof id);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    static char log[1 << 20];
    bb_daemon_log(&d, log, sizeof log);
    char pat[96];
    snprintf(pat, sizeof pat, "\"requestId\":\"%s\"", id);
    BB_CHECK(strstr(log, pat) != NULL);
    /* every line is one JSON object with the fields of spec 19.1 */
    int lines = 0;
    for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n")) {
        lines++;
        BB_CHECK(l[0] == '{' && l[strlen(l) - 1] == '}');
        BB_CHECK(strstr(l, "\"timestamp\":\"") && strstr(l, "\"level\":\"") &&
                 strstr(l, "\"service\":\"proximity-voice-control\"") &&
                 strstr(l, "\"message\":\""));
    }
    BB_CHECK(lines >= 3);
    bb_env_free(&e);
}

BB_TEST(api_ready_probes_livekit_and_caches) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "READY_CACHE_MS", "400", NULL) == 0);
    BB_CHECK_INT(bb_req(d.port, "GET", "/ready", NULL, NULL, &R), 200);
    BB_CHECK(strstr(R.body, "\"status\":\"ready\"") != NULL);
    BB_CHECK_INT(bb_req(d.port, "GET", "/ready", NULL, NULL, &R), 200);
    BB_CHECK_INT(bb_lk_root_hits(), 1); /* the second answer came from the cache */
    bb_lk_set(500, 0);
    bb_sleep_ms(450);
    BB_CHECK_INT(bb_req(d.port, "GET", "/ready", NULL, NULL, &R), 503);
    BB_CHECK(bb_error_code(&R, "NOT_READY"));
    BB_CHECK(strstr(R.body, "HTTP 500") != NULL);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
    /* LiveKit not listening at all */
    BB_CHECK(bb_up(&d, &e, "LIVEKIT_URL", "ws://127.0.0.1:1", NULL) == 0);
    BB_CHECK_INT(bb_req(d.port, "GET", "/ready", NULL, NULL, &R), 503);
    BB_CHECK(strstr(R.body, "livekit unreachable") != NULL);
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", NULL, NULL, &R), 200); /* alive anyway */
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

static void check_tokens(const char *body, const char *room, const char *part, int ttl_s) {
    char tok[4096], ptok[4096], url[256];
    BB_CHECK(json_str(body, "livekitUrl", url, sizeof url) && strncmp(url, "ws://", 5) == 0);
    BB_CHECK(json_str(body, "policySocketUrl", url, sizeof url) &&
             strstr(url, "/policy-socket") != NULL);
    BB_CHECK(json_str(body, "token", tok, sizeof tok) != NULL);
    BB_CHECK(json_str(body, "policySocketToken", ptok, sizeof ptok) != NULL);
    BB_CHECK(json_int(body, "policyRevision") >= 0);
    long long exp_ms = json_int(body, "tokenExpiresAtMs");
    int64_t wall = (int64_t)time(NULL) * 1000;
    BB_CHECK(exp_ms > wall + (ttl_s - 5) * 1000LL && exp_ms < wall + (ttl_s + 5) * 1000LL);
    /* the LiveKit token verifies under LIVEKIT_API_SECRET with the right claims */
    pvsecret lk;
    const char *why;
    pvsecret_set(&lk, BB_LK_SECRET, NULL, 0, &why);
    pvjwt_key key;
    pvjwt_key_hs256(&key, NULL, &lk);
    pvjwt_claims cl;
    BB_CHECK_INT(pvjwt_verify(tok, strlen(tok), &key, 1, wall, 1000, &cl), 0);
    BB_CHECK(strcmp(cl.iss, "devkey") == 0 && strcmp(cl.sub, part) == 0);
    BB_CHECK(cl.exp_s * 1000 == exp_ms);
    char payload[2048];
    const char *dot = strchr(tok, '.');
    int n = pvb64_decode(payload, sizeof payload - 1, dot + 1, strcspn(dot + 1, "."), PVB64_URL);
    BB_CHECK(n > 0);
    payload[n > 0 ? n : 0] = '\0';
    char pat[128];
    snprintf(pat, sizeof pat, "\"room\":\"%s\"", room);
    BB_CHECK(strstr(payload, pat) && strstr(payload, "\"roomJoin\":true") &&
             !strstr(payload, "roomAdmin"));
    /* the policy socket token verifies under POLICY_SOCKET_JWT_SECRET */
    pvsecret ps;
    pvsecret_set(&ps, BB_POL_SECRET, NULL, 0, &why);
    pvtok_policy_claims pc;
    BB_CHECK_INT(pvtok_policy_verify(ptok, strlen(ptok), &ps, wall, 1000, &pc), 0);
    BB_CHECK(strcmp(pc.room_id, room) == 0 && strcmp(pc.participant_id, part) == 0);
}

BB_TEST(api_sessions_issue_verifiable_tokens_idempotently) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "SESSION_TOKEN_TTL_SECONDS", "600", NULL) == 0);
    char body[256], tok1[4096] = "", tok2[4096] = "";
    bb_session_body(body, sizeof body, "room_alpha", "p_123");
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 200);
    BB_CHECK(strstr(R.body, "\"roomId\":\"room_alpha\",\"participantId\":\"p_123\""));
    check_tokens(R.body, "room_alpha", "p_123", 600);
    json_str(R.body, "token", tok1, sizeof tok1);
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 200);
    json_str(R.body, "token", tok2, sizeof tok2);
    BB_CHECK(strcmp(tok1, tok2) == 0); /* idempotent within the window */
    /* metadata is carried into the token */
    const char *meta = "{\"participantId\":\"p_9\",\"roomId\":\"room_alpha\","
                       "\"metadata\":{\"role\":\"default\"}}";
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, meta, &R), 200);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(api_poses_accepted_and_room_not_found) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    char body[512];
    bb_session_body(body, sizeof body, "r1", "a");
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 200);
    long long now = (long long)time(NULL) * 1000;
    snprintf(body, sizeof body,
             "{\"roomId\":\"r1\",\"timestampMs\":%lld,\"poses\":[{\"participantId\":\"a\","
             "\"position\":{\"x\":1,\"y\":2,\"z\":3},\"orientation\":{\"forward\":{\"x\":0,"
             "\"y\":0,\"z\":1},\"up\":{\"x\":0,\"y\":1,\"z\":0}}},{\"participantId\":\"ghost\","
             "\"position\":{\"x\":0,\"y\":0,\"z\":0}}]}",
             now);
    BB_CHECK_INT(bb_req(d.port, "POST", "/policy/poses", BB_AUTH BB_JSON, body, &R), 200);
    BB_CHECK(strstr(R.body, "\"roomId\":\"r1\"") && json_int(R.body, "accepted") == 1 &&
             json_int(R.body, "unknown") == 1);
    snprintf(body, sizeof body,
             "{\"roomId\":\"nowhere\",\"timestampMs\":%lld,\"poses\":[{\"participantId\":\"a\","
             "\"position\":{\"x\":1,\"y\":2,\"z\":3}}]}",
             now);
    BB_CHECK_INT(bb_req(d.port, "POST", "/policy/poses", BB_AUTH BB_JSON, body, &R), 404);
    BB_CHECK(bb_error_code(&R, "ROOM_NOT_FOUND"));
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(api_invalid_payloads) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "MAX_POLICY_BATCH_SIZE", "2", NULL) == 0);
    struct {
        const char *path, *headers, *body;
        int status;
    } cases[] = {
        {"/sessions", BB_AUTH BB_JSON, "{\"participantId\":\"p\",", 400},
        {"/sessions", BB_AUTH BB_JSON, "{\"participantId\":\"p\",\"roomId\":\"r\",\"x\":1}", 400},
        {"/sessions", BB_AUTH BB_JSON, "{\"participantId\":\"bad id!\",\"roomId\":\"r\"}", 400},
        {"/sessions", BB_AUTH BB_JSON, "[]", 400},
        {"/sessions", BB_AUTH BB_JSON, "", 400},
        {"/sessions", BB_AUTH "Content-Type: text/plain\r\n", "{}", 415},
        {"/sessions", BB_AUTH, "{}", 415},
        {"/policy/poses", BB_AUTH BB_JSON,
         "{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":[{\"participantId\":\"a\",\"position\":"
         "{\"x\":1,\"y\":2,\"z\":3}},{\"participantId\":\"b\",\"position\":{\"x\":1,\"y\":2,"
         "\"z\":3}},{\"participantId\":\"c\",\"position\":{\"x\":1,\"y\":2,\"z\":3}}]}",
         400},
        {"/policy/poses", BB_AUTH BB_JSON,
         "{\"roomId\":\"r\",\"timestampMs\":1,\"poses\":[{\"participantId\":\"a\",\"position\":"
         "{\"x\":1e999,\"y\":2,\"z\":3}}]}",
         400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = bb_req(d.port, "POST", cases[i].path, cases[i].headers, cases[i].body, &R);
        if (st != cases[i].status || !bb_error_code(&R, "INVALID_PAYLOAD"))
            fprintf(stderr, "  case %zu: %d %s\n", i, st, R.body);
        BB_CHECK_INT(st, cases[i].status);
        BB_CHECK(bb_error_code(&R, "INVALID_PAYLOAD"));
    }
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(api_forbidden_when_room_full) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "MAX_ROOM_SIZE", "2", "MAX_POLICY_BATCH_SIZE", "2", NULL) == 0);
    char body[256];
    const char *who[] = {"a", "b", "c"};
    int want[] = {200, 200, 403};
    for (int i = 0; i < 3; i++) {
        bb_session_body(body, sizeof body, "small", who[i]);
        BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), want[i]);
    }
    BB_CHECK(bb_error_code(&R, "FORBIDDEN"));
    BB_CHECK(strstr(R.body, "room is full") != NULL);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(api_livekit_twirp_calls_carry_admin_tokens) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "LIVEKIT_RECONCILE_INTERVAL_MS", "200", NULL) == 0);
    char body[256];
    bb_session_body(body, sizeof body, "twirp_room", "a");
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 200);
    bb_lk_call calls[8];
    int n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        bb_sleep_ms(20);
        n = bb_lk_calls(calls, 8);
    }
    BB_CHECK(n >= 1);
    if (n >= 1) {
        BB_CHECK(strcmp(calls[0].path, "/twirp/livekit.RoomService/ListParticipants") == 0);
        BB_CHECK(strstr(calls[0].body, "\"room\":\"twirp_room\"") != NULL);
        BB_CHECK(strncmp(calls[0].auth, "Bearer ", 7) == 0);
        const char *tok = calls[0].auth + 7;
        pvsecret lk;
        const char *why;
        pvsecret_set(&lk, BB_LK_SECRET, NULL, 0, &why);
        pvjwt_key key;
        pvjwt_key_hs256(&key, NULL, &lk);
        pvjwt_claims cl;
        BB_CHECK_INT(pvjwt_verify(tok, strlen(tok), &key, 1, (int64_t)time(NULL) * 1000, 1000, &cl),
                     0);
        char payload[1024];
        const char *dot = strchr(tok, '.');
        int m =
            pvb64_decode(payload, sizeof payload - 1, dot + 1, strcspn(dot + 1, "."), PVB64_URL);
        payload[m > 0 ? m : 0] = '\0';
        BB_CHECK(strstr(payload, "\"roomAdmin\":true") &&
                 strstr(payload, "\"room\":\"twirp_room\""));
    }
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

static int post_webhook(int port, const char *body, const char *secret, int tamper) {
    pvsecret s;
    const char *why;
    pvsecret_set(&s, secret, NULL, 0, &why);
    char tok[4096], hdr[4300];
    pvbuf b;
    pvbuf_init(&b, tok, sizeof tok);
    if (pvtok_webhook_mint(&b, "devkey", &s, body, strlen(body), (int64_t)time(NULL) * 1000, 300) <
        0)
        return -1;
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nContent-Type: application/webhook+json\r\n",
             tok);
    char sent[2048];
    snprintf(sent, sizeof sent, "%s", body);
    if (tamper) sent[strlen(sent) - 2] ^= 1;
    return bb_req(port, "POST", "/livekit/webhook", hdr, sent, &R);
}

BB_TEST(api_livekit_webhook_authenticated) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    char body[256];
    bb_session_body(body, sizeof body, "wh", "a");
    BB_CHECK_INT(bb_req(d.port, "POST", "/sessions", BB_AUTH BB_JSON, body, &R), 200);
    const char *joined = "{\"event\":\"participant_joined\",\"room\":{\"name\":\"wh\"},"
                         "\"participant\":{\"identity\":\"a\"},\"id\":\"EV_1\","
                         "\"createdAt\":\"1760000000\"}";
    BB_CHECK_INT(post_webhook(d.port, joined, BB_LK_SECRET, 0), 200);
    BB_CHECK_INT(post_webhook(d.port, "{\"event\":\"room_started\",\"room\":{\"name\":\"wh\"}}",
                              BB_LK_SECRET, 0),
                 200); /* acknowledged, not used */
    BB_CHECK_INT(post_webhook(d.port, joined, "some-other-secret-0123456789abcdef0", 0), 401);
    BB_CHECK(bb_error_code(&R, "UNAUTHORIZED"));
    BB_CHECK_INT(post_webhook(d.port, joined, BB_LK_SECRET, 1), 401); /* body changed */
    BB_CHECK_INT(post_webhook(d.port, "{\"event\":", BB_LK_SECRET, 0), 400);
    BB_CHECK(bb_error_code(&R, "INVALID_PAYLOAD"));
    BB_CHECK_INT(bb_req(d.port, "POST", "/livekit/webhook", BB_JSON, joined, &R), 401);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    static char log[1 << 18];
    bb_daemon_log(&d, log, sizeof log);
    BB_CHECK(strstr(log, "\"event\":\"participant_joined\",\"relevant\":1") != NULL);
    BB_CHECK(strstr(log, "\"event\":\"room_started\",\"relevant\":0") != NULL);
    bb_env_free(&e);
}
