-- What partner clients did since the last reset (GET /__sandbox/partner/stats):
--   partner:stats:token_requests  requests to the partner token endpoint
--   partner:stats:api_requests    requests under /v3/partner/
-- Both count every request that arrived, whatever answered it (a fault included).
local store = require "sandbox.store"

local m = store.m

local _M = {}

function _M.bump(name)
  m.incr("partner:stats:" .. name, 1, 0)
end

function _M.summary()
  return {
    token_requests = m.get("partner:stats:token_requests") or 0,
    api_requests = m.get("partner:stats:api_requests") or 0,
  }
end

return _M
