/*
 * cors.h - CORS origin allowlist (spec 14: "CORS allowlist for trusted
 * origins"), parsed from a comma-separated value such as
 *     CORS_ALLOWED_ORIGINS=https://game.example.com,http://localhost:5173
 *
 * Decisions:
 *  - Entries are exact origins: scheme "http" or "https", a host, an
 *    optional port; no path, query, userinfo or wildcard subdomains.
 *    Scheme and host are compared case-insensitively and a default port
 *    (:443 for https, :80 for http) is ignored, so "https://Game.example.com:443"
 *    equals "https://game.example.com". Whitespace around entries is trimmed.
 *  - A single "*" means any origin. It is REFUSED when production != 0
 *    (NODE_ENV=production): a production deployment must name its origins.
 *  - The origin "null" (sandboxed iframes, file://) is never allowed, even by "*".
 *  - An empty list allows no cross-origin request (same-origin still works:
 *    browsers send no Origin, or the server ignores requests without one).
 *
 * The policy socket and the browser client only need this for the WebSocket
 * upgrade's Origin check; POST /sessions and /policy/poses are
 * server-to-server and normally carry no Origin at all.
 */
#ifndef PV_CORS_H
#define PV_CORS_H

#include <stddef.h>

#define PVCORS_MAX_ORIGINS 32
#define PVCORS_ORIGIN_MAX  253 /* normalised origin bytes */

typedef struct pvcors {
    char origins[PVCORS_MAX_ORIGINS][PVCORS_ORIGIN_MAX + 1]; /* normalised */
    unsigned count;
    int allow_any;
} pvcors;

/*
 * Parse list (may be NULL or "": empty allowlist). Returns the number of
 * entries, or PV_EINVAL with *why (static string) for a malformed entry, too
 * many entries, or "*" in production.
 */
int pvcors_parse(pvcors *c, const char *list, int production, const char **why);

/*
 * 1 if origin[0..len) (the request's Origin header value) is allowed, else 0.
 * Malformed origins are not allowed.
 */
int pvcors_allowed(const pvcors *c, const char *origin, size_t len);

#endif
