-- Partner webhook topics, subscriptions and the notifications the sandbox sends.
--   partner:<client_id>:hook:<topic_id>  -> the subscribed callback URI
-- A notification is a real HTTP POST from nginx (a cosocket) to the callback URI, with
-- the JSON body {"url", "api_key", "event_type", "topic_id", "account_id", "time"} and
-- X-CTCT-WEBHOOK-SIG signed by the webhook key (issuer.webhook_signature), so receivers
-- verify it against the sandbox's webhook JWKS.
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"
local issuer = require "sandbox.issuer"

local m = store.m

local _M = {}

_M.TOPICS = {
  { topic_id = 1, event_type = "tier.increase", topic_name = "Billing Tier Upgrade",
    topic_description = "Executes when an account's billing tier is upgraded." },
  { topic_id = 2, event_type = "tier.decrease", topic_name = "Billing Tier Downgrade",
    topic_description = "Executes when an account's billing tier is downgraded." },
  { topic_id = 3, event_type = "account.cancel", topic_name = "Account Cancelled",
    topic_description = "Executes when an account is cancelled." },
  { topic_id = 4, event_type = "account.disable", topic_name = "Account Disabled",
    topic_description = "Executes when an account is disabled." },
}

local BY_EVENT = {}
for _, t in ipairs(_M.TOPICS) do BY_EVENT[t.event_type] = t end

local function hook_key(partner, topic_id) return "partner:" .. partner.client_id .. ":hook:" .. topic_id end

function _M.hook(partner, topic_id) return m.get(hook_key(partner, topic_id)) end
function _M.subscribe(partner, topic_id, uri) m.set(hook_key(partner, topic_id), uri) end
function _M.unsubscribe(partner, topic_id) m.delete(hook_key(partner, topic_id)) end

-- A topic as the API shows it, with its callback (hook_uri; callback_uri too) when
-- subscribed.
function _M.render(partner, topic)
  local uri = _M.hook(partner, topic.topic_id)
  return { topic_id = topic.topic_id, topic_name = topic.topic_name, topic_description = topic.topic_description,
           hook_uri = uri, callback_uri = uri }
end

-- Valid callback URIs: absolute http(s) URLs.
function _M.valid_uri(uri)
  return type(uri) == "string" and #uri <= 2048 and uri:match("^[Hh][Tt][Tt][Pp][Ss]?://[^%s/?#]+[^%s#]*$") ~= nil
end

---------------------------------------------------------------------------------------
-- A minimal HTTP/1.1 client: one POST, the status line read, the connection closed.

local function parse_uri(uri)
  local scheme, authority, path = uri:match("^(%a+)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  local host, port = authority:match("^%[(.+)%]:?(%d*)$")   -- [::1]:8080
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  return { scheme = scheme, host = host, port = port, path = path, authority = authority }
end

-- POSTs body with headers to uri. Returns the status code, or nil and why.
function _M.post(uri, body, headers)
  local u = parse_uri(uri)
  if not u then return nil, "not an absolute http(s) URI" end
  local sock = ngx.socket.tcp()
  sock:settimeouts(3000, 5000, 5000)
  -- Without a resolver in nginx.conf only addresses and localhost can be connected to.
  local host = u.host:lower() == "localhost" and "127.0.0.1" or u.host
  local ok, err = sock:connect(host, u.port)
  if not ok then return nil, "cannot connect to " .. u.authority .. ": " .. tostring(err) end
  if u.scheme == "https" then
    -- The sandbox has no CA bundle configured: the peer certificate is not verified.
    ok, err = sock:sslhandshake(nil, u.host, false)
    if not ok then
      sock:close()
      return nil, "TLS handshake with " .. u.authority .. " failed: " .. tostring(err)
    end
  end
  local lines = {
    "POST " .. u.path .. " HTTP/1.1",
    "Host: " .. u.authority,
    "User-Agent: ctct-sandbox-webhooks/1",
    "Content-Type: application/json",
    "Content-Length: " .. #body,
    "Connection: close",
  }
  for name, value in pairs(headers or {}) do lines[#lines + 1] = name .. ": " .. value end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not ok then
    sock:close()
    return nil, "cannot send to " .. u.authority .. ": " .. tostring(err)
  end
  local line
  line, err = sock:receive("*l")
  sock:close()
  if not line then return nil, "no answer from " .. u.authority .. ": " .. tostring(err) end
  local status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "not an HTTP answer from " .. u.authority end
  return status
end

-- The notification body for event_type about account_id (the exact bytes signed).
function _M.notification(partner, event_type, account_id)
  local topic = BY_EVENT[event_type]
  return http.encode({
    url = issuer.base_url() .. "/v3/partner/accounts/" .. account_id .. "/plan",
    api_key = partner.api_key,
    event_type = event_type,
    topic_id = topic.topic_id,
    account_id = account_id,
    time = util.now_iso(),
  })
end

-- Sends a signed notification to uri. Returns the callback's status, or nil and why.
function _M.send(uri, partner, event_type, account_id)
  local body = _M.notification(partner, event_type, account_id)
  local signature = issuer.webhook_signature(body, ngx.time())
  return _M.post(uri, body, { ["X-CTCT-WEBHOOK-SIG"] = signature })
end

-- Notifies the partner's subscriber of event_type, if any, after the current request
-- (a timer: the answer to the request does not wait for the callback).
function _M.notify(partner, event_type, account_id)
  local topic = BY_EVENT[event_type]
  local uri = topic and _M.hook(partner, topic.topic_id)
  if not uri then return end
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    local sent, why = pcall(_M.send, uri, partner, event_type, account_id)
    if not sent then ngx.log(ngx.ERR, "sandbox partner webhook: ", why) end
  end)
  if not ok then ngx.log(ngx.ERR, "sandbox partner webhook timer: ", err) end
end

return _M
