/*
 * b64.h - base64 (RFC 4648 section 4, padded) and base64url (section 5,
 * unpadded, as JWS uses it). Pure, no allocation: the caller owns buffers.
 *
 * Decoding is strict: characters outside the alphabet (including whitespace),
 * wrong padding, a length that is 1 mod 4, and non-zero unused trailing bits
 * are all rejected, so every byte string has exactly one accepted encoding
 * (no malleability of signed data).
 */
#ifndef PV_B64_H
#define PV_B64_H

#include <stddef.h>
#include <stdint.h>

typedef enum pvb64_variant {
    PVB64_STD = 1, /* A-Z a-z 0-9 + /, '=' padding required */
    PVB64_URL = 2, /* A-Z a-z 0-9 - _, no padding ('=' rejected) */
} pvb64_variant;

/* Encoded length (without NUL) of n input bytes. */
size_t pvb64_encoded_len(size_t n, pvb64_variant v);
/* Upper bound of the decoded length of an n-character input. */
size_t pvb64_decoded_max(size_t n);

/*
 * Encode in[0..n) into out, NUL-terminated. out needs encoded_len + 1 bytes.
 * Returns the encoded length, or PV_EOVERFLOW if cap is too small (out is
 * then left as an empty string when cap > 0).
 */
int pvb64_encode(char *out, size_t cap, const void *in, size_t n, pvb64_variant v);

/*
 * Decode in[0..n) into out[0..cap). Returns the decoded length, PV_EINVAL if
 * the input is not canonical base64 of the variant, or PV_EOVERFLOW if cap is
 * too small. n must fit in an int after decoding (inputs > 1 GiB: PV_EINVAL).
 */
int pvb64_decode(void *out, size_t cap, const char *in, size_t n, pvb64_variant v);

#endif
