-- Known-answer tests for ctct.core's crypto: RFC 4648 base64(url), RFC 4231
-- HMAC-SHA256, SHA-256, RFC 7515 JWS examples (A.1 HS256, A.2 RS256, A.3
-- ES256), RFC 7797 section 4 (detached, unencoded payload), and the rejects.
local core = require "ctct.core"

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- RFC 7515 appendix A: the shared payload and keys.
local A_PAYLOAD = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
local A1_KEY = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
local A1_TOKEN = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." .. A_PAYLOAD ..
  ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
local A2_JWK = { kty = "RSA", e = "AQAB",
  n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4Ql" ..
      "L-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUs" ..
      "LA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoud" ..
      "F8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ" }
local A2_TOKEN = "eyJhbGciOiJSUzI1NiJ9." .. A_PAYLOAD ..
  ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5juj" ..
  "Gbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7" ..
  "K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np" ..
  "6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
local A3_JWK = { kty = "EC", crv = "P-256",
  x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }
local A3_TOKEN = "eyJhbGciOiJFUzI1NiJ9." .. A_PAYLOAD ..
  ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
local RFC7797_JWS = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.." ..
  "A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY"

-- Flip one character of a token at position i to another base64url character.
local function flip(token, i)
  local c = token:sub(i, i)
  local repl = c == "A" and "B" or "A"
  return token:sub(1, i - 1) .. repl .. token:sub(i + 1)
end

describe("ctct.core base64 (RFC 4648 section 10)", function()
  local vectors = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
                    { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } }
  it("encodes and decodes the standard vectors", function()
    for _, v in ipairs(vectors) do
      assert.equal(v[2], core.b64_encode(v[1]))
      assert.equal(v[1], core.b64_decode(v[2]))
      local url = v[2]:gsub("=", "")
      assert.equal(url, core.b64url_encode(v[1]))
      assert.equal(v[1], core.b64url_decode(url))
    end
  end)

  it("uses the URL alphabet without padding for base64url", function()
    assert.equal("-_-_", core.b64url_encode("\251\255\191"))
    assert.equal("+/+/", core.b64_encode("\251\255\191"))
  end)

  it("rejects what a strict decoder must", function()
    local bad_url = { "Zg==", "Zm8=", "Z", "Zm9v!", "Zm 9v", "Zm9v\n", "+/+/", "Zh", "Zm9", "Zm9vYh" }
    for _, s in ipairs(bad_url) do
      local v, why = core.b64url_decode(s)
      assert.is_nil(v, s)
      assert.is_string(why)
    end
    local bad_std = { "Zg", "Zg=", "Zg=a", "Z===", "-_-_", "Zm9v Zm9v", "Zh==", "Zm9=" }
    for _, s in ipairs(bad_std) do assert.is_nil((core.b64_decode(s)), s) end
  end)

  it("round-trips every byte value", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    local s = table.concat(all)
    for cut = 0, 3 do
      local part = s:sub(1, #s - cut)
      assert.equal(part, core.b64url_decode(core.b64url_encode(part)))
      assert.equal(part, core.b64_decode(core.b64_encode(part)))
    end
  end)
end)

describe("ctct.core hashing and MACs", function()
  it("computes SHA-256 (FIPS 180-2 examples)", function()
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(core.sha256("abc")))
    assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex(core.sha256("")))
  end)

  it("computes HMAC-SHA256 (RFC 4231 cases 1-4, 6, 7)", function()
    local cases = {
      { ("\11"):rep(20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
      { "Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
      { ("\170"):rep(20), ("\221"):rep(50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
      { unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), ("\205"):rep(50),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
      { ("\170"):rep(131), "Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
      { ("\170"):rep(131), "This is a test using a larger than block-size key and a larger than block-size data." ..
        " The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    }
    for i, c in ipairs(cases) do assert.equal(c[3], hex(core.hmac_sha256(c[1], c[2])), "case " .. i) end
  end)

  it("compares in constant time, and only equal strings are equal", function()
    assert.is_true(core.equal("abc", "abc"))
    assert.is_false(core.equal("abc", "abd"))
    assert.is_false(core.equal("abc", "abcd"))
    assert.is_true(core.equal("", ""))
  end)

  it("gives random bytes of the asked length, different each time", function()
    local a, b = core.random_bytes(32), core.random_bytes(32)
    assert.equal(32, #a)
    assert.are_not.equal(a, b)
    assert.equal("", core.random_bytes(0))
    assert.has_error(function() core.random_bytes(-1) end)
  end)
end)

describe("ctct.core JWS (RFC 7515 appendix A)", function()
  local hs_key = core.b64url_decode(A1_KEY)

  it("verifies the A.1 HS256 example", function()
    assert.is_true(core.jws_verify(A1_TOKEN, "HS256", hs_key))
  end)

  it("verifies the A.2 RS256 example, and fails when any byte is flipped", function()
    local key = assert(core.jwk(A2_JWK))
    assert.equal("RSA", key:kind())
    assert.equal(2048, key:bits())
    assert.is_true(core.jws_verify(A2_TOKEN, "RS256", key))
    local dot1 = A2_TOKEN:find(".", 1, true)
    local dot2 = A2_TOKEN:find(".", dot1 + 1, true)
    -- one position in each of the header, the payload and the signature, plus both ends
    for _, i in ipairs { 1, 5, dot1 - 1, dot1 + 1, dot1 + 20, dot2 - 2, dot2 + 1, dot2 + 100, #A2_TOKEN - 1 } do
      local ok, why = core.jws_verify(flip(A2_TOKEN, i), "RS256", key)
      assert.is_false(ok, "flip at " .. i)
      assert.is_string(why)
    end
  end)

  it("verifies the A.3 ES256 example", function()
    local key = assert(core.jwk(A3_JWK))
    assert.equal("EC", key:kind())
    assert.is_true(core.jws_verify(A3_TOKEN, "ES256", key))
    assert.is_false(core.jws_verify(flip(A3_TOKEN, #A3_TOKEN - 3), "ES256", key))
  end)

  it("decodes header and payload without verifying", function()
    local header, payload, sig = core.jws_decode(A2_TOKEN)
    assert.equal('{"alg":"RS256"}', header)
    assert.equal('{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}', payload)
    assert.equal(256, #sig)
  end)

  it("verifies the RFC 7797 section 4 detached, unencoded payload example", function()
    assert.is_true(core.jws_verify_detached(RFC7797_JWS, "$.02", "HS256", hs_key))
    assert.is_false(core.jws_verify_detached(RFC7797_JWS, "$.03", "HS256", hs_key))
    local ok, why = core.jws_verify_detached(A1_TOKEN, "$.02", "HS256", hs_key)
    assert.is_false(ok)
    assert.matches("empty payload", why)
  end)

  it("refuses algorithm confusion, alg none and mismatched keys", function()
    local rsa = assert(core.jwk(A2_JWK))
    local ec = assert(core.jwk(A3_JWK))
    local ok, why = core.jws_verify(A1_TOKEN, "HS256", rsa)
    assert.is_false(ok)
    assert.matches("algorithm confusion", why)
    ok, why = core.jws_verify(A2_TOKEN, "none", rsa)
    assert.is_false(ok)
    assert.matches("none", why)
    ok, why = core.jws_verify(A2_TOKEN, "ES256", rsa)
    assert.is_false(ok)
    assert.matches("needs an EC", why)
    ok, why = core.jws_verify(A3_TOKEN, "RS256", ec)
    assert.is_false(ok)
    assert.matches("needs an RSA", why)
    ok, why = core.jws_verify(A2_TOKEN, "RS512", rsa)
    assert.is_false(ok)
    assert.matches("unsupported", why)
  end)

  it("rejects malformed tokens with a reason, never a crash", function()
    local cases = {
      { "", "three segments" }, { "a.b", "three segments" }, { "a.b.c.d", "more than three" },
      { ".b.c", "empty header" }, { "a+b.c.d", "outside base64url" }, { "a.b.c=", "outside base64url" },
      { "eyJ.e30.x", "malformed header" }, { "e30.e30.Zh", "malformed signature" },
      { "...", "more than three" },
    }
    for _, c in ipairs(cases) do
      local h, why = core.jws_decode(c[1])
      assert.is_nil(h, c[1])
      assert.is_truthy(why:find(c[2], 1, true), c[1] .. " -> " .. tostring(why))
    end
  end)

  it("rejects invalid UTF-8 in the header or claims", function()
    local bad = core.b64url_encode('{"sub":"\255\254"}')
    local _, why = core.jws_decode("e30." .. bad .. ".e30")
    assert.matches("not valid UTF%-8", why)
    local overlong = core.b64url_encode('{"a":"\192\175"}')
    assert.is_nil((core.jws_decode(overlong .. ".e30.e30")))
    assert.is_string((core.jws_decode("e30." .. core.b64url_encode('{"a":"\226\130\172"}') .. ".e30")))
  end)

  it("caps the token size before decoding anything", function()
    local huge = ("A"):rep(10 * 1024 * 1024)
    local h, why = core.jws_decode(huge .. "." .. huge .. "." .. huge)
    assert.is_nil(h)
    assert.matches("too large", why)
    assert.is_false((core.jws_verify(huge, "RS256", assert(core.jwk(A2_JWK)))))
  end)
end)

describe("ctct.core JWK import", function()
  it("refuses RSA keys under 2048 bits", function()
    -- a 512-bit modulus (64 bytes)
    local n512 = core.b64url_encode("\200" .. ("\1"):rep(62) .. "\3")
    local key, why = core.jwk { kty = "RSA", n = n512, e = "AQAB" }
    assert.is_nil(key)
    assert.equal("RSA key of 512 bits is too small (minimum 2048)", why)
  end)

  it("refuses unusable keys with a reason", function()
    local cases = {
      { { kty = "oct", k = "AAAA" }, "not supported" },
      { {}, "no 'kty'" },
      { { kty = "RSA", e = "AQAB" }, "'n'" },
      { { kty = "RSA", n = A2_JWK.n, e = "AQA=" }, "'e'" },
      { { kty = "RSA", n = A2_JWK.n, e = "AAI" }, "exponent" },
      { { kty = "EC", crv = "P-384", x = A3_JWK.x, y = A3_JWK.y }, "P-256" },
      { { kty = "EC", crv = "P-256", x = A3_JWK.x, y = A3_JWK.x }, "not on" },
      { { kty = "EC", crv = "P-256", x = "AAAA", y = A3_JWK.y }, "32 bytes" },
    }
    for _, c in ipairs(cases) do
      local key, why = core.jwk(c[1])
      assert.is_nil(key)
      assert.is_truthy(why:find(c[2], 1, true), why)
    end
  end)
end)
