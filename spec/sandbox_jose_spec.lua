-- Specs of the sandbox as an issuer of JWTs and webhook signatures: its signatures
-- and JWKS are checked with independent tools (the openssl CLI, and node's crypto for
-- the JWK import), never with ctct's verifier, which these tokens exist to test.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local run, quote = sandbox.run, sandbox.quote


-- Strict: base64url alphabet only, no padding.
local b64url_decode = require("spec.helpers.b64url").decode_strict

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02X", c:byte()) end))
end

local function write_tmp(content)
  local name = os.tmpname()
  local f = assert(io.open(name, "wb"))
  f:write(content)
  f:close()
  return name
end

local function sh(cmd)
  local out, code = run(cmd .. " 2>&1")
  assert(code == 0, cmd .. " failed: " .. out)
  return out
end

-- A JWS with the raw r || s of ES256 as the DER SEQUENCE { r, s } openssl expects.
local function der_integer(b)
  while #b > 1 and b:byte(1) == 0 do b = b:sub(2) end
  if b:byte(1) >= 0x80 then b = "\0" .. b end
  return "\2" .. string.char(#b) .. b
end
local function ecdsa_der(raw)
  local body = der_integer(raw:sub(1, 32)) .. der_integer(raw:sub(33, 64))
  return "\48" .. string.char(#body) .. body
end

-- openssl dgst -verify of sig over input with the public key in pub_pem.
-- alg: RS256, PS256 or ES256. Returns true/false and openssl's output.
local function openssl_verify(pub_pem, alg, input, sig)
  local opts = ""
  if alg == "PS256" then opts = "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 " end
  if alg == "ES256" then sig = ecdsa_der(sig) end
  local input_file, sig_file = write_tmp(input), write_tmp(sig)
  local out, code = run("openssl dgst -sha256 " .. opts .. "-verify " .. quote(pub_pem)
    .. " -signature " .. quote(sig_file) .. " " .. quote(input_file) .. " 2>&1")
  os.remove(input_file)
  os.remove(sig_file)
  return code == 0 and out:match("Verified OK") ~= nil, out
end

local HAS_NODE = select(2, run("command -v node >/dev/null 2>&1")) == 0

-- node imports the JWK (createPublicKey format 'jwk') from the served JWKS and checks
-- the signature: proves the JWK export as well as the signature.
local NODE_VERIFY = [[
const c = require('crypto'), fs = require('fs');
const [jwksFile, kid, alg, inFile, sigFile] = process.argv.slice(1);
const jwk = JSON.parse(fs.readFileSync(jwksFile)).keys.find(k => k.kid === kid);
const key = c.createPublicKey({ key: jwk, format: 'jwk' });
const o = { key };
if (alg.startsWith('PS')) { o.padding = c.constants.RSA_PKCS1_PSS_PADDING; o.saltLength = 32; }
if (alg.startsWith('ES')) o.dsaEncoding = 'ieee-p1363';
process.stdout.write(String(c.verify('sha256', fs.readFileSync(inFile), o, fs.readFileSync(sigFile))));
]]

local function node_verify(jwks_url, kid, alg, input, sig)
  local jwks_file, input_file, sig_file = os.tmpname(), write_tmp(input), write_tmp(sig)
  sh("curl -sS -o " .. quote(jwks_file) .. " " .. quote(jwks_url))
  local out = run("node -e " .. quote(NODE_VERIFY) .. " " .. table.concat({
    quote(jwks_file), quote(kid), quote(alg), quote(input_file), quote(sig_file) }, " ") .. " 2>&1")
  os.remove(jwks_file)
  os.remove(input_file)
  os.remove(sig_file)
  return out
end

-- header, claims (decoded), signing input and raw signature of a compact JWS.
local function split_jws(token)
  local h, p, s = token:match("^([^.]*)%.([^.]*)%.([^.]*)$")
  assert(h, "not a compact JWS: " .. token)
  return cjson.decode(b64url_decode(h)), p ~= "" and cjson.decode(b64url_decode(p)) or nil,
    h .. "." .. p, b64url_decode(s)
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

describe("sandbox JOSE issuer #once", function()
  local sb
  local pub = {}   -- public PEMs made from the key files start wrote

  lazy_setup(function()
    sb = sandbox.start{}
    for name, file in pairs{ rsa = "jwt-rsa.pem", ec = "jwt-ec.pem", webhook = "webhook-rsa.pem" } do
      pub[name] = os.tmpname()
      sh("openssl pkey -in " .. quote(sb.dir .. "/" .. file) .. " -pubout -out " .. quote(pub[name]))
    end
  end)

  lazy_teardown(function()
    if sb then sb:stop() end
    for _, file in pairs(pub) do os.remove(file) end
  end)

  local function get_json(url)
    local status, body = sb:curl{ url = url }
    assert.are.equal(200, status)
    return body
  end

  describe("JWKS", function()
    it("serves the access-token keys (RSA and EC) at the issuer's /v1/keys", function()
      assert.are.equal(sb.url .. "/oauth2/aus1lm3ry9mF7x2Ja0h8", sb.issuer)
      assert.are.equal(sb.issuer .. "/v1/keys", sb.jwks_url)
      local jwks = get_json(sb.jwks_url)
      assert.are.equal(1, count(jwks))
      assert.are.equal(2, #jwks.keys)
      local rsa, ec = jwks.keys[1], jwks.keys[2]

      assert.are.same({ "alg", "e", "kid", "kty", "n", "use" }, (function()
        local names = {}
        for k in pairs(rsa) do names[#names + 1] = k end
        table.sort(names)
        return names
      end)())
      assert.are.same({ "RSA", "sandbox-at-1", "sig", "RS256", "AQAB" }, { rsa.kty, rsa.kid, rsa.use, rsa.alg, rsa.e })
      local n = b64url_decode(rsa.n)
      assert.are.equal(256, #n)
      assert.is_true(n:byte(1) >= 0x80)   -- 2048 bits, no leading zero byte
      -- Same modulus as the key file, read by openssl.
      local modulus = sh("openssl rsa -in " .. quote(sb.dir .. "/jwt-rsa.pem") .. " -noout -modulus")
      assert.are.equal("Modulus=" .. hex(n), (modulus:gsub("%s+$", "")))

      assert.are.same({ "EC", "P-256", "sandbox-ec-1", "sig", "ES256" }, { ec.kty, ec.crv, ec.kid, ec.use, ec.alg })
      assert.is_nil(ec.d)
      local x, y = b64url_decode(ec.x), b64url_decode(ec.y)
      assert.are.equal(32, #x)
      assert.are.equal(32, #y)
      -- Same point as the key file: its SubjectPublicKeyInfo ends with 04 || x || y.
      local der_file = os.tmpname()
      sh("openssl pkey -pubin -in " .. quote(pub.ec) .. " -outform DER -out " .. quote(der_file))
      local f = assert(io.open(der_file, "rb"))
      local der = f:read("*a")
      f:close()
      os.remove(der_file)
      assert.are.equal(hex("\4" .. x .. y), hex(der:sub(-65)))
    end)

    it("serves only the webhook key at /.well-known/jwks.json", function()
      assert.are.equal(sb.url .. "/.well-known/jwks.json", sb.webhook_jwks_url)
      local jwks = get_json(sb.webhook_jwks_url)
      assert.are.equal(1, #jwks.keys)
      local key = jwks.keys[1]
      assert.are.same({ "RSA", "sandbox-wh-1", "sig", "RS256", "AQAB" }, { key.kty, key.kid, key.use, key.alg, key.e })
      assert.is_nil(key.d)
      assert.are.equal(256, #b64url_decode(key.n))
      assert.are_not.equal(get_json(sb.jwks_url).keys[1].n, key.n)
    end)

    it("answers 405 to other methods and takes fault rules", function()
      local status, _, headers = sb:curl{ method = "POST", url = sb.jwks_url }
      assert.are.equal(405, status)
      assert.are.equal("GET, HEAD", headers.allow)
      sb:faults{ { match = "GET /oauth2/", status = 503 } }
      assert.are.equal(503, (sb:curl{ url = sb.jwks_url }))
      assert.are.equal(200, (sb:curl{ url = sb.jwks_url }))
      sb:clear_faults()
    end)
  end)

  describe("access tokens", function()
    it("are RS256 by default and verify with the served RSA key", function()
      local token = sb:jwt()
      local header, _, input, sig = split_jws(token)
      assert.are.same({ alg = "RS256", kid = "sandbox-at-1" }, header)
      assert.are.equal(256, #sig)
      assert.is_true(openssl_verify(pub.rsa, "RS256", input, sig))
      assert.is_false(openssl_verify(pub.webhook, "RS256", input, sig))
      assert.is_false(openssl_verify(pub.rsa, "RS256", input .. "x", sig))
      if HAS_NODE then assert.are.equal("true", node_verify(sb.jwks_url, "sandbox-at-1", "RS256", input, sig)) end
    end)

    it("are ES256 with the EC key: raw r || s that verifies with the served EC key", function()
      local header, _, input, sig = split_jws(sb:jwt{ key = "ec" })
      assert.are.same({ alg = "ES256", kid = "sandbox-ec-1" }, header)
      assert.are.equal(64, #sig)
      assert.is_true(openssl_verify(pub.ec, "ES256", input, sig))
      assert.is_false(openssl_verify(pub.ec, "ES256", input .. "x", sig))
      if HAS_NODE then assert.are.equal("true", node_verify(sb.jwks_url, "sandbox-ec-1", "ES256", input, sig)) end
    end)

    it("are PS256 when the header asks for it", function()
      local header, _, input, sig = split_jws(sb:jwt{ header = { alg = "PS256" } })
      assert.are.same({ alg = "PS256", kid = "sandbox-at-1" }, header)
      assert.is_true(openssl_verify(pub.rsa, "PS256", input, sig))
      assert.is_false(openssl_verify(pub.rsa, "RS256", input, sig))
      if HAS_NODE then assert.are.equal("true", node_verify(sb.jwks_url, "sandbox-at-1", "PS256", input, sig)) end
    end)

    it("are HS256 with a given secret (algorithm-confusion tests)", function()
      local header, _, input, sig = split_jws(sb:jwt{ key = "hs256", secret = "s3cret" })
      assert.are.same({ alg = "HS256" }, header)
      local input_file = write_tmp(input)
      local mac = sh("openssl dgst -sha256 -hmac s3cret -binary " .. quote(input_file)
        .. " | od -An -tx1 | tr -d ' \\n'")
      os.remove(input_file)
      assert.are.equal(mac:upper(), hex(sig))
    end)

    it("have an empty signature with alg none", function()
      local token = sb:jwt{ header = { alg = "none", kid = sandbox.null } }
      assert.matches("^[%w_-]+%.[%w_-]+%.$", token)
      local header, claims = split_jws(token)
      assert.are.same({ alg = "none" }, header)
      assert.are.equal(sb.issuer, claims.iss)
    end)

    it("carry Constant Contact's claims by default", function()
      local before = os.time()
      local _, claims = split_jws(sb:jwt())
      local _, other = split_jws(sb:jwt())
      assert.are.equal(sb.issuer, claims.iss)
      assert.are.equal("https://api.cc.email/v3", claims.aud)
      assert.is_true(math.abs(claims.iat - before) <= 60)
      assert.are.equal(claims.iat + 3600, claims.exp)
      assert.are.equal(claims.iat, claims.auth_time)
      assert.are.same({ "account_read", "contact_data", "offline_access" }, claims.scp)
      assert.is_true(is_uuid(claims.platform_user_id))
      for _, name in ipairs{ "jti", "cid", "uid", "sub" } do
        assert.are.equal("string", type(claims[name]), name)
        assert.is_true(#claims[name] > 0, name)
      end
      assert.are_not.equal(claims.jti, other.jti)
      assert.are.equal(claims.cid, other.cid)
      assert.are.equal(11, count(claims))
    end)

    it("take claim and header overrides; JSON null removes a member", function()
      local header, claims, input, sig = split_jws(sb:jwt{
        claims = { sub = "someone", extra = { 1, 2 }, exp = sandbox.null, jti = sandbox.null },
        header = { kid = "unknown-kid", typ = "JWT" },
      })
      assert.are.same({ alg = "RS256", kid = "unknown-kid", typ = "JWT" }, header)
      assert.are.equal("someone", claims.sub)
      assert.are.same({ 1, 2 }, claims.extra)
      assert.is_nil(claims.exp)
      assert.is_nil(claims.jti)
      assert.are.equal(sb.issuer, claims.iss)
      assert.is_true(openssl_verify(pub.rsa, "RS256", input, sig))
    end)

    it("take expires_in (negative for expired tokens) and a raw payload", function()
      local _, claims = split_jws(sb:jwt{ expires_in = -60 })
      assert.are.equal(claims.iat - 60, claims.exp)
      local token = sb:jwt{ payload = "not json" }
      assert.are.equal("not json", b64url_decode(token:match("^[^.]*%.([^.]*)%.")))
      local _, _, input, sig = split_jws(sb:jwt{ key = "webhook" })
      assert.is_true(openssl_verify(pub.webhook, "RS256", input, sig))
    end)

    it("refuse bad requests with 400", function()
      for _, body in ipairs{
        { key = "nope" },
        { key = "hs256" },
        { header = { alg = "ES256" } },
        { key = "ec", header = { alg = "RS256" } },
        { header = { alg = "XS999" } },
        { expires_in = "soon" },
        { claims = { 1, 2 } },
      } do
        local status, err = sb:admin("POST", "/__sandbox/jwt", body)
        assert.are.equal(400, status, cjson.encode(body))
        assert.are.equal("sandbox.request.invalid", err[1].error_key)
      end
    end)
  end)

  describe("webhook signatures", function()
    local BODY = '{"url":"https://api.cc.email/v3/partner/accounts/a07e1l8cdif9dl",'
      .. '"event_type":"account.cancel","note":"caf\195\169 \\u00e9"}\n'

    it("are detached, unencoded-payload JWS that verify over header.rawbody", function()
      local signature, header = sb:webhook_signature(BODY, 1700000000)
      assert.are.same({ alg = "RS256", kid = "sandbox-wh-1", b64 = false, crit = { "b64" }, ts = 1700000000 }, header)
      local h, s = signature:match("^([%w_-]+)%.%.([%w_-]+)$")
      assert.is_truthy(h, signature)
      assert.are.same(header, cjson.decode(b64url_decode(h)))
      local sig = b64url_decode(s)
      assert.is_true(openssl_verify(pub.webhook, "RS256", h .. "." .. BODY, sig))
      assert.is_false(openssl_verify(pub.webhook, "RS256", h .. "." .. BODY:gsub("cancel", "disable"), sig))
      assert.is_false(openssl_verify(pub.webhook, "RS256", h .. "." .. BODY:sub(1, -2), sig))
      assert.is_false(openssl_verify(pub.rsa, "RS256", h .. "." .. BODY, sig))
      if HAS_NODE then
        assert.are.equal("true", node_verify(sb.webhook_jwks_url, "sandbox-wh-1", "RS256", h .. "." .. BODY, sig))
      end
    end)

    it("default ts to now and take header overrides", function()
      local before = os.time()
      local _, header = sb:webhook_signature("{}")
      assert.is_true(math.abs(header.ts - before) <= 60)
      local signature
      signature, header = sb:webhook_signature("{}", 1, { crit = sandbox.null, kid = "other", x = 1 })
      assert.are.same({ alg = "RS256", kid = "other", b64 = false, ts = 1, x = 1 }, header)
      local h, s = signature:match("^([%w_-]+)%.%.([%w_-]+)$")
      assert.is_true(openssl_verify(pub.webhook, "RS256", h .. ".{}", b64url_decode(s)))
    end)

    it("need the body as a string", function()
      local status = sb:admin("POST", "/__sandbox/webhook-signature", { ts = 1 })
      assert.are.equal(400, status)
    end)
  end)
end)

describe("sandbox/lua/sandbox/jose.lua outside nginx #once", function()
  it("loads in a plain luajit given the paths, with ctct.core's JSON", function()
    local root = sandbox.repo_root()
    local out, code = run("cd " .. quote(root) .. " && LUA_PATH='sandbox/lua/?.lua;;' LUA_CPATH='build/jit/?.so;;' "
      .. "luajit -e " .. quote('local jose = require "sandbox.jose"; local json = require "sandbox.json"; '
      .. 'io.write(jose.json({ a = { 1 }, e = json.array(), o = {} }), " ", jose.b64url("?>"))') .. " 2>&1")
    assert.are.equal(0, code, out)
    local text, b64 = out:match("^(%S+) (%S+)$")
    assert.are.same({ a = { 1 }, e = {}, o = {} }, cjson.decode(text))
    assert.truthy(text:find('"e":[]', 1, true), text)
    assert.truthy(text:find('"o":{}', 1, true), text)
    assert.are.equal("Pz4", b64)
  end)
end)
