/* jws_fuzz.c - libFuzzer target for JWS parsing and verification: split the
 * input as a compact JWS, decode its segments, check UTF-8, and verify it with
 * RS256/PS256 (RFC 7515 A.2 key), ES256 (A.3 key) and HS256. Nothing may
 * crash, leak or read out of bounds, and whatever verifies must sign exactly
 * the content the RFC signed (ECDSA's malleable signatures may vary; the signed
 * header and payload may not). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base64.h"
#include "../src/jwt.h"

static EVP_PKEY *rsa_key, *ec_key;

static const char *RSA_N =
  "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
  "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
  "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_"
  "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static const char *EC_X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char *EC_Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/* The signing inputs of RFC 7515 A.2 (RS256) and A.3 (ES256). */
static const char *PAYLOAD =
  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char *RS256_HEADER = "eyJhbGciOiJSUzI1NiJ9";
static const char *ES256_HEADER = "eyJhbGciOiJFUzI1NiJ9";

static int is_signed_input(const ctct_piece *in, const char *header) {
  size_t hl = strlen(header), pl = strlen(PAYLOAD);
  const char *p = in->p;
  return in->n == hl + 1 + pl && memcmp(p, header, hl) == 0 && p[hl] == '.' &&
         memcmp(p + hl + 1, PAYLOAD, pl) == 0;
}

static unsigned char *decode(const char *s, size_t *len) {
  unsigned char *out = malloc(ctct_b64_decoded_max(strlen(s)));
  if (!out || ctct_b64_decode(s, strlen(s), out, len, 1))
    abort();
  return out;
}

static void load_keys(void) {
  size_t nl, el = 3, xl, yl;
  char err[256];
  unsigned char *n = decode(RSA_N, &nl), *x = decode(EC_X, &xl), *y = decode(EC_Y, &yl);
  static const unsigned char e[3] = {1, 0, 1};
  rsa_key = ctct_jwk_rsa(n, nl, e, el, err, sizeof err);
  ec_key = ctct_jwk_ec_p256(x, xl, y, yl, err, sizeof err);
  if (!rsa_key || !ec_key)
    abort();
  free(n);
  free(x);
  free(y);
}

static unsigned char *segment(const char *p, size_t n, size_t *len) {
  unsigned char *out = malloc(ctct_b64_decoded_max(n));
  if (!out)
    abort();
  if (ctct_b64_decode(p, n, out, len, 1)) {
    free(out);
    return NULL;
  }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *token = (const char *)data;
  ctct_jws jws;
  size_t hl = 0, pl = 0, sl = 0;
  unsigned char *h, *p, *s;
  ctct_piece input;
  char err[256];
  static const ctct_alg algs[] = {CTCT_RS256, CTCT_PS256, CTCT_ES256, CTCT_HS256, CTCT_ALG_NONE};
  size_t i;

  if (!rsa_key)
    load_keys();
  if (size > 16384 || ctct_jws_split(token, size, &jws))
    return 0;
  h = segment(jws.header, jws.header_len, &hl);
  p = segment(jws.payload, jws.payload_len, &pl);
  s = segment(jws.signature, jws.signature_len, &sl);
  if (h)
    (void)ctct_utf8_valid(h, hl);
  if (p)
    (void)ctct_utf8_valid(p, pl);
  if (s) {
    input.p = token;
    input.n = jws.header_len + 1 + jws.payload_len;
    for (i = 0; i < sizeof algs / sizeof algs[0]; i++) {
      EVP_PKEY *key = algs[i] == CTCT_ES256 ? ec_key : algs[i] == CTCT_HS256 ? NULL : rsa_key;
      if (ctct_jws_verify(algs[i], key, "fuzz-secret", 11, &input, 1, s, sl, err, sizeof err) &&
          !((algs[i] == CTCT_RS256 && is_signed_input(&input, RS256_HEADER)) ||
            (algs[i] == CTCT_ES256 && is_signed_input(&input, ES256_HEADER))))
        abort(); /* something the RFC keys never signed verified */
    }
    /* confusion must be refused whatever the bytes */
    if (ctct_jws_verify(CTCT_HS256, rsa_key, NULL, 0, &input, 1, s, sl, err, sizeof err))
      abort();
  }
  free(h);
  free(p);
  free(s);
  return 0;
}
