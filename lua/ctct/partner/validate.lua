--- ctct.partner.validate: client-side checks of partner request bodies.
--
--   local ok, err = validate.provision(body)   -- every field rule of the spec's Provision
--   local ok, err = validate.plan(body)        -- PlanInfo
--   validate.account_id(id), validate.cancellation(body), validate.sso_user(body),
--   validate.unsubscribe(body), validate.topic_id(id), validate.callback_uri(uri)
--
-- Each checker looks at every field and reports ALL problems at once: nil and
-- one `validation` error whose `details` lists { field = ..., rule = ..., message = ... }
-- for each, and whose message names them all. Rules follow the spec's definitions
-- and the protocol reference (docs: ../shared/reference/ctct-v3-protocol.md).
local errors = require "ctct.errors"

local M = {}

-- US states, DC and the territories with USPS codes; Canadian provinces and territories.
local US = {}
for code in ([[AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM
  NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI UM AA AE AP]]):gmatch("%u%u") do
  US[code] = true
end
local CA = {}
for code in ("AB BC MB NB NL NS NT NU ON PE QC SK YT"):gmatch("%u%u") do CA[code] = true end
M.US_STATES, M.CA_PROVINCES = US, CA

M.PLAN_TYPES = { "TRIAL", "BRONZE", "SILVER", "GOLD" }
M.CANCEL_REASONS = { 1, 2, 3, 11, 12, 14, 21, 27, 30 }
M.SSO_ROLES = { "account_manager", "campaign_creator" }
M.UPDATE_SOURCES = { "Account", "Contact", "System" }
M.BILLING_LOCALES = { "en_US", "en_GB" }

-- A collector of problems for one body.
local function collector(what)
  local c = { what = what, details = {} }
  function c.add(field, rule, message)
    c.details[#c.details + 1] = { field = field, rule = rule, message = field .. " " .. message }
  end
  function c.result()
    if #c.details == 0 then return true end
    local parts = {}
    for i, d in ipairs(c.details) do parts[i] = d.message end
    local names = {}
    for i, d in ipairs(c.details) do names[i] = d.field end
    return nil, errors.new {
      kind = "validation", error_key = "invalid_" .. what, details = c.details, fields = names,
      message = what .. ": " .. #c.details .. " invalid field" .. (#c.details > 1 and "s" or "") .. ": " ..
        table.concat(parts, "; "),
    }
  end
  return c
end

local function one_of(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

local function email_ok(s)
  if #s > 254 or s:find("[%s%c]") then return false end
  local localpart, domain = s:match("^([^@]+)@([^@]+)$")
  if not localpart or #localpart > 64 then return false end
  return domain:match("^[%w-]+%.[%w.-]*%w$") ~= nil and not domain:find("..", 1, true)
end
M.email_ok = email_ok

-- A string field: type, length (min..max), then `extra(v)` -> rule, message.
local function string_field(c, body, name, spec)
  local v = body[name]
  if v == nil or v == "" then
    if spec.required then c.add(name, "required", "is required") end
    return nil
  end
  if type(v) ~= "string" then
    c.add(name, "type", "must be a string, got " .. type(v))
    return nil
  end
  local n = utf8 and utf8.len and utf8.len(v) or #v
  if (spec.min and n < spec.min) or (spec.max and n > spec.max) then
    if spec.min then
      c.add(name, "length", ("must be %d to %d characters, got %d"):format(spec.min, spec.max, n))
    else
      c.add(name, "length", ("must be at most %d characters, got %d"):format(spec.max, n))
    end
    return nil
  end
  if spec.check then
    local rule, message = spec.check(v)
    if rule then c.add(name, rule, message); return nil end
  end
  return v
end

local function boolean_field(c, body, name)
  local v = body[name]
  if v ~= nil and type(v) ~= "boolean" then c.add(name, "type", "must be true or false") end
end

local function integer_field(c, body, name, min, max)
  local v = body[name]
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= math.floor(v) then
    c.add(name, "type", "must be an integer")
    return nil
  end
  if (min and v < min) or (max and v > max) then
    c.add(name, "range", ("must be from %d to %d, got %d"):format(min, max, v))
    return nil
  end
  return v
end

local function unknown_fields(c, body, known)
  local extra = {}
  for k in pairs(body) do
    if not known[k] then extra[#extra + 1] = tostring(k) end
  end
  table.sort(extra)
  for _, k in ipairs(extra) do c.add(k, "unknown", "is not a field of this request") end
end

local function known_set(list)
  local set = {}
  for _, k in ipairs(list) do set[k] = true end
  return set
end

local function need_table(what, body)
  if type(body) ~= "table" then
    error("ctct.partner: bad argument '" .. what .. "': expected a table", 4)
  end
end

local function check_email(v)
  if not email_ok(v) then return "format", "must be an email address like name@example.com" end
end

local function check_website(v)
  if not (v:match("^https?://[%w.-]+%.[%a]+") or v:match("^https?://localhost")) or v:find("[%s%c]") then
    return "scheme", "must be a URL starting with http:// or https://"
  end
end

local function check_login(v)
  if v:find("[^%w%-_@%.%+]") then
    return "characters", "may only contain letters, digits and - _ @ . +"
  end
end

local PROVISION_FIELDS = known_set {
  "contact_email", "contact_phone", "country_code", "organization_name", "organization_phone", "state_code",
  "time_zone_id", "website", "login_name", "password", "first_name", "last_name", "partner_account_id",
  "billing_locale", "managed_site_owner", "enable_single_billing", "gdpr_opt_out", "external_id",
  "external_provider", "idp_provider", "idp_provider_id",
}

--- The Provision body of partner.accounts:create.
function M.provision(body)
  need_table("account", body)
  local c = collector("provision")
  string_field(c, body, "contact_email", { required = true, max = 80, check = check_email })
  string_field(c, body, "contact_phone", { min = 5, max = 25 })
  string_field(c, body, "organization_phone", { min = 5, max = 25 })
  string_field(c, body, "organization_name", { min = 1, max = 50 })
  string_field(c, body, "first_name", { min = 2, max = 80 })
  string_field(c, body, "last_name", { min = 2, max = 80 })
  string_field(c, body, "partner_account_id", { max = 80 })
  string_field(c, body, "external_id", { max = 255 })
  string_field(c, body, "external_provider", { max = 80 })
  string_field(c, body, "idp_provider", { max = 255 })
  string_field(c, body, "idp_provider_id", { max = 255 })
  string_field(c, body, "time_zone_id", { max = 100, check = function(v)
    if v:find("[%s%c]") then return "format", "must be a time zone name like US/Eastern" end
  end })
  string_field(c, body, "website", { max = 2048, check = check_website })
  string_field(c, body, "login_name", { required = true, min = 6, max = 50, check = check_login })
  string_field(c, body, "billing_locale", { check = function(v)
    if not one_of(M.BILLING_LOCALES, v) then return "enum", "must be en_US or en_GB" end
  end })
  local country = string_field(c, body, "country_code", { required = true, check = function(v)
    if not v:match("^%u%u$") then return "format", "must be a two-letter ISO 3166-1 code in capitals, like US" end
  end })

  -- state_code: required and checked for US and CA, blank elsewhere.
  local state = body.state_code
  if state ~= nil and type(state) ~= "string" then
    c.add("state_code", "type", "must be a string")
  elseif country == "US" or country == "CA" then
    local valid = country == "US" and US or CA
    if state == nil or state == "" then
      c.add("state_code", "required", "is required when country_code is " .. country)
    elseif not state:match("^%u%u$") then
      c.add("state_code", "format",
        "must be a two-letter code in capitals, like " .. (country == "US" and "MA" or "ON"))
    elseif not valid[state] then
      c.add("state_code", "unknown_state", "'" .. state .. "' is not a " ..
        (country == "US" and "US state" or "Canadian province") .. " code")
    end
  elseif country and state ~= nil and state ~= "" then
    c.add("state_code", "blank", "must be blank unless country_code is US or CA")
  end

  -- password: 8-80 characters, unless an external authenticator (SSO) is used.
  local sso = (body.external_id ~= nil and body.external_provider ~= nil)
           or (body.idp_provider ~= nil and body.idp_provider_id ~= nil)
  local password = body.password
  if sso then
    if password ~= nil then c.add("password", "sso", "must not be given with an external authenticator (SSO)") end
  elseif password == nil or password == "" then
    c.add("password", "required", "is required unless an external authenticator (SSO) is used")
  elseif type(password) ~= "string" then
    c.add("password", "type", "must be a string")
  else
    local n = utf8 and utf8.len and utf8.len(password) or #password
    if n < 8 or n > 80 then c.add("password", "length", "must be 8 to 80 characters") end
  end
  if (body.external_id == nil) ~= (body.external_provider == nil) then
    c.add(body.external_id == nil and "external_id" or "external_provider", "sso_pair",
      "is required with " .. (body.external_id == nil and "external_provider" or "external_id"))
  end

  for _, name in ipairs { "managed_site_owner", "enable_single_billing", "gdpr_opt_out" } do
    boolean_field(c, body, name)
  end
  unknown_fields(c, body, PROVISION_FIELDS)
  return c.result()
end

--- PlanInfo, for partner.accounts:set_plan.
function M.plan(body)
  need_table("plan", body)
  local c = collector("plan")
  string_field(c, body, "plan_type", { check = function(v)
    if not one_of(M.PLAN_TYPES, v) then return "enum", "must be one of " .. table.concat(M.PLAN_TYPES, ", ") end
  end })
  integer_field(c, body, "plan_group_id", 0, 2147483647)
  integer_field(c, body, "billing_day_of_month", 1, 31)
  unknown_fields(c, body, known_set { "plan_type", "plan_group_id", "billing_day_of_month" })
  if next(body) == nil then c.add("plan_type", "required", "or plan_group_id is required") end
  return c.result()
end

--- AccountCancellation, for partner.accounts:cancel.
function M.cancellation(body)
  need_table("reason", body)
  local c = collector("cancellation")
  local v = body.reason_id
  if v ~= nil and not one_of(M.CANCEL_REASONS, v) then
    c.add("reason_id", "enum", "must be one of 1, 2, 3, 11, 12, 14, 21, 27, 30")
  end
  string_field(c, body, "effective_date", { check = function(d)
    if not d:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d") then
      return "format", "must be an ISO 8601 date-time like 2026-02-06T22:09:15.000Z"
    end
  end })
  unknown_fields(c, body, known_set { "reason_id", "effective_date" })
  return c.result()
end

--- SSOUser, for partner.accounts:create_sso_user.
function M.sso_user(body)
  need_table("user", body)
  local c = collector("sso_user")
  string_field(c, body, "first_name", { required = true, max = 80 })
  string_field(c, body, "last_name", { required = true, max = 80 })
  string_field(c, body, "role_name", { required = true, check = function(v)
    if not one_of(M.SSO_ROLES, v) then return "enum", "must be account_manager or campaign_creator" end
  end })
  string_field(c, body, "contact_email", { required = true, max = 80, check = check_email })
  string_field(c, body, "login_name", { required = true, max = 50, check = check_login })
  string_field(c, body, "external_id", { required = true, max = 255 })
  string_field(c, body, "external_provider", { required = true, max = 80 })
  unknown_fields(c, body, known_set { "first_name", "last_name", "role_name", "contact_email", "login_name",
                                      "external_id", "external_provider" })
  return c.result()
end

--- The body of partner.accounts:unsubscribe_contacts.
function M.unsubscribe(body)
  need_table("body", body)
  local c = collector("unsubscribe")
  string_field(c, body, "update_source", { required = true, check = function(v)
    if not one_of(M.UPDATE_SOURCES, v) then return "enum", "must be Account, Contact or System" end
  end })
  string_field(c, body, "opt_out_reason", { max = 255 })
  boolean_field(c, body, "delete_contacts")
  boolean_field(c, body, "global_unsubscribe")
  local emails = body.email_addresses
  if emails ~= nil then
    if type(emails) ~= "table" or (next(emails) ~= nil and #emails == 0) then
      c.add("email_addresses", "type", "must be a list of email addresses")
    elseif #emails > 500 then
      c.add("email_addresses", "length", "takes at most 500 addresses, got " .. #emails)
    else
      for i, e in ipairs(emails) do
        if type(e) ~= "string" or not email_ok(e) then
          c.add("email_addresses", "format", "item " .. i .. " is not an email address")
          break
        end
      end
      if body.global_unsubscribe == true and #emails ~= 1 then
        c.add("email_addresses", "global_unsubscribe", "must hold exactly one address with global_unsubscribe")
      end
    end
  end
  unknown_fields(c, body, known_set { "email_addresses", "update_source", "opt_out_reason", "delete_contacts",
                                      "global_unsubscribe" })
  return c.result()
end

--- An encoded_account_id: 10 to 20 lower-case letters and digits.
function M.account_id(id)
  if type(id) ~= "string" or #id < 10 or #id > 20 or id:find("[^a-z0-9]") then
    local shown = type(id) == "string" and ("'" .. errors.snippet(id, 40) .. "'") or type(id)
    return nil, errors.new { kind = "validation", error_key = "invalid_parameter", param = "encoded_account_id",
      details = { { field = "encoded_account_id", rule = "format" } },
      message = "encoded_account_id must be 10 to 20 lower-case letters and digits, got " .. shown }
  end
  return id
end

--- A webhook topic id: a positive integer (1-4 today).
function M.topic_id(id)
  local n = tonumber(id)
  if not n or n ~= math.floor(n) or n < 1 or n > 1000 then
    return nil, errors.new { kind = "validation", error_key = "invalid_parameter", param = "topic_id",
      details = { { field = "topic_id", rule = "format" } },
      message = "topic_id must be a positive integer (1 tier.increase, 2 tier.decrease, 3 account.cancel, " ..
        "4 account.disable), got " .. tostring(id) }
  end
  return string.format("%d", n)
end

--- A webhook callback URI: an absolute http(s) URL.
function M.callback_uri(uri)
  if type(uri) ~= "string" or not uri:match("^https?://[^/%s?#]+") or uri:find("[%s%c]") or #uri > 2048 then
    return nil, errors.new { kind = "validation", error_key = "invalid_parameter", param = "callback_uri",
      details = { { field = "callback_uri", rule = "scheme" } },
      message = "callback_uri must be an absolute http:// or https:// URL" }
  end
  return uri
end

return M
