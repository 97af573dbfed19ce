-- JOSE signing (JWS, JWK) with LuaJIT FFI over OpenSSL 3's libcrypto.
--
-- The sandbox issues access tokens and webhook signatures with this, so that ctct's
-- verifier is checked against an issuer that shares no code with it. Pure CPU work
-- (no subprocess), so it is safe inside a request handler. Needs only LuaJIT and
-- ctct.core's JSON (sandbox/json.lua): it also runs outside nginx, given the paths:
--   LUA_PATH='sandbox/lua/?.lua;;' LUA_CPATH='build/jit/?.so;;' luajit -e 'require "sandbox.jose"'
--
--   local key = jose.load_private_key(pem, { kid = "k1" })   -- RSA (>= 2048) or EC P-256
--   jose.sign_jwt({ alg = "RS256", kid = "k1" }, { sub = "x" }, key)   --> compact JWS
--   jose.sign_detached({ alg = "RS256", b64 = false, crit = { "b64" } }, body, key)
--   jose.jwk(key)                                                      --> public JWK table
--   jose.hmac_key(secret)                                              --> key for HS*
--   jose.random_bytes(32), jose.sha256(s), jose.b64url(s)             --> CSPRNG, digest, encoding
local ffi = require "ffi"
local json = require "sandbox.json"

ffi.cdef [[
typedef struct bio_st BIO;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct engine_st ENGINE;
typedef struct bignum_st BIGNUM;
typedef struct ECDSA_SIG_st ECDSA_SIG;

BIO *BIO_new_mem_buf(const void *buf, int len);
int BIO_free(BIO *a);
EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, void *cb, void *u);
void EVP_PKEY_free(EVP_PKEY *pkey);
int EVP_PKEY_is_a(const EVP_PKEY *pkey, const char *name);
int EVP_PKEY_get_bits(const EVP_PKEY *pkey);
int EVP_PKEY_get_bn_param(const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn);
int EVP_PKEY_get_octet_string_param(const EVP_PKEY *pkey, const char *key_name,
                                    unsigned char *buf, size_t max_buf_sz, size_t *out_len);
int EVP_PKEY_get_utf8_string_param(const EVP_PKEY *pkey, const char *key_name,
                                   char *str, size_t max_buf_sz, size_t *out_len);

const EVP_MD *EVP_sha256(void);
const EVP_MD *EVP_sha384(void);
const EVP_MD *EVP_sha512(void);
EVP_MD_CTX *EVP_MD_CTX_new(void);
void EVP_MD_CTX_free(EVP_MD_CTX *ctx);
int EVP_DigestSignInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type,
                       ENGINE *e, EVP_PKEY *pkey);
int EVP_DigestSign(EVP_MD_CTX *ctx, unsigned char *sigret, size_t *siglen,
                   const unsigned char *tbs, size_t tbslen);
int EVP_PKEY_CTX_set_rsa_padding(EVP_PKEY_CTX *ctx, int pad_mode);
int EVP_PKEY_CTX_set_rsa_pss_saltlen(EVP_PKEY_CTX *ctx, int saltlen);

ECDSA_SIG *d2i_ECDSA_SIG(ECDSA_SIG **sig, const unsigned char **pp, long len);
void ECDSA_SIG_free(ECDSA_SIG *sig);
const BIGNUM *ECDSA_SIG_get0_r(const ECDSA_SIG *sig);
const BIGNUM *ECDSA_SIG_get0_s(const ECDSA_SIG *sig);
int BN_num_bits(const BIGNUM *a);
int BN_bn2bin(const BIGNUM *a, unsigned char *to);
int BN_bn2binpad(const BIGNUM *a, unsigned char *to, int tolen);
void BN_free(BIGNUM *a);

unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, ENGINE *impl);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
int RAND_bytes(unsigned char *buf, int num);
unsigned long ERR_get_error(void);
void ERR_error_string_n(unsigned long e, char *buf, size_t len);
void ERR_clear_error(void);
]]

-- "crypto" is libcrypto.so, which only the -dev package installs; the runtime
-- library itself is libcrypto.so.3.
local function load_libcrypto()
  local ok, lib = pcall(ffi.load, "crypto")
  if ok then return lib end
  return ffi.load("libcrypto.so.3")
end
local C = load_libcrypto()

local _M = {}

---------------------------------------------------------------------------------------
-- OpenSSL errors and encodings.

-- Raises with the whole OpenSSL error queue (and empties it).
local function ossl_error(what)
  local parts, buf = {}, ffi.new("char[256]")
  while true do
    local e = C.ERR_get_error()
    if e == 0 then break end
    C.ERR_error_string_n(e, buf, 256)
    parts[#parts + 1] = ffi.string(buf)
  end
  error("jose: " .. what .. " failed" .. (#parts > 0 and ": " .. table.concat(parts, "; ") or ""), 0)
end

-- Most OpenSSL calls answer 1 on success and 0 or a negative number on failure.
local function check(rc, what)
  if rc ~= 1 then ossl_error(what) end
end

local B64URL = { ["+"] = "-", ["/"] = "_", ["="] = "" }

-- Base64url without padding (RFC 7515 section 2).
function _M.b64url(s)
  local out = ffi.new("unsigned char[?]", 4 * math.ceil(#s / 3) + 1)
  local n = C.EVP_EncodeBlock(out, s, #s)
  if n < 0 then ossl_error("EVP_EncodeBlock") end
  return (ffi.string(out, n):gsub("[+/=]", B64URL))
end

-- n cryptographically random bytes.
function _M.random_bytes(n)
  local buf = ffi.new("unsigned char[?]", n)
  check(C.RAND_bytes(buf, n), "RAND_bytes")
  return ffi.string(buf, n)
end

-- SHA-256 of s (32 raw bytes): PKCE S256 challenges (RFC 7636 4.2) and secret
-- comparisons.
function _M.sha256(s)
  local md, len = ffi.new("unsigned char[32]"), ffi.new("unsigned int[1]")
  check(C.EVP_Digest(s, #s, md, len, C.EVP_sha256(), nil), "EVP_Digest")
  return ffi.string(md, len[0])
end

-- Compact JSON, "/" unescaped, as real issuers write it.
_M.json = json.encode

---------------------------------------------------------------------------------------
-- Keys.

local function bn_bytes(bn, what)
  local size = math.floor((C.BN_num_bits(bn) + 7) / 8)
  local buf = ffi.new("unsigned char[?]", math.max(size, 1))
  local n = C.BN_bn2bin(bn, buf)
  if n ~= size then ossl_error("BN_bn2bin " .. what) end
  return ffi.string(buf, n)
end

-- A public-key parameter of pkey as big-endian bytes.
local function bn_param(pkey, name)
  local out = ffi.new("BIGNUM *[1]")
  check(C.EVP_PKEY_get_bn_param(pkey, name, out), "EVP_PKEY_get_bn_param " .. name)
  local bn = ffi.gc(out[0], C.BN_free)
  local bytes = bn_bytes(bn, name)
  C.BN_free(ffi.gc(bn, nil))
  return bytes
end

local function string_param(pkey, name)
  local buf, len = ffi.new("char[80]"), ffi.new("size_t[1]")
  check(C.EVP_PKEY_get_utf8_string_param(pkey, name, buf, 80, len), "EVP_PKEY_get_utf8_string_param " .. name)
  return ffi.string(buf, len[0])
end

-- The public JWK (RFC 7517/7518) of a loaded key.
local function public_jwk(key)
  local jwk = { kty = key.kty, kid = key.kid, use = "sig", alg = key.alg }
  if key.kty == "RSA" then
    jwk.n = _M.b64url(bn_param(key.pkey, "n"))
    jwk.e = _M.b64url(bn_param(key.pkey, "e"))
  else
    -- The uncompressed point 0x04 || x || y, each coordinate 32 bytes for P-256.
    local buf, len = ffi.new("unsigned char[133]"), ffi.new("size_t[1]")
    check(C.EVP_PKEY_get_octet_string_param(key.pkey, "encoded-pub-key", buf, 133, len),
      "EVP_PKEY_get_octet_string_param encoded-pub-key")
    if len[0] ~= 65 or buf[0] ~= 4 then error("jose: unexpected P-256 public point encoding", 0) end
    jwk.crv = "P-256"
    jwk.x = _M.b64url(ffi.string(buf + 1, 32))
    jwk.y = _M.b64url(ffi.string(buf + 33, 32))
  end
  return jwk
end

-- Loads a PEM private key (RSA of at least 2048 bits, or EC P-256).
-- opts.kid names it in JWS headers and the JWK; opts.alg is the JWK's alg (default
-- RS256 or ES256). The key holds its EVP_PKEY until garbage-collected.
function _M.load_private_key(pem, opts)
  opts = opts or {}
  C.ERR_clear_error()
  local bio = C.BIO_new_mem_buf(pem, #pem)
  if bio == nil then ossl_error("BIO_new_mem_buf") end
  local raw = C.PEM_read_bio_PrivateKey(bio, nil, nil, nil)
  check(C.BIO_free(bio), "BIO_free")
  if raw == nil then ossl_error("PEM_read_bio_PrivateKey") end
  local key = { pkey = ffi.gc(raw, C.EVP_PKEY_free), kid = opts.kid }
  if C.EVP_PKEY_is_a(key.pkey, "RSA") == 1 then
    key.kty, key.alg = "RSA", opts.alg or "RS256"
    if C.EVP_PKEY_get_bits(key.pkey) < 2048 then error("jose: RSA key shorter than 2048 bits", 0) end
  elseif C.EVP_PKEY_is_a(key.pkey, "EC") == 1 then
    key.kty, key.alg = "EC", opts.alg or "ES256"
    local group = string_param(key.pkey, "group")
    if group ~= "prime256v1" and group ~= "P-256" then error("jose: EC key is not P-256 but " .. group, 0) end
  else
    error("jose: only RSA and EC P-256 private keys are supported", 0)
  end
  key.jwk = public_jwk(key)
  return key
end

-- Public JWK of key (a fresh copy: callers may add or change members).
function _M.jwk(key)
  local out = {}
  for k, v in pairs(key.jwk) do out[k] = v end
  return out
end

-- A symmetric key for HS256/384/512.
function _M.hmac_key(secret)
  if type(secret) ~= "string" or secret == "" then error("jose: an HMAC secret must be a non-empty string", 0) end
  return { kty = "oct", secret = secret }
end

---------------------------------------------------------------------------------------
-- Signing.

local RSA_PKCS1_PSS_PADDING = 6
local RSA_PSS_SALTLEN_DIGEST = -1   -- RFC 7518 3.5: salt as long as the hash

-- JWS alg -> key type, digest, and how to sign.
local ALGS = {
  RS256 = { kty = "RSA", md = "EVP_sha256" },
  RS384 = { kty = "RSA", md = "EVP_sha384" },
  RS512 = { kty = "RSA", md = "EVP_sha512" },
  PS256 = { kty = "RSA", md = "EVP_sha256", pss = true },
  PS384 = { kty = "RSA", md = "EVP_sha384", pss = true },
  PS512 = { kty = "RSA", md = "EVP_sha512", pss = true },
  ES256 = { kty = "EC", md = "EVP_sha256", coord = 32 },
  HS256 = { kty = "oct", md = "EVP_sha256" },
  HS384 = { kty = "oct", md = "EVP_sha384" },
  HS512 = { kty = "oct", md = "EVP_sha512" },
  none = {},
}

-- nil when key can sign alg, else why not.
function _M.check_alg(alg, key)
  local spec = ALGS[alg]
  if not spec then return "unsupported alg " .. tostring(alg) end
  if spec.kty and (type(key) ~= "table" or key.kty ~= spec.kty) then
    return "alg " .. alg .. " needs a key of type " .. spec.kty
  end
  return nil
end

local function digest(spec)
  local md = C[spec.md]()
  if md == nil then ossl_error(spec.md) end
  return md
end

-- EVP_DigestSign over input; the context is freed here (ffi.gc covers errors).
local function digest_sign(pkey, spec, input)
  local ctx = C.EVP_MD_CTX_new()
  if ctx == nil then ossl_error("EVP_MD_CTX_new") end
  ctx = ffi.gc(ctx, C.EVP_MD_CTX_free)
  local pctx = ffi.new("EVP_PKEY_CTX *[1]")   -- owned by ctx
  check(C.EVP_DigestSignInit(ctx, pctx, digest(spec), nil, pkey), "EVP_DigestSignInit")
  if spec.pss then
    check(C.EVP_PKEY_CTX_set_rsa_padding(pctx[0], RSA_PKCS1_PSS_PADDING), "EVP_PKEY_CTX_set_rsa_padding")
    check(C.EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx[0], RSA_PSS_SALTLEN_DIGEST), "EVP_PKEY_CTX_set_rsa_pss_saltlen")
  end
  local len = ffi.new("size_t[1]")
  check(C.EVP_DigestSign(ctx, nil, len, input, #input), "EVP_DigestSign (size)")
  local sig = ffi.new("unsigned char[?]", len[0])
  check(C.EVP_DigestSign(ctx, sig, len, input, #input), "EVP_DigestSign")
  C.EVP_MD_CTX_free(ffi.gc(ctx, nil))
  return sig, tonumber(len[0])
end

-- OpenSSL writes ECDSA signatures as DER SEQUENCE { r, s }; JWS wants the raw
-- big-endian r || s, each padded to the curve size (RFC 7518 3.4).
local function ecdsa_raw(der, der_len, coord)
  local pp = ffi.new("const unsigned char *[1]", der)
  local sig = C.d2i_ECDSA_SIG(nil, pp, der_len)
  if sig == nil then ossl_error("d2i_ECDSA_SIG") end
  sig = ffi.gc(sig, C.ECDSA_SIG_free)
  local out = ffi.new("unsigned char[?]", 2 * coord)
  if C.BN_bn2binpad(C.ECDSA_SIG_get0_r(sig), out, coord) ~= coord
      or C.BN_bn2binpad(C.ECDSA_SIG_get0_s(sig), out + coord, coord) ~= coord then
    ossl_error("BN_bn2binpad")
  end
  C.ECDSA_SIG_free(ffi.gc(sig, nil))
  return ffi.string(out, 2 * coord)
end

-- The raw JWS signature of input ("" for alg none).
function _M.sign(alg, key, input)
  local why = _M.check_alg(alg, key)
  if why then error("jose: " .. why, 0) end
  local spec = ALGS[alg]
  C.ERR_clear_error()
  if alg == "none" then
    return ""
  elseif spec.kty == "oct" then
    local md, len = ffi.new("unsigned char[64]"), ffi.new("unsigned int[1]")
    if C.HMAC(digest(spec), key.secret, #key.secret, input, #input, md, len) == nil then ossl_error("HMAC") end
    return ffi.string(md, len[0])
  end
  local sig, len = digest_sign(key.pkey, spec, input)
  if spec.coord then return ecdsa_raw(sig, len, spec.coord) end
  return ffi.string(sig, len)
end

-- Compact JWS of claims (a table, or a string used as the payload bytes as is)
-- signed with header.alg.
function _M.sign_jwt(header, claims, key)
  local payload = type(claims) == "string" and claims or _M.json(claims)
  local input = _M.b64url(_M.json(header)) .. "." .. _M.b64url(payload)
  return input .. "." .. _M.b64url(_M.sign(header.alg, key, input))
end

-- Compact JWS with a detached payload (RFC 7515 appendix F): "<header>..<signature>".
-- With header.b64 == false (RFC 7797) the payload enters the signing input as raw
-- bytes, otherwise base64url-encoded.
function _M.sign_detached(header, payload, key)
  local encoded_header = _M.b64url(_M.json(header))
  local body = header.b64 == false and payload or _M.b64url(payload)
  local sig = _M.sign(header.alg, key, encoded_header .. "." .. body)
  return encoded_header .. ".." .. _M.b64url(sig)
end

return _M
