-- Issue 17: the key set cache must survive garbage collection. A cache in a weak
-- table lost its key sets at every collection, so each incoming token became a
-- JWKS fetch (an amplifier) and the TTL and refetch spacing stopped working.
-- The cache is strong and bounded: a bounded number of key sets, a bounded
-- number of keys per set, and inside nginx a bounded entry in the shared dict.
local jwt = require "ctct.jwt"
local jwks = require "ctct.jwks"
local jose = require "spec.helpers.jose"
local fake = require "spec.helpers.fake_transport"
local cjson = require "cjson"

local NOW = 1800000000
local serial = 0

local function claims()
  return { iss = "https://issuer.example", aud = "https://api.cc.email/v3", sub = "user-1",
           iat = NOW - 10, exp = NOW + 3600 }
end

-- A fresh URL per use: the per-URL cache is process-wide.
local function fresh_url()
  serial = serial + 1
  return ("https://keys.example/%d-%d/jwks"):format(os.time(), serial)
end

-- Make jwks.from(url) fetch through `t` (the default transport is asked for one).
local function with_default_transport(t, fn)
  local saved = package.loaded["ctct.transport.default"]
  package.loaded["ctct.transport.default"] = { new = function() return t end }
  local ok, err = pcall(fn)
  package.loaded["ctct.transport.default"] = saved
  if not ok then error(err, 0) end
end

describe("security: the JWKS cache survives garbage collection", function()
  local rsa
  lazy_setup(function() rsa = jose.keypair("rsa") end)
  lazy_teardown(function() jose.cleanup(rsa) end)

  local function answer(keys)
    return { status = 200, body = cjson.encode { keys = keys } }
  end

  it("verifies 30 tokens with a collectgarbage() between each with 1 fetch", function()
    local url = fresh_url()
    local t = fake.new {}
    for _ = 1, 30 do t.script[#t.script + 1] = answer { rsa.jwk } end
    local token = jose.sign({ alg = "RS256", kid = rsa.kid, typ = "JWT" }, claims(), rsa)
    with_default_transport(t, function()
      for i = 1, 30 do
        local tok, err = jwt.verify(token, { jwks = url, now = NOW })
        assert(tok, "token " .. i .. ": " .. tostring(err))
        collectgarbage()
        collectgarbage()
      end
    end)
    assert.equal(1, #t.requests)
  end)

  it("keeps the refetch spacing across collections: unknown kids cost one fetch", function()
    local url = fresh_url()
    local t = fake.new {}
    for _ = 1, 50 do t.script[#t.script + 1] = answer { rsa.jwk } end
    local forged = jose.sign({ alg = "RS256", kid = "made-up", typ = "JWT" }, claims(), rsa)
    with_default_transport(t, function()
      for _ = 1, 20 do
        local tok, err = jwt.verify(forged, { jwks = url, now = NOW })
        assert.is_nil(tok)
        assert.equal("kid_unknown", err.reason)
        collectgarbage()
      end
    end)
    assert.equal(1, #t.requests)
  end)

  it("holds a bounded number of key sets (least recently used go first)", function()
    local t = fake.new {}
    local n = jwks.MAX_SETS + 10
    local urls = {}
    with_default_transport(t, function()
      for i = 1, n do
        urls[i] = fresh_url()
        assert.is_table(jwks.from(urls[i]))
      end
      assert.is_true(jwks.cached_sets() <= jwks.MAX_SETS)
      -- the newest are still the same objects; the oldest were dropped
      assert.equal(jwks.from(urls[n]), jwks.from(urls[n]))
    end)
    assert.equal(0, #t.requests) -- made, not fetched
  end)

  it("imports a bounded number of keys per set", function()
    local many = {}
    for i = 1, jwks.MAX_KEYS + 20 do
      local k = {}
      for f, v in pairs(rsa.jwk) do k[f] = v end
      k.kid = "k" .. i
      many[i] = k
    end
    local keys, count, skipped = jwks.import { keys = many }
    assert.equal(jwks.MAX_KEYS, count)
    local n = 0
    for _ in pairs(keys) do n = n + 1 end
    assert.equal(jwks.MAX_KEYS, n)
    assert.matches("more than " .. jwks.MAX_KEYS .. " keys", table.concat(skipped, "; "))
  end)

  describe("inside nginx (fake ngx, fake shared dict)", function()
    local saved, stored, clock
    before_each(function()
      saved = rawget(_G, "ngx")
      stored, clock = {}, { now = 0 }
      local dict = {}
      function dict.get(_, k) return stored[k] and stored[k].value end
      function dict.safe_set(_, k, v, ttl)
        stored[k] = { value = v, ttl = ttl, how = "safe_set" }
        return true
      end
      function dict.set(_, k, v, ttl)
        stored[k] = { value = v, ttl = ttl, how = "set" }
        return true
      end
      function dict.ttl(_, k) return stored[k] and stored[k].ttl or 0 end
      rawset(_G, "ngx", { shared = { ctct_cache = dict } })
    end)
    after_each(function() rawset(_G, "ngx", saved) end)

    it("one worker's fetch serves the others, stored with safe_set (never evicting)", function()
      local url = fresh_url()
      local t1 = fake.new { answer { rsa.jwk } }
      local t2 = fake.new {}
      local function now() return clock.now end
      local w1 = jwks.new { url = url, transport = t1, shared_dict = "ctct_cache", clock = now }
      local w2 = jwks.new { url = url, transport = t2, shared_dict = "ctct_cache", clock = now }
      assert(w1:key(rsa.kid))
      assert(w2:key(rsa.kid))
      assert.equal(1, #t1.requests)
      assert.equal(0, #t2.requests)
      assert.equal("safe_set", stored["jwks:" .. url].how)
      assert.equal(300, stored["jwks:" .. url].ttl)
    end)

    it("does not put an oversized key set in the shared dict", function()
      local url = fresh_url()
      local pad = ("x"):rep(jwks.MAX_SHARED_BYTES)
      local body = cjson.encode { keys = { rsa.jwk }, padding = pad }
      local t = fake.new { { status = 200, body = body } }
      local w = jwks.new { url = url, transport = t, shared_dict = "ctct_cache",
                           clock = function() return clock.now end }
      assert(w:key(rsa.kid)) -- still usable by this worker
      assert.is_nil(stored["jwks:" .. url])
    end)

    it("jwt.verify with shared_dict uses the shared dict for a URL key set", function()
      local url = fresh_url()
      local t = fake.new { answer { rsa.jwk } }
      local token = jose.sign({ alg = "RS256", kid = rsa.kid, typ = "JWT" }, claims(), rsa)
      with_default_transport(t, function()
        assert(jwt.verify(token, { jwks = url, now = NOW, shared_dict = "ctct_cache" }))
      end)
      assert.is_string(stored["jwks:" .. url] and stored["jwks:" .. url].value)
      assert.equal(1, #t.requests)
    end)
  end)

  it("refuses a shared_dict outside nginx, naming it", function()
    local ok, err = pcall(jwks.new, { url = fresh_url(), shared_dict = "ctct_cache" })
    assert.is_false(ok)
    assert.matches("lua_shared_dict", err)
  end)
end)
