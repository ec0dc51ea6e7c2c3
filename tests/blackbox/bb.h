/*
 * bb.h - black-box test kit for proximity-voice-control: start the real
 * binary with an environment, talk to it over loopback sockets, fake the
 * LiveKit HTTP API, sign JWTs like an external authority would.
 *
 * Each test case is a function; BB_CHECK records a failure and continues.
 * The runner prints "blackbox: N passed, M failed".
 */
#ifndef PV_BB_H
#define PV_BB_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- checks ---- */
extern int bb_case_failed;
#define BB_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                      \
            bb_case_failed = 1;                                                                    \
        }                                                                                          \
    } while (0)
#define BB_CHECK_INT(a, b)                                                                         \
    do {                                                                                           \
        long long bb_a = (long long)(a), bb_b = (long long)(b);                                    \
        if (bb_a != bb_b) {                                                                        \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, \
                    bb_a, bb_b);                                                                   \
            bb_case_failed = 1;                                                                    \
        }                                                                                          \
    } while (0)

int64_t bb_now_ms(void);
void bb_sleep_ms(int ms);

/* ---- the daemon process ---- */
#define BB_ENV_MAX 64
typedef struct bb_env {
    char *vars[BB_ENV_MAX]; /* "NAME=value" */
    int n;
} bb_env;
/* The default test environment (development, shared secret, fake LiveKit at lk_port). */
void bb_env_default(bb_env *e, int port, int lk_port);
/* Set or replace NAME=value. */
void bb_env_set(bb_env *e, const char *name, const char *value);
void bb_env_unset(bb_env *e, const char *name);
void bb_env_free(bb_env *e);

typedef struct bb_daemon {
    pid_t pid;
    int port;
    char log_path[256], err_path[256];
} bb_daemon;

extern const char *bb_daemon_path; /* set by the runner */
extern char bb_tmpdir[256];

int bb_free_port(void);
/* Start and wait until the port accepts connections. Returns 0 or -1. */
int bb_daemon_start(bb_daemon *d, const bb_env *e);
/* Run to completion (for config errors): exit status, stdout+stderr in out. */
int bb_daemon_run(const bb_env *e, const char *arg, char *out, size_t cap);
/* Send sig and wait up to timeout_ms. Returns the exit status, 128+signal
 * if killed by a signal, or -1 on timeout (then it is killed). */
int bb_daemon_stop(bb_daemon *d, int sig, int timeout_ms);
int bb_daemon_signal(bb_daemon *d, int sig);
/* Whole stdout log so far into buf. */
size_t bb_daemon_log(const bb_daemon *d, char *buf, size_t cap);

/* ---- HTTP client ---- */
typedef struct bb_conn {
    int fd;
    int head_request; /* the next response answers HEAD: no body */
    char buf[262144];
    size_t len;
} bb_conn;

typedef struct bb_resp {
    int status;
    char head[8192];
    char body[131072];
    size_t body_len;
} bb_resp;

/* Connect to 127.0.0.1:port, optionally from bind_ip (e.g. "127.0.0.2"). */
int bb_connect(bb_conn *c, int port, const char *bind_ip);
void bb_close(bb_conn *c);
int bb_send(bb_conn *c, const char *p, size_t n);
int bb_sends(bb_conn *c, const char *s);
/* Read one response (Content-Length framed). 0 ok, -1 closed or timeout. */
int bb_read(bb_conn *c, bb_resp *r, int timeout_ms);
/* 1 if the server closed the connection within timeout_ms. */
int bb_wait_closed(bb_conn *c, int timeout_ms);
/* Send a request on c (headers: extra "Name: v\r\n" lines) and read the response. */
int bb_do(bb_conn *c, const char *method, const char *path, const char *headers, const char *body,
          bb_resp *r);
/* One request on a fresh connection. Returns the status or -1. */
int bb_req(int port, const char *method, const char *path, const char *headers, const char *body,
           bb_resp *r);
/* Header value (case-insensitive name) into out; NULL if absent. */
const char *bb_header(const bb_resp *r, const char *name, char *out, size_t cap);
/* 1 if the body contains "code":"<code>" in the error shape. */
int bb_error_code(const bb_resp *r, const char *code);

/* Authorization header for the default shared secret. */
#define BB_EXT_SECRET "external-secret-0123456789abcdef0123"
#define BB_LK_SECRET  "livekit-secret-0123456789abcdef01234"
#define BB_POL_SECRET "policy-secret-0123456789abcdef012345"
#define BB_AUTH       "Authorization: Bearer " BB_EXT_SECRET "\r\n"
#define BB_JSON       "Content-Type: application/json\r\n"

/* ---- fake LiveKit ---- */
typedef struct bb_lk_call {
    char path[128];
    char auth[1024];
    char body[2048];
} bb_lk_call;
extern int bb_lk_port; /* the fake LiveKit's port (started by the runner) */
int bb_lk_start(void); /* returns the port */
void bb_lk_set(int root_status, int delay_ms);
int bb_lk_root_hits(void);
/* Copy recorded Twirp calls (up to max); returns the total count. */
int bb_lk_calls(bb_lk_call *out, int max);
void bb_lk_reset(void);

/* ---- JWTs of an external authority (openssl CLI makes and uses keys) ---- */
int bb_keys_init(void); /* RSA 2048 and P-256 pairs in bb_tmpdir; 0 or -1 */
/* "key k-rsa RS256\n<pem>key k-ec ES256\n<pem>" into path. */
int bb_keys_file(const char *path, int with_rsa, int with_ec);
/* Sign payload with RS256 (key "rsa") or ES256 ("ec"); kid may be NULL. */
int bb_jwt_sign(const char *alg, const char *kid, const char *payload, char *out, size_t cap);
/* HS256 with the RSA public key PEM as the HMAC secret (alg confusion). */
int bb_jwt_confused(const char *kid, const char *payload, char *out, size_t cap);
const char *bb_rsa_pub_pem(void);

/* A daemon with the default environment plus overrides ("NAME", "value",
 * ..., NULL). Returns 0 or -1; e is left for inspection (free it). */
int bb_up(bb_daemon *d, bb_env *e, ...);
/* A valid POST /sessions body. */
void bb_session_body(char *out, size_t cap, const char *room, const char *participant);

/* ---- test registry and runner (bb_run.c) ---- */
typedef void (*bb_fn)(void);
void bb_register(const char *name, bb_fn fn);
/* Applies ("NAME", "value" | NULL to unset) pairs up to a NULL name to e,
 * then starts the daemon. Returns bb_daemon_start's result. */
int bb_env_up(bb_daemon *d, bb_env *e, va_list ap);
typedef struct bb_run_opts {
    const char *suite;      /* printed: "SUITE: N passed, M failed" */
    const char *tmp_prefix; /* of the temp dir that keeps daemon logs */
    void (*before)(void);   /* after the fake LiveKit is up; may be NULL */
} bb_run_opts;
/* main() of a suite. Returns the exit status (0: all passed, 1, 2: usage). */
int bb_run_main(int argc, char **argv, const bb_run_opts *o);
#define BB_TEST(name)                                                                              \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void reg_##name(void) {                                    \
        bb_register(#name, name);                                                                  \
    }                                                                                              \
    static void name(void)

#endif
