-- /account/summary: the account owner's details (definition Customer).
--   a:<account>:summary  -> Customer JSON (physical_address kept inside)
local store = require "sandbox.store"
local http = require "sandbox.http"
local util = require "sandbox.util"

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
  d.add(key, http.encode(summary))
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

_M.routes = {
  { "GET", "/account/summary", get_summary },
  { "PUT", "/account/summary", put_summary },
}

return _M
