/* jwt.c - JWS split, JWK import and signature verification (see jwt.h), and
 * their Lua bindings: core.jws_decode, core.jws_verify, core.jws_verify_detached,
 * core.jwk and the key userdata.
 *
 * The Lua layer (lua/ctct/jwt.lua) decides policy (allowed algorithms, claims,
 * key lookup by kid); this file does the exact byte work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "base64.h"
#include "ctct.h"
#include "jwt.h"

#define KEY_MT "ctct.core.key"
#define DEFAULT_MAX_TOKEN 16384

/* ---- splitting ------------------------------------------------------------ */

static int is_b64url_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

const char *ctct_jws_split(const char *token, size_t n, ctct_jws *out) {
  size_t i, dots = 0, at[2] = {0, 0};
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)token[i];
    if (c == '.') {
      if (dots == 2)
        return "malformed: more than three segments";
      at[dots++] = i;
    } else if (!is_b64url_char(c)) {
      return "malformed: a segment has a character outside base64url";
    }
  }
  if (dots != 2)
    return "malformed: a compact JWS has three segments separated by '.'";
  out->header = token;
  out->header_len = at[0];
  out->payload = token + at[0] + 1;
  out->payload_len = at[1] - at[0] - 1;
  out->signature = token + at[1] + 1;
  out->signature_len = n - at[1] - 1;
  if (out->header_len == 0)
    return "malformed: empty header";
  return NULL;
}

ctct_alg ctct_alg_from_name(const char *name) {
  if (strcmp(name, "RS256") == 0) return CTCT_RS256;
  if (strcmp(name, "PS256") == 0) return CTCT_PS256;
  if (strcmp(name, "ES256") == 0) return CTCT_ES256;
  if (strcmp(name, "HS256") == 0) return CTCT_HS256;
  if (strcmp(name, "none") == 0) return CTCT_ALG_NONE;
  return CTCT_ALG_UNKNOWN;
}

int ctct_utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len, k;
    unsigned long cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n - i < len)
      return 0;
    for (k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return 0;
    i += len;
  }
  return 1;
}

/* ---- JWK import ------------------------------------------------------------ */

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld, char *err, size_t errlen) {
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
  EVP_PKEY *key = NULL;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ctct_openssl_error(err, errlen, "cannot import the key");
    EVP_PKEY_free(key);
    key = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return key;
}

EVP_PKEY *ctct_jwk_rsa(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
                       char *err, size_t errlen) {
  BIGNUM *bn_n = NULL, *bn_e = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  EVP_PKEY *key = NULL;
  int bits;

  if (nlen == 0 || elen == 0 || elen > 8) {
    snprintf(err, errlen, "RSA key: 'n' and 'e' must be present (e at most 8 bytes)");
    return NULL;
  }
  if (nlen > CTCT_RSA_MAX_BITS / 8 + 1) {
    snprintf(err, errlen, "RSA key: modulus larger than %d bits", CTCT_RSA_MAX_BITS);
    return NULL;
  }
  if ((e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3)) {
    snprintf(err, errlen, "RSA key: exponent 'e' must be odd and at least 3");
    return NULL;
  }
  bn_n = BN_bin2bn(n, (int)nlen, NULL);
  bn_e = BN_bin2bn(e, (int)elen, NULL);
  bld = OSSL_PARAM_BLD_new();
  if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
    ctct_openssl_error(err, errlen, "RSA key");
  } else {
    bits = BN_num_bits(bn_n);
    if (bits < CTCT_RSA_MIN_BITS)
      snprintf(err, errlen, "RSA key of %d bits is too small (minimum %d)", bits, CTCT_RSA_MIN_BITS);
    else
      key = from_params("RSA", bld, err, errlen);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

EVP_PKEY *ctct_jwk_ec_p256(const unsigned char *x, size_t xlen, const unsigned char *y, size_t ylen,
                           char *err, size_t errlen) {
  unsigned char point[65];
  static char group[] = "prime256v1";
  OSSL_PARAM_BLD *bld;
  EVP_PKEY *key = NULL;
  EVP_PKEY_CTX *check;

  if (xlen != 32 || ylen != 32) {
    snprintf(err, errlen, "EC P-256 key: 'x' and 'y' must be 32 bytes each");
    return NULL;
  }
  point[0] = 0x04; /* uncompressed point */
  memcpy(point + 1, x, 32);
  memcpy(point + 33, y, 32);
  bld = OSSL_PARAM_BLD_new();
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point)) {
    ctct_openssl_error(err, errlen, "EC key");
    OSSL_PARAM_BLD_free(bld);
    return NULL;
  }
  key = from_params("EC", bld, err, errlen);
  OSSL_PARAM_BLD_free(bld);
  if (!key)
    return NULL;
  /* A point off the curve would make verification meaningless. */
  check = EVP_PKEY_CTX_new(key, NULL);
  if (!check || EVP_PKEY_public_check(check) != 1) {
    ctct_openssl_error(err, errlen, "EC P-256 key: the point is not on the curve");
    EVP_PKEY_free(key);
    key = NULL;
  }
  EVP_PKEY_CTX_free(check);
  return key;
}

/* ---- verification ---------------------------------------------------------- */

/* JWS carries ECDSA signatures as r || s (RFC 7518 3.4); OpenSSL wants DER. */
static unsigned char *es256_to_der(const unsigned char *sig, int *derlen) {
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
  unsigned char *der = NULL;
  *derlen = 0;
  if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
    r = s = NULL; /* owned by es now */
    *derlen = i2d_ECDSA_SIG(es, &der);
    if (*derlen <= 0) {
      OPENSSL_free(der);
      der = NULL;
    }
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(es);
  return der;
}

static int verify_asymmetric(ctct_alg alg, EVP_PKEY *key, const ctct_piece *pieces, int npieces,
                             const unsigned char *sig, size_t siglen, char *err, size_t errlen) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  unsigned char *der = NULL;
  int derlen = 0, i, ok, rc = 0;

  ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1;
  if (ok && alg == CTCT_PS256) /* RFC 7518 3.5: MGF1 with SHA-256, salt as long as the hash */
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
  for (i = 0; ok && i < npieces; i++)
    ok = EVP_DigestVerifyUpdate(md, pieces[i].p, pieces[i].n) == 1;
  if (!ok) {
    ctct_openssl_error(err, errlen, "signature check");
  } else {
    if (alg == CTCT_ES256) {
      der = es256_to_der(sig, &derlen);
      if (!der)
        ctct_openssl_error(err, errlen, "ES256 signature");
      else
        rc = EVP_DigestVerifyFinal(md, der, (size_t)derlen) == 1;
    } else {
      rc = EVP_DigestVerifyFinal(md, sig, siglen) == 1;
    }
    if (!rc && (alg != CTCT_ES256 || der)) {
      ERR_clear_error(); /* a bad signature is an answer, not an OpenSSL fault */
      snprintf(err, errlen, "signature does not match");
    }
  }
  OPENSSL_free(der);
  EVP_MD_CTX_free(md);
  return rc;
}

int ctct_jws_verify(ctct_alg alg, EVP_PKEY *key, const void *secret, size_t secret_len,
                    const ctct_piece *pieces, int npieces, const unsigned char *sig, size_t siglen,
                    char *err, size_t errlen) {
  unsigned char mac[CTCT_SHA256_LEN];
  switch (alg) {
  case CTCT_RS256:
  case CTCT_PS256:
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
      snprintf(err, errlen, "algorithm does not match the key: %s needs an RSA key",
               alg == CTCT_RS256 ? "RS256" : "PS256");
      return 0;
    }
    if (siglen != (size_t)EVP_PKEY_get_size(key)) {
      snprintf(err, errlen, "signature has the wrong length for this key");
      return 0;
    }
    return verify_asymmetric(alg, key, pieces, npieces, sig, siglen, err, errlen);
  case CTCT_ES256:
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
      snprintf(err, errlen, "algorithm does not match the key: ES256 needs an EC P-256 key");
      return 0;
    }
    if (siglen != 64) {
      snprintf(err, errlen, "ES256 signature must be 64 bytes");
      return 0;
    }
    return verify_asymmetric(alg, key, pieces, npieces, sig, siglen, err, errlen);
  case CTCT_HS256:
    if (key) { /* an attacker picking HS256 to make a public key the MAC secret */
      snprintf(err, errlen, "algorithm confusion: HS256 with an asymmetric key");
      return 0;
    }
    if (!secret) {
      snprintf(err, errlen, "HS256 needs a secret");
      return 0;
    }
    if (!ctct_hmac_sha256(secret, secret_len, pieces, npieces, mac, err, errlen))
      return 0;
    if (!ctct_equal(mac, sizeof mac, sig, siglen)) {
      snprintf(err, errlen, "signature does not match");
      return 0;
    }
    return 1;
  case CTCT_ALG_NONE:
    snprintf(err, errlen, "alg 'none' is never accepted");
    return 0;
  default:
    snprintf(err, errlen, "unsupported algorithm");
    return 0;
  }
}

/* ---- Lua bindings ------------------------------------------------------------ */

static EVP_PKEY **check_key(lua_State *L, int i) {
  EVP_PKEY **k = luaL_checkudata(L, i, KEY_MT);
  if (!*k)
    luaL_argerror(L, i, "the key was freed");
  return k;
}

static int key_gc(lua_State *L) {
  EVP_PKEY **k = luaL_checkudata(L, 1, KEY_MT);
  EVP_PKEY_free(*k);
  *k = NULL;
  return 0;
}

static int key_kind(lua_State *L) {
  EVP_PKEY **k = check_key(L, 1);
  lua_pushstring(L, EVP_PKEY_get_base_id(*k) == EVP_PKEY_RSA ? "RSA" : "EC");
  return 1;
}

static int key_bits(lua_State *L) {
  lua_pushinteger(L, EVP_PKEY_get_bits(*check_key(L, 1)));
  return 1;
}

static int key_tostring(lua_State *L) {
  EVP_PKEY **k = luaL_checkudata(L, 1, KEY_MT);
  if (!*k)
    lua_pushliteral(L, "ctct.core.key (freed)");
  else
    lua_pushfstring(L, "ctct.core.key (%s, %d bits)",
                    EVP_PKEY_get_base_id(*k) == EVP_PKEY_RSA ? "RSA" : "EC", EVP_PKEY_get_bits(*k));
  return 1;
}

/* Decode a base64url member of the JWK table at index t into a new Lua string
 * left on the stack; returns it, or NULL and pushes nothing on failure. */
static const unsigned char *jwk_member(lua_State *L, int t, const char *name, size_t *len,
                                       char *err, size_t errlen) {
  size_t n, outlen = 0;
  const char *text, *why;
  unsigned char *buf;
  lua_getfield(L, t, name);
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    snprintf(err, errlen, "JWK member '%s' is missing or not a string", name);
    return NULL;
  }
  text = lua_tolstring(L, -1, &n);
  if (n > 4096) {
    lua_pop(L, 1);
    snprintf(err, errlen, "JWK member '%s' is too long", name);
    return NULL;
  }
  buf = malloc(ctct_b64_decoded_max(n));
  if (!buf)
    luaL_error(L, "ctct.core: out of memory");
  why = ctct_b64_decode(text, n, buf, &outlen, 1);
  lua_pop(L, 1);
  if (why) {
    free(buf);
    snprintf(err, errlen, "JWK member '%s': %s", name, why);
    return NULL;
  }
  lua_pushlstring(L, (const char *)buf, outlen);
  free(buf);
  return (const unsigned char *)lua_tolstring(L, -1, len);
}

/* core.jwk{ kty = "RSA", n = ..., e = ... } / { kty = "EC", crv = "P-256", x = ..., y = ... }
 * -> key | nil, reason */
static int l_jwk(lua_State *L) {
  char err[300] = "";
  const char *kty;
  EVP_PKEY *key = NULL;
  EVP_PKEY **ud;
  size_t alen = 0, blen = 0;
  const unsigned char *a, *b;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  ud = lua_newuserdata(L, sizeof *ud); /* index 2: owns the key once made */
  *ud = NULL;
  luaL_setmetatable(L, KEY_MT);

  lua_getfield(L, 1, "kty");
  kty = lua_tostring(L, -1);
  if (!kty || lua_type(L, -1) != LUA_TSTRING) {
    snprintf(err, sizeof err, "JWK has no 'kty'");
  } else if (strcmp(kty, "RSA") == 0) {
    a = jwk_member(L, 1, "n", &alen, err, sizeof err);
    b = a ? jwk_member(L, 1, "e", &blen, err, sizeof err) : NULL;
    if (a && b)
      key = ctct_jwk_rsa(a, alen, b, blen, err, sizeof err);
  } else if (strcmp(kty, "EC") == 0) {
    lua_getfield(L, 1, "crv");
    if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "P-256") != 0) {
      snprintf(err, sizeof err, "EC JWK: only crv 'P-256' is supported");
    } else {
      a = jwk_member(L, 1, "x", &alen, err, sizeof err);
      b = a ? jwk_member(L, 1, "y", &blen, err, sizeof err) : NULL;
      if (a && b)
        key = ctct_jwk_ec_p256(a, alen, b, blen, err, sizeof err);
    }
  } else {
    snprintf(err, sizeof err, "JWK kty '%s' is not supported (RSA or EC)", kty);
  }
  if (!key) {
    lua_pushnil(L);
    lua_pushstring(L, err[0] ? err : "unusable JWK");
    return 2;
  }
  *ud = key;
  lua_pushvalue(L, 2);
  return 1;
}

static size_t opt_max(lua_State *L, int i) {
  lua_Integer max = luaL_optinteger(L, i, DEFAULT_MAX_TOKEN);
  if (max < 1 || max > 16 * 1024 * 1024)
    luaL_argerror(L, i, "max bytes must be between 1 and 16 MiB");
  return (size_t)max;
}

/* Decode one base64url segment into a new Lua string on the stack. */
static const char *push_segment(lua_State *L, const char *p, size_t n, const char *what) {
  unsigned char *buf = malloc(ctct_b64_decoded_max(n));
  size_t outlen = 0;
  const char *why;
  if (!buf)
    luaL_error(L, "ctct.core: out of memory");
  why = ctct_b64_decode(p, n, buf, &outlen, 1);
  if (!why)
    lua_pushlstring(L, (const char *)buf, outlen);
  free(buf);
  if (why)
    lua_pushfstring(L, "malformed %s: %s", what, why);
  return why;
}

/* core.jws_decode(token [, max_bytes]) -> header_json, payload_bytes, signature | nil, reason
 * Nothing is verified here. */
static int l_jws_decode(lua_State *L) {
  size_t n;
  const char *token = luaL_checklstring(L, 1, &n);
  size_t max = opt_max(L, 2);
  const char *why;
  ctct_jws jws;
  size_t len;
  const char *text;

  lua_settop(L, 2);
  if (n > max) {
    lua_pushnil(L);
    lua_pushfstring(L, "token too large (%d bytes, limit %d)", (int)(n > 0x7fffffff ? 0x7fffffff : n),
                    (int)max);
    return 2;
  }
  why = ctct_jws_split(token, n, &jws);
  if (why) {
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  if (push_segment(L, jws.header, jws.header_len, "header") ||
      push_segment(L, jws.payload, jws.payload_len, "payload") ||
      push_segment(L, jws.signature, jws.signature_len, "signature")) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  /* JSON is UTF-8 (RFC 8259); lua-cjson would pass broken bytes through. */
  text = lua_tolstring(L, 3, &len);
  why = ctct_utf8_valid((const unsigned char *)text, len) ? NULL : "malformed header: not valid UTF-8";
  text = lua_tolstring(L, 4, &len);
  if (!why && !ctct_utf8_valid((const unsigned char *)text, len))
    why = "malformed payload: not valid UTF-8";
  if (why) {
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  return 3;
}

/* Common to the two verify functions: alg at index a, key or secret at a + 1. */
static int verify_pieces(lua_State *L, int a, const ctct_piece *pieces, int npieces,
                         const char *sig_b64, size_t sig_len) {
  const char *alg_name = luaL_checkstring(L, a);
  ctct_alg alg = ctct_alg_from_name(alg_name);
  EVP_PKEY *key = NULL;
  const char *secret = NULL;
  size_t secret_len = 0, siglen = 0;
  unsigned char *sig;
  char err[300] = "";
  const char *why;
  int ok;

  if (lua_type(L, a + 1) == LUA_TSTRING)
    secret = lua_tolstring(L, a + 1, &secret_len);
  else
    key = *check_key(L, a + 1);
  sig = malloc(ctct_b64_decoded_max(sig_len));
  if (!sig)
    return luaL_error(L, "ctct.core: out of memory");
  why = ctct_b64_decode(sig_b64, sig_len, sig, &siglen, 1);
  if (why) {
    free(sig);
    lua_pushboolean(L, 0);
    lua_pushfstring(L, "malformed signature: %s", why);
    return 2;
  }
  ok = ctct_jws_verify(alg, key, secret, secret_len, pieces, npieces, sig, siglen, err, sizeof err);
  free(sig);
  lua_pushboolean(L, ok);
  if (ok)
    return 1;
  lua_pushstring(L, err);
  return 2;
}

/* core.jws_verify(token, alg, key_or_secret [, max_bytes]) -> true | false, reason
 * The signing input is the token's own "header.payload" bytes: never copied. */
static int l_jws_verify(lua_State *L) {
  size_t n;
  const char *token = luaL_checklstring(L, 1, &n);
  size_t max = opt_max(L, 4);
  ctct_jws jws;
  ctct_piece input;
  const char *why;
  if (n > max) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "token too large");
    return 2;
  }
  why = ctct_jws_split(token, n, &jws);
  if (why) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
  }
  input.p = token;
  input.n = jws.header_len + 1 + jws.payload_len;
  return verify_pieces(L, 2, &input, 1, jws.signature, jws.signature_len);
}

/* core.jws_verify_detached(jws, payload, alg, key_or_secret) -> true | false, reason
 * RFC 7797 with b64 false: jws is "header..signature" and the signing input is
 * header || "." || the raw payload bytes, fed in three pieces. */
static int l_jws_verify_detached(lua_State *L) {
  size_t n;
  const char *token = luaL_checklstring(L, 1, &n);
  ctct_jws jws;
  ctct_piece input[3];
  const char *why;
  input[2].p = luaL_checklstring(L, 2, &input[2].n);
  if (n > DEFAULT_MAX_TOKEN) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "signature header too large");
    return 2;
  }
  why = ctct_jws_split(token, n, &jws);
  if (!why && jws.payload_len != 0)
    why = "malformed: a detached JWS has an empty payload segment";
  if (why) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
  }
  input[0].p = jws.header;
  input[0].n = jws.header_len;
  input[1].p = ".";
  input[1].n = 1;
  return verify_pieces(L, 3, input, 3, jws.signature, jws.signature_len);
}

void ctct_open_jwt(lua_State *L) {
  static const luaL_Reg key_methods[] = {
    {"kind", key_kind},
    {"bits", key_bits},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"jwk", l_jwk},
    {"jws_decode", l_jws_decode},
    {"jws_verify", l_jws_verify},
    {"jws_verify_detached", l_jws_verify_detached},
    {NULL, NULL},
  };
  luaL_newmetatable(L, KEY_MT);
  lua_pushcfunction(L, key_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, key_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, key_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
