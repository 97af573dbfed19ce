/* jwt.h - compact JWS (RFC 7515) splitting, JWK (RFC 7517) import and signature
 * verification (RS256, PS256, ES256, HS256), pure C over OpenSSL 3, so the
 * fuzz targets can call it without Lua. */
#ifndef CTCT_JWT_H
#define CTCT_JWT_H

#include <stddef.h>

#include <openssl/evp.h>

#include "crypto.h"

/* The three base64url segments of "header.payload.signature": pointers into
 * the token, nothing copied. */
typedef struct {
  const char *header, *payload, *signature;
  size_t header_len, payload_len, signature_len;
} ctct_jws;

typedef enum { CTCT_ALG_UNKNOWN, CTCT_ALG_NONE, CTCT_RS256, CTCT_PS256, CTCT_ES256, CTCT_HS256 } ctct_alg;

#define CTCT_RSA_MIN_BITS 2048
#define CTCT_RSA_MAX_BITS 16384

/* NULL when the token has exactly three segments of base64url characters and a
 * non-empty header; else why not. */
const char *ctct_jws_split(const char *token, size_t n, ctct_jws *out);

ctct_alg ctct_alg_from_name(const char *name);

/* Public keys from JWK members (already base64url-decoded). NULL and a reason in
 * err when the key is unusable (malformed, off the curve, RSA under 2048 bits). */
EVP_PKEY *ctct_jwk_rsa(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
                       char *err, size_t errlen);
EVP_PKEY *ctct_jwk_ec_p256(const unsigned char *x, size_t xlen, const unsigned char *y, size_t ylen,
                           char *err, size_t errlen);

/* 1 when sig is a valid signature by key (RS/PS/ES) or secret (HS256) over the
 * concatenated pieces; 0 and a reason otherwise. A key of the wrong type for
 * alg (an RSA key with HS256: "algorithm confusion") is refused. */
int ctct_jws_verify(ctct_alg alg, EVP_PKEY *key, const void *secret, size_t secret_len,
                    const ctct_piece *pieces, int npieces, const unsigned char *sig, size_t siglen,
                    char *err, size_t errlen);

/* 1 when s is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
int ctct_utf8_valid(const unsigned char *s, size_t n);

#endif
