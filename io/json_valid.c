/*
 * json_valid.c - a strict RFC 8259 grammar check, run before jsmn.
 *
 * jsmn is a tokenizer, not a validator: it accepts `{"a": }`, `[1 2]`,
 * `[1,,2]` and trailing commas. This recursive-descent checker accepts
 * exactly JSON texts whose top-level value is an object or array, nested at
 * most PVJ_MAX_DEPTH deep, in valid UTF-8 (no overlongs, no surrogates,
 * <= U+10FFFF), with strings free of raw control characters, of "\u0000" and
 * of unpaired surrogate escapes, and numbers at most PVJ_MAX_NUMBER_CHARS long.
 * Depth is bounded, so the recursion is too.
 */
#include <stdio.h>
#include <string.h>

#include "json_in.h"

typedef struct vstate {
    const unsigned char *s;
    size_t len, pos;
    pvj_err *err;
} vstate;

static int vfail(vstate *v, const char *what) {
    if (v->err) {
        v->err->code = PV_ERR_INVALID_PAYLOAD;
        snprintf(v->err->message, sizeof v->err->message, "invalid JSON at byte %zu: %s", v->pos,
                 what);
    }
    return PV_EINVAL;
}

static void ws(vstate *v) {
    while (v->pos < v->len) {
        unsigned char c = v->s[v->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        v->pos++;
    }
}

static int hex4(vstate *v, unsigned *out) {
    if (v->len - v->pos < 4) return vfail(v, "truncated \\u escape");
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = v->s[v->pos++];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15) return vfail(v, "bad hex digit in \\u escape");
        x = x << 4 | d;
    }
    *out = x;
    return 0;
}

/* After the backslash of a \u escape: one code point, pairs combined. */
static int uescape(vstate *v) {
    unsigned u, lo;
    if (hex4(v, &u)) return PV_EINVAL;
    if (u == 0) return vfail(v, "\\u0000 not allowed");
    if (u >= 0xDC00 && u <= 0xDFFF) return vfail(v, "unpaired low surrogate");
    if (u < 0xD800 || u > 0xDBFF) return 0;
    if (v->len - v->pos < 2 || v->s[v->pos] != '\\' || v->s[v->pos + 1] != 'u')
        return vfail(v, "unpaired high surrogate");
    v->pos += 2;
    if (hex4(v, &lo)) return PV_EINVAL;
    if (lo < 0xDC00 || lo > 0xDFFF) return vfail(v, "unpaired high surrogate");
    return 0;
}

/* One UTF-8 sequence starting with lead byte c (>= 0x80) at pos-1. */
static int utf8_tail(vstate *v, unsigned char c) {
    int n;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 1, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 2, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 3, cp = c & 0x07, min = 0x10000;
    else
        return vfail(v, "invalid UTF-8 lead byte");
    if (v->len - v->pos < (size_t)n) return vfail(v, "truncated UTF-8 sequence");
    for (int i = 0; i < n; i++) {
        unsigned char t = v->s[v->pos++];
        if ((t & 0xC0) != 0x80) return vfail(v, "invalid UTF-8 continuation byte");
        cp = cp << 6 | (t & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return vfail(v, "invalid UTF-8 code point");
    return 0;
}

static int string(vstate *v) {
    v->pos++; /* opening quote */
    while (v->pos < v->len) {
        unsigned char c = v->s[v->pos++];
        if (c == '"') return 0;
        if (c < 0x20) return vfail(v, "control character in string");
        if (c >= 0x80) {
            if (utf8_tail(v, c)) return PV_EINVAL;
        } else if (c == '\\') {
            if (v->pos >= v->len) break;
            c = v->s[v->pos++];
            if (c == 'u') {
                if (uescape(v)) return PV_EINVAL;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return vfail(v, "bad escape");
            }
        }
    }
    return vfail(v, "unterminated string");
}

static size_t digits(vstate *v) {
    size_t start = v->pos;
    while (v->pos < v->len && v->s[v->pos] >= '0' && v->s[v->pos] <= '9')
        v->pos++;
    return v->pos - start;
}

static int number(vstate *v) {
    size_t start = v->pos;
    if (v->s[v->pos] == '-') v->pos++;
    if (v->pos < v->len && v->s[v->pos] == '0')
        v->pos++;
    else if (digits(v) == 0)
        return vfail(v, "bad number");
    if (v->pos < v->len && v->s[v->pos] == '.') {
        v->pos++;
        if (digits(v) == 0) return vfail(v, "bad number fraction");
    }
    if (v->pos < v->len && (v->s[v->pos] == 'e' || v->s[v->pos] == 'E')) {
        v->pos++;
        if (v->pos < v->len && (v->s[v->pos] == '+' || v->s[v->pos] == '-')) v->pos++;
        if (digits(v) == 0) return vfail(v, "bad number exponent");
    }
    if (v->pos - start > PVJ_MAX_NUMBER_CHARS) return vfail(v, "number literal too long");
    return 0;
}

static int literal(vstate *v, const char *word) {
    size_t n = strlen(word);
    if (v->len - v->pos < n || memcmp(v->s + v->pos, word, n) != 0)
        return vfail(v, "unexpected character");
    v->pos += n;
    return 0;
}

static int value(vstate *v, int depth);

/* Object or array at v->pos; close is '}' or ']'. */
static int container(vstate *v, int depth, unsigned char close) {
    if (depth >= PVJ_MAX_DEPTH) return vfail(v, "nesting too deep");
    v->pos++;
    ws(v);
    if (v->pos < v->len && v->s[v->pos] == close) {
        v->pos++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (v->pos >= v->len || v->s[v->pos] != '"') return vfail(v, "expected a key string");
            if (string(v)) return PV_EINVAL;
            ws(v);
            if (v->pos >= v->len || v->s[v->pos] != ':') return vfail(v, "expected ':'");
            v->pos++;
        }
        if (value(v, depth + 1)) return PV_EINVAL;
        if (v->pos >= v->len) return vfail(v, "truncated");
        unsigned char c = v->s[v->pos++];
        if (c == close) return 0;
        if (c != ',') return vfail(v, "expected ',' or a closing bracket");
        ws(v);
    }
}

static int value(vstate *v, int depth) {
    ws(v);
    if (v->pos >= v->len) return vfail(v, "truncated");
    int rc;
    switch (v->s[v->pos]) {
    case '{':
        rc = container(v, depth, '}');
        break;
    case '[':
        rc = container(v, depth, ']');
        break;
    case '"':
        rc = string(v);
        break;
    case 't':
        rc = literal(v, "true");
        break;
    case 'f':
        rc = literal(v, "false");
        break;
    case 'n':
        rc = literal(v, "null");
        break;
    default:
        if (v->s[v->pos] == '-' || (v->s[v->pos] >= '0' && v->s[v->pos] <= '9'))
            rc = number(v);
        else
            rc = vfail(v, "unexpected character");
    }
    if (rc == 0) ws(v);
    return rc;
}

int pvj_validate(const char *s, size_t len, pvj_err *err) {
    vstate v = {(const unsigned char *)s, len, 0, err};
    if (len > (size_t)1 << 30) return vfail(&v, "document too large");
    ws(&v);
    if (v.pos >= len || (s[v.pos] != '{' && s[v.pos] != '[')) {
        return vfail(&v, "top level must be an object or array");
    }
    if (value(&v, 0)) return PV_EINVAL;
    if (v.pos != len) return vfail(&v, "trailing characters");
    return 0;
}
