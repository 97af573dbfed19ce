-- /account/summary, its physical address and /account/user/privileges (definitions
-- Customer, CustomerPut, AccountPhysicalAddress, UserPrivilegesResource).
--   a:<account>:summary  -> Customer JSON (physical_address kept inside)
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"
local check = require "sandbox.check"
local account_emails = require "sandbox.resources.account_emails"

local d = store.d

local _M = {}

local ERR = "account.api.validation.error"

local function summary_key(account) return store.key(account, "summary") end

-- Creates the account's summary on first use (idempotent).
function _M.ensure(account)
  local key = summary_key(account)
  if d.get(key) then return end
  local summary = {
    encoded_account_id = util.random_id(14),
    first_name = "Sandbox",
    last_name = "Owner",
    contact_email = "owner@" .. account .. ".example.com",
    contact_phone = "5555550100",
    country_code = "US",
    state_code = "MA",
    organization_name = "Sandbox " .. account,
    organization_phone = "555-555-0100",
    website = "https://" .. account .. ".example.com",
    time_zone_id = "US/Eastern",
    physical_address = {
      address_line1 = "1601 Trapelo Road",
      city = "Waltham",
      state_code = "MA",
      postal_code = "02451",
      country_code = "US",
    },
  }
  if d.add(key, http.encode(summary)) then
    -- The owner's contact email is a confirmed account email from the start, so a
    -- campaign can use it as from_email right away.
    account_emails.seed(account, summary.contact_email)
  end
end

-- The summary of an account (created on first use).
function _M.summary(account)
  _M.ensure(account)
  return d.get_json(summary_key(account))
end

-- Fields CustomerPut lets a client change, with their maximum lengths.
local WRITABLE = {
  contact_email = 80, contact_phone = 25, country_code = 2, first_name = 50, last_name = 50,
  organization_name = 100, organization_phone = 25, state_code = 2, time_zone_id = 50,
  website = 255,
}

local EXTRA_FIELDS = { physical_address = true, company_logo = true }

local function render(summary, extra)
  local out = util.copy(summary)
  for name in pairs(EXTRA_FIELDS) do
    if not extra[name] then out[name] = nil end
  end
  return out
end

local function get_summary(req)
  _M.ensure(req.account)
  local extra = {}
  if req.args.extra_fields then
    for _, name in ipairs(util.split_csv(req.args.extra_fields)) do
      if not EXTRA_FIELDS[name] then
        http.fail(400, ERR, "extra_fields does not have a valid value: '" .. name .. "'")
      end
      extra[name] = true
    end
  end
  return 200, render(d.get_json(summary_key(req.account)), extra)
end

local function put_summary(req)
  local body = req:json()
  _M.ensure(req.account)
  local summary = d.get_json(summary_key(req.account))
  for name, value in pairs(body) do
    local max = WRITABLE[name]
    if max then
      if type(value) ~= "string" then
        http.fail(400, ERR, name .. " must be a string")
      elseif #value > max then
        http.fail(400, ERR, name .. " must be at most " .. max .. " characters")
      end
      summary[name] = value
    end
    -- encoded_account_id and unknown fields are read-only / ignored, like the API.
  end
  if summary.country_code == "US" and (summary.state_code == nil or summary.state_code == "") then
    http.fail(400, ERR, "state_code is required when country_code is US")
  end
  d.set_json(summary_key(req.account), summary)
  return 200, render(summary, {})
end

---------------------------------------------------------------------------------------
-- Physical address (kept in the summary; every account starts with one).

local v = check.new(ERR)

local US_CA = { US = true, CA = true }

-- AccountPhysicalAddress from a body: address_line1, city and country_code required;
-- US and CA addresses need state_code, others may give state_name.
local function address_input(body)
  local a = {
    address_line1 = v:string(body, "address_line1", { required = true, min = 1, max = 80 }),
    address_line2 = v:string(body, "address_line2", { min = 1, max = 80 }),
    address_line3 = v:string(body, "address_line3", { min = 1, max = 80 }),
    city = v:string(body, "city", { required = true, max = 50 }),
    state_code = v:string(body, "state_code", { max = 2 }),
    state_name = v:string(body, "state_name", { max = 50 }),
    postal_code = v:string(body, "postal_code", { max = 25 }),
    country_code = v:string(body, "country_code", { required = true }),
  }
  if not a.country_code:match("^%u%u$") then v:fail("country_code must be an ISO 3166 two-letter code") end
  if US_CA[a.country_code] then
    if not a.state_code or not a.state_code:match("^%u%u$") then
      v:fail("state_code is required (two letters) when country_code is " .. a.country_code)
    end
    if a.state_name then v:fail("state_name must be left out when country_code is " .. a.country_code) end
  end
  return a
end

local function get_address()
  return function(req)
    local summary = _M.summary(req.account)
    if not summary.physical_address then
      http.fail(404, "account.api.not.found", "The account has no physical address")
    end
    return 200, summary.physical_address
  end
end

-- POST and PUT both set the whole address (POST answers 201).
local function set_address(status)
  return function(req)
    local address = address_input(req:json())
    local summary = _M.summary(req.account)
    summary.physical_address = address
    d.set_json(summary_key(req.account), summary)
    return status, address
  end
end

-- The privileges of the sandbox user: an account owner's (static).
local PRIVILEGES = {
  "account:read", "account:update", "account:billing", "contacts:read", "contacts:write",
  "contacts:lists:write", "contacts:export", "campaign:read", "campaign:create", "campaign:send",
  "campaign:delete", "campaign:metrics", "reporting:read", "ui:library:read", "ui:library:write",
  "events:read", "events:write", "social:read", "social:write", "automation:read", "automation:write",
}

local function privileges()
  local out = {}
  for i, name in ipairs(PRIVILEGES) do out[i] = { privilege_id = i, privilege_name = name } end
  return 200, out
end

_M.handlers = {
  get_summary = get_summary,
  put_summary = put_summary,
  get_address = get_address(),
  post_address = set_address(201),
  put_address = set_address(200),
  privileges = privileges,
}

return _M
