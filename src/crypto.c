/* crypto.c - SHA-256, HMAC-SHA256, constant-time comparison, randomness and
 * strict base64, over OpenSSL 3's EVP interfaces; and their Lua bindings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "crypto.h"
#include "ctct.h"

void ctct_openssl_error(char *err, size_t errlen, const char *what) {
  unsigned long code, last = 0;
  char reason[256];
  /* The last queued error is the most specific one. */
  while ((code = ERR_get_error()) != 0)
    last = code;
  if (last) {
    ERR_error_string_n(last, reason, sizeof reason);
    snprintf(err, errlen, "%s: %s", what, reason);
  } else {
    snprintf(err, errlen, "%s failed", what);
  }
}

int ctct_sha256(const ctct_piece *pieces, int n, unsigned char out[CTCT_SHA256_LEN],
                char *err, size_t errlen) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int i, ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
  for (i = 0; ok && i < n; i++)
    ok = EVP_DigestUpdate(ctx, pieces[i].p, pieces[i].n) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
  if (!ok)
    ctct_openssl_error(err, errlen, "SHA-256");
  EVP_MD_CTX_free(ctx);
  return ok;
}

int ctct_hmac_sha256(const void *key, size_t keylen, const ctct_piece *pieces, int n,
                     unsigned char out[CTCT_SHA256_LEN], char *err, size_t errlen) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[2];
  size_t outlen = 0;
  int i, ok;
  static const unsigned char empty = 0;
  static char digest[] = "SHA256";

  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
  params[1] = OSSL_PARAM_construct_end();
  /* EVP_MAC_init refuses a NULL key pointer even for an empty key. */
  ok = ctx != NULL && EVP_MAC_init(ctx, keylen ? key : &empty, keylen, params) == 1;
  for (i = 0; ok && i < n; i++)
    ok = EVP_MAC_update(ctx, pieces[i].p, pieces[i].n) == 1;
  ok = ok && EVP_MAC_final(ctx, out, &outlen, CTCT_SHA256_LEN) == 1 && outlen == CTCT_SHA256_LEN;
  if (!ok)
    ctct_openssl_error(err, errlen, "HMAC-SHA256");
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok;
}

int ctct_random(unsigned char *out, size_t n, char *err, size_t errlen) {
  if (n > 0x7fffffff || RAND_bytes(out, (int)n) != 1) {
    ctct_openssl_error(err, errlen, "RAND_bytes");
    return 0;
  }
  return 1;
}

int ctct_equal(const void *a, size_t alen, const void *b, size_t blen) {
  /* Lengths of MACs and states are public; the contents are not. */
  if (alen != blen)
    return 0;
  return alen == 0 || CRYPTO_memcmp(a, b, alen) == 0;
}

/* ---- Lua bindings ------------------------------------------------------- */

#define MAX_ENCODE ((size_t)256 * 1024 * 1024)

static int push_encoded(lua_State *L, int url) {
  size_t n, len;
  const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 1, &n);
  char *out;
  if (n > MAX_ENCODE)
    return luaL_argerror(L, 1, "too large to encode");
  len = ctct_b64_encoded_len(n, url);
  out = malloc(len + 1);
  if (!out)
    return luaL_error(L, "ctct.core: out of memory");
  ctct_b64_encode(in, n, out, url);
  lua_pushlstring(L, out, len);
  free(out);
  return 1;
}

static int push_decoded(lua_State *L, int url) {
  size_t n, outlen = 0;
  const char *in = luaL_checklstring(L, 1, &n);
  const char *why;
  unsigned char *out = malloc(ctct_b64_decoded_max(n));
  if (!out)
    return luaL_error(L, "ctct.core: out of memory");
  why = ctct_b64_decode(in, n, out, &outlen, url);
  if (why) {
    free(out);
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  lua_pushlstring(L, (const char *)out, outlen);
  free(out);
  return 1;
}

static int l_b64url_encode(lua_State *L) { return push_encoded(L, 1); }
static int l_b64url_decode(lua_State *L) { return push_decoded(L, 1); }
static int l_b64_encode(lua_State *L) { return push_encoded(L, 0); }
static int l_b64_decode(lua_State *L) { return push_decoded(L, 0); }

static int l_sha256(lua_State *L) {
  ctct_piece piece;
  unsigned char out[CTCT_SHA256_LEN];
  char err[300];
  piece.p = luaL_checklstring(L, 1, &piece.n);
  if (!ctct_sha256(&piece, 1, out, err, sizeof err))
    return luaL_error(L, "%s", err);
  lua_pushlstring(L, (const char *)out, sizeof out);
  return 1;
}

static int l_hmac_sha256(lua_State *L) {
  size_t keylen;
  const char *key = luaL_checklstring(L, 1, &keylen);
  ctct_piece piece;
  unsigned char out[CTCT_SHA256_LEN];
  char err[300];
  piece.p = luaL_checklstring(L, 2, &piece.n);
  if (!ctct_hmac_sha256(key, keylen, &piece, 1, out, err, sizeof err))
    return luaL_error(L, "%s", err);
  lua_pushlstring(L, (const char *)out, sizeof out);
  return 1;
}

static int l_equal(lua_State *L) {
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  lua_pushboolean(L, ctct_equal(a, alen, b, blen));
  return 1;
}

static int l_random_bytes(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  unsigned char *out;
  char err[300];
  if (n < 0 || n > 1024 * 1024)
    return luaL_argerror(L, 1, "must be between 0 and 1048576");
  out = malloc((size_t)n + 1);
  if (!out)
    return luaL_error(L, "ctct.core: out of memory");
  if (!ctct_random(out, (size_t)n, err, sizeof err)) {
    free(out);
    return luaL_error(L, "%s", err);
  }
  lua_pushlstring(L, (const char *)out, (size_t)n);
  free(out);
  return 1;
}

void ctct_open_crypto(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"b64url_encode", l_b64url_encode},
    {"b64url_decode", l_b64url_decode},
    {"b64_encode", l_b64_encode},
    {"b64_decode", l_b64_decode},
    {"sha256", l_sha256},
    {"hmac_sha256", l_hmac_sha256},
    {"equal", l_equal},
    {"random_bytes", l_random_bytes},
    {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
