-- The JWT benchmark: verifying the RFC 7515 A.2 RS256 token with ctct (full
-- jwt.verify: decode, JSON claims, signature, time checks; and the bare
-- core.jws_verify) against a plain C loop on OpenSSL. Interleaved rounds.
--   lua5.4 bench/jwt_bench.lua LOOP_BINARY
local core = require "ctct.core"
local jwt = require "ctct.jwt"

local loop = assert(arg[1])
local N = tonumber(os.getenv("BENCH_JWT_N")) or 20000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 5

local TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19y" ..
  "b290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2F" ..
  "p5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0Ga" ..
  "rZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rq" ..
  "Vt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
local KEY = assert(core.jwk { kty = "RSA", e = "AQAB",
  n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd" ..
      "2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7W" ..
      "TBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs9" ..
      "1kzk2PAcDTW9gb54h4FRWyuXpoQ" })
local OPTS = { key = KEY, now = 1300819000 } -- the RFC token expired in 2011

local function median(xs)
  table.sort(xs)
  return xs[math.floor((#xs + 1) / 2)]
end

local function rate(fn)
  local t0 = core.monotonic()
  for _ = 1, N do fn() end
  return N / (core.monotonic() - t0)
end

local function c_rate()
  local p = assert(io.popen(loop .. " " .. N))
  local out = p:read("*a")
  p:close()
  return assert(tonumber(out), "jwt loop failed")
end

local full, bare, c = {}, {}, {}
for round = 1, ROUNDS do
  c[round] = c_rate()
  full[round] = rate(function() assert(jwt.verify(TOKEN, OPTS)) end)
  bare[round] = rate(function() assert(core.jws_verify(TOKEN, "RS256", KEY)) end)
end
local f, b, base = median(full), median(bare), median(c)
print(("bench: jwt verify ctct/C = %.2f (jwt.verify %.0f tokens/s, core.jws_verify %.0f tokens/s, " ..
  "OpenSSL C loop %.0f tokens/s)"):format(base / f, f, b, base))
