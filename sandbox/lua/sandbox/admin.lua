-- The admin API under /__sandbox/ (no auth, JSON in and out), for tests and demos.
local http = require "sandbox.http"
local json = require "sandbox.json"
local store = require "sandbox.store"
local auth = require "sandbox.auth"
local config = require "sandbox.config"
local faults = require "sandbox.faults"
local stats = require "sandbox.stats"
local issuer = require "sandbox.issuer"
local oauth_settings = require "sandbox.oauth.settings"
local oauth_clients = require "sandbox.oauth.clients"
local oauth_device = require "sandbox.oauth.device"
local partner_clients = require "sandbox.partner.clients"
local partner_counters = require "sandbox.partner.counters"
local partner_token = require "sandbox.partner.token"
local sink = require "sandbox.partner.sink"

local _M = {}

local BAD = "sandbox.request.invalid"

-- Everything back to a fresh start; only the default token survives (tokens added
-- through /__sandbox/tokens are cleared with the rest). default_token is given at
-- start-up and remembered for later resets.
function _M.reset(default_token)
  default_token = default_token or store.m.get("boot:default_token")
  store.flush_all()
  store.m.set("boot:default_token", default_token)
  auth.register(default_token, auth.DEFAULT_ACCOUNT)
end

-- The body as a JSON object ({} when empty); content type is not enforced here.
local function body_object()
  local raw = http.read_body()
  if raw:match("^%s*$") then return {} end
  local value, err = http.decode_body(raw)
  if type(value) ~= "table" then
    http.fail(400, BAD, "body must be a JSON object: " .. tostring(err or "got " .. type(value)))
  end
  return value
end

local function health()
  return 200, { status = "ok" }
end

local function reset()
  _M.reset()
  return 200, { status = "ok" }
end

local function get_config()
  return 200, config.get()
end

local function post_config()
  return 200, config.update(body_object())
end

local function add_token()
  local body = body_object()
  local ttl = body.expires_in
  if ttl ~= nil and (type(ttl) ~= "number" or ttl <= 0) then
    http.fail(400, BAD, "expires_in must be a positive number of seconds")
  end
  auth.register(body.access_token, body.account, ttl)
  return 201, { account = body.account or auth.DEFAULT_ACCOUNT, expires_in = ttl }
end

local function revoke_token(token)
  if not auth.revoke(token) then
    http.fail(404, "sandbox.token.not_found", "no such token")
  end
  return 204
end

local function get_faults()
  return 200, { faults = json.array(faults.list()) }
end

local function add_faults()
  local body = body_object()
  local rules = body.faults
  if not json.is_array(rules) then
    http.fail(400, BAD, 'body must be {"faults": [rule, ...]}')
  end
  return 200, { faults = json.array(faults.add(rules)) }
end

local function clear_faults()
  faults.clear()
  return 204
end

local function get_stats()
  return 200, stats.summary()
end

local function get_requests()
  return 200, json.array(stats.requests())
end

local function issue_jwt()
  return 200, { token = issuer.token(body_object()) }
end

local function webhook_signature()
  local body = body_object()
  local signature, header = issuer.webhook_signature(body.body, body.ts, body.header, body.key, body.secret)
  return 200, { signature = signature, header = header }
end

local function get_oauth_config()
  return 200, oauth_settings.get()
end

local function post_oauth_config()
  return 200, oauth_settings.update(body_object())
end

local function add_oauth_client()
  return 201, oauth_clients.add(body_object())
end

local function decide_device()
  return 200, oauth_device.admin_decide(body_object())
end

local function partner_stats()
  return 200, partner_counters.summary()
end

local function partner_revoke()
  partner_token.revoke_all()
  return 200, { status = "ok" }
end

local function add_partner()
  return 201, partner_clients.add(body_object())
end

-- [path] = { METHOD = handler }; "/tokens/" takes the token as the rest of the path,
-- "/webhook-sink/" the sink's name.
local ROUTES = {
  ["/health"] = { GET = health },
  ["/reset"] = { POST = reset },
  ["/config"] = { GET = get_config, POST = post_config },
  ["/tokens"] = { POST = add_token },
  ["/faults"] = { GET = get_faults, POST = add_faults, DELETE = clear_faults },
  ["/stats"] = { GET = get_stats },
  ["/requests"] = { GET = get_requests },
  ["/jwt"] = { POST = issue_jwt },
  ["/webhook-signature"] = { POST = webhook_signature },
  ["/oauth/config"] = { GET = get_oauth_config, POST = post_oauth_config },
  ["/oauth/clients"] = { POST = add_oauth_client },
  ["/oauth/device"] = { POST = decide_device },
  ["/partner/stats"] = { GET = partner_stats },
  ["/partner/revoke"] = { POST = partner_revoke },
  ["/partner/clients"] = { POST = add_partner },
}

function _M.serve(method, path)
  local sub = path:sub(#"/__sandbox" + 1)
  local status, body
  local token = sub:match("^/tokens/(.+)$")
  local sink_name = sub:match("^/webhook%-sink/(.+)$")
  if sink_name then
    status, body = sink.serve(method, sink_name)
  elseif token then
    if method ~= "DELETE" then http.fail(405, "method.not.allowed", "use DELETE", { Allow = "DELETE" }) end
    status, body = revoke_token(token)
  else
    local methods = ROUTES[sub]
    if not methods then http.fail(404, "not.found", "No admin endpoint at " .. path) end
    local handler = methods[method]
    if not handler then
      local allowed = {}
      for m in pairs(methods) do allowed[#allowed + 1] = m end
      table.sort(allowed)
      http.fail(405, "method.not.allowed", method .. " is not allowed on " .. path,
        { Allow = table.concat(allowed, ", ") })
    end
    status, body = handler()
  end
  return http.send(status, body)
end

return _M
