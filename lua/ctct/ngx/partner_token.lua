--- ctct.ngx.partner_token: the partner JWT shared by all nginx workers.
--
--   local partner = ctct.partner.new{ ..., shared_dict = "ctct_cache" }
--
-- The token (JSON, with expires_at) lives in the lua_shared_dict until it
-- expires. A worker whose copy is stale reads the dict; when that one is stale
-- too, it takes a cross-worker lock (ctct.ngx.lock), looks again, and only then
-- asks the token endpoint: one token request for the whole nginx instance.
local json = require "ctct.json"
local lock = require "ctct.ngx.lock"

local M = {}
local Shared = {}
Shared.__index = Shared

--- Give `tokens` (a ctct.partner.token object) a shared cache in dict `name`.
function M.attach(tokens, name, level)
  tokens.shared = setmetatable({
    dict = require("ctct.ngx.shdict").get(name, "ctct.partner", (level or 1) + 1),
    key = "partner:" .. tokens.client_id,
  }, Shared)
end

-- The shared token if it is fresh (and not `refused`); adopted as the current one.
function Shared:read(tokens, refused)
  local tok = json.decode(self.dict:get(self.key) or "")
  if type(tok) ~= "table" or type(tok.access_token) ~= "string" or type(tok.expires_at) ~= "number" then
    return nil
  end
  if tok.access_token == refused or not tokens:fresh(tok) then return nil end
  tokens.current = tok
  return tok.access_token
end

function Shared:renew(tokens, refused)
  return lock.run(self.dict, "lock:" .. self.key, function()
    local access = self:read(tokens, refused)
    if access then return access end
    tokens.current = nil
    local err
    access, err = tokens:renew()
    if not access then return nil, err end
    local ttl = math.max(1, math.floor(tokens.current.expires_at - tokens.time()))
    self.dict:set(self.key, json.encode(tokens.current), ttl)
    return access
  end, { ttl = 60, timeout = tokens.wait_timeout })
end

function Shared:get(tokens)
  return self:read(tokens) or self:renew(tokens)
end

--- The API said 401 to `used`: another worker's newer token, or a new one.
function Shared:after_unauthorized(tokens, used)
  return self:read(tokens, used) or self:renew(tokens, used)
end

return M
