--- ctct_example.webhook: the partner webhook receiver (POST /hooks/ctct).
-- The signature is verified (ctct.webhooks.parse) against the webhook key set,
-- fetched through the ngx transport and cached for its TTL in a shared dict.
local webhooks = require "ctct.webhooks"
local config = require "ctct_example.config"

local M = {}

function M.handle()
  if ngx.req.get_method() ~= "POST" then return ngx.exit(405) end
  ngx.req.read_body()
  local body = ngx.req.get_body_data()   -- client_body_buffer_size keeps it in memory
  if not body then return ngx.exit(400) end
  local event, err = webhooks.parse(body, ngx.req.get_headers(), {
    jwks = config.webhook_keys(),   -- fetched once per TTL for all workers
  })
  if not event then
    ngx.log(ngx.WARN, "ctct webhook rejected: ", err.reason or err.kind, ": ", err.message)
    return config.json(err.kind == "auth" and 401 or 400, { error = err.reason or err.kind })
  end
  ngx.log(ngx.NOTICE, "ctct webhook: ", event.event_type, " for account ", event.account_id)
  -- Hand the event to the application here. Fetching event.url (event:fetch(partner))
  -- can run right here or in ngx.timer.at: both have cosockets.
  return config.json(200, { received = event.event_type, account_id = event.account_id })
end

return M
