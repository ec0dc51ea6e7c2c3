/*
 * jwt_key.c - verification keys: HS256 over a pvsecret, and RS256/ES256
 * public keys read from a SubjectPublicKeyInfo (PEM or DER).
 *
 * The DER reader is deliberately tiny: definite lengths only, at most 4
 * length bytes, every length checked against what remains, no recursion.
 * It accepts exactly the two SPKI shapes we need:
 *   SEQ { SEQ { OID rsaEncryption, NULL? }, BIT STRING { SEQ { INT n, INT e } } }
 *   SEQ { SEQ { OID id-ecPublicKey, OID prime256v1 }, BIT STRING { 04 || X || Y } }
 */
#include <bearssl.h>
#include <string.h>

#include "b64.h"
#include "jwt.h"
#include "pv.h"

#define DER_MAX_BYTES 2048 /* a 4096-bit RSA SPKI is ~550 bytes */

typedef struct der {
    const uint8_t *p;
    size_t n;
} der;

/* Read one TLV with the given tag from in; its value goes to out. */
static int der_take(der *in, uint8_t tag, der *out) {
    if (in->n < 2 || in->p[0] != tag) return -1;
    size_t len = in->p[1], hdr = 2;
    if (len & 0x80) {
        size_t nb = len & 0x7F;
        if (nb == 0 || nb > 4 || in->n < 2 + nb) return -1;
        len = 0;
        for (size_t i = 0; i < nb; i++)
            len = len << 8 | in->p[2 + i];
        if (len < 0x80) return -1; /* DER: shortest length form */
        hdr = 2 + nb;
    }
    if (len > in->n - hdr) return -1;
    out->p = in->p + hdr;
    out->n = len;
    in->p += hdr + len;
    in->n -= hdr + len;
    return 0;
}

static int der_is(const der *d, const char *bytes, size_t n) {
    return d->n == n && memcmp(d->p, bytes, n) == 0;
}

/* Unsigned big-endian INTEGER without the sign-padding zero. */
static int der_uint(der *in, der *out) {
    if (der_take(in, 0x02, out) || out->n == 0) return -1;
    if (out->p[0] & 0x80) return -1; /* negative */
    if (out->p[0] == 0) {
        if (out->n == 1 || !(out->p[1] & 0x80)) return -1; /* non-minimal (or zero) */
        out->p++, out->n--;
    }
    return 0;
}

static const char OID_RSA[] = "\x2A\x86\x48\x86\xF7\x0D\x01\x01\x01";
static const char OID_EC[] = "\x2A\x86\x48\xCE\x3D\x02\x01";
static const char OID_P256[] = "\x2A\x86\x48\xCE\x3D\x03\x01\x07";

static int rsa_from_bits(pvjwt_key *k, der bits) {
    der seq, n, e;
    if (der_take(&bits, 0x30, &seq) || bits.n != 0) return PVJWT_EBADKEY;
    if (der_uint(&seq, &n) || der_uint(&seq, &e) || seq.n != 0) return PVJWT_EBADKEY;
    if (n.n < 256 || n.n > PVJWT_RSA_MAX_BYTES) return PVJWT_EBADKEY; /* 2048..4096 bits */
    if (e.n > sizeof k->e || !(e.p[e.n - 1] & 1) || (e.n == 1 && e.p[0] < 3)) return PVJWT_EBADKEY;
    memcpy(k->n, n.p, n.n);
    k->n_len = n.n;
    memcpy(k->e, e.p, e.n);
    k->e_len = e.n;
    return 0;
}

static int ec_from_bits(pvjwt_key *k, der bits) {
    if (bits.n != 65 || bits.p[0] != 0x04) return PVJWT_EBADKEY;
    /* Multiplying by 1 succeeds only for a valid point on P-256. */
    uint8_t tmp[65];
    memcpy(tmp, bits.p, 65);
    const br_ec_impl *ec = br_ec_get_default();
    if (!ec->mul(tmp, sizeof tmp, (const unsigned char *)"\x01", 1, BR_EC_secp256r1))
        return PVJWT_EBADKEY;
    memcpy(k->q, bits.p, 65);
    return 0;
}

static int spki_parse(pvjwt_key *k, pvjwt_alg alg, const uint8_t *p, size_t n) {
    der in = {p, n}, spki, algid, oid, bits;
    if (der_take(&in, 0x30, &spki) || in.n != 0) return PVJWT_EBADKEY;
    if (der_take(&spki, 0x30, &algid) || der_take(&algid, 0x06, &oid)) return PVJWT_EBADKEY;
    if (der_take(&spki, 0x03, &bits) || spki.n != 0) return PVJWT_EBADKEY;
    if (bits.n < 1 || bits.p[0] != 0) return PVJWT_EBADKEY; /* unused bits */
    bits.p++, bits.n--;
    if (der_is(&oid, OID_RSA, sizeof OID_RSA - 1)) {
        der null;
        if (algid.n != 0 && (der_take(&algid, 0x05, &null) || null.n != 0 || algid.n != 0))
            return PVJWT_EBADKEY;
        if (alg != PVJWT_RS256) return PV_EINVAL;
        return rsa_from_bits(k, bits);
    }
    if (der_is(&oid, OID_EC, sizeof OID_EC - 1)) {
        der curve;
        if (der_take(&algid, 0x06, &curve) || algid.n != 0) return PVJWT_EBADKEY;
        if (!der_is(&curve, OID_P256, sizeof OID_P256 - 1)) return PVJWT_EBADKEY;
        if (alg != PVJWT_ES256) return PV_EINVAL;
        return ec_from_bits(k, bits);
    }
    return PVJWT_EBADKEY;
}

static const char *find(const char *s, size_t n, const char *needle, size_t m) {
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(s + i, needle, m) == 0) return s + i;
    return NULL;
}

/* PEM "PUBLIC KEY" block -> DER in out. Returns the DER length or -1. */
static int pem_to_der(const char *s, size_t n, uint8_t *out, size_t cap) {
    static const char begin[] = "-----BEGIN PUBLIC KEY-----";
    static const char end[] = "-----END PUBLIC KEY-----";
    const char *b = find(s, n, begin, sizeof begin - 1);
    if (!b) return -1;
    b += sizeof begin - 1;
    const char *e = find(b, n - (size_t)(b - s), end, sizeof end - 1);
    if (!e) return -1;
    char b64[DER_MAX_BYTES * 4 / 3 + 8];
    size_t m = 0;
    for (const char *q = b; q < e; q++) {
        if (*q == '\n' || *q == '\r' || *q == ' ' || *q == '\t') continue;
        if (m == sizeof b64) return -1;
        b64[m++] = *q;
    }
    return pvb64_decode(out, cap, b64, m, PVB64_STD);
}

int pvjwt_key_public(pvjwt_key *k, pvjwt_alg alg, const char *kid, const void *pem_or_der,
                     size_t len) {
    if (!k || !pem_or_der || (alg != PVJWT_RS256 && alg != PVJWT_ES256)) return PV_EINVAL;
    if (kid && strlen(kid) > PVJWT_KID_MAX) return PV_EINVAL;
    memset(k, 0, sizeof *k);
    uint8_t der_buf[DER_MAX_BYTES];
    const uint8_t *p = pem_or_der;
    size_t n = len;
    if (len >= 10 && memcmp(pem_or_der, "-----BEGIN", 10) == 0) {
        int m = pem_to_der(pem_or_der, len, der_buf, sizeof der_buf);
        if (m <= 0) return PVJWT_EBADKEY;
        p = der_buf, n = (size_t)m;
    } else if (len > DER_MAX_BYTES) {
        return PVJWT_EBADKEY;
    }
    int rc = spki_parse(k, alg, p, n);
    if (rc) {
        memset(k, 0, sizeof *k);
        return rc;
    }
    k->alg = alg;
    if (kid) strcpy(k->kid, kid);
    return 0;
}

int pvjwt_key_hs256(pvjwt_key *k, const char *kid, const pvsecret *secret) {
    if (!k || !secret || secret->current_len == 0) return PV_EINVAL;
    if (kid && strlen(kid) > PVJWT_KID_MAX) return PV_EINVAL;
    memset(k, 0, sizeof *k);
    k->alg = PVJWT_HS256;
    k->secret = secret;
    if (kid) strcpy(k->kid, kid);
    return 0;
}
