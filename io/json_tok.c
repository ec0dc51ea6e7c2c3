/*
 * json_tok.c - jsmn (compiled here only) and the typed readers the schema
 * walkers share. Inputs reaching these readers passed pvj_validate(), so
 * strings hold valid escapes and numbers follow the JSON grammar.
 */
#define PVJ_TOK_IMPL
#define JSMN_STATIC
#include "json_tok.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pvj_tokenize(const char *js, size_t len, jsmntok_t *toks, uint32_t cap, pvj_err *err) {
    if (pvj_validate(js, len, err)) return PV_EINVAL;
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, js, len, toks, cap);
    if (n == JSMN_ERROR_NOMEM) {
        if (err) {
            err->code = PV_ERR_INVALID_PAYLOAD;
            snprintf(err->message, sizeof err->message, "too many JSON values (limit %u)", cap);
        }
        return PV_EINVAL;
    }
    /* The grammar check passed, so any other jsmn error is a disagreement
     * between the two parsers: reject rather than guess. */
    if (n < 1) {
        if (err) {
            err->code = PV_ERR_INVALID_PAYLOAD;
            snprintf(err->message, sizeof err->message, "invalid JSON (tokenizer: %d)", n);
        }
        return PV_EINVAL;
    }
    return n;
}

int pvj_skip(const pvj_doc *d, int i) {
    int end = d->t[i].end;
    int j = i + 1;
    while (j < d->n && d->t[j].start < end)
        j++;
    return j;
}

int pvj_fail(const pvj_doc *d, const char *path, const char *fmt, ...) {
    pvj_err *e = d->err;
    e->code = PV_ERR_INVALID_PAYLOAD;
    int n = snprintf(e->message, sizeof e->message, "%s: ", path);
    if (n < 0 || (size_t)n >= sizeof e->message) return PV_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message + n, sizeof e->message - (size_t)n, fmt, ap);
    va_end(ap);
    return PV_EINVAL;
}

static unsigned hexval(char c) {
    if (c >= '0' && c <= '9') return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f') return (unsigned)(c - 'a' + 10);
    return (unsigned)(c - 'A' + 10);
}

static unsigned hex4_at(const char *s) {
    return hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 | hexval(s[3]);
}

/* Encode code point cp as UTF-8 into out; returns bytes written (1..4). */
static size_t utf8_put(char *out, unsigned cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static char simple_escape(char c) {
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c; /* " \ / */
    }
}

int pvj_str_copy(const pvj_doc *d, int i, char *out, size_t cap) {
    if (d->t[i].type != JSMN_STRING || cap == 0) return -1;
    const char *s = d->js + d->t[i].start, *end = d->js + d->t[i].end;
    size_t o = 0;
    while (s < end) {
        char tmp[4];
        size_t n = 1;
        if (*s != '\\') {
            tmp[0] = *s++;
        } else if (s[1] != 'u') {
            tmp[0] = simple_escape(s[1]);
            s += 2;
        } else {
            unsigned cp = hex4_at(s + 2);
            s += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* validated: a low surrogate follows */
                cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4_at(s + 2) - 0xDC00);
                s += 6;
            }
            n = utf8_put(tmp, cp);
        }
        if (o + n >= cap) return -1;
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    return (int)o;
}

int pvj_str_eq(const pvj_doc *d, int i, const char *s) {
    if (d->t[i].type != JSMN_STRING) return 0;
    size_t raw = (size_t)(d->t[i].end - d->t[i].start), n = strlen(s);
    /* Fast path: no escapes in the token. */
    if (!memchr(d->js + d->t[i].start, '\\', raw)) {
        return raw == n && memcmp(d->js + d->t[i].start, s, n) == 0;
    }
    char tmp[128];
    if (n >= sizeof tmp) return 0;
    int len = pvj_str_copy(d, i, tmp, sizeof tmp);
    return len >= 0 && (size_t)len == n && memcmp(tmp, s, n) == 0;
}

int pvj_fields(const pvj_doc *d, int obj, const char *path, const char *const *names, int n,
               int *idx, int strict) {
    if (d->t[obj].type != JSMN_OBJECT) return pvj_fail(d, path, "must be an object");
    for (int k = 0; k < n; k++)
        idx[k] = -1;
    int j = obj + 1;
    for (int m = 0; m < d->t[obj].size; m++) {
        int k = 0;
        while (k < n && !pvj_str_eq(d, j, names[k]))
            k++;
        if (k < n && idx[k] >= 0) return pvj_fail(d, path, "duplicate key \"%s\"", names[k]);
        if (k < n)
            idx[k] = j + 1;
        else if (strict) {
            char key[48];
            if (pvj_str_copy(d, j, key, sizeof key) < 0) strcpy(key, "(long key)");
            return pvj_fail(d, path, "unknown field \"%s\"", key);
        }
        j = pvj_skip(d, j + 1);
    }
    return 0;
}

int pvj_get_str(pvj_doc *d, int i, const char *path, size_t max_len, const char **out) {
    if (d->t[i].type != JSMN_STRING) return pvj_fail(d, path, "must be a string");
    size_t room = d->arena_cap - d->arena_len;
    size_t cap = max_len + 1 < room ? max_len + 1 : room;
    char *dst = d->arena + d->arena_len;
    int n = pvj_str_copy(d, i, dst, cap);
    if (n < 0) return pvj_fail(d, path, "longer than %zu bytes", max_len);
    d->arena_len += (size_t)n + 1;
    *out = dst;
    return 0;
}

int pvj_get_id(pvj_doc *d, int i, const char *path, const char **out) {
    if (pvj_get_str(d, i, path, PV_ID_MAX, out)) return PV_EINVAL;
    if (!pv_id_valid(*out))
        return pvj_fail(d, path, "must be 1..%d characters of [A-Za-z0-9_.:@-]", PV_ID_MAX);
    return 0;
}

/* Parses the digits of an integer token (validated grammar) into *out. */
static int parse_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out) {
    int neg = n > 0 && s[0] == '-';
    size_t i = (size_t)neg;
    if (i == n) return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (uint64_t)INT64_MAX) return -1;
    }
    int64_t x = neg ? -(int64_t)v : (int64_t)v;
    if (x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

int pvj_get_int(const pvj_doc *d, int i, const char *path, int64_t lo, int64_t hi, int64_t *out) {
    const jsmntok_t *t = &d->t[i];
    const char *s = d->js + t->start;
    if (t->type != JSMN_PRIMITIVE || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return pvj_fail(d, path, "must be an integer");
    if (parse_int(s, (size_t)(t->end - t->start), lo, hi, out))
        return pvj_fail(d, path, "must be an integer in %lld..%lld", (long long)lo, (long long)hi);
    return 0;
}

int pvj_get_int_or_str(const pvj_doc *d, int i, const char *path, int64_t lo, int64_t hi,
                       int64_t *out) {
    const jsmntok_t *t = &d->t[i];
    if (t->type != JSMN_STRING) return pvj_get_int(d, i, path, lo, hi, out);
    if (parse_int(d->js + t->start, (size_t)(t->end - t->start), lo, hi, out))
        return pvj_fail(d, path, "must be an integer in %lld..%lld", (long long)lo, (long long)hi);
    return 0;
}

int pvj_get_num(const pvj_doc *d, int i, const char *path, double max_abs, double *out) {
    const jsmntok_t *t = &d->t[i];
    const char *s = d->js + t->start;
    size_t n = (size_t)(t->end - t->start);
    if (t->type != JSMN_PRIMITIVE || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) ||
        n > PVJ_MAX_NUMBER_CHARS)
        return pvj_fail(d, path, "must be a finite number");
    char tmp[PVJ_MAX_NUMBER_CHARS + 1];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v)) return pvj_fail(d, path, "must be a finite number");
    if (fabs(v) > max_abs) return pvj_fail(d, path, "magnitude must be <= %g", max_abs);
    *out = v == 0 ? 0 : v; /* -0 -> 0 */
    return 0;
}
