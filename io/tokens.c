/*
 * tokens.c - minting and checking the daemon's tokens (see tokens.h).
 * Payloads are written with json_out in a fixed claim order, then signed
 * with pvjwt_sign_hs256: the same inputs always give the same token.
 */
#include <bearssl.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "json_in.h"
#include "tokens.h"

#define PAYLOAD_BYTES (PVJWT_MAX_BYTES * 3 / 4) /* what pvjwt_sign_hs256 accepts */

static int api_key_ok(const char *k) {
    size_t n = 0;
    if (!k) return 0;
    for (; k[n]; n++)
        if ((unsigned char)k[n] <= 0x20 || (unsigned char)k[n] >= 0x7F || n >= PVTOK_API_KEY_MAX)
            return 0;
    return n > 0;
}

static int times_ok(int64_t issued_at_wall_ms, int64_t ttl_s) {
    return issued_at_wall_ms >= 0 && issued_at_wall_ms <= PVJ_MAX_SAFE_INT &&
           ttl_s >= PVTOK_TTL_MIN_S && ttl_s <= PVTOK_TTL_MAX_S;
}

static int secret_ok(const pvsecret *s) {
    return s && s->current_len > 0;
}

/* Writes "nbf":iat,"iat":iat,"exp":iat+ttl (preceded by a comma). */
static void times(pvbuf *p, int64_t issued_at_wall_ms, int64_t ttl_s, int with_nbf) {
    int64_t iat = issued_at_wall_ms / 1000;
    if (with_nbf) {
        pvbuf_cstr(p, ",\"nbf\":");
        pvbuf_i64(p, iat);
    }
    pvbuf_cstr(p, ",\"iat\":");
    pvbuf_i64(p, iat);
    pvbuf_cstr(p, ",\"exp\":");
    pvbuf_i64(p, iat + ttl_s);
}

static int sign(pvbuf *b, const pvsecret *s, const pvbuf *payload, int64_t issued_at_wall_ms,
                int64_t ttl_s, int64_t *expires_at_ms) {
    if (payload->overflow) return PV_EOVERFLOW;
    int rc = pvjwt_sign_hs256(b, s->current, s->current_len, payload->p, payload->len);
    if (rc == 0 && expires_at_ms) *expires_at_ms = (issued_at_wall_ms / 1000 + ttl_s) * 1000;
    return rc;
}

static void metadata_claim(pvbuf *p, const pv_meta_pair *m, uint32_t n) {
    char mem[PVJ_META_TOTAL_MAX * 2 + PV_META_MAX_PAIRS * 8 + 8];
    pvbuf inner;
    pvbuf_init(&inner, mem, sizeof mem);
    pvbuf_raw(&inner, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) pvbuf_raw(&inner, ",", 1);
        pvbuf_jstr(&inner, m[i].key);
        pvbuf_raw(&inner, ":", 1);
        pvbuf_jstr(&inner, m[i].value);
    }
    pvbuf_raw(&inner, "}", 1);
    if (inner.overflow) p->overflow = 1;
    pvbuf_cstr(p, ",\"metadata\":");
    pvbuf_jstrn(p, inner.p, inner.len);
}

int pvtok_livekit_access(pvbuf *b, const pvsecret *api_secret, const pvtok_livekit *t,
                         int64_t *expires_at_ms) {
    char mem[PAYLOAD_BYTES];
    pvbuf p;
    pvbuf_reset(b);
    if (!secret_ok(api_secret) || !api_key_ok(t->api_key) || !pv_id_valid(t->room_id) ||
        !pv_id_valid(t->participant_id) || !times_ok(t->issued_at_wall_ms, t->ttl_s) ||
        t->metadata_count > PV_META_MAX_PAIRS || (t->metadata_count && !t->metadata))
        return PV_EINVAL;
    pvbuf_init(&p, mem, sizeof mem);
    pvbuf_cstr(&p, "{\"iss\":");
    pvbuf_jstr(&p, t->api_key);
    pvbuf_cstr(&p, ",\"sub\":");
    pvbuf_jstr(&p, t->participant_id);
    times(&p, t->issued_at_wall_ms, t->ttl_s, 1);
    if (t->display_name && t->display_name[0]) {
        pvbuf_cstr(&p, ",\"name\":");
        pvbuf_jstr(&p, t->display_name);
    }
    if (t->metadata_count) metadata_claim(&p, t->metadata, t->metadata_count);
    pvbuf_cstr(&p, ",\"video\":{\"room\":");
    pvbuf_jstr(&p, t->room_id);
    pvbuf_cstr(&p, ",\"roomJoin\":true,\"canPublish\":true,\"canPublishSources\":[\"microphone\"],"
                   "\"canSubscribe\":true,\"canPublishData\":false}}");
    return sign(b, api_secret, &p, t->issued_at_wall_ms, t->ttl_s, expires_at_ms);
}

int pvtok_livekit_admin(pvbuf *b, const char *api_key, const pvsecret *api_secret,
                        const char *room_id, int64_t issued_at_wall_ms, int64_t ttl_s,
                        int64_t *expires_at_ms) {
    char mem[PAYLOAD_BYTES];
    pvbuf p;
    pvbuf_reset(b);
    if (!secret_ok(api_secret) || !api_key_ok(api_key) || !pv_id_valid(room_id) ||
        !times_ok(issued_at_wall_ms, ttl_s))
        return PV_EINVAL;
    pvbuf_init(&p, mem, sizeof mem);
    pvbuf_cstr(&p, "{\"iss\":");
    pvbuf_jstr(&p, api_key);
    times(&p, issued_at_wall_ms, ttl_s, 1);
    pvbuf_cstr(&p, ",\"video\":{\"room\":");
    pvbuf_jstr(&p, room_id);
    pvbuf_cstr(&p, ",\"roomAdmin\":true}}");
    return sign(b, api_secret, &p, issued_at_wall_ms, ttl_s, expires_at_ms);
}

int pvtok_policy_mint(pvbuf *b, const pvsecret *secret, const char *room_id,
                      const char *participant_id, int64_t issued_at_wall_ms, int64_t ttl_s,
                      int64_t *expires_at_ms) {
    char mem[PAYLOAD_BYTES];
    pvbuf p;
    pvbuf_reset(b);
    if (!secret_ok(secret) || !pv_id_valid(room_id) || !pv_id_valid(participant_id) ||
        !times_ok(issued_at_wall_ms, ttl_s))
        return PV_EINVAL;
    pvbuf_init(&p, mem, sizeof mem);
    pvbuf_cstr(&p, "{\"sub\":");
    pvbuf_jstr(&p, participant_id);
    pvbuf_cstr(&p, ",\"room\":");
    pvbuf_jstr(&p, room_id);
    pvbuf_cstr(&p, ",\"aud\":\"" PVTOK_POLICY_AUD "\"");
    times(&p, issued_at_wall_ms, ttl_s, 0);
    pvbuf_cstr(&p, "}");
    return sign(b, secret, &p, issued_at_wall_ms, ttl_s, expires_at_ms);
}

int pvtok_policy_verify(const char *token, size_t len, const pvsecret *secret, int64_t now_wall_ms,
                        int64_t leeway_ms, pvtok_policy_claims *out) {
    pvjwt_key key;
    pvjwt_claims c;
    memset(out, 0, sizeof *out);
    if (pvjwt_key_hs256(&key, NULL, secret)) return PV_EINVAL;
    int rc = pvjwt_verify(token, len, &key, 1, now_wall_ms, leeway_ms, &c);
    if (rc) return rc;
    if (!pvjwt_claims_has_aud(&c, PVTOK_POLICY_AUD) || !pv_id_valid(c.sub) || !pv_id_valid(c.room))
        return PVJWT_ECLAIM;
    strcpy(out->room_id, c.room);
    strcpy(out->participant_id, c.sub);
    out->expires_wall_ms = c.exp_s * 1000;
    return 0;
}

/* Standard padded base64 of SHA-256(body): LiveKit's `sha256` claim. */
static void body_hash_b64(const void *body, size_t len, char out[64]) {
    br_sha256_context sc;
    uint8_t h[32];
    br_sha256_init(&sc);
    br_sha256_update(&sc, body, len);
    br_sha256_out(&sc, h);
    pvb64_encode(out, 64, h, sizeof h, PVB64_STD);
}

int pvtok_webhook_verify(const char *authorization, size_t auth_len, const char *api_key,
                         const pvsecret *api_secret, const void *body, size_t body_len,
                         int64_t now_wall_ms, int64_t leeway_ms) {
    pvjwt_key key;
    pvjwt_claims c;
    char want[64];
    if (!authorization || !api_key_ok(api_key) || pvjwt_key_hs256(&key, NULL, api_secret))
        return PV_EINVAL;
    if (auth_len >= 7 && strncasecmp(authorization, "Bearer ", 7) == 0)
        authorization += 7, auth_len -= 7;
    int rc = pvjwt_verify(authorization, auth_len, &key, 1, now_wall_ms, leeway_ms, &c);
    if (rc) return rc;
    if (strcmp(c.iss, api_key) != 0 || c.sha256[0] == '\0') return PVJWT_ECLAIM;
    body_hash_b64(body, body_len, want);
    if (!pv_ct_equal(c.sha256, strlen(c.sha256), want, strlen(want))) return PVJWT_ECLAIM;
    return 0;
}

int pvtok_webhook_mint(pvbuf *b, const char *api_key, const pvsecret *api_secret, const void *body,
                       size_t body_len, int64_t issued_at_wall_ms, int64_t ttl_s) {
    char mem[PAYLOAD_BYTES], hash[64];
    pvbuf p;
    pvbuf_reset(b);
    if (!secret_ok(api_secret) || !api_key_ok(api_key) || !times_ok(issued_at_wall_ms, ttl_s))
        return PV_EINVAL;
    body_hash_b64(body, body_len, hash);
    pvbuf_init(&p, mem, sizeof mem);
    pvbuf_cstr(&p, "{\"iss\":");
    pvbuf_jstr(&p, api_key);
    times(&p, issued_at_wall_ms, ttl_s, 1);
    pvbuf_cstr(&p, ",\"sha256\":");
    pvbuf_jstr(&p, hash);
    pvbuf_cstr(&p, "}");
    return sign(b, api_secret, &p, issued_at_wall_ms, ttl_s, NULL);
}
