-- examples/webhook_receiver.lua: check and read one partner webhook notification.
--
--   lua5.4 examples/webhook_receiver.lua body.json 'X-CTCT-WEBHOOK-SIG: <sig>' [...more headers]
--   ... | lua5.4 examples/webhook_receiver.lua - 'X-CTCT-WEBHOOK-SIG: <sig>'     (body on stdin)
--
-- The body must be the raw bytes as received (the signature covers them). The
-- key set comes from CTCT_WEBHOOK_JWKS_URL (default Constant Contact's); set
-- CTCT_WEBHOOK_HMAC_SECRET to accept legacy x-ctct-hmac-sha256 calls. With the
-- CTCT_PARTNER_* variables of examples/partner_provision.lua set, the event's
-- url is fetched with the partner's credentials. Exit status 0: authentic.
local webhooks = require "ctct.webhooks"

local source = arg[1] or "-"
local body
if source == "-" then
  body = io.read("*a")
else
  local f = assert(io.open(source, "rb"))
  body = f:read("*a")
  f:close()
end
local headers = {}
for i = 2, #arg do
  local name, value = arg[i]:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local event, err = webhooks.parse(body, headers, {
  jwks = os.getenv("CTCT_WEBHOOK_JWKS_URL"),
  secret = os.getenv("CTCT_WEBHOOK_HMAC_SECRET"),
})
if not event then
  io.stderr:write("webhook: rejected: ", tostring(err), "\n")
  os.exit(1)
end
print(("webhook: authentic %s (topic %s) for account %s at %s"):format(
  tostring(event.event_type), tostring(event.topic_id), tostring(event.account_id), tostring(event.time)))

if os.getenv("CTCT_PARTNER_CLIENT_ID") then
  local partner = require("ctct.partner").new {
    client_id = os.getenv("CTCT_PARTNER_CLIENT_ID"), secret = os.getenv("CTCT_PARTNER_SECRET"),
    api_key = os.getenv("CTCT_PARTNER_API_KEY"), token_url = os.getenv("CTCT_PARTNER_TOKEN_URL"),
    base_url = os.getenv("CTCT_BASE_URL"), cafile = os.getenv("CTCT_CAFILE"),
  }
  local details, ferr = event:fetch(partner) -- only from the API's own host
  if not details then
    io.stderr:write("webhook: could not fetch ", tostring(event.url), ": ", tostring(ferr), "\n")
    os.exit(1)
  end
  print("webhook: " .. require("ctct.json").encode(details))
end
