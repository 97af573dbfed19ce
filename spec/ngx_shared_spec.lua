-- The nginx-only shared-state modules (ctct.ngx.lock, ctct.ngx.ratelimit,
-- ctct.store.shdict, ctct.ngx.partner_token) against a fake `ngx` with fake
-- shared dicts and a fake clock, on Lua 5.4 and LuaJIT. The real thing (nginx,
-- 4 workers) is spec/openresty_spec.lua.
local json = require "ctct.json"

-- A lua_shared_dict stand-in: get/set/safe_set/add/delete/incr/ttl with expiry.
local function fake_dict(clock)
  local data = {}
  local d = {}
  local function live(key)
    local e = data[key]
    if e and e.exp and e.exp <= clock.now then data[key] = nil return nil end
    return e
  end
  function d.get(_, key) local e = live(key) return e and e.value end
  function d.set(_, key, value, ttl)
    data[key] = { value = value, exp = ttl and ttl > 0 and clock.now + ttl or nil }
    return true
  end
  d.safe_set = d.set
  function d.add(_, key, value, ttl)
    if live(key) then return false, "exists" end
    return d.set(nil, key, value, ttl)
  end
  function d.delete(_, key) data[key] = nil end
  function d.incr(_, key, by, init, init_ttl)
    local e = live(key)
    if not e then d.set(nil, key, init + by, init_ttl) return init + by end
    e.value = e.value + by
    return e.value
  end
  function d.ttl(_, key) local e = live(key) return e and e.exp and e.exp - clock.now or 0 end
  return d
end

describe("shared state for nginx workers (fake ngx)", function()
  local clock, saved, fake
  before_each(function()
    saved = rawget(_G, "ngx")
    clock = { now = 1700000000.25 }
    fake = {
      shared = { ctct = fake_dict(clock) },
      now = function() return clock.now end,
      time = function() return math.floor(clock.now) end,
      update_time = function() end,
      sleep = function(s) clock.now = clock.now + s end,
      log = function() end, WARN = 5,
      worker = { pid = function() return 42 end },
    }
    rawset(_G, "ngx", fake)
  end)
  after_each(function() rawset(_G, "ngx", saved) end)

  it("a missing lua_shared_dict is named in the error", function()
    local ok, err = pcall(require("ctct.store.shdict").new, { dict = "nope" })
    assert.is_false(ok)
    assert.truthy(err:find("no lua_shared_dict named 'nope'", 1, true))
    assert.truthy(err:find("lua_shared_dict nope 1m;", 1, true))
  end)

  it("the lock: held, released, timed out, freed by its TTL", function()
    local lock = require "ctct.ngx.lock"
    local dict = fake.shared.ctct
    local inner
    local a, b = lock.run(dict, "L", function()
      inner = { lock.acquire(dict, "L", { timeout = 0.1 }) }
      return 1, 2
    end)
    assert.same({ 1, 2 }, { a, b })
    assert.is_nil(inner[1])
    assert.equal("timeout", inner[2].kind)
    assert.is_nil(dict:get("L")) -- released
    assert.truthy(lock.acquire(dict, "L", { ttl = 5 }))
    clock.now = clock.now + 6 -- the holder died: the TTL frees it
    assert.truthy(lock.acquire(dict, "L"))
    -- an error inside fn still releases it
    dict:delete("L")
    assert.has_error(function() lock.run(dict, "L", function() error("boom") end) end)
    assert.is_nil(dict:get("L"))
  end)

  it("the token store keeps JSON tokens per key", function()
    local store = require("ctct.store.shdict").new { dict = "ctct" }
    assert.is_nil(store:get("a"))
    assert.is_true(store:set("a", { access_token = "x", expires_at = 5 }))
    assert.same({ access_token = "x", expires_at = 5 }, store:get("a"))
    assert.equal(7, store:lock("a", function() return 7 end))
    store:delete("a")
    assert.is_nil(store:get("a"))
  end)

  it("the rate limiter fills one-second windows of per_second and keeps a daily budget", function()
    local limiter = require("ctct.ratelimit").new { shared_dict = "ctct", per_second = 4, daily = 10 }
    local other = require("ctct.ngx.ratelimit").new { dict = "ctct", per_second = 4, daily = 10 } -- "another worker"
    local waits = {}
    for i = 1, 10 do waits[i] = (i % 2 == 0 and other or limiter):take() end
    assert.same({ 0, 0, 0, 0, 0.75, 0.75, 0.75, 0.75, 1.75, 1.75 }, waits)
    local none, reset = limiter:take()
    assert.is_nil(none)
    assert.is_true(reset > 0 and reset <= 86400)
    assert.equal(0, other:remaining_today())
  end)

  it("the partner token is asked for once and shared", function()
    local token = require "ctct.partner.token"
    local requests = 0
    local function make()
      local t = token.new { client_id = "p", client_secret = "s", time = fake.now, sleep = fake.sleep,
                            shared_dict = "ctct" }
      t.fetch = function()
        requests = requests + 1
        return { access_token = "jwt" .. requests, expires_at = clock.now + 3600 }
      end
      return t
    end
    local w1, w2 = make(), make()
    assert.equal("jwt1", w1:get())
    assert.equal("jwt1", w2:get()) -- from the dict, no request
    assert.equal(1, requests)
    assert.equal("jwt2", w2:after_unauthorized("jwt1"))
    assert.equal("jwt2", w1:after_unauthorized("jwt1")) -- the other worker's new one
    assert.equal(2, requests)
    assert.equal("jwt2", json.decode(fake.shared.ctct:get("partner:p")).access_token)
  end)
end)
