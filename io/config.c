/*
 * config.c - environment parsing and validation driven by one table.
 *
 * Why a table: --help, defaults and validation come from the same rows, and a
 * unit test parses every default through the real parser, so a default that
 * would be rejected cannot ship.
 */
#include "config.h"
#include "cors.h"
#include "json_in.h" /* PVJ_MAX_BODY_BYTES: the JSON parser's hard cap */

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { T_ENUM = 1, T_STR, T_URL, T_U32, T_MS, T_RATE, T_SECRET, T_ORIGINS, T_BOOL };
/* When a value is required. */
enum { R_NO = 0, R_ALWAYS, R_PROD, R_SHARED, R_JWT };

typedef struct entry {
    const char *name;
    int type, req;
    size_t off;
    const char *def; /* default, parsed by the same code; NULL: none */
    int64_t min, max;
    const char *const *names; /* T_ENUM: index = stored value */
    const char *help;
} entry;

static const char *const env_names[] = {"production", "development", "test", NULL};
static const char *const auth_names[] = {"shared_secret", "jwt", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};

#define O(f)   offsetof(pvcfg, f)
#define DAY_MS 86400000LL
static const entry table[] = {
    {"NODE_ENV", T_ENUM, R_NO, O(env), "production", 0, 0, env_names,
     "production | development | test; production adds stricter checks"},
    {"HOST", T_STR, R_NO, O(host), "127.0.0.1", 1, 0, NULL,
     "IPv4/IPv6 address to listen on (keep loopback behind nginx)"},
    {"PORT", T_U32, R_NO, O(port), "8080", 1, 65535, NULL, "TCP port to listen on"},
    {"PUBLIC_BASE_URL", T_URL, R_PROD, O(public_base_url), "http://127.0.0.1:8080", 0, 0, NULL,
     "public https origin of this service (policySocketUrl, default livekitUrl)"},
    {"LIVEKIT_URL", T_URL, R_PROD, O(livekit_url), "ws://127.0.0.1:7880", 0, 0, NULL,
     "LiveKit server URL used for its API (ws/wss/http/https)"},
    {"LIVEKIT_PUBLIC_URL", T_URL, R_NO, O(livekit_public_url), "", 0, 0, NULL,
     "livekitUrl handed to clients; default: PUBLIC_BASE_URL as ws(s)"},
    {"LIVEKIT_API_KEY", T_STR, R_ALWAYS, O(livekit_api_key), NULL, 1, 0, NULL,
     "LiveKit API key (token issuer)"},
    {"LIVEKIT_API_SECRET", T_SECRET, R_ALWAYS, O(livekit_api_secret), NULL, 32, 256, NULL,
     "LiveKit API secret, 32..256 bytes (or _FILE; _PREVIOUS[_FILE] for rotation)"},
    {"POLICY_SOCKET_JWT_SECRET", T_SECRET, R_ALWAYS, O(policy_socket_secret), NULL, 32, 256, NULL,
     "HMAC secret of policy socket tokens, 32..256 bytes (or _FILE, _PREVIOUS)"},
    {"EXTERNAL_AUTH_MODE", T_ENUM, R_NO, O(auth_mode), "shared_secret", 0, 0, auth_names,
     "how the game server authenticates: shared_secret | jwt"},
    {"EXTERNAL_SHARED_SECRET", T_SECRET, R_SHARED, O(external_shared_secret), NULL, 32, 256, NULL,
     "bearer secret of the game server (shared_secret mode; or _FILE, _PREVIOUS)"},
    {"EXTERNAL_JWT_KEYS_FILE", T_STR, R_JWT, O(external_jwt_keys_file), "", 0, 0, NULL,
     "jwt mode: file of pinned public keys (kid, alg RS256|ES256, PEM); re-read on SIGHUP"},
    {"EXTERNAL_JWT_ISSUER", T_STR, R_NO, O(external_jwt_issuer), "", 0, 0, NULL,
     "jwt mode: required iss claim (empty: not checked)"},
    {"EXTERNAL_JWT_AUDIENCE", T_STR, R_NO, O(external_jwt_audience), "", 0, 0, NULL,
     "jwt mode: required aud claim (empty: not checked)"},
    {"SESSION_TOKEN_TTL_SECONDS", T_U32, R_NO, O(session_token_ttl_s), "600", 10, 86400, NULL,
     "LiveKit token lifetime (production: 300..900)"},
    {"POLICY_SOCKET_TOKEN_TTL_SECONDS", T_U32, R_NO, O(policy_socket_token_ttl_s), "300", 10, 86400,
     NULL, "policy socket token lifetime (production: 300..900)"},
    {"SECRET_ROTATION_GRACE_SECONDS", T_U32, R_NO, O(secret_rotation_grace_s), "900", 0, 86400,
     NULL, "how long a rotated-out secret is still accepted"},
    {"MAX_ROOM_SIZE", T_U32, R_NO, O(max_room_size), "200", 2, 100000, NULL,
     "participants per room"},
    {"MAX_POLICY_BATCH_SIZE", T_U32, R_NO, O(max_policy_batch_size), "200", 1, 10000, NULL,
     "poses per POST /policy/poses"},
    {"MAX_ROOMS", T_U32, R_NO, O(max_rooms), "1024", 1, 1000000, NULL, "rooms in memory"},
    {"MAX_PARTICIPANTS", T_U32, R_NO, O(max_participants), "10000", 2, 1000000, NULL,
     "participants in all rooms"},
    {"MAX_POLICY_SOCKETS", T_U32, R_NO, O(max_policy_sockets), "10000", 1, 1000000, NULL,
     "policy WebSocket connections"},
    {"POLICY_SOCKET_MAX_MESSAGE_BYTES", T_U32, R_NO, O(ws_max_message_bytes), "4096", 256, 65536,
     NULL, "largest client message on a policy socket (beyond: close 1009)"},
    {"POLICY_SOCKET_QUEUE_BYTES", T_U32, R_NO, O(ws_queue_bytes), "65536", 16384, 4194304, NULL,
     "output bound per policy socket; a slower client gets a fresh snapshot instead"},
    {"POLICY_SOCKET_SEND_BUFFER_BYTES", T_U32, R_NO, O(ws_send_buffer_bytes), "65536", 4096,
     16777216, NULL, "kernel send buffer (SO_SNDBUF) of a policy socket"},
    {"POLICY_SOCKET_PING_INTERVAL_MS", T_MS, R_NO, O(ws_ping_interval_ms), "15000", 100, DAY_MS,
     NULL, "WebSocket ping interval of policy sockets"},
    {"POLICY_SOCKET_IDLE_TIMEOUT_MS", T_MS, R_NO, O(ws_idle_timeout_ms), "45000", 200, DAY_MS, NULL,
     "nothing received for this long closes a policy socket (1001)"},
    {"MAX_CONNECTIONS", T_U32, R_NO, O(max_connections), "1024", 1, 1000000, NULL,
     "open HTTP connections (beyond: accepted and closed at once)"},
    {"MAX_CONNECTIONS_PER_IP", T_U32, R_NO, O(max_connections_per_ip), "128", 0, 1000000, NULL,
     "open connections per client IP (0 = off; with TRUST_PROXY=1 loopback is exempt)"},
    {"MAX_HEADER_BYTES", T_U32, R_NO, O(max_header_bytes), "8192", 1024, 65536, NULL,
     "request line + headers (beyond: 431)"},
    {"MAX_BODY_BYTES", T_U32, R_NO, O(max_body_bytes), "65536", 1024, PVJ_MAX_BODY_BYTES, NULL,
     "request body (beyond: 413)"},
    {"IDLE_TIMEOUT_MS", T_MS, R_NO, O(idle_timeout_ms), "75000", 100, DAY_MS, NULL,
     "keep-alive connection idle before close (> nginx keepalive_timeout)"},
    {"REQUEST_TIMEOUT_MS", T_MS, R_NO, O(request_timeout_ms), "10000", 50, DAY_MS, NULL,
     "first byte to complete request (slow clients: 408)"},
    {"WRITE_TIMEOUT_MS", T_MS, R_NO, O(write_timeout_ms), "10000", 50, DAY_MS, NULL,
     "a response not drained by the client within this closes it"},
    {"SHUTDOWN_TIMEOUT_MS", T_MS, R_NO, O(shutdown_timeout_ms), "10000", 0, DAY_MS, NULL,
     "SIGTERM: drain time before remaining connections are closed"},
    {"LIVEKIT_TIMEOUT_MS", T_MS, R_NO, O(livekit_timeout_ms), "5000", 10, 600000, NULL,
     "timeout of one outgoing LiveKit HTTP call (> LiveKit's ~3 s internal RPC timeout)"},
    {"LIVEKIT_RECONCILE_INTERVAL_MS", T_MS, R_NO, O(livekit_reconcile_interval_ms), "10000", 100,
     3600000, NULL, "how often each room's participants are listed from LiveKit"},
    {"AUDIENCE_ACK_DEADLINE_MS", T_MS, R_NO, O(audience_ack_deadline_ms), "2000", 250, 60000, NULL,
     "a speaker that has not acknowledged a shrunk audience this long is removed"},
    {"RECOMPUTE_ON_POSE", T_BOOL, R_NO, O(recompute_on_pose), "1", 0, 1, NULL,
     "1: recompute a room as soon as its pose batch arrives (saves up to 250 ms per transition)"},
    {"READY_CACHE_MS", T_MS, R_NO, O(ready_cache_ms), "2000", 0, 600000, NULL,
     "GET /ready reuses a LiveKit probe result this long"},
    {"HTTP_CLIENT_MAX_CONCURRENCY", T_U32, R_NO, O(http_client_max_concurrency), "16", 1, 1024,
     NULL, "outgoing HTTP transfers running at once"},
    {"HTTP_CLIENT_MAX_QUEUED", T_U32, R_NO, O(http_client_max_queued), "4096", 1, 1000000, NULL,
     "outgoing HTTP transfers waiting (beyond: fail at once)"},
    {"RATE_LIMIT_SESSIONS_IP", T_RATE, R_NO, O(rl_sessions_ip), "50:100", 0, 0, NULL,
     "POST /sessions per client IP, PER_SEC:BURST (0 = off)"},
    {"RATE_LIMIT_SESSIONS_KEY", T_RATE, R_NO, O(rl_sessions_key), "200:400", 0, 0, NULL,
     "POST /sessions per server key"},
    {"RATE_LIMIT_POSES_IP", T_RATE, R_NO, O(rl_poses_ip), "2000:4000", 0, 0, NULL,
     "POST /policy/poses per client IP"},
    {"RATE_LIMIT_POSES_KEY", T_RATE, R_NO, O(rl_poses_key), "2000:4000", 0, 0, NULL,
     "POST /policy/poses per server key"},
    {"RATE_LIMIT_SOCKET_AUTH_IP", T_RATE, R_NO, O(rl_socket_auth_ip), "20:40", 0, 0, NULL,
     "policy socket auth attempts per client IP"},
    {"RATE_LIMIT_TABLE_SIZE", T_U32, R_NO, O(rl_table_size), "4096", 16, 1000000, NULL,
     "tracked clients per limiter (least recently seen evicted)"},
    {"CORS_ALLOWED_ORIGINS", T_ORIGINS, R_NO, O(cors_allowed_origins), "", 0, 0, NULL,
     "comma-separated browser origins allowed (production: required, no *)"},
    {"TRUST_PROXY", T_BOOL, R_NO, O(trust_proxy), "0", 0, 1, NULL,
     "1: client IP from X-Forwarded-For when the peer is loopback (nginx)"},
    {"LOG_LEVEL", T_ENUM, R_NO, O(log_level), "info", 0, 0, level_names,
     "debug | info | warn | error"},
};
#define TABLE_LEN (sizeof table / sizeof table[0])

static int fail(char *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, const char *name, const char *fmt, ...) {
    int n = snprintf(err, PVCFG_ERR_MAX, "%s: ", name);
    if (n < 0 || n >= PVCFG_ERR_MAX) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, (size_t)(PVCFG_ERR_MAX - n), fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_i64(const char *s, int64_t *out) {
    if (*s == '\0' || *s == ' ' || *s == '+' || *s == '\t') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0') return -1;
    *out = v;
    return 0;
}

static int parse_enum(const entry *e, const char *s, void *dst, char *err) {
    for (int i = 0; e->names[i]; i++) {
        if (strcmp(s, e->names[i]) == 0) {
            *(int *)dst = i;
            return 0;
        }
    }
    char list[128] = "";
    for (int i = 0; e->names[i]; i++) {
        strncat(list, i ? " | " : "", sizeof list - strlen(list) - 1);
        strncat(list, e->names[i], sizeof list - strlen(list) - 1);
    }
    return fail(err, e->name, "must be one of %s (got \"%.40s\")", list, s);
}

static int parse_str(const entry *e, const char *s, char *dst, char *err) {
    size_t n = strlen(s);
    if (n > PVCFG_STR_MAX) return fail(err, e->name, "longer than %d bytes", PVCFG_STR_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x21 || ch == 0x7f) return fail(err, e->name, "contains whitespace or controls");
    }
    if (e->min > 0 && n == 0) return fail(err, e->name, "must not be empty");
    memcpy(dst, s, n + 1);
    return 0;
}

/* http(s)://host[:port][/path] or ws(s)://...; stored without trailing '/'. */
static int parse_url(const entry *e, const char *s, char *dst, char *err) {
    if (parse_str(e, s, dst, err) < 0) return -1;
    if (dst[0] == '\0') return 0;
    static const char *const schemes[] = {"http://", "https://", "ws://", "wss://"};
    const char *host = NULL;
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(dst, schemes[i], n) == 0) host = dst + n;
    }
    if (!host) return fail(err, e->name, "must start with http://, https://, ws:// or wss://");
    if (*host == '\0' || *host == '/' || *host == ':')
        return fail(err, e->name, "has no host (\"%.60s\")", s);
    if (strpbrk(dst, "?#@")) return fail(err, e->name, "must not contain ?, # or userinfo");
    size_t n = strlen(dst);
    while (n > 0 && dst[n - 1] == '/')
        dst[--n] = '\0';
    return 0;
}

static int parse_num(const entry *e, const char *s, void *dst, char *err) {
    int64_t v;
    if (parse_i64(s, &v) < 0) return fail(err, e->name, "must be an integer (got \"%.40s\")", s);
    if (v < e->min || v > e->max)
        return fail(err, e->name, "must be in %lld..%lld (got %lld)", (long long)e->min,
                    (long long)e->max, (long long)v);
    if (e->type == T_MS)
        *(int64_t *)dst = v;
    else if (e->type == T_BOOL)
        *(int *)dst = (int)v;
    else
        *(uint32_t *)dst = (uint32_t)v;
    return 0;
}

static int parse_rate(const entry *e, const char *s, pvcfg_rate *dst, char *err) {
    char buf[64];
    if (strlen(s) >= sizeof buf) return fail(err, e->name, "too long");
    memcpy(buf, s, strlen(s) + 1);
    char *colon = strchr(buf, ':');
    int64_t rate, burst;
    if (colon) *colon = '\0';
    if (parse_i64(buf, &rate) < 0 || rate < 0 || rate > 1000000)
        return fail(err, e->name, "must be PER_SEC:BURST or 0 (got \"%.40s\")", s);
    if (!colon) {
        if (rate != 0) return fail(err, e->name, "must be PER_SEC:BURST or 0 (got \"%.40s\")", s);
        burst = 0;
    } else if (parse_i64(colon + 1, &burst) < 0 || burst < 1 || burst > 1000000) {
        return fail(err, e->name, "BURST must be in 1..1000000 (got \"%.40s\")", s);
    }
    dst->per_sec = (uint32_t)rate;
    dst->burst = (uint32_t)burst;
    return 0;
}

/* Validated by the CORS module itself so both agree on what an origin is. */
static int parse_origins(const entry *e, const char *s, pvcfg *c, char *err) {
    if (strlen(s) >= sizeof c->cors_allowed_origins)
        return fail(err, e->name, "longer than %zu bytes", sizeof c->cors_allowed_origins - 1);
    pvcors tmp;
    const char *why = "";
    if (pvcors_parse(&tmp, s, c->env == PVCFG_ENV_PRODUCTION, &why) < 0)
        return fail(err, e->name, "%s (got \"%.60s\")", why, s);
    memcpy(c->cors_allowed_origins, s, strlen(s) + 1);
    return 0;
}

static int default_readfile(void *ud, const char *path, char *buf, size_t cap, const char **why) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return -1;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    int more = fgetc(f) != EOF;
    int bad = ferror(f);
    fclose(f);
    if (bad || more) {
        *why = bad ? "read error" : "file too large";
        return -1;
    }
    buf[n] = '\0';
    return (int)n;
}

static const char *default_getenv(void *ud, const char *name) {
    return getenv(name);
}

const pvcfg_source pvcfg_source_process = {default_getenv, default_readfile, NULL};

/* One secret value from NAME or NAME_FILE (suffix selects _PREVIOUS). */
static int load_secret_value(const entry *e, const char *suffix, const pvcfg_source *src,
                             char *value, char *file, char *err) {
    char name[96], fname[96];
    snprintf(name, sizeof name, "%s%s", e->name, suffix);
    snprintf(fname, sizeof fname, "%s%s_FILE", e->name, suffix);
    const char *v = src->getenv(src->ud, name), *f = src->getenv(src->ud, fname);
    if (v && f) return fail(err, name, "set both %s and %s; choose one", name, fname);
    value[0] = file[0] = '\0';
    if (f) {
        if (strlen(f) == 0 || strlen(f) > PVCFG_STR_MAX) return fail(err, fname, "bad path");
        memcpy(file, f, strlen(f) + 1);
        const char *why = "";
        char buf[PVCFG_SECRET_MAX + 4];
        int n = src->readfile(src->ud, file, buf, sizeof buf, &why);
        if (n < 0) return fail(err, fname, "cannot read %.100s: %s", file, why);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (strlen(buf) != (size_t)n) return fail(err, fname, "contains a NUL byte");
        if ((size_t)n > PVCFG_SECRET_MAX) return fail(err, fname, "longer than 256 bytes");
        memcpy(value, buf, (size_t)n + 1);
    } else if (v) {
        if (strlen(v) > PVCFG_SECRET_MAX) return fail(err, name, "longer than 256 bytes");
        memcpy(value, v, strlen(v) + 1);
    }
    if (strlen(value) > 0 && strlen(value) < (size_t)e->min)
        return fail(err, name, "must be at least %lld bytes (got %zu)", (long long)e->min,
                    strlen(value));
    return 0;
}

static int load_secret(const entry *e, const pvcfg_source *src, pvcfg_secret *s, char *err) {
    if (load_secret_value(e, "", src, s->value, s->file, err) < 0) return -1;
    if (load_secret_value(e, "_PREVIOUS", src, s->previous, s->previous_file, err) < 0) return -1;
    if (s->previous[0] && strcmp(s->previous, s->value) == 0)
        return fail(err, e->name, "_PREVIOUS equals the current value");
    if (s->previous[0] && !s->value[0])
        return fail(err, e->name, "_PREVIOUS is set but the current value is not");
    return 0;
}

static int required(const entry *e, const pvcfg *c) {
    switch (e->req) {
    case R_ALWAYS:
        return 1;
    case R_PROD:
        return c->env == PVCFG_ENV_PRODUCTION;
    case R_SHARED:
        return c->auth_mode == PVCFG_AUTH_SHARED_SECRET;
    case R_JWT:
        return c->auth_mode == PVCFG_AUTH_JWT;
    default:
        return 0;
    }
}

static int parse_value(const entry *e, const char *s, pvcfg *c, char *err) {
    void *dst = (char *)c + e->off;
    switch (e->type) {
    case T_ENUM:
        return parse_enum(e, s, dst, err);
    case T_STR:
        return parse_str(e, s, dst, err);
    case T_URL:
        return parse_url(e, s, dst, err);
    case T_U32:
    case T_MS:
    case T_BOOL:
        return parse_num(e, s, dst, err);
    case T_RATE:
        return parse_rate(e, s, dst, err);
    case T_ORIGINS:
        return parse_origins(e, s, c, err);
    default:
        return fail(err, e->name, "internal: bad type");
    }
}

static int load_entry(const entry *e, const pvcfg_source *src, pvcfg *c, char *err) {
    if (e->type == T_SECRET) {
        pvcfg_secret *s = (pvcfg_secret *)((char *)c + e->off);
        if (load_secret(e, src, s, err) < 0) return -1;
        if (!s->value[0] && required(e, c))
            return fail(err, e->name, "is required (set %s or %s_FILE)", e->name, e->name);
        return 0;
    }
    const char *v = src->getenv(src->ud, e->name);
    if (v == NULL && required(e, c) && (e->def == NULL || e->req == R_PROD || e->req == R_JWT))
        return fail(err, e->name, "is required%s", e->req == R_PROD ? " in production" : "");
    if (v == NULL) v = e->def ? e->def : "";
    return parse_value(e, v, c, err);
}

static int check_host(const pvcfg *c, char *err) {
    unsigned char addr[16];
    if (inet_pton(AF_INET, c->host, addr) != 1 && inet_pton(AF_INET6, c->host, addr) != 1)
        return fail(err, "HOST", "must be a numeric IPv4 or IPv6 address (got \"%.60s\")", c->host);
    return 0;
}

/* Outside production PUBLIC_BASE_URL defaults to this listener's address. */
static void default_public_url(pvcfg *c, const pvcfg_source *src) {
    if (c->env == PVCFG_ENV_PRODUCTION || src->getenv(src->ud, "PUBLIC_BASE_URL")) return;
    int v6 = strchr(c->host, ':') != NULL;
    /* HOST is a numeric address (<= 45 bytes) once check_host passed. */
    snprintf(c->public_base_url, sizeof c->public_base_url, "http://%s%.64s%s:%u", v6 ? "[" : "",
             c->host, v6 ? "]" : "", c->port);
}

static int check_cross(pvcfg *c, char *err) {
    if (check_host(c, err) < 0) return -1;
    if (c->auth_mode == PVCFG_AUTH_JWT && !c->external_jwt_keys_file[0])
        return fail(err, "EXTERNAL_JWT_KEYS_FILE", "is required in jwt mode");
    if (c->max_room_size > c->max_participants)
        return fail(err, "MAX_ROOM_SIZE", "exceeds MAX_PARTICIPANTS (%u)", c->max_participants);
    if (c->max_policy_batch_size > c->max_room_size)
        return fail(err, "MAX_POLICY_BATCH_SIZE", "exceeds MAX_ROOM_SIZE (%u)", c->max_room_size);
    if (c->max_body_bytes < 64u * c->max_policy_batch_size)
        return fail(err, "MAX_BODY_BYTES", "too small for MAX_POLICY_BATCH_SIZE poses (%u bytes)",
                    64u * c->max_policy_batch_size);
    if (c->ws_idle_timeout_ms <= c->ws_ping_interval_ms)
        return fail(err, "POLICY_SOCKET_IDLE_TIMEOUT_MS",
                    "must exceed POLICY_SOCKET_PING_INTERVAL_MS");
    if (strncmp(c->livekit_url, "ws", 2) != 0 && strncmp(c->livekit_url, "http", 4) != 0)
        return fail(err, "LIVEKIT_URL", "must be set");
    if (!c->public_base_url[0] || strncmp(c->public_base_url, "ws", 2) == 0)
        return fail(err, "PUBLIC_BASE_URL", "must be an http(s) URL");
    if (strcmp(c->policy_socket_secret.value, c->livekit_api_secret.value) == 0)
        return fail(err, "POLICY_SOCKET_JWT_SECRET", "must differ from LIVEKIT_API_SECRET");
    if (c->auth_mode == PVCFG_AUTH_SHARED_SECRET &&
        (strcmp(c->external_shared_secret.value, c->livekit_api_secret.value) == 0 ||
         strcmp(c->external_shared_secret.value, c->policy_socket_secret.value) == 0))
        return fail(err, "EXTERNAL_SHARED_SECRET", "must differ from the other secrets");
    return 0;
}

static int check_production(const pvcfg *c, char *err) {
    if (c->env != PVCFG_ENV_PRODUCTION) return 0;
    if (strncmp(c->public_base_url, "https://", 8) != 0)
        return fail(err, "PUBLIC_BASE_URL", "must be https:// in production");
    if (c->livekit_public_url[0] && strncmp(c->livekit_public_url, "wss://", 6) != 0 &&
        strncmp(c->livekit_public_url, "https://", 8) != 0)
        return fail(err, "LIVEKIT_PUBLIC_URL", "must be wss:// or https:// in production");
    if (c->cors_allowed_origins[0] == '\0')
        return fail(err, "CORS_ALLOWED_ORIGINS", "must list the game's origins in production");
    if (c->session_token_ttl_s < 300 || c->session_token_ttl_s > 900)
        return fail(err, "SESSION_TOKEN_TTL_SECONDS", "must be 300..900 in production");
    if (c->policy_socket_token_ttl_s < 300 || c->policy_socket_token_ttl_s > 900)
        return fail(err, "POLICY_SOCKET_TOKEN_TTL_SECONDS", "must be 300..900 in production");
    return 0;
}

int pvcfg_load(pvcfg *c, const pvcfg_source *src, char *err) {
    memset(c, 0, sizeof *c);
    err[0] = '\0';
    /* NODE_ENV and EXTERNAL_AUTH_MODE first: other rows depend on them. */
    for (size_t i = 0; i < TABLE_LEN; i++) {
        if (table[i].off != O(env) && table[i].off != O(auth_mode)) continue;
        if (load_entry(&table[i], src, c, err) < 0) return -1;
    }
    for (size_t i = 0; i < TABLE_LEN; i++) {
        if (load_entry(&table[i], src, c, err) < 0) return -1;
    }
    default_public_url(c, src);
    if (check_cross(c, err) < 0) return -1;
    return check_production(c, err);
}

int pvcfg_reload_secrets(pvcfg *c, const pvcfg_source *src, char *err) {
    pvcfg next = *c;
    int changed = 0;
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const entry *e = &table[i];
        if (e->type != T_SECRET) continue;
        pvcfg_secret *s = (pvcfg_secret *)((char *)&next + e->off);
        pvcfg_secret before = *s;
        if (!before.file[0] && !before.previous_file[0]) continue;
        if (load_secret(e, src, s, err) < 0) return -1;
        if (!s->value[0] && required(e, &next))
            return fail(err, e->name, "is required (file now empty)");
        if (strcmp(before.value, s->value) != 0) changed++;
    }
    if (check_cross(&next, err) < 0) return -1;
    *c = next;
    return changed;
}

void pvcfg_print_help(FILE *f) {
    fprintf(f, "Usage: proximity-voice-control [--help] [--check-config]\n\n"
               "Configuration comes from environment variables (validated at start;\n"
               "any invalid value exits with status 2 and names the variable).\n"
               "Secrets accept NAME_FILE instead of NAME (re-read on SIGHUP) and\n"
               "NAME_PREVIOUS[_FILE] for an old value still accepted during rotation.\n\n");
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const entry *e = &table[i];
        const char *def = e->def ? (e->def[0] ? e->def : "(empty)") : "(required)";
        if (e->req == R_PROD) def = "(required in production)";
        if (e->req == R_SHARED) def = "(required in shared_secret mode)";
        if (e->req == R_JWT) def = "(required in jwt mode)";
        fprintf(f, "  %-32s %s\n  %-32s default: %s\n", e->name, e->help, "", def);
        if (e->req == R_PROD) fprintf(f, "  %-32s development default: %s\n", "", e->def);
    }
    fprintf(f, "\nSignals: SIGTERM/SIGINT drain and exit; SIGHUP re-reads *_FILE secrets\n"
               "and EXTERNAL_JWT_KEYS_FILE without dropping connections.\n");
}

/* Copy url into out replacing a leading scheme from with to. */
static int rewrite_scheme(const char *url, const char *const map[][2], size_t n, const char *tail,
                          char *out, size_t cap) {
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(map[i][0]);
        if (strncmp(url, map[i][0], len) != 0) continue;
        int w = snprintf(out, cap, "%s%s%s", map[i][1], url + len, tail);
        return (w < 0 || (size_t)w >= cap) ? -1 : 0;
    }
    int w = snprintf(out, cap, "%s%s", url, tail);
    return (w < 0 || (size_t)w >= cap) ? -1 : 0;
}

static const char *const to_http[][2] = {{"wss://", "https://"}, {"ws://", "http://"}};
static const char *const to_ws[][2] = {{"https://", "wss://"}, {"http://", "ws://"}};

int pvcfg_livekit_http_url(const pvcfg *c, char *out, size_t cap) {
    return rewrite_scheme(c->livekit_url, to_http, 2, "", out, cap);
}

int pvcfg_livekit_client_url(const pvcfg *c, char *out, size_t cap) {
    const char *u = c->livekit_public_url[0] ? c->livekit_public_url : c->public_base_url;
    return rewrite_scheme(u, to_ws, 2, "", out, cap);
}

int pvcfg_policy_socket_url(const pvcfg *c, char *out, size_t cap) {
    return rewrite_scheme(c->public_base_url, to_ws, 2, "/policy-socket", out, cap);
}

const char *pvcfg_env_name(pvcfg_env e) {
    return (unsigned)e < 3 ? env_names[e] : "?";
}
