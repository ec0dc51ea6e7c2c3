/*
 * test_config.c - configuration with an injected environment and file
 * system: every default parses, derived URLs, secret files and reloads.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "t.h"

#define MAX_VARS 32
static const char *names[MAX_VARS], *values[MAX_VARS];
static int n_vars;
static char file_text[512];
static int file_ok = 1;

static void env_reset(void) {
    n_vars = 0;
    static const char *const base[][2] = {
        {"NODE_ENV", "development"},
        {"LIVEKIT_API_KEY", "key"},
        {"LIVEKIT_API_SECRET", "livekit-secret-0123456789abcdef01234"},
        {"POLICY_SOCKET_JWT_SECRET", "policy-secret-0123456789abcdef012345"},
        {"EXTERNAL_SHARED_SECRET", "external-secret-0123456789abcdef0123"},
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        names[n_vars] = base[i][0];
        values[n_vars++] = base[i][1];
    }
}

static void env_set(const char *name, const char *value) {
    for (int i = 0; i < n_vars; i++) {
        if (strcmp(names[i], name) == 0) {
            values[i] = value;
            return;
        }
    }
    names[n_vars] = name;
    values[n_vars++] = value;
}

static const char *get(void *ud, const char *name) {
    for (int i = 0; i < n_vars; i++)
        if (strcmp(names[i], name) == 0) return values[i];
    return NULL;
}

static int readfile(void *ud, const char *path, char *buf, size_t cap, const char **why) {
    if (!file_ok) {
        *why = "No such file";
        return -1;
    }
    snprintf(buf, cap, "%s", file_text);
    return (int)strlen(buf);
}

static const pvcfg_source SRC = {get, readfile, NULL};
static pvcfg C;
static char ERR[PVCFG_ERR_MAX];

static void test_defaults_parse(void) {
    env_reset();
    REQUIRE(pvcfg_load(&C, &SRC, ERR) == 0);
    CHECK_EQ_INT(C.env, PVCFG_ENV_DEVELOPMENT);
    CHECK_EQ_INT(C.port, 8080);
    CHECK_STR(C.host, "127.0.0.1");
    CHECK_STR(C.public_base_url, "http://127.0.0.1:8080"); /* follows HOST/PORT */
    CHECK_EQ_INT(C.max_body_bytes, 65536);
    CHECK_EQ_INT(C.rl_sessions_ip.per_sec, 50);
    CHECK_EQ_INT(C.rl_sessions_ip.burst, 100);
    CHECK_EQ_INT(C.idle_timeout_ms, 75000);
    env_set("PORT", "9000");
    env_set("HOST", "::1");
    REQUIRE(pvcfg_load(&C, &SRC, ERR) == 0);
    CHECK_STR(C.public_base_url, "http://[::1]:9000");
    /* production with only its required values set */
    env_reset();
    env_set("NODE_ENV", "production");
    env_set("PUBLIC_BASE_URL", "https://voice.example.com/");
    env_set("LIVEKIT_URL", "wss://voice.example.com");
    env_set("CORS_ALLOWED_ORIGINS", "https://game.example.com");
    REQUIRE(pvcfg_load(&C, &SRC, ERR) == 0);
    CHECK_STR(C.public_base_url, "https://voice.example.com"); /* trailing slash dropped */
}

static void test_derived_urls(void) {
    env_reset();
    env_set("PUBLIC_BASE_URL", "https://voice.example.com");
    env_set("LIVEKIT_URL", "wss://lk.example.com:7880");
    REQUIRE(pvcfg_load(&C, &SRC, ERR) == 0);
    char u[300];
    REQUIRE(pvcfg_livekit_http_url(&C, u, sizeof u) == 0);
    CHECK_STR(u, "https://lk.example.com:7880");
    REQUIRE(pvcfg_livekit_client_url(&C, u, sizeof u) == 0);
    CHECK_STR(u, "wss://voice.example.com");
    REQUIRE(pvcfg_policy_socket_url(&C, u, sizeof u) == 0);
    CHECK_STR(u, "wss://voice.example.com/policy-socket");
    env_set("LIVEKIT_PUBLIC_URL", "wss://media.example.com");
    REQUIRE(pvcfg_load(&C, &SRC, ERR) == 0);
    REQUIRE(pvcfg_livekit_client_url(&C, u, sizeof u) == 0);
    CHECK_STR(u, "wss://media.example.com");
    CHECK(pvcfg_livekit_http_url(&C, u, 8) < 0); /* too small: refused, not truncated */
}

static void test_secret_files_and_reload(void) {
    env_reset();
    for (int i = 0; i < n_vars; i++) /* the secret comes from a file instead */
        if (strcmp(names[i], "EXTERNAL_SHARED_SECRET") == 0)
            names[i] = "EXTERNAL_SHARED_SECRET_FILE";
    env_set("EXTERNAL_SHARED_SECRET_FILE", "/run/secret");
    snprintf(file_text, sizeof file_text, "file-secret-one-0123456789abcdef012\n");
    file_ok = 1;
    REQUIRE(pvcfg_load(&C, &SRC, ERR) == 0);
    CHECK_STR(C.external_shared_secret.value, "file-secret-one-0123456789abcdef012");
    CHECK_EQ_INT(pvcfg_reload_secrets(&C, &SRC, ERR), 0); /* unchanged */
    snprintf(file_text, sizeof file_text, "file-secret-two-0123456789abcdef012\r\n");
    CHECK_EQ_INT(pvcfg_reload_secrets(&C, &SRC, ERR), 1);
    CHECK_STR(C.external_shared_secret.value, "file-secret-two-0123456789abcdef012");
    snprintf(file_text, sizeof file_text, "short\n");
    CHECK_EQ_INT(pvcfg_reload_secrets(&C, &SRC, ERR), -1);
    CHECK(strstr(ERR, "EXTERNAL_SHARED_SECRET") != NULL);
    CHECK_STR(C.external_shared_secret.value, "file-secret-two-0123456789abcdef012"); /* kept */
    file_ok = 0;
    CHECK_EQ_INT(pvcfg_reload_secrets(&C, &SRC, ERR), -1);
    CHECK(strstr(ERR, "cannot read") != NULL);
    file_ok = 1;
}

static void test_errors_name_the_variable(void) {
    const char *bad[][2] = {{"PORT", "0"},           {"PORT", " 80"},
                            {"HOST", "example.com"}, {"RATE_LIMIT_POSES_KEY", "5:"},
                            {"LIVEKIT_URL", "x"},    {"MAX_ROOM_SIZE", "20000"},
                            {"TRUST_PROXY", "2"},    {"CORS_ALLOWED_ORIGINS", "a,,b"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env_reset();
        env_set(bad[i][0], bad[i][1]);
        CHECK_EQ_INT(pvcfg_load(&C, &SRC, ERR), -1);
        CHECK(strncmp(ERR, bad[i][0], strlen(bad[i][0])) == 0);
    }
    env_reset();
    env_set("EXTERNAL_SHARED_SECRET", "livekit-secret-0123456789abcdef01234");
    CHECK_EQ_INT(pvcfg_load(&C, &SRC, ERR), -1); /* same as another secret */
}

int main(void) {
    T_RUN(test_defaults_parse);
    T_RUN(test_derived_urls);
    T_RUN(test_secret_files_and_reload);
    T_RUN(test_errors_name_the_variable);
    return t_done("test_config");
}
