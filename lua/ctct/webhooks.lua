--- ctct.webhooks: is this webhook call really from Constant Contact?
--
--   local ok, err = webhooks.verify(raw_body, headers, { jwks = ..., secret = ... })
--   local event, err = webhooks.parse(raw_body, headers, { jwks = ... })  -- verify + read a notification
--   local details = event:fetch(partner)                                   -- GET event.url as the partner
--
-- V3 notifications carry `X-CTCT-WEBHOOK-SIG`: a JWS with a detached, unencoded
-- payload (RFC 7515 + RFC 7797): its protected header has alg (RS256), kid,
-- `ts` (Unix time of the call), `b64: false` and `crit: ["b64"]`. The signing
-- input is BASE64URL(protected header) || "." || the raw body bytes, so the
-- body must be passed exactly as received, before any JSON decoding.
-- Legacy (V2) calls carry `x-ctct-hmac-sha256`: base64 of HMAC-SHA256 over the
-- body, keyed with the API secret; it is compared in constant time.
local core = require "ctct.core"
local errors = require "ctct.errors"
local json = require "ctct.json"
local jwks = require "ctct.jwks"
local options = require "ctct.options"

---@class ctct.webhooks
---@field DEFAULT_JWKS_URL string Constant Contact's webhook key set
---@field DEFAULT_TOLERANCE integer seconds a signature's `ts` may differ from now (300)
---@field SIGNATURE_HEADER string "x-ctct-webhook-sig" (V3 JWS signature)
---@field LEGACY_HEADER string "x-ctct-hmac-sha256" (legacy V2 HMAC)
---@field OPTIONS table<string, string> verify's option names -> their types (ctct.options rules)
---@field PARSE_OPTIONS table<string, string> parse's option names -> their types (ctct.options rules)
---@field Event ctct.webhooks.Event the class of parsed notifications
local M = {}

M.DEFAULT_JWKS_URL = "https://developer.constantcontact.com/.well-known/jwks.json"
M.DEFAULT_TOLERANCE = 300
M.SIGNATURE_HEADER = "x-ctct-webhook-sig"
M.LEGACY_HEADER = "x-ctct-hmac-sha256"

-- Header parameters we understand, and so may appear in `crit`.
local UNDERSTOOD = { b64 = true, ts = true }

local function reject(reason, message)
  return nil, errors.new { kind = "auth", error_key = "invalid_webhook_signature", reason = reason,
                           message = "webhook rejected (" .. reason .. "): " .. message }
end

-- A header by name, whatever case the server framework gave it. Several values
-- of one signature header are refused rather than guessed between.
local function header(headers, name)
  local found
  for k, v in pairs(headers) do
    if type(k) == "string" and k:lower() == name then
      if found ~= nil or type(v) ~= "string" then return nil, true end
      found = v
    end
  end
  return found
end

local function verify_jws(body, sig, opts)
  if #sig > 16384 then return reject("malformed", "signature header too large") end
  local header_json = core.jws_decode(sig)
  if not header_json then return reject("malformed", "the signature is not a compact JWS") end
  local h = json.decode(header_json)
  if type(h) ~= "table" then return reject("malformed", "the protected header is not a JSON object") end
  local allowed = opts.algorithms or { "RS256" }
  local alg_ok = false
  for _, a in ipairs(allowed) do
    if a == h.alg then alg_ok = true end
  end
  if h.alg == "none" or not alg_ok then
    return reject("alg_not_allowed", "'" .. tostring(h.alg) .. "' is not one of " .. table.concat(allowed, ", "))
  end
  if type(h.crit) ~= "table" then return reject("crit", "'crit' must list 'b64'") end
  local lists_b64 = false
  for _, name in ipairs(h.crit) do
    if not UNDERSTOOD[name] then
      return reject("crit_unknown", "unknown critical parameter '" .. tostring(name) .. "'")
    end
    if name == "b64" then lists_b64 = true end
  end
  if not lists_b64 or h.b64 ~= false then
    return reject("b64", "the signature must cover the raw body (b64: false, crit: [\"b64\"])")
  end
  if type(h.ts) ~= "number" then return reject("stale", "no 'ts' timestamp in the signature") end
  local now = opts.now
  if type(now) == "function" then now = now() end
  now = now or core.time()
  local tolerance = opts.tolerance or M.DEFAULT_TOLERANCE
  if math.abs(now - h.ts) > tolerance then
    return reject("stale", ("signed %d s from now; tolerance %d s"):format(math.floor(h.ts - now), tolerance))
  end
  if type(h.kid) ~= "string" then return reject("kid_missing", "the signature names no key") end
  local set = jwks.from(opts.jwks or M.DEFAULT_JWKS_URL, { shared_dict = opts.jwks_shared_dict })
  local key, err = set:key(h.kid)
  if not key then return reject(err.reason, err.message) end
  local ok, why = core.jws_verify_detached(sig, body, h.alg, key)
  if not ok then return reject("signature", why) end
  return true, { method = "jws", kid = h.kid, ts = h.ts, alg = h.alg }
end

local function verify_legacy(body, mac_b64, opts)
  if type(opts.secret) ~= "string" or opts.secret == "" then
    return reject("secret_required", "an x-ctct-hmac-sha256 call needs opts.secret (the API secret)")
  end
  local mac = core.b64_decode(mac_b64)
  local expected = core.hmac_sha256(opts.secret, body)
  if not mac or not core.equal(mac, expected) then
    return reject("signature", "the HMAC does not match the body")
  end
  return true, { method = "hmac" }
end

-- verify's options (see M.verify) and their types (ctct.options rules).
local VERIFY_OPTIONS = { jwks = "string|table", jwks_shared_dict = "string", tolerance = "number",
                         now = "number|function", algorithms = "table", secret = "string", legacy = "boolean" }
M.OPTIONS = VERIFY_OPTIONS
-- parse's own name for the secret was hmac_secret: say so rather than drop it.
local RENAMED = { hmac_secret = "secret" }

---@class ctct.webhooks.Verified
---@field method 'jws'|'hmac' how the call was signed
---@field kid? string the key that signed it (jws)
---@field ts? number Unix time of the call, from the signature (jws)
---@field alg? string the signature algorithm (jws)

--- Verify a webhook call. body: the raw request body (string, as received);
--- headers: the request headers (any case). opts:
---   jwks       the webhook key set: ctct.jwks object, JWKS table or URL
---              (default Constant Contact's)
---   jwks_shared_dict  in nginx: the lua_shared_dict that shares a fetched URL
---              key set between workers (one fetch per TTL, not one per worker)
---   tolerance  seconds a `ts` may differ from now (default 300)
---   now        Unix time or a function returning it
---   algorithms allowed algorithms (default { "RS256" })
---   secret     the API secret, for legacy x-ctct-hmac-sha256 calls
---   legacy     false to refuse legacy calls
--- Returns true, { method = "jws"|"hmac", kid, ts } or nil and an `auth` error
--- with `reason`. Raises when body is not a string or headers not a table.
---@param body string the raw request body, exactly as received
---@param headers table<string, string|string[]> the request headers (any case; a signature header must be single)
---@param opts? ctct.webhooks.Options
---@return true|nil ok
---@return ctct.webhooks.Verified|ctct.Error info_or_err
function M.verify(body, headers, opts)
  if type(body) ~= "string" then
    error("ctct.webhooks.verify: body must be the raw request body string, got " .. type(body), 2)
  end
  if type(headers) ~= "table" then error("ctct.webhooks.verify: headers must be a table", 2) end
  opts = options.check("ctct.webhooks.verify", opts, VERIFY_OPTIONS, 2, RENAMED)
  local sig, several = header(headers, M.SIGNATURE_HEADER)
  if several then return reject("malformed", "more than one X-CTCT-WEBHOOK-SIG header") end
  if sig then return verify_jws(body, sig, opts) end
  local mac
  mac, several = header(headers, M.LEGACY_HEADER)
  if several then return reject("malformed", "more than one x-ctct-hmac-sha256 header") end
  if mac and opts.legacy ~= false then return verify_legacy(body, mac, opts) end
  return reject("missing_signature", "no X-CTCT-WEBHOOK-SIG header")
end


-- Notifications (partner webhooks) -----------------------------------------------------

---@class ctct.webhooks.Event
---@field event_type? string e.g. "tier.increase", "account.cancel"
---@field topic_id? integer|string the topic (an integer when numeric: 1 tier.increase ... 4 account.disable)
---@field url? string the resource the event is about (event:fetch GETs it)
---@field time? string when it happened (ISO 8601)
---@field account_id? string the encoded_account_id concerned
---@field raw table<string, ctct.json.Value> the whole decoded JSON body
---@field verified ctct.webhooks.Verified how the signature was checked
local Event = {}
Event.__index = Event
M.Event = Event

local EVENT_FIELDS = { "event_type", "topic_id", "url", "time", "account_id" }

-- parse's options (see M.parse): verify's but legacy.
local PARSE_OPTIONS = {}
for k, v in pairs(VERIFY_OPTIONS) do PARSE_OPTIONS[k] = v end
PARSE_OPTIONS.legacy = nil -- parse accepts legacy calls exactly when given the secret
M.PARSE_OPTIONS = PARSE_OPTIONS

--- Verify a notification and read it. body: the raw request body; headers: the
--- request headers (any case). opts: as for verify (jwks, jwks_shared_dict,
--- tolerance, now, algorithms), and secret (the API secret) to accept legacy
--- x-ctct-hmac-sha256 calls (refused without it).
--- Returns an event { event_type, topic_id, url, time, account_id, raw (the decoded
--- JSON), verified = { method, kid, ts } } or nil, err: kind "auth" for a missing
--- or wrong signature, "protocol" for a body that is not a JSON object.
--- Raises when body is not a string or headers not a table.
---@param body string the raw request body, exactly as received
---@param headers table<string, string|string[]> the request headers (any case; a signature header must be single)
---@param opts? ctct.webhooks.ParseOptions
---@return ctct.webhooks.Event|nil event
---@return ctct.Error? err
function M.parse(body, headers, opts)
  if type(body) ~= "string" then
    error("ctct.webhooks.parse: body must be the raw request body string, got " .. type(body), 2)
  end
  if type(headers) ~= "table" then error("ctct.webhooks.parse: headers must be a table", 2) end
  opts = options.check("ctct.webhooks.parse", opts, PARSE_OPTIONS, 2, RENAMED)
  local vopts = {}
  for k, v in pairs(opts) do vopts[k] = v end
  vopts.legacy = opts.secret ~= nil
  local ok, info = M.verify(body, headers, vopts)
  if not ok then return nil, info end
  local decoded = json.decode(body)
  if type(decoded) ~= "table" then
    return nil, errors.new { kind = "protocol", error_key = "invalid_webhook_body",
      message = "the webhook body is not a JSON object: " .. errors.snippet(body, 80) }
  end
  local event = { raw = decoded, verified = info }
  for _, k in ipairs(EVENT_FIELDS) do
    local v = decoded[k]
    if v ~= json.null then event[k] = v end
  end
  local topic = tonumber(event.topic_id)
  if topic and topic == math.floor(topic) then
    event.topic_id = math.tointeger and math.tointeger(topic) or topic -- 3, not 3.0
  end
  return setmetatable(event, Event)
end

--- "ctct.webhooks.Event(<event_type>, topic <topic_id>)".
---@return string
function Event:__tostring()
  return "ctct.webhooks.Event(" .. tostring(self.event_type) .. ", topic " .. tostring(self.topic_id) .. ")"
end

--- GET the resource the event points at (event.url) with partner credentials.
--- Only a URL on the partner client's own API origin and base path is fetched:
--- anything else is refused (nil, validation error), so a forged or mistaken
--- notification cannot send the partner token elsewhere.
--- Raises when partner is not a partner (or client) object.
---@param partner ctct.Partner|ctct.Client the partner (a ctct.Client works too)
---@param opts? ctct.RequestOptions
---@return table|string|true|nil data decoded JSON, the text with raw, true for an empty body
---@return ctct.Response|ctct.Error response_or_err
function Event:fetch(partner, opts)
  if type(partner) ~= "table" or type(partner.request) ~= "function" then
    error("ctct.webhooks: event:fetch(partner) needs the ctct.partner object", 2)
  end
  local client = partner.client or partner
  if type(self.url) ~= "string" or self.url == "" then
    return nil, errors.new { kind = "validation", error_key = "invalid_event_url",
      message = "the event has no url to fetch" }
  end
  local path, why = client:link_path(self.url)
  if not path then
    return nil, errors.new { kind = "validation", error_key = "invalid_event_url",
      message = "refusing to fetch the event url: " .. why .. " (only " .. client.base_url .. " is trusted)" }
  end
  return partner:request("GET", path, opts)
end

return M
