-- Exercises ctct.core's JWT and crypto paths for valgrind and ASan runs
-- (spec/build_spec.lua, spec/run-asan): JWK import (good, small, off-curve),
-- every verify outcome, decode failures, detached payloads, HMAC, hashes,
-- base64 errors, random bytes, and keys left to the collector.
--   lua5.4 spec/c/crypto_workout.lua
local core = require "ctct.core"

local P = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
local N = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-" ..
  "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-" ..
  "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_" ..
  "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
local SIG = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9" ..
  "uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_" ..
  "eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt" ..
  "5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
local RS = "eyJhbGciOiJSUzI1NiJ9." .. P .. "." .. SIG
local ES = "eyJhbGciOiJFUzI1NiJ9." .. P ..
  ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
local X, Y = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

for _ = 1, 20 do
  local rsa = assert(core.jwk { kty = "RSA", n = N, e = "AQAB" })
  local ec = assert(core.jwk { kty = "EC", crv = "P-256", x = X, y = Y })
  assert(core.jws_verify(RS, "RS256", rsa))
  assert(core.jws_verify(ES, "ES256", ec))
  assert(not core.jws_verify(RS, "PS256", rsa))
  assert(not core.jws_verify(RS:sub(1, -3) .. "AA", "RS256", rsa))
  assert(not core.jws_verify(ES:sub(1, -3) .. "AA", "ES256", ec))
  assert(not core.jws_verify(RS, "ES256", rsa))
  assert(not core.jws_verify(RS, "HS256", rsa))
  assert(not core.jws_verify(RS, "HS256", "secret"))
  assert(not core.jws_verify(RS, "none", rsa))
  assert(not core.jws_verify("a.b", "RS256", rsa))
  assert(not core.jws_verify_detached(RS, "x", "RS256", rsa))
  assert(not core.jws_verify_detached("eyJhbGciOiJSUzI1NiJ9.." .. SIG, "body", "RS256", rsa))
  assert(core.jws_decode(RS))
  assert(not core.jws_decode("e30.e30.!"))
  assert(not core.jws_decode(("A"):rep(20000)))
  assert(not core.jws_decode("e30." .. core.b64url_encode("\255") .. ".e30"))
  assert(not core.jwk { kty = "RSA", n = core.b64url_encode(("\1"):rep(64)), e = "AQAB" })
  assert(not core.jwk { kty = "EC", crv = "P-256", x = X, y = X })
  assert(not core.jwk { kty = "RSA", n = "!!", e = "AQAB" })
  assert(not core.jwk { kty = "oct" })
  assert(#core.hmac_sha256("k", "m") == 32 and #core.hmac_sha256("", "") == 32)
  assert(#core.sha256(("x"):rep(100000)) == 32)
  assert(core.equal("a", "a") and not core.equal("a", "b"))
  assert(#core.random_bytes(64) == 64)
  assert(core.b64_decode(core.b64_encode("hello")) == "hello")
  assert(not core.b64url_decode("Zg=="))
  assert(tostring(rsa):find("RSA, 2048 bits", 1, true))
  assert(not pcall(core.jws_verify, RS, "RS256", nil))
end
collectgarbage()
collectgarbage()
print("crypto workout: ok")
