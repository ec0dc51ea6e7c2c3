/*
 * test_security.c - external authority auth (shared secret and JWT with
 * pinned algorithms), secret rotation on SIGHUP, rate limits, CORS.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bb.h"
#include "jwt.h"
#include "secrets.h"

static bb_resp R;

static int post_session(bb_conn *c, const char *auth_line, const char *room, const char *who) {
    char body[256], hdr[9000];
    bb_session_body(body, sizeof body, room, who);
    snprintf(hdr, sizeof hdr, "%s" BB_JSON, auth_line ? auth_line : "");
    if (bb_do(c, "POST", "/sessions", hdr, body, &R) < 0) return -1;
    return R.status;
}

static int session_with(int port, const char *auth_line, const char *who) {
    bb_conn c;
    if (bb_connect(&c, port, NULL) < 0) return -1;
    int st = post_session(&c, auth_line, "sec", who);
    bb_close(&c);
    return st;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Wait until the daemon logged `needle` (after a signal). */
static int wait_log(const bb_daemon *d, const char *needle, int count) {
    static char log[1 << 20];
    for (int i = 0; i < 200; i++) {
        bb_daemon_log(d, log, sizeof log);
        int n = 0;
        for (const char *p = strstr(log, needle); p; p = strstr(p + 1, needle))
            n++;
        if (n >= count) return 1;
        bb_sleep_ms(10);
    }
    return 0;
}

BB_TEST(security_shared_secret_auth) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, NULL) == 0);
    char v[128];
    BB_CHECK_INT(session_with(d.port, NULL, "a"), 401);
    BB_CHECK(bb_error_code(&R, "UNAUTHORIZED"));
    BB_CHECK(bb_header(&R, "www-authenticate", v, sizeof v) && strncmp(v, "Bearer", 6) == 0);
    BB_CHECK_INT(
        session_with(d.port, "Authorization: Bearer wrong-secret-0123456789abcdef0123\r\n", "a"),
        401);
    BB_CHECK_INT(session_with(d.port, "Authorization: Basic " BB_EXT_SECRET "\r\n", "a"), 401);
    BB_CHECK_INT(session_with(d.port, BB_AUTH BB_AUTH, "a"), 401); /* duplicate header */
    BB_CHECK_INT(session_with(d.port, "Authorization: bearer " BB_EXT_SECRET "\r\n", "a"), 200);
    BB_CHECK_INT(bb_req(d.port, "POST", "/policy/poses", BB_JSON, "{}", &R), 401);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

static void claims(char *out, size_t cap, const char *iss, long long exp_delta_s) {
    snprintf(out, cap, "{\"iss\":\"%s\",\"aud\":\"pv\",\"sub\":\"game-server\",\"exp\":%lld}", iss,
             (long long)time(NULL) + exp_delta_s);
}

static int jwt_session(int port, const char *token, const char *who) {
    char line[9000];
    snprintf(line, sizeof line, "Authorization: Bearer %s\r\n", token);
    return session_with(port, line, who);
}

BB_TEST(security_jwt_mode_pinned_algorithms) {
    char keys[300], tok[4096], c[256];
    snprintf(keys, sizeof keys, "%s/keys.txt", bb_tmpdir);
    BB_CHECK(bb_keys_file(keys, 1, 1) == 0);
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "EXTERNAL_AUTH_MODE", "jwt", "EXTERNAL_SHARED_SECRET", NULL,
                   "EXTERNAL_JWT_KEYS_FILE", keys, "EXTERNAL_JWT_ISSUER", "game",
                   "EXTERNAL_JWT_AUDIENCE", "pv", NULL) == 0);
    claims(c, sizeof c, "game", 60);
    BB_CHECK(bb_jwt_sign("RS256", "k-rsa", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "a"), 200);
    BB_CHECK(bb_jwt_sign("ES256", "k-ec", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "b"), 200);
    BB_CHECK(bb_jwt_sign("ES256", NULL, c, tok, sizeof tok) == 0); /* no kid: tried by alg */
    BB_CHECK_INT(jwt_session(d.port, tok, "b"), 200);
    /* rejected: key of another alg, unknown kid, expired, wrong issuer, alg confusion */
    BB_CHECK(bb_jwt_sign("RS256", "k-ec", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "x"), 401);
    BB_CHECK(bb_jwt_sign("RS256", "k-other", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "x"), 401);
    claims(c, sizeof c, "game", -120);
    BB_CHECK(bb_jwt_sign("RS256", "k-rsa", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "x"), 401);
    claims(c, sizeof c, "mallory", 60);
    BB_CHECK(bb_jwt_sign("ES256", "k-ec", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "x"), 401);
    claims(c, sizeof c, "game", 60);
    BB_CHECK(bb_jwt_confused("k-rsa", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "x"), 401);
    BB_CHECK_INT(jwt_session(d.port, "eyJhbGciOiJub25lIn0.eyJpc3MiOiJnYW1lIn0.", "x"), 401);
    BB_CHECK_INT(session_with(d.port, BB_AUTH, "x"), 401); /* the shared secret is not a JWT */
    /* key rotation: SIGHUP re-reads the key file; the RSA key is gone */
    BB_CHECK(bb_keys_file(keys, 0, 1) == 0);
    bb_daemon_signal(&d, SIGHUP);
    BB_CHECK(wait_log(&d, "secrets reloaded", 1));
    BB_CHECK(bb_jwt_sign("RS256", "k-rsa", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "a"), 401);
    BB_CHECK(bb_jwt_sign("ES256", "k-ec", c, tok, sizeof tok) == 0);
    BB_CHECK_INT(jwt_session(d.port, tok, "a"), 200);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

#define S1 "rotation-secret-one-0123456789abcdef"
#define S2 "rotation-secret-two-0123456789abcdef"
#define L2 "livekit-secret-two-0123456789abcdef0"

/* Rotation: SIGHUP re-reads *_FILE secrets, the old value is accepted for
 * SECRET_ROTATION_GRACE_SECONDS, and open connections are untouched. */
BB_TEST(security_secret_rotation_on_sighup) {
    char ext[300], lk[300];
    snprintf(ext, sizeof ext, "%s/ext.secret", bb_tmpdir);
    snprintf(lk, sizeof lk, "%s/lk.secret", bb_tmpdir);
    write_file(ext, S1 "\n");
    write_file(lk, BB_LK_SECRET);
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "EXTERNAL_SHARED_SECRET", NULL, "EXTERNAL_SHARED_SECRET_FILE", ext,
                   "LIVEKIT_API_SECRET", NULL, "LIVEKIT_API_SECRET_FILE", lk,
                   "SECRET_ROTATION_GRACE_SECONDS", "2", NULL) == 0);
    bb_conn c;
    BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
    BB_CHECK_INT(post_session(&c, "Authorization: Bearer " S1 "\r\n", "rot", "a"), 200);
    write_file(ext, S2 "\n");
    write_file(lk, L2);
    bb_daemon_signal(&d, SIGHUP);
    BB_CHECK(wait_log(&d, "\"secrets reloaded\",\"changed\":\"2\"", 1));
    /* same connection, both secrets accepted during the grace period */
    BB_CHECK_INT(post_session(&c, "Authorization: Bearer " S2 "\r\n", "rot", "b"), 200);
    /* new LiveKit tokens are signed with the new secret */
    char tok[4096];
    const char *p = strstr(R.body, "\"token\":\"");
    BB_CHECK(p != NULL);
    if (p) snprintf(tok, sizeof tok, "%.*s", (int)strcspn(p + 9, "\""), p + 9);
    pvsecret s;
    const char *why;
    pvsecret_set(&s, L2, NULL, 0, &why);
    pvjwt_key k;
    pvjwt_key_hs256(&k, NULL, &s);
    pvjwt_claims cl;
    BB_CHECK_INT(pvjwt_verify(tok, strlen(tok), &k, 1, (int64_t)time(NULL) * 1000, 1000, &cl), 0);
    BB_CHECK_INT(post_session(&c, "Authorization: Bearer " S1 "\r\n", "rot", "c"), 200);
    bb_sleep_ms(2300);
    BB_CHECK_INT(post_session(&c, "Authorization: Bearer " S1 "\r\n", "rot", "d"), 401);
    BB_CHECK_INT(post_session(&c, "Authorization: Bearer " S2 "\r\n", "rot", "e"), 200);
    /* a broken file is refused and the current secrets stay */
    write_file(ext, "short\n");
    bb_daemon_signal(&d, SIGHUP);
    BB_CHECK(wait_log(&d, "reload failed", 1));
    BB_CHECK_INT(post_session(&c, "Authorization: Bearer " S2 "\r\n", "rot", "f"), 200);
    bb_close(&c);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(security_rate_limits_per_ip_and_per_key) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "RATE_LIMIT_SESSIONS_IP", "1:2", "RATE_LIMIT_POSES_KEY", "1:1", NULL) ==
             0);
    char v[64];
    BB_CHECK_INT(session_with(d.port, BB_AUTH, "a"), 200);
    BB_CHECK_INT(session_with(d.port, "Authorization: Bearer nope\r\n", "a"), 401);
    BB_CHECK_INT(session_with(d.port, BB_AUTH, "a"), 429); /* failed auth spent a token too */
    BB_CHECK(bb_error_code(&R, "RATE_LIMITED"));
    BB_CHECK(strstr(R.body, "\"retryAfterMs\":") != NULL);
    BB_CHECK(bb_header(&R, "retry-after", v, sizeof v) && atoi(v) >= 1);
    bb_sleep_ms(1100);
    BB_CHECK_INT(session_with(d.port, BB_AUTH, "a"), 200); /* refilled */
    const char *poses = "{\"roomId\":\"sec\",\"timestampMs\":1,\"poses\":[]}";
    int first = bb_req(d.port, "POST", "/policy/poses", BB_AUTH BB_JSON, poses, &R);
    BB_CHECK(first == 200 || first == 400);
    BB_CHECK_INT(bb_req(d.port, "POST", "/policy/poses", BB_AUTH BB_JSON, poses, &R), 429);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
    /* per key: the limit follows the credential across client addresses */
    BB_CHECK(bb_up(&d, &e, "RATE_LIMIT_SESSIONS_IP", "0", "RATE_LIMIT_SESSIONS_KEY", "1:2", NULL) ==
             0);
    const char *ips[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
    int want[] = {200, 200, 429};
    for (int i = 0; i < 3; i++) {
        bb_conn c;
        BB_CHECK(bb_connect(&c, d.port, ips[i]) == 0);
        BB_CHECK_INT(post_session(&c, BB_AUTH, "sec", "k"), want[i]);
        bb_close(&c);
    }
    BB_CHECK(strstr(R.body, "sessions per key") != NULL);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}

BB_TEST(security_trusted_proxy_client_ip) {
    bb_daemon d;
    bb_env e;
    for (int trust = 0; trust <= 1; trust++) {
        BB_CHECK(bb_up(&d, &e, "RATE_LIMIT_SESSIONS_IP", "1:1", "TRUST_PROXY", trust ? "1" : "0",
                       NULL) == 0);
        char line[256];
        int st[2];
        for (int i = 0; i < 2; i++) {
            snprintf(line, sizeof line, "X-Forwarded-For: 10.0.0.9, 203.0.113.%d\r\n" BB_AUTH,
                     i + 1);
            bb_conn c;
            BB_CHECK(bb_connect(&c, d.port, NULL) == 0);
            st[i] = post_session(&c, line, "sec", "t");
            bb_close(&c);
        }
        BB_CHECK_INT(st[0], 200);
        BB_CHECK_INT(st[1], trust ? 200 : 429); /* trusted: two different clients */
        BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
        bb_env_free(&e);
    }
}

BB_TEST(security_cors_allowlist) {
    bb_daemon d;
    bb_env e;
    BB_CHECK(bb_up(&d, &e, "CORS_ALLOWED_ORIGINS", "https://game.example.com,http://localhost:5173",
                   NULL) == 0);
    char v[256];
    const char *ok = "Origin: https://game.example.com\r\n";
    /* preflight from an allowed origin */
    BB_CHECK_INT(
        bb_req(d.port, "OPTIONS", "/sessions",
               "Origin: https://game.example.com\r\nAccess-Control-Request-Method: POST\r\n"
               "Access-Control-Request-Headers: authorization, content-type\r\n",
               NULL, &R),
        204);
    BB_CHECK(bb_header(&R, "access-control-allow-origin", v, sizeof v) &&
             strcmp(v, "https://game.example.com") == 0);
    BB_CHECK(bb_header(&R, "access-control-allow-methods", v, sizeof v) && strstr(v, "POST"));
    BB_CHECK(bb_header(&R, "access-control-allow-headers", v, sizeof v) &&
             strstr(v, "Authorization") && strstr(v, "Content-Type"));
    BB_CHECK(bb_header(&R, "vary", v, sizeof v) && strcmp(v, "Origin") == 0);
    BB_CHECK(bb_header(&R, "access-control-max-age", v, sizeof v) != NULL);
    BB_CHECK(bb_header(&R, "content-length", v, sizeof v) == NULL); /* none in a 204 */
    /* preflight: other origin, other method, the "null" origin */
    BB_CHECK_INT(bb_req(d.port, "OPTIONS", "/sessions",
                        "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n",
                        NULL, &R),
                 403);
    BB_CHECK(bb_error_code(&R, "FORBIDDEN"));
    BB_CHECK(bb_header(&R, "access-control-allow-origin", v, sizeof v) == NULL);
    BB_CHECK_INT(bb_req(d.port, "OPTIONS", "/sessions",
                        "Origin: https://game.example.com\r\nAccess-Control-Request-Method: "
                        "DELETE\r\n",
                        NULL, &R),
                 403);
    BB_CHECK_INT(bb_req(d.port, "OPTIONS", "/health",
                        "Origin: null\r\n"
                        "Access-Control-Request-Method: GET\r\n",
                        NULL, &R),
                 403);
    /* simple requests: echoed for allowed origins only */
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", ok, NULL, &R), 200);
    BB_CHECK(bb_header(&R, "access-control-allow-origin", v, sizeof v) &&
             strcmp(v, "https://game.example.com") == 0);
    BB_CHECK_INT(
        bb_req(d.port, "GET", "/health", "Origin: https://GAME.example.com:443\r\n", NULL, &R),
        200); /* same origin, other spelling */
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", "Origin: http://localhost:5173\r\n", NULL, &R),
                 200);
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", "Origin: http://localhost:5174\r\n", NULL, &R),
                 403);
    BB_CHECK(bb_header(&R, "access-control-allow-origin", v, sizeof v) == NULL);
    BB_CHECK_INT(bb_req(d.port, "GET", "/health", NULL, NULL, &R), 200); /* no Origin: fine */
    BB_CHECK(bb_header(&R, "access-control-allow-origin", v, sizeof v) == NULL);
    BB_CHECK_INT(bb_req(d.port, "OPTIONS", "/sessions", NULL, NULL, &R), 204);
    BB_CHECK(bb_header(&R, "allow", v, sizeof v) && strcmp(v, "POST, OPTIONS") == 0);
    BB_CHECK_INT(bb_req(d.port, "OPTIONS", "/unknown", NULL, NULL, &R), 404);
    BB_CHECK_INT(bb_daemon_stop(&d, SIGTERM, 5000), 0);
    bb_env_free(&e);
}
