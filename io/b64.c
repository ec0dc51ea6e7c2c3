/*
 * b64.c - strict base64 / base64url codecs (RFC 4648).
 */
#include <string.h>

#include "b64.h"
#include "pv.h"

static const char ALPHA_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char ALPHA_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t pvb64_encoded_len(size_t n, pvb64_variant v) {
    if (v == PVB64_STD) return (n + 2) / 3 * 4;
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t pvb64_decoded_max(size_t n) {
    return (n + 3) / 4 * 3;
}

int pvb64_encode(char *out, size_t cap, const void *in, size_t n, pvb64_variant v) {
    const unsigned char *p = in;
    const char *a = v == PVB64_STD ? ALPHA_STD : ALPHA_URL;
    size_t need = pvb64_encoded_len(n, v);
    if (need + 1 > cap || need > (size_t)1 << 30) {
        if (cap > 0) out[0] = '\0';
        return PV_EOVERFLOW;
    }
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = a[w >> 18];
        out[o++] = a[(w >> 12) & 63];
        out[o++] = a[(w >> 6) & 63];
        out[o++] = a[w & 63];
    }
    if (n - i == 1) {
        uint32_t w = (uint32_t)p[i] << 16;
        out[o++] = a[w >> 18];
        out[o++] = a[(w >> 12) & 63];
        if (v == PVB64_STD) out[o++] = '=', out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = a[w >> 18];
        out[o++] = a[(w >> 12) & 63];
        out[o++] = a[(w >> 6) & 63];
        if (v == PVB64_STD) out[o++] = '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int b64_val(unsigned char c, pvb64_variant v) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (v == PVB64_STD) return c == '+' ? 62 : c == '/' ? 63 : -1;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int pvb64_decode(void *out, size_t cap, const char *in, size_t n, pvb64_variant v) {
    unsigned char *o = out;
    if (n > (size_t)1 << 30) return PV_EINVAL;
    if (v == PVB64_STD) {
        if (n % 4) return PV_EINVAL;
        if (n >= 1 && in[n - 1] == '=') n--;
        if (n >= 1 && in[n - 1] == '=' && n % 4 == 3) n--;
    }
    if (n % 4 == 1) return PV_EINVAL;
    size_t out_len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (out_len > cap) return PV_EOVERFLOW;
    uint32_t acc = 0;
    size_t bits = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64_val((unsigned char)in[i], v);
        if (d < 0) return PV_EINVAL;
        acc = acc << 6 | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return PV_EINVAL; /* non-zero unused bits: not canonical */
    return (int)k;
}
