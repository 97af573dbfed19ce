-- /partner/accounts...: the Technology Partners operations (getPartnerSiteOwners,
-- provision, partnerAccountOperationsPostSync, partnerUnsubscribeContacts, getPlan,
-- setPlan, cancelAccount, createSSOUser). Handlers get req.partner (the partner
-- client the token was issued to; see sandbox/partner/auth.lua) and no req.account.
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local check = require "sandbox.check"
local accounts = require "sandbox.partner.accounts"
local sync = require "sandbox.partner.sync"
local webhooks = require "sandbox.partner.webhooks"
local contacts = require "sandbox.resources.contacts"

local _M = {}

local ERR = accounts.ERR
local v = check.new(ERR)

local LIMIT_DEFAULT, LIMIT_MIN, LIMIT_MAX = 50, 10, 50
local ACCOUNT_TYPES = check.set({ "all", "managed", "unmanaged" })
local REASONS = check.set({ 1, 2, 3, 11, 12, 14, 21, 27, 30 })
local ROLES = check.set({ "account_manager", "campaign_creator" })
local UPDATE_SOURCES = check.set({ "Account", "Contact", "System" })

local function find(req, opts)
  return accounts.find(req.partner, req.params.encoded_account_id, opts)
end

-- A body the spec marks optional: {} when there is none, else a JSON object.
local function optional_json(req)
  if http.read_body():match("^%s*$") then return {} end
  return req:json()
end

local handlers = {}

-- GET /partner/accounts: offset/limit paging (a limit outside 10-50 is ignored, as
-- the spec says) and the account_type filter.
function handlers.list(req)
  local args = req.args
  local limit = v:query_int(args, "limit", { min = 1 }) or LIMIT_DEFAULT
  if limit < LIMIT_MIN or limit > LIMIT_MAX then limit = LIMIT_DEFAULT end
  local offset = v:query_int(args, "offset", { min = 0, default = 0 })
  local account_type = v:query_enum(args, "account_type", ACCOUNT_TYPES, { default = "all" })
  local matching = {}
  for _, record in ipairs(accounts.list(req.partner)) do
    if account_type == "all" or (account_type == "managed") == record.managed then
      matching[#matching + 1] = record
    end
  end
  local out = {}
  for i = offset + 1, math.min(#matching, offset + limit) do
    local r = matching[i]
    out[#out + 1] = {
      encoded_account_id = r.encoded_account_id,
      subscriber_count = accounts.subscriber_count(r.encoded_account_id),
      organization_name = r.organization_name,
      site_owner_name = r.login_name,
      billing_status = r.billing_status,
    }
  end
  local links
  if offset + limit < #matching then
    local href = "/v3/partner/accounts?offset=" .. (offset + limit) .. "&limit=" .. limit
    if args.account_type then href = href .. "&account_type=" .. account_type end
    links = { next = { href = href } }
  end
  return 200, { site_owner_list = json.array(out), _links = links }
end

function handlers.provision(req)
  local record = accounts.provision(req.partner, req:json())
  return 201, { encoded_account_id = record.encoded_account_id, provision_uuid = record.provision_uuid }
end

function handlers.sync(req)
  local record = find(req, { managed = true })
  return sync.run(record, optional_json(req))
end

function handlers.get_plan(req)
  return 200, accounts.plan(find(req))
end

-- PUT plan: plan_type must be in the plan group; TRIAL cannot come back; leaving TRIAL
-- opens billing and sets billing_day_of_month (given, or today's day).
function handlers.set_plan(req)
  local record = find(req)
  local body = optional_json(req)
  local plan_type = v:string(body, "plan_type")
  v:integer(body, "plan_group_id", { min = 1 })
  local day = v:integer(body, "billing_day_of_month", { min = 1, max = 31 })
  if record.billing_status == "Canceled" then
    http.fail(400, ERR, "Account " .. record.encoded_account_id .. " is canceled")
  end
  if plan_type and not accounts.PLANS[plan_type] then
    http.fail(400, ERR, "plan_type '" .. plan_type .. "' is not available in the partner plan group")
  end
  if plan_type and plan_type ~= record.plan_type then
    if plan_type == "TRIAL" then http.fail(400, ERR, "plan_type cannot change back to TRIAL") end
    if record.plan_type == "TRIAL" then
      record.billing_status = "Open"
      record.billing_day_of_month = day or tonumber(util.today():sub(9, 10))
    end
    record.plan_type = plan_type
    accounts.save(record)
  end
  return 200, accounts.plan(record)
end

-- PUT status/cancel: another partner's account is a 400 (the spec's rule).
function handlers.cancel(req)
  local record = find(req, { own = true })
  local body = optional_json(req)
  local reason = v:integer(body, "reason_id")
  if reason and not REASONS[reason] then http.fail(400, ERR, "reason_id does not have a valid value") end
  local effective = v:date_time(body, "effective_date") or util.now_iso()
  if record.billing_status == "Canceled" then
    http.fail(400, ERR, "Account " .. record.encoded_account_id .. " is already canceled")
  end
  record.billing_status = "Canceled"
  record.cancellation = { reason_id = reason, effective_date = effective }
  accounts.save(record)
  webhooks.notify(req.partner, "account.cancel", record.encoded_account_id)
  return 200, { reason_id = reason, effective_date = effective }
end

-- POST users/sso: every SSOUser field is required; login names are unique (409).
function handlers.sso_user(req)
  local record = find(req)
  local body = req:json()
  local user = {
    first_name = v:string(body, "first_name", { required = true, max = 80 }),
    last_name = v:string(body, "last_name", { required = true, max = 80 }),
    role_name = v:enum(body, "role_name", ROLES, { required = true }),
    contact_email = v:string(body, "contact_email", { required = true, max = 80, email = true }),
    login_name = v:string(body, "login_name", { required = true, max = 50 }),
    external_id = v:string(body, "external_id", { required = true, max = 255 }),
    external_provider = v:string(body, "external_provider", { required = true, max = 80 }),
  }
  if not accounts.claim_login(user.login_name, record.encoded_account_id) then
    http.fail(409, accounts.CONFLICT, "The login_name '" .. user.login_name .. "' is already in use")
  end
  return 201, user
end

-- Unsubscribes the address in one client account; true when it was subscribed.
local function unsubscribe_in(id, email, source, reason, delete)
  local c = contacts.by_email(id, email)
  if not c or not c.email_address then return false end
  local was = c.email_address.permission_to_send ~= "unsubscribed"
  if was then
    contacts.modify(id, c, function(x)
      local now = util.now_iso()
      local e = x.email_address
      e.permission_to_send, e.opt_out_source, e.opt_out_date, e.updated_at = "unsubscribed", source, now, now
      e.opt_out_reason = reason
      x.updated_at, x.update_source = now, source
    end)
  end
  if delete then contacts.mark_deleted(id, c) end
  return was
end

-- POST contacts/unsubscribe: the addresses in this account, or (global_unsubscribe)
-- one address in every client account of the partner.
function handlers.unsubscribe(req)
  local record = find(req)
  local body = req:json()
  local emails = v:array(body, "email_addresses", { max = 500, item = "email", unique = true }) or {}
  local source = v:enum(body, "update_source", UPDATE_SOURCES, { required = true })
  local reason = v:string(body, "opt_out_reason", { max = 255 })
  local delete = v:boolean(body, "delete_contacts") or false
  local global = v:boolean(body, "global_unsubscribe") or false
  if global and #emails ~= 1 then
    http.fail(400, ERR, "global_unsubscribe accepts exactly one address in email_addresses")
  end
  local targets = { record }
  if global then targets = accounts.list(req.partner) end
  local count = 0
  for _, target in ipairs(targets) do
    for _, email in ipairs(emails) do
      if unsubscribe_in(target.encoded_account_id, email, source, reason, delete) then count = count + 1 end
    end
  end
  return 200, { unsubscribed_count = count }
end

_M.handlers = handlers

return _M
