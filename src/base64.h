/* base64.h - strict base64 and base64url (RFC 4648), pure C (no Lua), so the
 * fuzz targets can call it directly.
 *
 * Strict means one encoding per byte string: base64url has no padding and
 * rejects '='; standard base64 requires its padding; both reject characters
 * outside their alphabet, whitespace, impossible lengths and non-zero unused
 * bits in the last character. OpenSSL's EVP_DecodeBlock accepts all of these. */
#ifndef CTCT_BASE64_H
#define CTCT_BASE64_H

#include <stddef.h>

/* Bytes needed to encode n bytes (without a terminating NUL). */
size_t ctct_b64_encoded_len(size_t n, int url);

/* Encode n bytes into out (ctct_b64_encoded_len(n, url) bytes); returns that length. */
size_t ctct_b64_encode(const unsigned char *in, size_t n, char *out, int url);

/* Upper bound of the decoded size of n characters. */
size_t ctct_b64_decoded_max(size_t n);

/* Decode n characters into out (ctct_b64_decoded_max(n) bytes). Returns NULL and
 * sets *outlen on success, or a message saying what is wrong. */
const char *ctct_b64_decode(const char *in, size_t n, unsigned char *out, size_t *outlen, int url);

#endif
