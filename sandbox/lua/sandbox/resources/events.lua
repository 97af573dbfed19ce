-- /events: events (EventDto), their default track's registrations and ticket check-in.
--
-- Events are a collection (a:<account>:event:<seq>); names are unique per account
-- (case-insensitive). The API has no way to register for an event, so an event is
-- created with a few generated registrations (a deterministic function of its id), kept
-- in one record per event (a:<account>:event_regs:<event_id>); status changes and
-- check-ins update that record.
--
-- Lists page with next/prev cursors (next_cursor, prev_cursor and _links.next/prev),
-- like the events API: the cursor is pager.lua's base64 of "limit=<n>&next=<position>".
local collection = require "sandbox.collection"
local store = require "sandbox.store"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local pager = require "sandbox.pager"
local check = require "sandbox.check"

local d = store.d
local h = util.hash

local events = collection.new("event", "event_id")

local v = check.new("events.api.validation.error")
local NOT_FOUND = "events.api.not.found"

local LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 100, 100
local REG_LIMIT_DEFAULT, REG_LIMIT_MAX = 50, 100

local EVENT_STATUSES = check.set({ "ACTIVE", "DRAFT", "COMPLETE", "DELETED", "CANCELLED", "ERROR" })
local UPDATABLE = { DRAFT = true, ACTIVE = true }
local PATCH_STATUSES = check.set({ "DRAFT", "ACTIVE", "COMPLETE", "CANCELLED", "DELETED" })
local LOCATION_TYPES = check.set({ "PHYSICAL", "ONLINE", "PHYSICAL_AND_ONLINE", "TBD" })
local EVENT_SORT = { name = "name", start_time = "event_start", end_time = "event_end",
                     created_time = "create_time", updated_time = "last_update_time" }
local SORT_ORDERS = check.set({ "ASC", "DESC" })

local REG_STATUSES = check.set({ "PENDING", "REGISTERED", "CANCELED", "EXPIRED", "IN_PROGRESS", "FAILED" })
local PAYMENT_STATUSES = check.set({ "PENDING", "PAID", "REFUNDED", "CANCELLED", "FAILED", "CHARGED_BACK" })
local REG_SORT = check.set({ "first_name", "last_name", "email_address", "registration_status",
  "payment_status", "tickets", "total" })

local FIRST = { "Sarah", "John", "Maddie", "Omar", "Lucia", "Chen", "Priya", "Noah" }
local LAST = { "Lang", "Doe", "Brown", "Haddad", "Rossi", "Kim", "Patel", "Silva" }
local TICKET_PRICE = 25

---------------------------------------------------------------------------------------
-- Helpers.

local function regs_key(account, event_id) return store.key(account, "event_regs", event_id) end

local function find(req)
  local event = events:get(req.account, req.params.event_id)
  if not event then http.fail(404, NOT_FOUND, "Event " .. tostring(req.params.event_id) .. " not found") end
  return event
end

local function claim_name(account, name, id)
  if not events:claim(account, "name", name:lower(), id) then
    v:fail("name must be unique: an event named '" .. name .. "' already exists")
  end
end

-- A cursor-paged list (next/prev cursors) of an in-memory array.
local function cursor_page(items, args, default, max, path, keep)
  if args.next ~= nil and args.prev ~= nil then v:fail("next and prev are mutually exclusive") end
  local limit = default
  local raw_limit, raw_size = args.limit, args.page_size
  if raw_limit ~= nil and raw_size ~= nil and raw_limit ~= raw_size then
    v:fail("limit and page_size must be the same value when both are given")
  end
  if raw_limit ~= nil or raw_size ~= nil then
    local name = raw_limit ~= nil and "limit" or "page_size"
    limit = v:query_int(args, name, { min = 1, max = max })
  end
  local from = 1
  local cursor = args.next or args.prev
  if cursor ~= nil then
    local l, p = pager.decode_cursor({ cursor = cursor }, max)
    limit, from = l, p
  end
  local page = {}
  for i = from, math.min(#items, from + limit - 1) do page[#page + 1] = items[i] end
  local function href(position, rel)
    local parts = { rel .. "=" .. ngx.escape_uri(pager.encode_cursor(limit, position)) }
    for _, name in ipairs(keep) do
      if args[name] ~= nil and args[name] ~= true then
        parts[#parts + 1] = name .. "=" .. ngx.escape_uri(tostring(args[name]))
      end
    end
    return path .. "?" .. table.concat(parts, "&")
  end
  local out = { records = json.array(page), total_records = #items }
  local links = {}
  if from + limit <= #items then
    out.next_cursor = pager.encode_cursor(limit, from + limit)
    links.next = { href = href(from + limit, "next") }
  end
  if from > 1 then
    local prev = math.max(1, from - limit)
    out.prev_cursor = pager.encode_cursor(limit, prev)
    links.prev = { href = href(prev, "prev") }
  end
  out._links = links
  return out
end

-- Generated registrations of a new event: { registration_id, contact_id, names, status,
-- payment, tickets = { { order_ticket_key, checked_in_time } } }.
local function generate_registrations(event_id, now)
  local n = 3 + h(event_id, "registrations") % 10
  local out = {}
  local statuses = { "REGISTERED", "REGISTERED", "REGISTERED", "PENDING", "CANCELED" }
  for i = 1, n do
    local first = FIRST[h(event_id, "first", i) % #FIRST + 1]
    local last = LAST[h(event_id, "last", i) % #LAST + 1]
    local tickets = {}
    for k = 1, 1 + h(event_id, "tickets", i) % 3 do
      tickets[k] = { order_ticket_key = util.derived_uuid(event_id, "ticket", i .. ":" .. k):sub(1, 8) }
    end
    local status = statuses[h(event_id, "status", i) % #statuses + 1]
    out[i] = {
      registration_id = util.derived_uuid(event_id, "registration", tostring(i)),
      contact_id = util.derived_uuid(event_id, "contact", tostring(i)),
      first_name = first, last_name = last,
      email_address = (first .. "." .. last .. i):lower() .. "@example.com",
      registration_status = status,
      payment_status = status == "REGISTERED" and "PAID" or "PENDING",
      registration_time = now, new_contact = h(event_id, "new", i) % 2 == 0,
      tickets = tickets,
    }
  end
  return out
end

local function load_regs(account, event_id)
  return d.get_json(regs_key(account, event_id)) or {}
end

local function save_regs(account, event_id, regs)
  d.set_json(regs_key(account, event_id), regs)
end

local function checked_in(reg)
  local n = 0
  for _, t in ipairs(reg.tickets) do if t.checked_in_time then n = n + 1 end end
  return n
end

local function checkin_status(reg)
  local n = checked_in(reg)
  if n == 0 then return "NOT_CHECKED_IN" end
  if n == #reg.tickets then return "CHECKED_IN" end
  return "PARTIALLY_CHECKED_IN"
end

local function eligible(reg)
  return reg.registration_status == "REGISTERED" and #reg.tickets - checked_in(reg) or 0
end

local function render_event(event, include_settings)
  local out = util.copy(event)
  out.seq = nil
  if not include_settings then out.event_settings = nil end
  return out
end

local function listing(account, event)
  local regs = load_regs(account, event.event_id)
  local count, sold = 0, 0
  for _, reg in ipairs(regs) do
    if reg.registration_status == "REGISTERED" then
      count, sold = count + 1, sold + #reg.tickets
    end
  end
  return {
    event_id = event.event_id, name = event.name, title = event.title, description = event.description,
    start_time = event.event_start, end_time = event.event_end, status = event.status,
    registration_url = event.registration_url, event_type = event.event_type,
    location_type = event.location_type, time_zone_type = event.time_zone_abbreviation,
    address = event.address, create_time = event.create_time,
    event_registration_summary_metrics = { registration_count = count, ticket_sold = sold, item_sold = 0 },
  }
end

-- A new event record (DRAFT) with its default track.
local function new_event(account, fields, now)
  local id = util.uuid()
  local code = util.random_id(7)
  local event = {
    event_id = id, campaign_id = fields.campaign_id or util.uuid(),
    name = fields.name, title = fields.title or fields.name, description = fields.description or "",
    event_start = fields.event_start, event_end = fields.event_end,
    event_type = fields.event_type or "OTHER", location_type = fields.location_type or "TBD",
    time_zone = fields.time_zone or "US/Eastern", time_zone_abbreviation = fields.time_zone_abbreviation or "EST",
    status = "DRAFT", currency_type = fields.currency_type or "USD",
    create_time = now, last_update_time = now,
    registration_url = "https://lp.constantcontactpages.com/ev/reg/" .. code,
    event_calendar_url = "https://lp.constantcontactpages.com/ev/calendar/" .. code,
    event_code = code:upper(),
    address = fields.address, contact = fields.contact, online_meeting = fields.online_meeting,
    notify_owner_on_reg = fields.notify_owner_on_reg or false,
    display_contact_flag = true, display_end_time_flag = true, display_on_calendar_flag = true,
    display_time_zone_flag = true,
    event_metadata = { items_enabled = false, paid_event = true, promo_codes_enabled = false },
    event_settings = { event_requires_payments = true, item_configured = false, online_payment_configured = false,
                       payment_configured = false, promo_code_configured = false, ticket_configured = true },
    default_track = {
      track_id = util.random_id(6), campaign_activity_id = util.uuid(),
      conf_email_campaign_activity_id = util.uuid(), registration_type = "TICKET",
      overall_ticket_capacity = 100, items_header = "Items", tickets_header = "Tickets",
      create_time = now, last_update_time = now,
    },
  }
  claim_name(account, event.name, id)
  events:insert(account, event)
  save_regs(account, id, fields.no_registrations and {} or generate_registrations(id, now))
  return event
end

-- Checks event_start/event_end strings; returns their epochs.
local function times(t, start_name, end_name)
  local s, s_epoch = v:date_time(t, start_name)
  local e, e_epoch = v:date_time(t, end_name)
  return s, s_epoch, e, e_epoch
end

local function address_of(body)
  local a = v:object(body, "address")
  if not a then return nil end
  local out = { address_type = v:string(a, "address_type", { required = true, label = "address.address_type" }) }
  for name, max in pairs({ line1 = 80, line2 = 80, city = 80, country = 128, country_code = 2,
                           location_name = 100, postal_code = 25, state = 80, state_code = 2 }) do
    out[name] = v:string(a, name, { max = max, label = "address." .. name })
  end
  return out
end

local function contact_of(body)
  local c = v:object(body, "contact")
  if not c then return nil end
  return {
    name = v:string(c, "name", { required = true, max = 100, label = "contact.name" }),
    organization_name = v:string(c, "organization_name", { required = true, max = 255,
                                                          label = "contact.organization_name" }),
    email_address = v:string(c, "email_address", { max = 128, email = true, label = "contact.email_address" }),
    phone_number = v:string(c, "phone_number", { min = 1, max = 25, label = "contact.phone_number" }),
  }
end

local function registration_of(req)
  local event = find(req)
  if req.params.track_id ~= event.default_track.track_id then
    http.fail(404, NOT_FOUND, "Track " .. tostring(req.params.track_id) .. " not found in event " .. event.event_id)
  end
  return event, load_regs(req.account, event.event_id)
end

---------------------------------------------------------------------------------------
-- Handlers.

local handlers = {}

-- PaginationDtoEventListingDto; DELETED events only with event_status=DELETED.
function handlers.list(req)
  local args = req.args
  local status = args.event_status
  if status ~= nil then
    status = tostring(status):upper()
    if not EVENT_STATUSES[status] then
      v:fail("event_status does not have a valid value: '" .. tostring(args.event_status) .. "'")
    end
  end
  local sort_by = args.sort_by
  if sort_by ~= nil and not EVENT_SORT[sort_by] then
    v:fail("sort_by does not have a valid value: '" .. tostring(sort_by) .. "'")
  end
  local order = v:query_enum(args, "sort_order", SORT_ORDERS, { default = "ASC" })
  local search = args.search_text
  search = type(search) == "string" and search ~= "" and search:lower() or nil
  local items = events:all(req.account, function(e)
    if status then
      if e.status ~= status then return false end
    elseif e.status == "DELETED" then
      return false
    end
    if search then
      local hay = (e.name .. "\n" .. (e.title or "") .. "\n" .. (e.description or "")):lower()
      if not hay:find(search, 1, true) then return false end
    end
    return true
  end)
  if sort_by then
    local field = EVENT_SORT[sort_by]
    table.sort(items, function(a, b)
      local x, y = a[field] or "", b[field] or ""
      if field == "name" then x, y = x:lower(), y:lower() end
      if x == y then return a.seq < b.seq end
      if order == "DESC" then return x > y end
      return x < y
    end)
  end
  local out = {}
  for i, e in ipairs(items) do out[i] = listing(req.account, e) end
  return 200, cursor_page(out, args, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, "/v3/events",
    { "event_status", "search_text", "sort_by", "sort_order" })
end

-- 201 EventDto: a DRAFT event; the query parameters name it and time it.
function handlers.create_default(req)
  local args = req.args
  local q = {}
  for _, name in ipairs({ "name", "start_time", "end_time", "placeholder_campaign_id" }) do
    if args[name] ~= nil and args[name] ~= true and args[name] ~= "" then q[name] = args[name] end
  end
  local name = v:string(q, "name", { max = 100 })
  local start_s, start_epoch = v:date_time(q, "start_time")
  local end_s, end_epoch = v:date_time(q, "end_time")
  local campaign_id = q.placeholder_campaign_id
  if campaign_id and not util.is_uuid(campaign_id) then
    v:fail("placeholder_campaign_id must be a uuid, got '" .. campaign_id .. "'")
  end
  local now_epoch = ngx.time()
  if not start_s then
    start_epoch = (math.floor(now_epoch / 3600) + 24 * 14) * 3600
    start_s = util.iso(start_epoch)
  end
  if not end_s then end_s, end_epoch = util.iso(start_epoch + 3600), start_epoch + 3600 end
  if end_epoch <= start_epoch then v:fail("end_time must be after start_time") end
  local account = req.account
  if not name then
    local n = events:last_seq(account) + 1
    repeat
      name = "Untitled Event " .. n
      n = n + 1
    until not events:lookup(account, "name", name:lower())
  end
  local event = new_event(account, {
    name = name, event_start = start_s, event_end = end_s, campaign_id = campaign_id and campaign_id:lower(),
  }, util.now_iso())
  return 201, render_event(event, true)
end

function handlers.get(req)
  local include = v:query_bool(req.args, "include", false)
  return 200, render_event(find(req), include)
end

-- 204: updates the fields given (DRAFT and ACTIVE events only).
function handlers.patch(req)
  local event = find(req)
  local body = req:json()
  if not UPDATABLE[event.status] then
    v:fail("Event " .. event.event_id .. " is " .. event.status .. "; only DRAFT or ACTIVE events can be updated")
  end
  if not check.absent(body.event_id) and body.event_id ~= event.event_id then
    v:fail("event_id cannot be changed")
  end
  local name = v:string(body, "name", { min = 1, max = 100 })
  local title = v:string(body, "title", { max = 100 })
  local description = v:string(body, "description", { max = 600 })
  local s, s_epoch, e, e_epoch = times(body, "event_start", "event_end")
  local start_epoch = s_epoch or util.parse_iso(event.event_start)
  local end_epoch = e_epoch or util.parse_iso(event.event_end)
  if end_epoch <= start_epoch then v:fail("event_end must be after event_start") end
  local status = v:enum(body, "status", PATCH_STATUSES)
  local location_type = v:enum(body, "location_type", LOCATION_TYPES)
  local fields = {
    title = title, description = description, event_start = s, event_end = e, location_type = location_type,
    event_type = v:string(body, "event_type", { max = 50 }),
    time_zone = v:string(body, "time_zone", { max = 64 }),
    currency_type = v:string(body, "currency_type", { max = 3 }),
    notify_owner_on_reg = v:boolean(body, "notify_owner_on_reg"),
    display_contact_flag = v:boolean(body, "display_contact_flag"),
    display_end_time_flag = v:boolean(body, "display_end_time_flag"),
    display_on_calendar_flag = v:boolean(body, "display_on_calendar_flag"),
    display_time_zone_flag = v:boolean(body, "display_time_zone_flag"),
    address = address_of(body), contact = contact_of(body),
  }
  if name and name:lower() ~= event.name:lower() then
    claim_name(req.account, name, event.event_id)
    events:release(req.account, "name", event.name:lower(), event.event_id)
  end
  if name then event.name = name end
  for k, val in pairs(fields) do event[k] = val end
  local now = util.now_iso()
  if status and status ~= event.status then
    event.status = status
    local stamp = ({ ACTIVE = "active_time", CANCELLED = "cancelled_time", DELETED = "deleted_time" })[status]
    if stamp then event[stamp] = now end
  end
  event.last_update_time = now
  events:update(req.account, event)
  return 204
end

-- 200 EventDto: a DRAFT copy named target_event_name, without registrations.
function handlers.copy(req)
  local event = find(req)
  local body = req:json()
  local name = v:string(body, "target_event_name", { required = true, max = 100 })
  v:array(body, "source_campaign_activities", { item = "uuid" })
  local copy = new_event(req.account, {
    name = name, title = event.title, description = event.description, event_start = event.event_start,
    event_end = event.event_end, event_type = event.event_type, location_type = event.location_type,
    time_zone = event.time_zone, time_zone_abbreviation = event.time_zone_abbreviation,
    currency_type = event.currency_type, address = event.address, contact = event.contact,
    online_meeting = event.online_meeting, notify_owner_on_reg = event.notify_owner_on_reg,
    no_registrations = true,
  }, util.now_iso())
  return 200, render_event(copy, true)
end

-- Marks (or unmarks) the tickets named by order_ticket_keys; every key must belong to
-- a REGISTERED registration of the event (400 naming the first that does not).
local function check_in(req, undo)
  local event = find(req)
  local keys = v:array(req:json(), "order_ticket_keys", { required = true, min = 1, item = "string", unique = true })
  local regs = load_regs(req.account, event.event_id)
  local tickets = {}
  for _, reg in ipairs(regs) do
    for _, t in ipairs(reg.tickets) do tickets[t.order_ticket_key] = { t = t, reg = reg } end
  end
  for _, key in ipairs(keys) do
    local hit = tickets[key]
    if not hit then v:fail("order_ticket_keys: no ticket '" .. key .. "' in event " .. event.event_id) end
    if hit.reg.registration_status ~= "REGISTERED" then
      v:fail("order_ticket_keys: ticket '" .. key .. "' belongs to a " .. hit.reg.registration_status
        .. " registration")
    end
  end
  local now = util.now_iso()
  for _, key in ipairs(keys) do
    tickets[key].t.checked_in_time = (not undo) and (tickets[key].t.checked_in_time or now) or nil
  end
  save_regs(req.account, event.event_id, regs)
  return 204
end

function handlers.check_in(req) return check_in(req, false) end
function handlers.undo_check_in(req) return check_in(req, true) end

local function lite(reg, track_id)
  local n = #reg.tickets
  return {
    registration_id = reg.registration_id, first_name = reg.first_name, last_name = reg.last_name,
    email_address = reg.email_address, registration_status = reg.registration_status,
    payment_status = reg.payment_status, registration_time = reg.registration_time,
    new_contact = reg.new_contact, tickets = n, total = n * TICKET_PRICE, track_key = track_id,
    checkedIn_tickets = checked_in(reg), checkin_status = checkin_status(reg),
    eligible_checkin_tickets = eligible(reg),
  }
end

-- PaginatedRegistrations with the spec's filters and sorting.
function handlers.registrations(req)
  local event, regs = registration_of(req)
  local args = req.args
  local status = v:query_enum(args, "registration_status", REG_STATUSES)
  local payment = v:query_enum(args, "payment_status", PAYMENT_STATUSES)
  local sort_by = v:query_enum(args, "sort_by", REG_SORT)
  local order = v:query_enum(args, "sort_order", SORT_ORDERS, { default = "ASC" })
  local search = args.search_text
  search = type(search) == "string" and search ~= "" and search:lower() or nil
  local track_id = event.default_track.track_id
  local out = {}
  for i, reg in ipairs(regs) do
    local hay = (reg.first_name .. "\n" .. reg.last_name .. "\n" .. reg.email_address):lower()
    if (not status or reg.registration_status == status) and (not payment or reg.payment_status == payment)
      and (not search or hay:find(search, 1, true)) then
      local row = lite(reg, track_id)
      row.i = i
      out[#out + 1] = row
    end
  end
  if sort_by then
    table.sort(out, function(a, b)
      local x, y = a[sort_by], b[sort_by]
      if type(x) == "string" then x, y = x:lower(), y:lower() end
      if x == y then return a.i < b.i end
      if order == "DESC" then return x > y end
      return x < y
    end)
  end
  for _, row in ipairs(out) do row.i = nil end
  return 200, cursor_page(out, args, REG_LIMIT_DEFAULT, REG_LIMIT_MAX,
    "/v3/events/" .. event.event_id .. "/tracks/" .. track_id .. "/registrations",
    { "registration_status", "payment_status", "search_text", "sort_by", "sort_order" })
end

-- DetailedRegistrationDto.
function handlers.registration(req)
  local event, regs = registration_of(req)
  for _, reg in ipairs(regs) do
    if reg.registration_id == req.params.registration_id then
      local tickets, details = {}, {}
      for k, t in ipairs(reg.tickets) do
        tickets[k] = { order_ticket_key = t.order_ticket_key, checked_in_time = t.checked_in_time,
                       price = TICKET_PRICE, ticket_name = "General Admission", editable = false,
                       fields = json.array({}) }
        details[k] = { line_item_type = "TICKET", name = "General Admission",
                       amount = string.format("$%.2f", TICKET_PRICE), amount_unformatted = TICKET_PRICE }
      end
      return 200, {
        registration_id = reg.registration_id, contact_id = reg.contact_id,
        registration_status = reg.registration_status, registration_date = reg.registration_time,
        checkedIn_tickets = checked_in(reg), checkin_status = checkin_status(reg),
        eligible_checkin_tickets = eligible(reg), display_physical_tickets = true,
        contact = {
          { display_order = 1, field_name = "CONTACT_FIRST_NAME", field_label = "First Name", field_type = "TEXT",
            label_key = "registration.field.label.contact_first_name", field_value = reg.first_name },
          { display_order = 2, field_name = "CONTACT_LAST_NAME", field_label = "Last Name", field_type = "TEXT",
            label_key = "registration.field.label.contact_last_name", field_value = reg.last_name },
          { display_order = 3, field_name = "CONTACT_EMAIL_ADDRESS", field_label = "Email Address",
            field_type = "TEXT", label_key = "registration.field.label.contact_email_address",
            field_value = reg.email_address },
        },
        tickets = json.array(tickets),
        order_summary = {
          details = json.array(details), payment_status = reg.payment_status, payment_method = "STRIPE",
          number = (reg.registration_id:sub(1, 11):gsub("%-", "")), title = event.title,
        },
      }
    end
  end
  http.fail(404, NOT_FOUND, "Registration " .. tostring(req.params.registration_id) .. " not found")
end

-- Sets field to value on the registrations named; 200 without a body, or 207 listing
-- the ids that are not registrations of this track.
local function update_registrations(req, field, value)
  local event, regs = registration_of(req)
  local ids = v:array(req:json(), "registration_ids", { required = true, min = 1, item = "string", unique = true })
  local by_id = {}
  for _, reg in ipairs(regs) do by_id[reg.registration_id] = reg end
  local failed = {}
  for _, id in ipairs(ids) do
    local reg = by_id[id]
    if reg then reg[field] = value else failed[#failed + 1] = id end
  end
  save_regs(req.account, event.event_id, regs)
  if #failed > 0 then return 207, { failed_registration_ids = failed } end
  return 200
end

function handlers.registration_status(req)
  local body = req:json()
  local status = v:enum(body, "registration_status", REG_STATUSES, { required = true })
  v:query_bool(req.args, "increase_count")
  v:query_bool(req.args, "increase_item_count")
  v:query_bool(req.args, "return_items_to_inventory", true)
  return update_registrations(req, "registration_status", status)
end

-- payment_status is case-insensitive ("Paid" in the spec's example) and stored upper case.
function handlers.payment_status(req)
  local body = req:json()
  local raw = v:string(body, "payment_status", { required = true })
  local status = raw:upper()
  if not PAYMENT_STATUSES[status] then
    v:fail("payment_status does not have a valid value: '" .. raw .. "'")
  end
  return update_registrations(req, "payment_status", status)
end

return { handlers = handlers, collection = events }
