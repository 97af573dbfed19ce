/* jwt_loop.c - the baseline for the JWT benchmark: verify the RFC 7515 A.2
 * RS256 token N times with OpenSSL directly (split on '.', base64url-decode the
 * signature, EVP_DigestVerify over "header.payload"; key imported once).
 * Prints tokens per second. Independent of ctct's C code on purpose.
 *   jwt_loop N */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

static const char *TOKEN =
  "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19y"
  "b290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2F"
  "p5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0Ga"
  "rZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rq"
  "Vt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
static const char *N_B64 =
  "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd"
  "2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7W"
  "TBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs9"
  "1kzk2PAcDTW9gb54h4FRWyuXpoQ";

/* base64url -> bytes through OpenSSL's standard-base64 decoder. */
static int b64url(const char *in, size_t n, unsigned char *out) {
  char buf[1024];
  size_t i, len = n;
  int outlen, pad = 0;
  if (n + 3 > sizeof buf)
    return -1;
  for (i = 0; i < n; i++)
    buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
  while (len % 4) {
    buf[len++] = '=';
    pad++;
  }
  outlen = EVP_DecodeBlock(out, (unsigned char *)buf, (int)len);
  return outlen < 0 ? -1 : outlen - pad;
}

int main(int argc, char **argv) {
  long i, n = argc > 1 ? atol(argv[1]) : 20000;
  unsigned char nbytes[512], e[3] = {1, 0, 1}, sig[512];
  int nlen = b64url(N_B64, strlen(N_B64), nbytes);
  BIGNUM *bn_n = BN_bin2bn(nbytes, nlen, NULL), *bn_e = BN_bin2bn(e, 3, NULL);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params;
  EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  EVP_PKEY *key = NULL;
  struct timespec t0, t1;
  double secs;

  if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
      !kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
      EVP_PKEY_fromdata(kctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return 1;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (i = 0; i < n; i++) {
    const char *dot1 = strchr(TOKEN, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int siglen = dot2 ? b64url(dot2 + 1, strlen(dot2 + 1), sig) : -1;
    if (!md || siglen < 0 || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestVerifyUpdate(md, TOKEN, (size_t)(dot2 - TOKEN)) != 1 ||
        EVP_DigestVerifyFinal(md, sig, (size_t)siglen) != 1) {
      fprintf(stderr, "jwt_loop: verification failed\n");
      return 1;
    }
    EVP_MD_CTX_free(md);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%.0f\n", (double)n / secs);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(kctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return 0;
}
