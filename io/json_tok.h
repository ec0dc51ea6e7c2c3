/*
 * json_tok.h - INTERNAL helpers shared by the JSON parsers (json_in.c,
 * json_lk.c) and the JWT code: tokenising with jsmn after the strict grammar
 * check, walking objects, and reading typed values with error messages that
 * name the field. Not part of the io API: include only from io/ sources.
 *
 * jsmn is compiled once, JSMN_STATIC, inside json_tok.c, with
 * JSMN_PARENT_LINKS (without parent links jsmn rescans earlier tokens on
 * every ',' which is quadratic on `[1,1,1,...]`) and JSMN_STRICT.
 */
#ifndef PV_JSON_TOK_H
#define PV_JSON_TOK_H

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#ifndef PVJ_TOK_IMPL
#define JSMN_HEADER /* declarations only; never called outside json_tok.c */
#endif
#include <jsmn.h>

#include <stdint.h>

#include "json_in.h"

/* A tokenised document plus the arena strings are copied into. */
typedef struct pvj_doc {
    const char *js;
    const jsmntok_t *t;
    int n;       /* tokens used */
    char *arena; /* may be NULL when only pvj_str_copy is used */
    size_t arena_cap, arena_len;
    pvj_err *err; /* never NULL inside the parsers */
} pvj_doc;

/* Validate (pvj_validate) then tokenise. Returns the token count or PV_EINVAL. */
int pvj_tokenize(const char *js, size_t len, jsmntok_t *toks, uint32_t cap, pvj_err *err);

/* Index of the first token after the subtree rooted at i. */
int pvj_skip(const pvj_doc *d, int i);

/* printf-style: err->code = INVALID_PAYLOAD, err->message = "<path>: <msg>".
 * Returns PV_EINVAL so callers can `return pvj_fail(...)`. */
int pvj_fail(const pvj_doc *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Members of object token obj: for each names[k] sets idx[k] to its value's
 * token, or -1 when absent. Rejects a non-object, duplicates of a known name,
 * and (when strict) any unknown name. Returns 0 or PV_EINVAL.
 */
int pvj_fields(const pvj_doc *d, int obj, const char *path, const char *const *names, int n,
               int *idx, int strict);

/* Decode the string token i into out[0..cap) (NUL-terminated). Returns its
 * length, or -1 if it does not fit or i is not a string. */
int pvj_str_copy(const pvj_doc *d, int i, char *out, size_t cap);

/* String token i decoded into the arena; byte length <= max_len.
 * Returns 0 or PV_EINVAL (not a string / too long / arena full). */
int pvj_get_str(pvj_doc *d, int i, const char *path, size_t max_len, const char **out);
/* As pvj_get_str plus pv_id_valid(). */
int pvj_get_id(pvj_doc *d, int i, const char *path, const char **out);
/* Integer literal (no fraction/exponent) in [lo, hi]. Returns 0 or PV_EINVAL. */
int pvj_get_int(const pvj_doc *d, int i, const char *path, int64_t lo, int64_t hi, int64_t *out);
/* Integer literal, or a string holding only decimal digits (protojson int64). */
int pvj_get_int_or_str(const pvj_doc *d, int i, const char *path, int64_t lo, int64_t hi,
                       int64_t *out);
/* Finite number with |v| <= max_abs. Returns 0 or PV_EINVAL. */
int pvj_get_num(const pvj_doc *d, int i, const char *path, double max_abs, double *out);
/* 1 if token i is the string s (compared after unescaping). */
int pvj_str_eq(const pvj_doc *d, int i, const char *s);

#endif
