--- partner.webhooks: the partner's webhook subscriptions (Technology Partners Webhooks).
--
--   partner.webhooks:list()                          -- every topic (1-4), with hook_uri when subscribed
--   partner.webhooks:get(topic_id)
--   partner.webhooks:subscribe(topic_id, "https://example.com/hooks/ctct")   -- PUT { hook_uri }
--   partner.webhooks:unsubscribe(topic_id)           -- DELETE
--   partner.webhooks:test_send(topic_id)             -- the API POSTs a test notification to the callback
--
-- Topics: 1 tier.increase, 2 tier.decrease, 3 account.cancel, 4 account.disable.
-- Notifications are checked and read with ctct.webhooks.parse.
local validate = require "ctct.partner.validate"

---@class ctct.partner.webhooks
---@field NAME string "partner.webhooks"
---@field TOPICS table<integer, string> topic id -> topic name (1 tier.increase ... 4 account.disable)
---@field DOCS table<string, string> method name -> one-line description (docs/API.md)
---@field EXAMPLE string a short example (docs/API.md, run against the sandbox by the specs)
---@field partner ctct.Partner the partner this object belongs to
---@field client ctct.Client the partner's client (partner JWT + x-api-key)
local Webhooks = { NAME = "partner.webhooks" }
Webhooks.__index = Webhooks
--- "ctct.partner.webhooks".
---@return string
Webhooks.__tostring = function() return "ctct.partner.webhooks" end

Webhooks.TOPICS = { [1] = "tier.increase", [2] = "tier.decrease", [3] = "account.cancel", [4] = "account.disable" }

Webhooks.DOCS = {
  list = "Every webhook topic, with hook_uri for the subscribed ones.",
  get = "One topic's subscription.",
  subscribe = "Subscribe a callback URI (http or https) to a topic.",
  unsubscribe = "Delete a topic's subscription.",
  test_send = "Have the API send a test notification of the topic to its callback URI.",
}

--- The webhooks object of `partner` (made by partner.webhooks on first use).
---@param partner ctct.Partner
---@return ctct.partner.webhooks
function Webhooks.new(partner) return setmetatable({ partner = partner, client = partner.client }, Webhooks) end

--- Every webhook topic, with hook_uri for the subscribed ones.
---@return ctct.schema.WebhooksSubscriptionCollection|nil data
---@return ctct.Response|ctct.Error response_or_err
function Webhooks:list() return self.client:call("getWebhooksCollection") end

local function with_topic(topic_id, f)
  local id, err = validate.topic_id(topic_id)
  if not id then return nil, err end
  return f(id)
end

--- One topic's subscription.
---@param topic_id integer|string a positive integer (1-4 today)
---@return ctct.schema.WebhooksSubscriptionResponse|nil data
---@return ctct.Response|ctct.Error response_or_err
function Webhooks:get(topic_id)
  return with_topic(topic_id, function(id) return self.client:call("getWebhooksTopic", { topic_id = id }) end)
end

--- Subscribe a callback URI (http or https) to a topic.
---@param topic_id integer|string a positive integer (1-4 today)
---@param callback_uri string an absolute http(s) URL
---@return ctct.schema.WebhooksSubscriptionPutResp|nil data
---@return ctct.Response|ctct.Error response_or_err
function Webhooks:subscribe(topic_id, callback_uri)
  return with_topic(topic_id, function(id)
    local uri, err = validate.callback_uri(callback_uri)
    if not uri then return nil, err end
    return self.client:call("putWebhooksTopic", { topic_id = id, body = { hook_uri = uri } })
  end)
end

--- Delete a topic's subscription.
---@param topic_id integer|string a positive integer (1-4 today)
---@return true|nil ok
---@return ctct.Response|ctct.Error response_or_err
function Webhooks:unsubscribe(topic_id)
  return with_topic(topic_id, function(id)
    return self.client:call("deleteWebhooksSubscriptions", { topic_id = id })
  end)
end

--- Have the API send a test notification of the topic to its callback URI.
---@param topic_id integer|string a positive integer (1-4 today)
---@return ctct.schema.WebhooksTestSend|nil data
---@return ctct.Response|ctct.Error response_or_err
function Webhooks:test_send(topic_id)
  return with_topic(topic_id, function(id) return self.client:call("testSendWebhooksTopic", { topic_id = id }) end)
end

--- A short example, shown in docs/API.md and run against the sandbox by the specs.
Webhooks.EXAMPLE = [==[
assert(partner.webhooks:subscribe(3, "https://example.com/hooks/ctct"))   -- 3: account.cancel
local topic = assert(partner.webhooks:get(3))
print(topic.topic_id, topic.hook_uri)
assert(partner.webhooks:unsubscribe(3))
]==]

return Webhooks
