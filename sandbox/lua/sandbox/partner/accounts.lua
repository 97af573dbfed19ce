-- Partner client accounts: provisioning rules, the records, plans and tiers.
--   partner:acct:<encoded_account_id>    -> JSON record (below)
--   partner:<client_id>:accounts:n       -> how many accounts the partner provisioned
--   partner:<client_id>:account:<i>      -> the i-th one's encoded_account_id
--   partner:login:<login_name, lower>    -> encoded_account_id (login names are unique,
--                                           provisioned owners and SSO users alike)
-- Each client account is also a real sandbox account named by its encoded_account_id,
-- so a token added for that name (POST /__sandbox/tokens) acts for it on /v3.
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"
local check = require "sandbox.check"
local account = require "sandbox.resources.account"
local contacts = require "sandbox.resources.contacts"

local m = store.m
local d = store.d

local _M = {}

_M.ERR = "partner.api.validation.error"
_M.NOT_FOUND = "partner.api.not.found"
_M.CONFLICT = "partner.api.conflict"
_M.FORBIDDEN = "partner.api.forbidden"

local function acct_key(id) return "partner:acct:" .. id end
local function login_key(login) return "partner:login:" .. login:lower() end

-- encoded_account_id: 10-20 lower-case letters and digits.
function _M.valid_id(id)
  return type(id) == "string" and #id >= 10 and #id <= 20 and id:match("^[a-z0-9]+$") ~= nil
end

function _M.get(id)
  return m.get_json(acct_key(id))
end

function _M.save(record)
  m.set_json(acct_key(record.encoded_account_id), record)
end

-- The client account named in the path: 400 when the id is malformed, 404 when there
-- is no such account. opts.own: 400 when another partner's (cancelAccount's rule);
-- opts.managed: 403 when another partner's or unmanaged (sync's rule). By default
-- another partner's account is a 404.
function _M.find(partner, id, opts)
  opts = opts or {}
  if not _M.valid_id(id) then
    http.fail(400, _M.ERR, "encoded_account_id must be 10-20 lower-case letters and digits, got '"
      .. tostring(id) .. "'")
  end
  local record = _M.get(id)
  if record and record.partner ~= partner.client_id then
    if opts.own then http.fail(400, _M.ERR, "Account " .. id .. " belongs to another partner") end
    if opts.managed then http.fail(403, _M.FORBIDDEN, "Account " .. id .. " is not managed by this partner") end
    record = nil
  end
  if not record then http.fail(404, _M.NOT_FOUND, "Client account " .. id .. " not found") end
  if opts.managed and not record.managed then
    http.fail(403, _M.FORBIDDEN, "Account " .. id .. " is not a managed account")
  end
  return record
end

-- The partner's accounts, in the order they were provisioned.
function _M.list(partner)
  local prefix = "partner:" .. partner.client_id .. ":account"
  local out = {}
  for i = 1, m.get(prefix .. "s:n") or 0 do
    local id = m.get(prefix .. ":" .. i)
    local record = id and _M.get(id)
    if record then out[#out + 1] = record end
  end
  return out
end

-- Claims a login name for an account or SSO user; false when it is taken.
function _M.claim_login(login, id)
  return m.add(login_key(login), id)
end

---------------------------------------------------------------------------------------
-- Provision: every rule checked, every broken one reported (APIErrorSchema array).

local LOGIN = "^[%w%-_@%.%+]+$"
local LOCALES = check.set({ "en_US", "en_GB" })

local function blank(v) return check.absent(v) or (type(v) == "string" and util.trim(v) == "") end

local function validate(body)
  local errors = {}
  local function bad(message) errors[#errors + 1] = { error_key = _M.ERR, error_message = message } end
  local function str(name, min, max, required)
    local v = body[name]
    if blank(v) then
      if required then bad(name .. " is required") end
      return nil
    end
    if type(v) ~= "string" then
      bad(name .. " must be a string")
      return nil
    end
    if (min and #v < min) or (max and #v > max) then
      bad(name .. " must be " .. (min or 0) .. "-" .. max .. " characters long")
      return nil
    end
    return v
  end
  local function bool(name)
    local v = body[name]
    if check.absent(v) then return nil end
    if type(v) ~= "boolean" then bad(name .. " must be true or false") return nil end
    return v
  end

  local email = str("contact_email", nil, 80, true)
  if email and not check.is_email(email) then bad("contact_email must be a valid email address") end
  local country = str("country_code", 2, 3, true)
  if country then
    if not country:match("^%a%a$") then
      bad("country_code must be a two-letter ISO 3166-1 country code")
      country = nil
    else
      country = country:upper()
    end
  end
  local state = body.state_code
  if country == "US" or country == "CA" then
    if blank(state) then
      bad("state_code is required when country_code is " .. country)
    elseif type(state) ~= "string" or not state:match("^%a%a$") then
      bad("state_code must be a two-letter state or province code")
    end
  elseif not blank(state) then
    bad("state_code must be blank when country_code is not US or CA")
  end
  local login = str("login_name", 6, 50, true)
  if login and not login:match(LOGIN) then
    bad("login_name may only contain letters, digits and '-', '_', '@', '.', '+'")
  end
  local sso = not blank(body.external_id) and not blank(body.external_provider)
    or not blank(body.idp_provider) and not blank(body.idp_provider_id)
  str("password", 8, 80, not sso)
  str("contact_phone", 5, 25)
  str("organization_phone", 5, 25)
  str("organization_name", 1, 50)
  str("first_name", 2, 80)
  str("last_name", 2, 80)
  str("partner_account_id", nil, 80)
  str("external_id", nil, 255)
  str("external_provider", nil, 80)
  str("time_zone_id", nil, 80)
  local website = str("website", nil, 255)
  if website and not website:match("^[Hh][Tt][Tt][Pp][Ss]?://[^%s]+$") then
    bad("website must be a URL starting with http:// or https://")
  end
  local locale = str("billing_locale", nil, 5)
  if locale and not LOCALES[locale] then bad("billing_locale must be en_US or en_GB") end
  bool("managed_site_owner")
  bool("enable_single_billing")
  bool("gdpr_opt_out")

  if #errors > 0 then http.fail_body(400, errors) end
  return { country = country, state = (not blank(state)) and state:upper() or nil, login = login, sso = sso }
end

-- A fresh encoded_account_id (18 characters, like "a07e1ikxyomhd4la0o").
local function new_id()
  for _ = 1, 10 do
    local id = "a07e1" .. util.random_id(13)
    if not _M.get(id) and not d.get(store.key(id, "summary")) then return id end
  end
  error("partner: cannot make a fresh encoded_account_id")
end

-- Creates a client account for partner from a Provision body; returns its record.
function _M.provision(partner, body)
  local v = validate(body)
  local id = new_id()
  if not _M.claim_login(v.login, id) then
    http.fail(409, _M.CONFLICT, "The login_name '" .. v.login .. "' is already in use")
  end
  -- The sandbox account behind it, with the provisioned owner's details.
  account.ensure(id)
  local summary = account.summary(id)
  summary.encoded_account_id = id
  for _, name in ipairs({ "contact_email", "contact_phone", "first_name", "last_name", "organization_name",
                          "organization_phone", "website", "time_zone_id" }) do
    if not blank(body[name]) then summary[name] = body[name] end
  end
  summary.country_code, summary.state_code = v.country, v.state
  d.set_json(store.key(id, "summary"), summary)

  local now = util.now_iso()
  local record = {
    encoded_account_id = id,
    provision_uuid = util.uuid(),
    partner = partner.client_id,
    -- managed_site_owner defaults to true; false makes an unmanaged account.
    managed = body.managed_site_owner ~= false,
    login_name = v.login,
    contact_email = body.contact_email,
    organization_name = not blank(body.organization_name) and body.organization_name or nil,
    partner_account_id = not blank(body.partner_account_id) and body.partner_account_id or nil,
    billing_locale = not blank(body.billing_locale) and body.billing_locale or "en_US",
    single_billing = body.enable_single_billing == true,
    sso = v.sso,
    billing_status = "Trial",
    plan_type = "TRIAL",
    created_at = now,
  }
  _M.save(record)
  local prefix = "partner:" .. partner.client_id .. ":account"
  local n = m.incr(prefix .. "s:n", 1, 0)
  m.set(prefix .. ":" .. n, id)
  return record
end

---------------------------------------------------------------------------------------
-- Plans and tiers.

-- Plan types a partner plan group offers (TRIAL only before a paid plan is chosen).
_M.PLANS = check.set({ "TRIAL", "BRONZE", "SILVER", "GOLD" })
local PRICES = { TRIAL = 0, BRONZE = 12, SILVER = 20, GOLD = 80 }
local TIERS = { 500, 2500, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000, 50000 }

local function active(c)
  if c.deleted_at or not c.email_address then return false end
  local p = c.email_address.permission_to_send
  return p == "explicit" or p == "implicit"
end

-- Active (subscribed, not deleted) contacts of the client account.
function _M.subscriber_count(id)
  return contacts.collection:count_matching(id, active)
end

function _M.tier_of(usage)
  local min = 0
  for level, max in ipairs(TIERS) do
    if usage <= max then return level, min, max end
    min = max + 1
  end
  return #TIERS + 1, min, min * 2
end

-- PlanTiersObject
function _M.plan(record)
  local usage = _M.subscriber_count(record.encoded_account_id)
  local level, min, max = _M.tier_of(usage)
  return {
    plan_type = record.plan_type,
    billing_status = record.billing_status,
    billing_day_of_month = record.billing_day_of_month or http.null,
    current_tiers = {
      {
        usage_type = "CONTACTS", current_usage = usage, tier = level, tier_min = min, tier_max = max,
        price = PRICES[record.plan_type] * level,
        currency_code = record.billing_locale == "en_GB" and "GBP" or "USD",
      },
    },
  }
end

return _M
