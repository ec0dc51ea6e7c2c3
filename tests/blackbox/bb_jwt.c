/*
 * bb_jwt.c - what an external authority does in jwt mode: make an RSA
 * 2048 and a P-256 key pair (openssl CLI) and sign RS256 / ES256 tokens.
 * The daemon only ever sees the public keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "bb.h"
#include "json_out.h"
#include "jwt.h"

static char rsa_pub[4096], ec_pub[1024];

static int sh(const char *cmd) {
    char full[1024];
    snprintf(full, sizeof full, "( %s ) >/dev/null 2>&1", cmd);
    return system(full) == 0 ? 0 : -1;
}

static size_t slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

int bb_keys_init(void) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key"
             " && openssl pkey -in rsa.key -pubout -out rsa.pub"
             " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key"
             " && openssl pkey -in ec.key -pubout -out ec.pub",
             bb_tmpdir);
    if (sh(cmd) < 0) return -1;
    char p[300];
    snprintf(p, sizeof p, "%s/rsa.pub", bb_tmpdir);
    if (!slurp(p, rsa_pub, sizeof rsa_pub)) return -1;
    snprintf(p, sizeof p, "%s/ec.pub", bb_tmpdir);
    return slurp(p, ec_pub, sizeof ec_pub) ? 0 : -1;
}

const char *bb_rsa_pub_pem(void) {
    return rsa_pub;
}

int bb_keys_file(const char *path, int with_rsa, int with_ec) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# test keys\n");
    if (with_rsa) fprintf(f, "key k-rsa RS256\n%s", rsa_pub);
    if (with_ec) fprintf(f, "key k-ec ES256\n%s", ec_pub);
    fclose(f);
    return 0;
}

static void b64url(const void *in, size_t n, char *out, size_t cap) {
    pvb64_encode(out, cap, in, n, PVB64_URL);
}

/* DER ECDSA-Sig-Value -> JOSE r||s (32 bytes each). */
static int der_to_raw(const unsigned char *d, size_t n, unsigned char out[64]) {
    if (n < 8 || d[0] != 0x30) return -1;
    size_t i = 2;
    for (int k = 0; k < 2; k++) {
        if (i + 2 > n || d[i] != 0x02) return -1;
        size_t len = d[i + 1];
        i += 2;
        const unsigned char *v = d + i;
        while (len > 32 && *v == 0)
            v++, len--;
        if (len > 32 || i + len > n) return -1;
        memset(out + 32 * k, 0, 32);
        memcpy(out + 32 * k + (32 - len), v, len);
        i = (size_t)(v - d) + len;
    }
    return 0;
}

int bb_jwt_sign(const char *alg, const char *kid, const char *payload, char *out, size_t cap) {
    char header[128], h64[256], p64[4096], input[4500], sig64[700], cmd[1024], path[300];
    snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"%s%s%s}", alg,
             kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "");
    b64url(header, strlen(header), h64, sizeof h64);
    b64url(payload, strlen(payload), p64, sizeof p64);
    int n = snprintf(input, sizeof input, "%s.%s", h64, p64);
    snprintf(path, sizeof path, "%s/jwt.in", bb_tmpdir);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite(input, 1, (size_t)n, f);
    fclose(f);
    int rsa = strcmp(alg, "RS256") == 0;
    snprintf(cmd, sizeof cmd, "cd %s && openssl dgst -sha256 -sign %s -out jwt.sig jwt.in",
             bb_tmpdir, rsa ? "rsa.key" : "ec.key");
    if (sh(cmd) < 0) return -1;
    unsigned char sig[600];
    snprintf(path, sizeof path, "%s/jwt.sig", bb_tmpdir);
    f = fopen(path, "rb");
    if (!f) return -1;
    size_t sl = fread(sig, 1, sizeof sig, f);
    fclose(f);
    if (!rsa) {
        unsigned char raw[64];
        if (der_to_raw(sig, sl, raw) < 0) return -1;
        memcpy(sig, raw, 64);
        sl = 64;
    }
    b64url(sig, sl, sig64, sizeof sig64);
    return snprintf(out, cap, "%s.%s", input, sig64) < (int)cap ? 0 : -1;
}

int bb_jwt_confused(const char *kid, const char *payload, char *out, size_t cap) {
    (void)kid;
    pvbuf b;
    pvbuf_init(&b, out, cap);
    return pvjwt_sign_hs256(&b, rsa_pub, strlen(rsa_pub), payload, strlen(payload));
}
