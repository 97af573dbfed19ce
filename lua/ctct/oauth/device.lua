--- ctct.oauth.device: the device flow (RFC 8628), for devices and CLIs: show the
-- user a code, poll the token endpoint at the server's interval until approval.
local core = require "ctct.core"
local errors = require "ctct.errors"
local options = require "ctct.options"
local request = require "ctct.oauth.request"

--- The device flow (ctct.oauth.device is the same function).
---@class ctct.oauth.device
---@field Device ctct.oauth.Device the class of a flow in progress
---@field device fun(opts: ctct.oauth.Options): ctct.oauth.Device?, ctct.Error? start it
local M = {}

--- A device flow in progress (RFC 8628): show verification_uri and user_code, then wait().
---@class ctct.oauth.Device
---@field user_code string the code the user enters
---@field verification_uri string where the user enters it
---@field verification_uri_complete? string the URI with the code in it
---@field expires_in integer seconds the code had left when the flow started
---@field interval number seconds between polls (the server's; slow_down adds 5)
---@field token_url string
---@field on_prompt? fun(device: ctct.oauth.Device) the flow's on_prompt option
local Device = {}
Device.__index = Device
M.Device = Device

--- Start the device flow (RFC 8628). opts: client_id, client_secret?, scope,
-- device_url, token_url | authz_url, transport, time, sleep, on_prompt.
-- Returns a device: fields user_code, verification_uri, verification_uri_complete,
-- expires_in, interval; methods poll() and wait{...}.
local function device(opts)
  if type(opts) ~= "table" then request.bad("options", "expected a table") end
  local client = request.client_of(opts)
  local transport = request.transport_of(opts)
  local time = request.wall_clock(opts, transport)
  local req = core.oauth_form_request(request.endpoint(opts, "device"), { scope = request.scope_string(opts) }, client)
  local status, decoded = request.send(transport, req)
  if not status then return nil, decoded end
  if status < 200 or status > 299 then
    local _, e = core.oauth_token(status, decoded, 0)
    return nil, request.auth_error(e)
  end
  local state, e = core.oauth_device(decoded, time())
  if not state then return nil, request.auth_error(e) end
  local info = state:info()
  return setmetatable({
    user_code = info.user_code,
    verification_uri = info.verification_uri,
    verification_uri_complete = info.verification_uri_complete,
    expires_in = math.floor(info.expires_at - time()),
    interval = info.interval,
    state = state, client = client, transport = transport, time = time,
    sleep = opts.sleep or transport.sleep or core.sleep,
    token_url = request.endpoint(opts, "token"),
    on_prompt = opts.on_prompt,
  }, Device)
end

--- One poll of the token endpoint. Returns the token, or nil and an error: with
--- `pending = true` (and error_key authorization_pending or slow_down) while the
--- user has not answered yet, final otherwise (access_denied, expired_token, ...).
---@return ctct.oauth.Tokens|nil token
---@return ctct.Error? err
function Device:poll()
  local status, decoded = request.send(self.transport, self.state:poll_request(self.token_url, self.client))
  if not status then return nil, decoded end
  local outcome, value = self.state:handle(status, decoded, self.time())
  if outcome == "token" then return value end
  if outcome == "pending" or outcome == "slow_down" then
    self.interval = self.state:info().interval
    return nil, errors.new { kind = "auth", pending = true,
      error_key = outcome == "pending" and "authorization_pending" or "slow_down",
      message = "OAuth: waiting for the user to approve (" .. outcome .. ")" }
  end
  return nil, request.auth_error(value)
end

--- Poll at the server's pace (slow_down adds 5 s) until the user approves,
--- denies, or the code expires. opts: on_prompt(device) called once first
--- (show verification_uri and user_code), timeout (seconds, besides the code's
--- own expiry), on_poll(err) after each pending answer. Raises on a bad option.
---@param opts? {on_prompt?: fun(device: ctct.oauth.Device), on_poll?: fun(err: ctct.Error), timeout?: number}
---@return ctct.oauth.Tokens|nil token
---@return ctct.Error? err
function Device:wait(opts)
  opts = options.check("ctct.oauth device:wait", opts,
    { on_prompt = "function", on_poll = "function", timeout = "number" }, 2)
  local prompt = opts.on_prompt or self.on_prompt
  if prompt then prompt(self) end
  local deadline = opts.timeout and self.time() + opts.timeout
  while true do
    local wait, e = self.state:wait_time(self.time())
    if not wait then return nil, request.auth_error(e) end
    if deadline and self.time() + wait > deadline then
      return nil, errors.new { kind = "timeout", message = "OAuth: gave up waiting for the device approval" }
    end
    if wait > 0 then self.sleep(wait) end
    local token, err = self:poll()
    if token then return token end
    if not err.pending then return nil, err end
    if opts.on_poll then opts.on_poll(err) end
  end
end

M.device = device

return M
