/*
 * test_config.c - start-up configuration: --help, validation messages and
 * exit codes, production rules.
 */
#include <stdio.h>
#include <string.h>

#include "bb.h"

static char OUT[65536];

static int run_with(const char *name, const char *value, const char *arg) {
    bb_env e;
    bb_env_default(&e, 18999, 7880);
    if (name) {
        if (value)
            bb_env_set(&e, name, value);
        else
            bb_env_unset(&e, name);
    }
    int rc = bb_daemon_run(&e, arg, OUT, sizeof OUT);
    bb_env_free(&e);
    return rc;
}

BB_TEST(config_help_lists_every_variable) {
    BB_CHECK_INT(run_with(NULL, NULL, "--help"), 0);
    const char *vars[] = {"NODE_ENV",
                          "PORT",
                          "PUBLIC_BASE_URL",
                          "LIVEKIT_URL",
                          "LIVEKIT_API_KEY",
                          "LIVEKIT_API_SECRET",
                          "POLICY_SOCKET_JWT_SECRET",
                          "EXTERNAL_AUTH_MODE",
                          "EXTERNAL_SHARED_SECRET",
                          "SESSION_TOKEN_TTL_SECONDS",
                          "POLICY_SOCKET_TOKEN_TTL_SECONDS",
                          "MAX_ROOM_SIZE",
                          "MAX_POLICY_BATCH_SIZE",
                          "MAX_HEADER_BYTES",
                          "MAX_BODY_BYTES",
                          "MAX_CONNECTIONS",
                          "IDLE_TIMEOUT_MS",
                          "REQUEST_TIMEOUT_MS",
                          "CORS_ALLOWED_ORIGINS",
                          "RATE_LIMIT_SESSIONS_IP",
                          "EXTERNAL_JWT_KEYS_FILE",
                          "SHUTDOWN_TIMEOUT_MS",
                          "default: 8080"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        if (!strstr(OUT, vars[i])) fprintf(stderr, "  --help lacks %s\n", vars[i]);
        BB_CHECK(strstr(OUT, vars[i]) != NULL);
    }
    BB_CHECK_INT(run_with(NULL, NULL, "--bogus"), 2);
    BB_CHECK_INT(run_with(NULL, NULL, "--check-config"), 0);
    BB_CHECK(strstr(OUT, "configuration ok") != NULL);
}

/* Each bad value exits 2 and the message names the variable. */
BB_TEST(config_invalid_values_exit_2_naming_the_variable) {
    struct {
        const char *name, *value;
    } bad[] = {
        {"PORT", "0"},
        {"PORT", "80x"},
        {"PORT", "70000"},
        {"HOST", "localhost"},
        {"NODE_ENV", "staging"},
        {"EXTERNAL_AUTH_MODE", "basic"},
        {"LIVEKIT_API_SECRET", "short"},
        {"LIVEKIT_API_SECRET", NULL},
        {"POLICY_SOCKET_JWT_SECRET", BB_LK_SECRET},
        {"EXTERNAL_SHARED_SECRET", NULL},
        {"LIVEKIT_URL", "ftp://x"},
        {"MAX_BODY_BYTES", "100"},
        {"MAX_HEADER_BYTES", "9999999"},
        {"IDLE_TIMEOUT_MS", "-5"},
        {"RATE_LIMIT_SESSIONS_IP", "10"},
        {"RATE_LIMIT_SESSIONS_IP", "10:0"},
        {"CORS_ALLOWED_ORIGINS", "https://a.example/path"},
        {"MAX_POLICY_BATCH_SIZE", "0"},
        {"SESSION_TOKEN_TTL_SECONDS", "5"},
        {"LOG_LEVEL", "loud"},
        {"TRUST_PROXY", "yes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run_with(bad[i].name, bad[i].value, NULL);
        int named = strstr(OUT, bad[i].name) != NULL;
        if (rc != 2 || !named)
            fprintf(stderr, "  %s=%s: rc %d, output: %.200s\n", bad[i].name,
                    bad[i].value ? bad[i].value : "(unset)", rc, OUT);
        BB_CHECK_INT(rc, 2);
        BB_CHECK(named);
    }
}

BB_TEST(config_secret_file_and_jwt_mode_requirements) {
    bb_env e;
    bb_env_default(&e, 18999, 7880);
    bb_env_set(&e, "EXTERNAL_SHARED_SECRET_FILE", "/nonexistent/secret");
    BB_CHECK_INT(bb_daemon_run(&e, NULL, OUT, sizeof OUT), 2); /* both NAME and NAME_FILE */
    BB_CHECK(strstr(OUT, "EXTERNAL_SHARED_SECRET") != NULL);
    bb_env_unset(&e, "EXTERNAL_SHARED_SECRET");
    BB_CHECK_INT(bb_daemon_run(&e, NULL, OUT, sizeof OUT), 2); /* unreadable file */
    BB_CHECK(strstr(OUT, "cannot read") != NULL);
    bb_env_unset(&e, "EXTERNAL_SHARED_SECRET_FILE");
    bb_env_set(&e, "EXTERNAL_AUTH_MODE", "jwt");
    BB_CHECK_INT(bb_daemon_run(&e, NULL, OUT, sizeof OUT), 2);
    BB_CHECK(strstr(OUT, "EXTERNAL_JWT_KEYS_FILE") != NULL);
    bb_env_free(&e);
}

BB_TEST(config_production_is_strict) {
    bb_env e;
    bb_env_default(&e, 18999, 7880);
    bb_env_set(&e, "NODE_ENV", "production");
    bb_env_set(&e, "LIVEKIT_URL", "wss://voice.example.com");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 2);
    BB_CHECK(strstr(OUT, "PUBLIC_BASE_URL") != NULL); /* required */
    bb_env_set(&e, "PUBLIC_BASE_URL", "http://voice.example.com");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 2);
    BB_CHECK(strstr(OUT, "https") != NULL);
    bb_env_set(&e, "PUBLIC_BASE_URL", "https://voice.example.com");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 2);
    BB_CHECK(strstr(OUT, "CORS_ALLOWED_ORIGINS") != NULL);
    bb_env_set(&e, "CORS_ALLOWED_ORIGINS", "*");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 2);
    bb_env_set(&e, "CORS_ALLOWED_ORIGINS", "https://game.example.com");
    bb_env_set(&e, "SESSION_TOKEN_TTL_SECONDS", "60");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 2);
    BB_CHECK(strstr(OUT, "SESSION_TOKEN_TTL_SECONDS") != NULL);
    bb_env_unset(&e, "SESSION_TOKEN_TTL_SECONDS");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 0);
    bb_env_unset(&e, "NODE_ENV"); /* the default is production */
    bb_env_unset(&e, "PUBLIC_BASE_URL");
    BB_CHECK_INT(bb_daemon_run(&e, "--check-config", OUT, sizeof OUT), 2);
    bb_env_free(&e);
}
