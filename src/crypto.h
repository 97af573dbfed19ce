/* crypto.h - hashing, HMAC, constant-time comparison and randomness over
 * OpenSSL 3, pure C (no Lua), shared by jwt.c and the Lua bindings. */
#ifndef CTCT_CRYPTO_H
#define CTCT_CRYPTO_H

#include <stddef.h>

/* A run of bytes; signing inputs are given as pieces so that nothing (a
 * token, a webhook body) has to be copied to be concatenated. */
typedef struct {
  const void *p;
  size_t n;
} ctct_piece;

#define CTCT_SHA256_LEN 32

/* Each returns 1 on success, 0 on failure (with OpenSSL's reason in err). */
int ctct_sha256(const ctct_piece *pieces, int n, unsigned char out[CTCT_SHA256_LEN],
                char *err, size_t errlen);
int ctct_hmac_sha256(const void *key, size_t keylen, const ctct_piece *pieces, int n,
                     unsigned char out[CTCT_SHA256_LEN], char *err, size_t errlen);
int ctct_random(unsigned char *out, size_t n, char *err, size_t errlen);

/* 1 when equal; the time taken does not depend on where the bytes differ. */
int ctct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Drain OpenSSL's error queue into one readable message. */
void ctct_openssl_error(char *err, size_t errlen, const char *what);

#endif
