-- /partner/webhooks/subscriptions...: the Technology Partners Webhooks operations
-- (getWebhooksCollection, getWebhooksTopic, putWebhooksTopic,
-- deleteWebhooksSubscriptions, testSendWebhooksTopic). The callback URI is hook_uri
-- in the spec; callback_uri is accepted and shown too.
local http = require "sandbox.http"
local accounts = require "sandbox.partner.accounts"
local webhooks = require "sandbox.partner.webhooks"

local _M = {}

local ERR = "partner.webhooks.api.validation.error"
local NOT_FOUND = "partner.webhooks.api.not.found"

-- The account a test notification names: the partner's first client account, or an
-- example id.
local EXAMPLE_ACCOUNT = "a07e1sandboxtest0"

local function topic(req)
  local raw = req.params.topic_id
  local id = raw:match("^%d+$") and tonumber(raw)
  if not id then http.fail(400, ERR, "topic_id must be an integer, got '" .. raw .. "'") end
  local t = webhooks.TOPICS[id]
  if not t then http.fail(404, NOT_FOUND, "No webhook topic " .. raw .. " (topics are 1-4)") end
  return t
end

local function subscribed(req, t)
  local uri = webhooks.hook(req.partner, t.topic_id)
  if not uri then http.fail(404, NOT_FOUND, "No subscription to topic " .. t.topic_id) end
  return uri
end

local handlers = {}

function handlers.list(req)
  local out = {}
  for i, t in ipairs(webhooks.TOPICS) do out[i] = webhooks.render(req.partner, t) end
  return 200, out
end

function handlers.get(req)
  return 200, webhooks.render(req.partner, topic(req))
end

function handlers.put(req)
  local t = topic(req)
  local body = req:json()
  local uri = body.hook_uri
  if uri == nil or uri == http.null then uri = body.callback_uri end
  if uri == nil or uri == http.null then http.fail(400, ERR, "hook_uri is required") end
  if not webhooks.valid_uri(uri) then
    http.fail(400, ERR, "hook_uri must be an absolute http:// or https:// URI")
  end
  webhooks.subscribe(req.partner, t.topic_id, uri)
  return 200, { topic_id = t.topic_id, hook_uri = uri, callback_uri = uri }
end

function handlers.delete(req)
  local t = topic(req)
  subscribed(req, t)
  webhooks.unsubscribe(req.partner, t.topic_id)
  return 204
end

-- POST .../tests: a signed notification POSTed to the callback now; 201 once the
-- callback answered 2xx, 502 when it answered something else or could not be reached.
function handlers.test(req)
  local t = topic(req)
  local uri = subscribed(req, t)
  local first = accounts.list(req.partner)[1]
  local status, why = webhooks.send(uri, req.partner, t.event_type, first and first.encoded_account_id
    or EXAMPLE_ACCOUNT)
  if not status then
    http.fail(502, "partner.webhooks.callback.unreachable", "The test notification was not delivered: " .. why)
  end
  if status < 200 or status > 299 then
    http.fail(502, "partner.webhooks.callback.failed", "The callback URI answered " .. status)
  end
  local out = webhooks.render(req.partner, t)
  return 201, out
end

_M.handlers = handlers

return _M
