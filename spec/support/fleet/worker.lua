-- One fleet worker (an nginx worker's timer, or a plain Lua process): clients for
-- every account of one API key, sharing tokens (ctct.store.redis) and the rate
-- budget (ctct.ratelimit.redis) through Redis; from cfg.start_at for cfg.duration
-- seconds it calls the API as fast as the shared budget allows, then adds what it
-- saw to a Redis hash. spec/fleet_spec.lua starts the workers and reads the hash.
-- Lua 5.4 and LuaJIT (nginx) alike.
local M = {}

function M.run(cfg, who)
  local ctct = require "ctct"
  local core = require "ctct.core"
  local ngx_ = rawget(_G, "ngx")
  local sleep = ngx_ and ngx_.sleep or core.sleep
  local now = ngx_ and function() ngx_.update_time() return ngx_.now() end or core.time
  local conn = require("ctct.redis.connection").new(cfg.redis)
  local store = require("ctct.store.redis").new { redis = cfg.redis, api_key = cfg.client_id, lock_timeout = 20,
                                                  lease_ttl = cfg.lease_ttl, replicas = cfg.replicas }
  local limiter = require("ctct.ratelimit.redis").new { redis = cfg.redis, api_key = cfg.client_id,
    per_second = cfg.per_second, daily = false, max_wait = 30, hosts = cfg.hosts,
    on_redis_error = cfg.on_redis_error }
  local clients = {}
  for i, account in ipairs(cfg.accounts) do
    clients[i] = ctct.new { token_store = store, account = account, client_id = cfg.client_id,
                            client_secret = cfg.client_secret, token_url = cfg.token_url, base_url = cfg.base_url,
                            rate_limit = limiter, refresh_skew = cfg.refresh_skew, deadline = 60 }
  end
  local counts = { requests = 0, ok = 0, throttled = 0, login_required = 0, other = 0 }
  local first_error
  while now() < cfg.start_at do sleep(0.005) end
  local i, last = cfg.offset or 0, now()
  while now() < cfg.start_at + cfg.duration do
    local c = clients[(i % #clients) + 1]
    i = i + 1
    local data, err = c:request("GET", "/account/summary")
    counts.requests = counts.requests + 1
    last = now()
    if data then
      counts.ok = counts.ok + 1
    elseif err.status == 429 then
      counts.throttled = counts.throttled + 1
    elseif err.error_key == "login_required" then
      counts.login_required = counts.login_required + 1
    else
      counts.other = counts.other + 1
    end
    if not data and not first_error then first_error = tostring(err) end
  end
  for k, v in pairs(counts) do conn:call { "HINCRBY", cfg.results, k, v } end
  conn:call { "HSET", cfg.results .. ":last", who, string.format("%.3f", last) }
  conn:call { "SADD", cfg.results .. ":hosts", cfg.host or who }
  if first_error then conn:call { "HSET", cfg.results .. ":errors", who, first_error } end
  conn:call { "SADD", cfg.results .. ":workers", who } -- last: the test waits for it
  conn:close()
  return counts
end

return M
