-- Test-only JWT/JWS signer on the openssl command line: an independent signer
-- for the specs of ctct.jwt and ctct.webhooks (ctct itself only verifies).
--   local jose = require "spec.helpers.jose"
--   local kp = jose.keypair("rsa")            -- or "ec"; kp.jwk is the public JWK
--   local token = jose.sign({ alg = "RS256", kid = kp.kid }, { sub = "x" }, kp)
--   local sig = jose.sign_detached({ alg = "RS256", b64 = false, crit = { "b64" } }, body, kp)
-- Runs on Lua 5.4 and LuaJIT. Base64url comes from ctct.core, which the RFC 4648
-- vectors in crypto_spec pin down.
local cjson = require "cjson"
local core = require "ctct.core"
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local jose = {}

local function tmpdir()
  local dir = run("mktemp -d"):gsub("%s+$", "")
  return dir
end

local function read(path) return assert(sandbox.read_file(path)) end
local write = sandbox.write_file

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local counter = 0

--- A fresh key pair: { kind, kid, pem (private key file), jwk (public), dir }.
-- rsa_bits: RSA modulus size (default 2048).
function jose.keypair(kind, rsa_bits)
  local dir = tmpdir()
  counter = counter + 1
  local kp = { kind = kind, kid = kind .. "-test-" .. counter, dir = dir, pem = dir .. "/key.pem" }
  local out, code
  if kind == "rsa" then
    out, code = run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:" .. (rsa_bits or 2048) ..
      " -out " .. quote(kp.pem) .. " 2>&1")
    assert(code == 0, out)
    local modulus = run("openssl rsa -in " .. quote(kp.pem) .. " -noout -modulus"):match("Modulus=(%x+)")
    kp.jwk = { kty = "RSA", kid = kp.kid, use = "sig", alg = "RS256", e = "AQAB",
               n = core.b64url_encode(unhex(modulus)) }
  else
    out, code = run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " .. quote(kp.pem) .. " 2>&1")
    assert(code == 0, out)
    out, code = run("openssl pkey -in " .. quote(kp.pem) .. " -pubout -outform DER -out " .. quote(dir .. "/pub.der"))
    assert(code == 0, out)
    local der = read(dir .. "/pub.der")
    local point = der:sub(-65) -- SubjectPublicKeyInfo ends with 04 || x || y
    assert(point:byte(1) == 4, "unexpected EC public key encoding")
    kp.jwk = { kty = "EC", crv = "P-256", kid = kp.kid, use = "sig", alg = "ES256",
               x = core.b64url_encode(point:sub(2, 33)), y = core.b64url_encode(point:sub(34, 65)) }
  end
  return kp
end

-- DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) -> 64-byte r || s.
local function der_to_raw(der)
  local pos = 3
  if der:byte(2) > 0x80 then pos = pos + (der:byte(2) - 0x80) end
  local function integer()
    assert(der:byte(pos) == 2, "not an INTEGER")
    local len = der:byte(pos + 1)
    local v = der:sub(pos + 2, pos + 1 + len)
    pos = pos + 2 + len
    v = v:gsub("^%z+", "")
    return ("\0"):rep(32 - #v) .. v
  end
  local r = integer()
  return r .. integer()
end

--- Sign bytes with alg: RS256, PS256, ES256 (keypair) or HS256 (secret string).
function jose.raw_sign(alg, input, kp)
  local dir = tmpdir()
  local infile, sigfile = dir .. "/in", dir .. "/sig"
  write(infile, input)
  local cmd
  if alg == "HS256" then
    cmd = "openssl dgst -sha256 -mac HMAC -macopt hexkey:" ..
      kp:gsub(".", function(c) return string.format("%02x", c:byte()) end) .. " -binary -out " .. quote(sigfile)
  else
    cmd = "openssl dgst -sha256 -sign " .. quote(kp.pem) .. " -out " .. quote(sigfile)
    if alg == "PS256" then cmd = cmd .. " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32" end
  end
  local out, code = run(cmd .. " " .. quote(infile) .. " 2>&1")
  assert(code == 0, out)
  local sig = read(sigfile)
  run("rm -rf " .. quote(dir))
  if alg == "ES256" then sig = der_to_raw(sig) end
  return sig
end

local function segment(t)
  return core.b64url_encode(type(t) == "string" and t or cjson.encode(t))
end

--- A compact JWS over header and claims (tables, or JSON text as strings).
function jose.sign(header, claims, kp)
  local input = segment(header) .. "." .. segment(claims)
  return input .. "." .. core.b64url_encode(jose.raw_sign(header.alg, input, kp))
end

--- RFC 7797 detached, unencoded payload: "header..signature" over header "." body.
function jose.sign_detached(header, body, kp)
  local h = segment(header)
  return h .. ".." .. core.b64url_encode(jose.raw_sign(header.alg, h .. "." .. body, kp))
end

jose.segment = segment

function jose.cleanup(kp)
  if kp and kp.dir then run("rm -rf " .. quote(kp.dir)) end
end

return jose
