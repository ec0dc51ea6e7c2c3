/*
 * cors.c - origin allowlist parsing and matching (see cors.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "pv.h"

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int host_char(char c) {
    c = lower(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int ipv6_char(char c) {
    c = lower(c);
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/* Host part of s[0..n): a DNS name/IPv4 or "[IPv6]". Returns its length or -1. */
static int host_len(const char *s, size_t n) {
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++)
            if (!ipv6_char(s[i])) return -1;
        return i < n && i > 1 ? (int)i + 1 : -1;
    }
    while (i < n && host_char(s[i]))
        i++;
    return i > 0 ? (int)i : -1;
}

/* Normalise origin s[0..n) into out ("scheme://host[:port]", lowercase,
 * default port dropped). Returns 0 or -1 if it is not a plain origin. */
static int normalise(const char *s, size_t n, char *out, size_t cap) {
    int https;
    if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
        https = 1, s += 8, n -= 8;
    else if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
        https = 0, s += 7, n -= 7;
    else
        return -1;
    int h = host_len(s, n);
    if (h < 0) return -1;
    long port = -1;
    if ((size_t)h < n) {
        if (s[h] != ':' || (size_t)h + 1 == n || n - (size_t)h - 1 > 5) return -1;
        port = 0;
        for (size_t i = (size_t)h + 1; i < n; i++) {
            if (s[i] < '0' || s[i] > '9') return -1;
            port = port * 10 + (s[i] - '0');
        }
        if (port < 1 || port > 65535) return -1;
        if (port == (https ? 443 : 80)) port = -1;
    }
    int w = snprintf(out, cap, "%s://%.*s", https ? "https" : "http", h, s);
    if (w < 0 || (size_t)w >= cap) return -1;
    for (int i = 0; i < w; i++)
        out[i] = lower(out[i]);
    if (port > 0) {
        int w2 = snprintf(out + w, cap - (size_t)w, ":%ld", port);
        if (w2 < 0 || (size_t)(w + w2) >= cap) return -1;
    }
    return 0;
}

static int trim(const char **s, size_t *n) {
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
    return (int)*n;
}

int pvcors_parse(pvcors *c, const char *list, int production, const char **why) {
    const char *dummy;
    if (!why) why = &dummy;
    *why = NULL;
    memset(c, 0, sizeof *c);
    const char *p = list ? list : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *e = p;
        p = comma ? comma + 1 : p + n;
        if (trim(&e, &n) == 0) continue;
        if (n == 1 && e[0] == '*') {
            if (production) {
                *why = "\"*\" is not allowed in production: list the origins";
                return PV_EINVAL;
            }
            c->allow_any = 1;
            continue;
        }
        if (c->count == PVCORS_MAX_ORIGINS) {
            *why = "more than 32 origins";
            return PV_EINVAL;
        }
        if (normalise(e, n, c->origins[c->count], sizeof c->origins[0])) {
            *why = "an origin must be http(s)://host[:port] without path or wildcard";
            return PV_EINVAL;
        }
        c->count++;
    }
    return (int)c->count + c->allow_any;
}

int pvcors_allowed(const pvcors *c, const char *origin, size_t len) {
    char norm[PVCORS_ORIGIN_MAX + 1];
    if (!origin || len == 0 || len > PVCORS_ORIGIN_MAX) return 0;
    if (normalise(origin, len, norm, sizeof norm)) return 0; /* includes "null" */
    if (c->allow_any) return 1;
    for (unsigned i = 0; i < c->count; i++)
        if (strcmp(c->origins[i], norm) == 0) return 1;
    return 0;
}
