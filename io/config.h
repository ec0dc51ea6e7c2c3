/*
 * config.h - the daemon's configuration: environment variables (MVP-SPEC
 * section 16.1 plus documented additions), validated once at start.
 *
 * One table (config.c) drives parsing, validation and --help, so the help
 * text can never drift from what is accepted. Lookup of variables and files
 * is injected so the unit tests run without touching the real environment.
 *
 * MUST rules:
 *  - Every value is validated before use; an invalid or missing value makes
 *    pvcfg_load() fail with a message naming the variable (the daemon then
 *    exits non-zero). Nothing is silently clamped.
 *  - Secrets may come from NAME or NAME_FILE (exactly one). Files are re-read
 *    by pvcfg_reload_secrets() (SIGHUP); environment values cannot change.
 *  - NODE_ENV=production (the default: secure by default) adds stricter
 *    rules: https public URL, non-empty CORS allowlist without "*", token TTLs
 *    within 5..15 minutes.
 */
#ifndef PV_CONFIG_H
#define PV_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PVCFG_STR_MAX    256 /* URLs, keys, paths, hosts (bytes, no NUL) */
#define PVCFG_SECRET_MAX 256 /* = PVSECRET_MAX_BYTES */
#define PVCFG_ERR_MAX    256 /* error message buffer size */

typedef enum pvcfg_env {
    PVCFG_ENV_PRODUCTION = 0,
    PVCFG_ENV_DEVELOPMENT,
    PVCFG_ENV_TEST,
} pvcfg_env;

typedef enum pvcfg_auth_mode {
    PVCFG_AUTH_SHARED_SECRET = 0,
    PVCFG_AUTH_JWT,
} pvcfg_auth_mode;

/* A token bucket setting: refill per_sec tokens per second up to burst.
 * per_sec == 0 disables the limit. */
typedef struct pvcfg_rate {
    uint32_t per_sec;
    uint32_t burst;
} pvcfg_rate;

/* A secret and where it came from. value is NUL-terminated. */
typedef struct pvcfg_secret {
    char value[PVCFG_SECRET_MAX + 1];
    char file[PVCFG_STR_MAX + 1];        /* "" when given inline */
    char previous[PVCFG_SECRET_MAX + 1]; /* NAME_PREVIOUS[_FILE], "" if none */
    char previous_file[PVCFG_STR_MAX + 1];
} pvcfg_secret;

typedef struct pvcfg {
    pvcfg_env env;
    char host[PVCFG_STR_MAX + 1];
    uint32_t port;
    char public_base_url[PVCFG_STR_MAX + 1];    /* no trailing slash */
    char livekit_url[PVCFG_STR_MAX + 1];        /* as given (ws/wss/http/https) */
    char livekit_public_url[PVCFG_STR_MAX + 1]; /* "" = derived from public_base_url */
    char livekit_api_key[PVCFG_STR_MAX + 1];
    pvcfg_secret livekit_api_secret;
    pvcfg_secret policy_socket_secret;
    pvcfg_auth_mode auth_mode;
    pvcfg_secret external_shared_secret;            /* shared_secret mode */
    char external_jwt_keys_file[PVCFG_STR_MAX + 1]; /* jwt mode */
    char external_jwt_issuer[PVCFG_STR_MAX + 1];    /* "" = not checked */
    char external_jwt_audience[PVCFG_STR_MAX + 1];  /* "" = not checked */
    uint32_t session_token_ttl_s;
    uint32_t policy_socket_token_ttl_s;
    uint32_t secret_rotation_grace_s;
    /* core capacity */
    uint32_t max_room_size, max_policy_batch_size, max_rooms, max_participants;
    uint32_t max_policy_sockets;
    /* policy sockets (WebSocket) */
    uint32_t ws_max_message_bytes, ws_queue_bytes, ws_send_buffer_bytes;
    int64_t ws_ping_interval_ms, ws_idle_timeout_ms;
    /* HTTP limits */
    uint32_t max_connections, max_connections_per_ip, max_header_bytes, max_body_bytes;
    int64_t idle_timeout_ms, request_timeout_ms, write_timeout_ms, shutdown_timeout_ms;
    /* outgoing HTTP (LiveKit) */
    int64_t livekit_timeout_ms, ready_cache_ms, livekit_reconcile_interval_ms;
    int64_t audience_ack_deadline_ms;
    int recompute_on_pose; /* 1: a pose batch is evaluated at once, not at the next 250 ms round */
    uint32_t http_client_max_concurrency, http_client_max_queued;
    /* rate limits */
    pvcfg_rate rl_sessions_ip, rl_sessions_key, rl_poses_ip, rl_poses_key, rl_socket_auth_ip;
    uint32_t rl_table_size;
    /* CORS */
    char cors_allowed_origins[4096]; /* raw list, validated by pvcors_parse */
    int trust_proxy; /* 1: take the client IP from X-Forwarded-For (loopback peers only) */
    int log_level;   /* pv_log_level */
} pvcfg;

/* Returns the value of an environment variable or NULL. */
typedef const char *(*pvcfg_getenv_fn)(void *ud, const char *name);
/* Reads a whole (small) file into buf (NUL-terminated). Returns the length,
 * or -1 and a static reason in *why. */
typedef int (*pvcfg_readfile_fn)(void *ud, const char *path, char *buf, size_t cap,
                                 const char **why);

typedef struct pvcfg_source {
    pvcfg_getenv_fn getenv;
    pvcfg_readfile_fn readfile;
    void *ud;
} pvcfg_source;

/* The process environment and the file system. */
extern const pvcfg_source pvcfg_source_process;

/*
 * Parse and validate everything. Returns 0, or -1 with a one-line message
 * ("NAME: reason") in err[0..PVCFG_ERR_MAX). *c is fully written either way.
 */
int pvcfg_load(pvcfg *c, const pvcfg_source *src, char *err);

/*
 * Re-read the secrets that come from files (SIGHUP). On success *c holds the
 * new values and the return value is the number of secrets whose current
 * value changed. On failure returns -1 with err set and *c unchanged.
 */
int pvcfg_reload_secrets(pvcfg *c, const pvcfg_source *src, char *err);

/* Print every variable with its default and a one-line description. */
void pvcfg_print_help(FILE *f);

/* Derived URLs (written into out[0..cap)); return 0 or -1 if too long.
 * livekit_http: LIVEKIT_URL with ws->http, wss->https, no trailing slash.
 * livekit_client: LIVEKIT_PUBLIC_URL, else PUBLIC_BASE_URL with http->ws.
 * policy_socket: PUBLIC_BASE_URL with http->ws + "/policy-socket". */
int pvcfg_livekit_http_url(const pvcfg *c, char *out, size_t cap);
int pvcfg_livekit_client_url(const pvcfg *c, char *out, size_t cap);
int pvcfg_policy_socket_url(const pvcfg *c, char *out, size_t cap);

const char *pvcfg_env_name(pvcfg_env e);

#endif
