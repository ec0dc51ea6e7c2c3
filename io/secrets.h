/*
 * secrets.h - a signing/verification secret with a rotation window.
 *
 * Rotating a secret without downtime: the operator sets the new value as
 * "current" and the old one as "previous" with a deadline. Verification
 * accepts either value until the deadline (wall time); minting always uses
 * "current". Pure: time is a parameter, nothing is allocated.
 *
 * MUST rules:
 *  - Secrets are at least PVSECRET_MIN_BYTES and at most PVSECRET_MAX_BYTES
 *    bytes (LiveKit itself refuses API secrets shorter than 32 characters).
 *  - Compare secret material only with pv_ct_equal() (constant time).
 *  - The struct holds copies; the caller may wipe its own strings afterwards.
 */
#ifndef PV_SECRETS_H
#define PV_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#define PVSECRET_MIN_BYTES 32
#define PVSECRET_MAX_BYTES 256

typedef struct pvsecret {
    uint8_t current[PVSECRET_MAX_BYTES];
    size_t current_len;
    uint8_t previous[PVSECRET_MAX_BYTES];
    size_t previous_len;                  /* 0: no previous value */
    int64_t previous_valid_until_wall_ms; /* previous accepted while now < this */
} pvsecret;

/*
 * Set the values. previous may be NULL or "" (no rotation in progress).
 * Returns 0, or PV_EINVAL (*why names the problem, static string) when a
 * value is shorter than PVSECRET_MIN_BYTES or longer than PVSECRET_MAX_BYTES,
 * or when previous equals current.
 */
int pvsecret_set(pvsecret *s, const char *current, const char *previous,
                 int64_t previous_valid_until_wall_ms, const char **why);

/* 1 if the previous value is set and still accepted at now_wall_ms, else 0. */
int pvsecret_previous_active(const pvsecret *s, int64_t now_wall_ms);

/*
 * Constant-time check of a candidate against the secret.
 * Returns 1 if it equals current, 2 if it equals an active previous value,
 * 0 otherwise. Both comparisons always run (timing does not reveal which).
 */
int pvsecret_match(const pvsecret *s, const void *candidate, size_t len, int64_t now_wall_ms);

/*
 * Constant-time equality of two byte strings. The running time depends on
 * the lengths only, never on the contents. Returns 1 if equal, else 0.
 */
int pv_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* Overwrite a secret's bytes (volatile writes the compiler keeps). */
void pvsecret_wipe(pvsecret *s);

#endif
