-- /account/emails: the account's own email addresses (AccountEmails,
-- AccountEmailInput, AccountEmailCreateResponse). An added address starts
-- UNCONFIRMED; the real API mails a confirmation link, the sandbox has the admin call
-- POST /__sandbox/account/emails/confirm. Campaigns may only send from CONFIRMED ones.
--   a:<account>:account_email:<seq>                 record; email_id = seq
--   a:<account>:account_email@address:<lowercased>  -> email_id
local collection = require "sandbox.collection"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local check = require "sandbox.check"

local emails = collection.new("account_email", "email_id", { numeric_ids = true })

local _M = { collection = emails }

local v = check.new("account.api.validation.error")

local CONFIRM = { CONFIRMED = "CONFIRMED", C = "CONFIRMED", UNCONFIRMED = "UNCONFIRMED", U = "UNCONFIRMED" }
local ROLES = { CONTACT = "CONTACT", C = "CONTACT", BILLING = "BILLING", B = "BILLING",
                JOURNALING = "JOURNALING", J = "JOURNALING", REPLY_TO = "REPLY_TO", R = "REPLY_TO",
                OTHER = "OTHER", O = "OTHER" }

local function find(account, address)
  local id = emails:lookup(account, "address", address:lower())
  return id and emails:get(account, id)
end
_M.find = find

local function add(account, address, confirmed, roles)
  local now = util.now_iso()
  local record = {
    email_address = address,
    confirm_status = confirmed and "CONFIRMED" or "UNCONFIRMED",
    confirm_time = confirmed and now or nil,
    confirm_source_type = confirmed and "SITE_OWNER" or nil,
    roles = roles or {},
    pending_roles = {},
  }
  record = emails:insert(account, record)
  if not emails:claim(account, "address", address:lower(), record.email_id) then
    emails:remove(account, record)
    return nil
  end
  return record
end

-- The account owner's address, confirmed, when the account is created.
function _M.seed(account, address)
  add(account, address, true, { "CONTACT", "BILLING", "REPLY_TO" })
end

function _M.is_confirmed(account, address)
  local record = type(address) == "string" and find(account, address)
  return record ~= nil and record ~= false and record.confirm_status == "CONFIRMED"
end

local function render(record)
  return {
    email_address = record.email_address,
    email_id = record.email_id,
    confirm_status = record.confirm_status,
    confirm_time = record.confirm_time,
    confirm_source_type = record.confirm_source_type,
    roles = json.array(record.roles),
    pending_roles = json.array(record.pending_roles),
  }
end

-- Admin: confirms address in account (as if its owner clicked the link). Returns the
-- record, or nil when the account has no such address.
function _M.confirm(account, address)
  local record = find(account, address)
  if not record then return nil end
  if record.confirm_status ~= "CONFIRMED" then
    record.confirm_status, record.confirm_time = "CONFIRMED", util.now_iso()
    record.confirm_source_type = "SITE_OWNER"
    emails:update(account, record)
  end
  return render(record)
end

local handlers = {}

-- One filter at a time, like the API ("only supports one query parameter at a time").
function handlers.list(req)
  local args = req.args
  local given = 0
  for _, name in ipairs({ "confirm_status", "role_code", "email_address" }) do
    if args[name] ~= nil then given = given + 1 end
  end
  if given > 1 then v:fail("use only one of confirm_status, role_code and email_address") end
  local status = v:query_enum(args, "confirm_status", CONFIRM)
  local role = v:query_enum(args, "role_code", ROLES)
  local address = args.email_address and tostring(args.email_address):lower()
  local out = {}
  for _, record in ipairs(emails:all(req.account)) do
    local keep = (not status or record.confirm_status == CONFIRM[status])
      and (not address or record.email_address:lower() == address)
    if keep and role then
      keep = false
      for _, r in ipairs(record.roles) do
        if r == ROLES[role] then keep = true end
      end
    end
    if keep then out[#out + 1] = render(record) end
  end
  return 200, json.array(out)
end

function handlers.create(req)
  local address = v:string(req:json(), "email_address", { required = true, max = 80, email = true })
  local record = not find(req.account, address) and add(req.account, address, false)
  if not record then
    http.fail(409, "account.api.conflict", "The account already has the email address " .. address)
  end
  return 201, {
    email_address = record.email_address, email_id = record.email_id, confirm_status = record.confirm_status,
  }
end

_M.handlers = handlers

return _M
