--- ctct.cli.resources: the commands over the library's objects: contacts,
-- lists, tags, custom-fields, segments, campaigns, reports, activities.
-- Collections stream page by page (client.<object>:each); every call goes
-- through the library, so parameters are checked before anything is sent.
local output = require "ctct.cli.output"

local M = {}

M.COLUMNS = {
  contacts = { "contact_id", "email_address.address", "first_name", "last_name", "updated_at" },
  lists = { "list_id", "name", "membership_count", "favorite", "updated_at" },
  tags = { "tag_id", "name", "contacts_count", "updated_at" },
  custom_fields = { "custom_field_id", "label", "name", "type" },
  segments = { "segment_id", "name", "edited_at" },
  campaigns = { "campaign_id", "name", "current_status", "updated_at" },
  activities = { "activity_id", "type", "state", "percent_done", "created_at" },
}

-- Page size for a stream: the API's maximum unless --limit is smaller.
local function page_size(args, max)
  if args.limit and args.limit > 0 and args.limit < max then return args.limit end
  return max
end

-- An activity: wait for it with a progress bar (on a terminal), print its state.
local function wait_activity(ctx, job, label, timeout)
  local bar = ctx:progress(label)
  bar:update(tonumber(job.percent_done) or 0, job.state)
  local ok, err = job:wait { timeout = timeout or 600,
                             on_progress = function(j) bar:update(tonumber(j.percent_done) or 0, j.state) end }
  bar:finish(job.state)
  return ok, err
end
M.wait_activity = wait_activity

local function activity_row(job)
  local data = job.data or {}
  local errs = {}
  for _, e in ipairs(job.errors or {}) do errs[#errs + 1] = e.message or e end
  return { activity_id = job.id or data.activity_id, state = job.state, percent_done = job.percent_done,
           type = data.type, errors = #errs > 0 and errs or nil, status = data.status }
end

-- Contacts ----------------------------------------------------------------------------------

M.contacts = {}

function M.contacts.list(ctx, args)
  local c = ctx:client()
  local params = { limit = page_size(args, 500) }
  if #args.status > 0 then params.status = args.status end
  if #args.lists > 0 then params.lists = args.lists end
  if #args.tags > 0 then params.tags = args.tags end
  params.email, params.segment_id, params.include = args.email, args.segment_id, args.include
  params.updated_after, params.created_after = args.updated_after, args.created_after
  ctx.out:collection(c.contacts:each(params), M.COLUMNS.contacts)
end

function M.contacts.get(ctx, args)
  ctx.out:object(ctx:check(ctx:client().contacts:get(args.id, { include = args.include })), M.COLUMNS.contacts)
end

-- A contact from --body and/or the field options, over `base`.
local function contact_from(ctx, args, base)
  local contact = base or {}
  if args.body then contact = ctx:json_file(args.body) end
  if args.email then
    contact.email_address = type(contact.email_address) == "table" and contact.email_address or {}
    contact.email_address.address = args.email
  end
  for _, f in ipairs { "first_name", "last_name", "job_title", "company_name" } do
    if args[f] then contact[f] = args[f] end
  end
  if #args.lists > 0 then
    local memberships = {}
    for _, l in ipairs(contact.list_memberships or {}) do memberships[#memberships + 1] = l end
    for _, l in ipairs(args.lists) do memberships[#memberships + 1] = l end
    contact.list_memberships = memberships
  end
  return contact
end

function M.contacts.create(ctx, args)
  local contact = contact_from(ctx, args)
  ctx.out:object(ctx:check(ctx:client().contacts:create(contact)), M.COLUMNS.contacts)
end

function M.contacts.update(ctx, args)
  local c = ctx:client()
  local base = nil
  if not args.body then
    base = ctx:check(c.contacts:get(args.id, { include = { "list_memberships", "custom_fields", "phone_numbers",
                                                            "street_addresses" } }))
    for _, k in ipairs { "_links", "created_at", "updated_at", "deleted_at", "contact_id" } do base[k] = nil end
    base.update_source = "Account"
  end
  local contact = contact_from(ctx, args, base)
  ctx.out:object(ctx:check(c.contacts:update(args.id, contact)), M.COLUMNS.contacts)
end

function M.contacts.delete(ctx, args)
  ctx:check(ctx:client().contacts:delete(args.id))
  ctx.out:object { deleted = args.id }
end

function M.contacts.import(ctx, args)
  local text = ctx:read_file(args.file)
  local c = ctx:client()
  local job = ctx:check(c.activities:import_csv(text, { list_ids = #args.lists > 0 and args.lists or nil }))
  if not args.no_wait then
    local ok, err = wait_activity(ctx, job, "import", args.timeout)
    if not ok then
      ctx.out:object(activity_row(job))
      error(err, 0)
    end
  end
  local row = activity_row(job)
  if job.activities then -- a group: one activity per chunk
    local ids = {}
    for i, a in ipairs(job.activities) do ids[i] = a.id end
    row.activity_id = table.concat(ids, ",")
  end
  ctx.out:object(row)
end

function M.contacts.export(ctx, args)
  local c = ctx:client()
  local body = { contact_ids = nil }
  if #args.lists > 0 then body.list_ids = args.lists end
  body.segment_id = args.segment_id and tonumber(args.segment_id) or nil
  body.status = args.status
  if args.columns then body.fields = output.split(args.columns) end
  local f = io.open(args.file, "ab")
  if not f then ctx:usage("cannot write " .. args.file) end
  f:close()
  local job = ctx:check(c.activities:export(body))
  local ok, err = wait_activity(ctx, job, "export", args.timeout)
  if not ok then error(err, 0) end
  local bytes = ctx:check(job:download(args.file))
  ctx.out:object { file = args.file, bytes = bytes, activity_id = job.id }
end

-- Lists, tags, custom fields, segments --------------------------------------------------------

local function simple(name, id_key, label_key, extra_create)
  local H = {}
  local cols = M.COLUMNS[name]
  function H.list(ctx, args)
    local c = ctx:client()
    local opts = nil
    if name == "lists" then opts = { limit = page_size(args, 1000), include_membership_count = "all" }
    elseif name == "tags" then opts = { limit = page_size(args, 500), include_count = true }
    elseif name == "custom_fields" then opts = { limit = page_size(args, 100) } end
    ctx.out:collection(c[name]:each(opts), cols)
  end
  function H.get(ctx, args)
    ctx.out:object(ctx:check(ctx:client()[name]:get(args.id)), cols)
  end
  function H.create(ctx, args)
    local body = { [label_key] = args.name }
    if extra_create then extra_create(ctx, args, body) end
    ctx.out:object(ctx:check(ctx:client()[name]:create(body)), cols)
  end
  function H.rename(ctx, args)
    ctx.out:object(ctx:check(ctx:client()[name]:rename(args.id, args.name)), cols)
  end
  function H.delete(ctx, args)
    local res = ctx:check(ctx:client()[name]:delete(args.id))
    if type(res) == "table" and res.wait then
      local ok, err = wait_activity(ctx, res, "delete", 120)
      if not ok then error(err, 0) end
      local row = activity_row(res)
      row.deleted = args.id
      ctx.out:object(row)
    else
      ctx.out:object { deleted = args.id, [id_key] = args.id }
    end
  end
  return H
end

M.lists = simple("lists", "list_id", "name", function(_, args, body)
  body.description, body.favorite = args.description, args.favorite or nil
end)
M.tags = simple("tags", "tag_id", "name")
M.custom_fields = simple("custom_fields", "custom_field_id", "label", function(_, args, body)
  body.type = args.type
end)
M.segments = simple("segments", "segment_id", "name", function(ctx, args, body)
  if not args.criteria then ctx:usage("segments create needs --criteria (JSON text or @FILE)") end
  local text = args.criteria
  if text:sub(1, 1) == "@" then text = ctx:read_file(text:sub(2)) end
  if not require("ctct.json").decode(text) then ctx:usage("--criteria is not JSON") end
  body.segment_criteria = text
end)

-- Campaigns -------------------------------------------------------------------------------------

M.campaigns = {}

function M.campaigns.list(ctx, args)
  ctx.out:collection(ctx:client().campaigns:each { limit = page_size(args, 500) }, M.COLUMNS.campaigns)
end

function M.campaigns.get(ctx, args)
  ctx.out:object(ctx:check(ctx:client().campaigns:get(args.id)))
end

function M.campaigns.create(ctx, args)
  local spec
  if args.body then spec = ctx:json_file(args.body) else
    for _, need in ipairs { "name", "subject", "from_name", "from_email", "html" } do
      if not args[need] then
        ctx:usage("campaigns create needs --" .. need:gsub("_", "-") .. " (or a whole --body)")
      end
    end
    local html = args.html
    if html:sub(1, 1) == "@" then html = ctx:read_file(html:sub(2)) end
    spec = { name = args.name, subject = args.subject, from_name = args.from_name, from_email = args.from_email,
             reply_to_email = args.reply_to or args.from_email, html_content = html }
  end
  local c = ctx:client()
  local campaign = ctx:check(c.campaigns:create(spec))
  local row = { campaign_id = campaign.campaign_id, name = campaign.name, current_status = campaign.current_status,
                campaign_activity_id = c.campaigns.primary_activity_id(campaign) }
  ctx.out:object(row)
end

function M.campaigns.schedule(ctx, args)
  if not args.at then ctx:usage("campaigns schedule needs --at DATE-TIME (or --at now)") end
  local when = args.at == "now" and "0" or args.at
  local c = ctx:client()
  if #args.lists > 0 then
    local activity = ctx:check(c.campaigns:activity(args.activity_id))
    activity.contact_list_ids = args.lists
    ctx:check(c.campaigns:update_activity(args.activity_id, activity))
  end
  ctx.out:object(ctx:check(c.campaigns:schedule(args.activity_id, when)))
end

function M.campaigns.unschedule(ctx, args)
  ctx:check(ctx:client().campaigns:unschedule(args.activity_id))
  ctx.out:object { unscheduled = args.activity_id }
end

function M.campaigns.test_send(ctx, args)
  if #args.emails > 5 then ctx:usage("test-send takes at most 5 addresses") end
  ctx:check(ctx:client().campaigns:test_send(args.activity_id,
    { email_addresses = args.emails, personal_message = args.message }))
  ctx.out:object { sent = table.concat(args.emails, ","), campaign_activity_id = args.activity_id }
end

function M.campaigns.preview(ctx, args)
  ctx.out:object(ctx:check(ctx:client().campaigns:preview(args.activity_id)))
end

-- Reports ---------------------------------------------------------------------------------------

M.reports = {}

-- An answer with a results array is shown as a collection.
local function results(ctx, data, key)
  if type(data) == "table" and type(data[key]) == "table" then
    ctx.out:collection(output.array_iter(data[key]))
  else
    ctx.out:object(data)
  end
end

function M.reports.campaign_stats(ctx, args)
  results(ctx, ctx:check(ctx:client().reports:campaign_stats(args.ids)), "results")
end

function M.reports.activity_stats(ctx, args)
  results(ctx, ctx:check(ctx:client().reports:activity_stats(args.ids)), "results")
end

function M.reports.summaries(ctx)
  ctx.out:collection(ctx:client().reports:campaign_summaries())
end

function M.reports.tracking(ctx, args)
  local method = args.kind:gsub("%-", "_")
  ctx.out:collection(ctx:client().reports[method](ctx:client().reports, args.activity_id))
end

function M.reports.links(ctx, args)
  results(ctx, ctx:check(ctx:client().reports:links(args.activity_id)), "link_click_counts")
end

function M.reports.contact_activity(ctx, args)
  ctx.out:collection(ctx:client().reports:contact_activity(args.id))
end

-- Activities ------------------------------------------------------------------------------------

M.activities = {}

function M.activities.list(ctx, args)
  ctx.out:collection(ctx:client().activities:each { limit = page_size(args, 500), state = args.state },
    M.COLUMNS.activities)
end

function M.activities.get(ctx, args)
  local job = ctx:check(ctx:client().activities:get(args.id))
  ctx.out:object(job.data)
end

function M.activities.wait(ctx, args)
  local job = ctx:check(ctx:client().activities:get(args.id))
  local ok, err = wait_activity(ctx, job, "activity", args.timeout)
  ctx.out:object(activity_row(job))
  if not ok then error(err, 0) end
end

return M
