--- tools/gen_docs.lua: writes docs/API.md (the API reference) from the resource
-- declarations (lua/ctct/resources/*) and the generated operation table. Fails
-- when a public method has no documentation entry. (The LuaLS stubs in types/
-- come from tools/gen_types.lua.)
--
--   lua5.4 tools/gen_docs.lua [API_MD]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath -- resources load ctct.json, hence ctct.core

local md_path = arg[1] or "docs/API.md"

local ops_table = require "ctct.api.operations"
local OPS = ops_table.operations
local RESOURCES = dofile("tools/public_modules.lua").RESOURCES

local problems, reported = {}, {}

-- Parameter names of a Lua function (not running), after self.
local function param_names(fn)
  local names, i = {}, 1
  while true do
    local name = debug.getlocal(fn, i)
    if not name then break end
    if name ~= "self" then names[#names + 1] = name end
    i = i + 1
  end
  return names
end

-- Hand-written methods that wrap an operation without declaring it.
local WRAPS = {
  ["contacts:create"] = "createContact", ["contacts:update"] = "putContact",
  ["contacts:create_or_update"] = "createOrUpdateContact", ["contacts:list"] = "getContacts",
  ["lists:rename"] = "putList", ["segments:rename"] = "updateSegmentName", ["campaigns:create"] =
  "createEmailCampaignUsingPOST", ["campaigns:rename"] = "renameEmailCampaignUsingPATCH",
  ["campaigns:schedule"] = "scheduleEmailCampaignActivityUsingPOST", ["activities:get"] = "getActivity",
  ["activities:download"] = "getContactsExport", ["activities:import_csv"] = "contactsCSVImport",
  ["activities:import_contacts"] = "bulkImportContactsJSON",
  ["partner.accounts:list"] = "getPartnerSiteOwners", ["partner.accounts:each"] = "getPartnerSiteOwners",
  ["partner.accounts:all"] = "getPartnerSiteOwners", ["partner.accounts:create"] = "provision",
  ["partner.accounts:plan"] = "getPlan", ["partner.accounts:set_plan"] = "setPlan",
  ["partner.accounts:cancel"] = "cancelAccount", ["partner.accounts:create_sso_user"] = "createSSOUser",
  ["partner.accounts:unsubscribe_contacts"] = "partnerUnsubscribeContacts",
  ["partner.webhooks:list"] = "getWebhooksCollection", ["partner.webhooks:get"] = "getWebhooksTopic",
  ["partner.webhooks:subscribe"] = "putWebhooksTopic", ["partner.webhooks:unsubscribe"] = "deleteWebhooksSubscriptions",
  ["partner.webhooks:test_send"] = "testSendWebhooksTopic",
}

-- The partner's objects (partner.accounts, partner.webhooks), documented like the
-- client's resources.
local PARTNER = { "accounts", "webhooks" }
local function module_of(name, owner)
  return owner == "partner" and ("ctct.partner." .. name) or ("ctct.resources." .. name)
end

-- Every public method of a resource: { name, args = {...}, op = op_id?, kind, doc }.
local function methods_of(name, owner)
  local R = require(module_of(name, owner))
  local decl, docs = R.DECL or {}, R.DOCS or {}
  name = owner == "partner" and ("partner." .. name) or name
  local out, seen = {}, {}
  local function add(m)
    seen[m.name] = true
    m.doc = docs[m.name]
    local key = name .. ":" .. m.name
    if not m.doc and not reported[key] then
      reported[key] = true
      problems[#problems + 1] = key .. " has no DOCS entry"
    end
    out[#out + 1] = m
  end
  for mname, m in pairs(decl.methods or {}) do
    if type(R[mname]) == "function" and R[mname] ~= nil and not seen[mname] then
      local args = {}
      for _, a in ipairs(m.args or {}) do args[#args + 1] = { name = a } end
      if m.body then args[#args + 1] = { name = "body" } end
      args[#args + 1] = { name = "opts" }
      add { name = mname, args = args, op = m.op, kind = m.activity and "activity" or "call" }
    end
  end
  for mname, it in pairs(decl.iterators or {}) do
    local args = {}
    for _, a in ipairs(it.args or {}) do args[#args + 1] = { name = a } end
    args[#args + 1] = { name = "opts" }
    add { name = mname, args = args, op = it.op, kind = "iterator" }
  end
  if decl.collection then
    for _, mname in ipairs { "list", "each", "all" } do
      if not seen[mname] then
        add { name = mname, args = { { name = "opts" } }, op = decl.collection.op,
              kind = mname == "each" and "iterator" or (mname == "all" and "all" or "call") }
      end
    end
  end
  -- Hand-written methods (and overrides of declared ones, already seen).
  for mname, fn in pairs(R) do
    if type(fn) == "function" and not seen[mname] and mname ~= "new" and not mname:match("^__") then
      local args = {}
      local written = R.__hand and R.__hand[mname] or fn -- base.define wraps hand-written methods
      for _, a in ipairs(param_names(written)) do
        args[#args + 1] = { name = a }
      end
      local op = WRAPS[name .. ":" .. mname]
      add { name = mname, args = args, kind = op and "call" or "custom", op = op }
    end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function signature(resource, m, owner)
  local names = {}
  for _, a in ipairs(m.args) do names[#names + 1] = a.name end
  return ("%s.%s:%s(%s)"):format(owner or "client", resource, m.name, table.concat(names, ", "))
end

-- docs/API.md -----------------------------------------------------------------------

local md = {
  "# ctct API reference",
  "",
  "Generated by `tools/gen_docs.lua` from the resource declarations in `lua/ctct/resources/` and the",
  "operation table (`lua/ctct/api/operations.lua`, spec " .. ops_table.version .. "). Do not edit: run",
  "`make docs`. Network calls return `result` or `nil, err` (a `ctct.Error`); iterators raise the error.",
  "",
  "## The client",
  "",
  "| method | what it does |",
  "|---|---|",
  "| `ctct.new{...}` | a client (see README for every option) |",
  "| `client:request(method, path, opts)` | any request through the pipeline |",
  "| `client:call(operation_id, params, opts)` | any of the " .. (function()
    local n = 0
    for _ in pairs(OPS) do n = n + 1 end
    return n
  end)() .. " operations by operationId, parameters checked first |",
  "| `client:pages(path, opts)` / `client:each(path, opts)` | pages / items of any collection |",
  "| `client:token_info()` | the token's scopes and expiry, from its claims |",
  "| `client:usage()` | its calls and waits, and the rate budget's rate and what is left today |",
  "| `client:close()` | release connections now |",
  "",
}
local covered = {}
local SECTIONS = {}
for _, name in ipairs(RESOURCES) do SECTIONS[#SECTIONS + 1] = { name = name, owner = "client" } end
for _, name in ipairs(PARTNER) do SECTIONS[#SECTIONS + 1] = { name = name, owner = "partner" } end
for _, section in ipairs(SECTIONS) do
  local name, owner = section.name, section.owner
  local R = require(module_of(name, owner))
  if owner == "partner" and name == PARTNER[1] then
    md[#md + 1] = "## The partner"
    md[#md + 1] = ""
    md[#md + 1] = "`local partner = ctct.partner.new{ client_id = ..., secret = ..., api_key = ... }` (any `ctct.new`"
    md[#md + 1] = "option too): `partner:request`, `partner:call` (every operation, partner ones with `x-api-key`),"
    md[#md + 1] = "`partner:as_client(encoded_account_id)` (a client acting for a managed account: every object"
    md[#md + 1] = "above, through the sync operation). `ctct.webhooks.parse(body, headers, opts)` verifies and reads"
    md[#md + 1] = "a notification; `event:fetch(partner)` gets its resource (API host only)."
    md[#md + 1] = ""
  end
  md[#md + 1] = "## " .. owner .. "." .. name
  md[#md + 1] = ""
  md[#md + 1] = "| method | operation | what it does |"
  md[#md + 1] = "|---|---|---|"
  for _, m in ipairs(methods_of(name, owner)) do
    if m.op then covered[m.op] = covered[m.op] or (owner .. "." .. name .. ":" .. m.name) end
    md[#md + 1] = ("| `%s` | %s | %s |"):format(signature(name, m, owner), m.op and ("`" .. m.op .. "`") or "",
      (m.doc or ""):gsub("|", "\\|"))
  end
  md[#md + 1] = ""
  if type(R.EXAMPLE) == "string" then
    md[#md + 1] = "```lua"
    md[#md + 1] = (R.EXAMPLE:gsub("\n+$", ""))
    md[#md + 1] = "```"
    md[#md + 1] = ""
  else
    problems[#problems + 1] = owner .. "." .. name .. " has no EXAMPLE"
  end
end
for m, op in pairs(WRAPS) do covered[op] = covered[op] or (m:match("^partner%.") and m or ("client." .. m)) end
covered.partnerAccountOperationsPostSync = "partner:as_client"

md[#md + 1] = "## Every operation"
md[#md + 1] = ""
md[#md + 1] = "All reachable with `client:call(operation_id, params)`; the object method where there is one."
md[#md + 1] = ""
md[#md + 1] = "| operation | method | path | object method | summary |"
md[#md + 1] = "|---|---|---|---|---|"
local ids = {}
for id in pairs(OPS) do ids[#ids + 1] = id end
table.sort(ids, function(a, b)
  if OPS[a].tag ~= OPS[b].tag then return tostring(OPS[a].tag) < tostring(OPS[b].tag) end
  return a < b
end)
for _, id in ipairs(ids) do
  local op = OPS[id]
  local where = covered[id] and ("`" .. covered[id] .. "`") or
    (op.security == "partner" and "`partner:call` only" or "`client:call` only")
  md[#md + 1] = ("| `%s` | %s | `%s` | %s | %s |"):format(id, op.method, op.path, where,
    (op.summary or ""):gsub("|", "\\|"))
end
md[#md + 1] = ""

if #problems > 0 then
  io.stderr:write("gen_docs: undocumented public methods:\n  " .. table.concat(problems, "\n  ") .. "\n")
  os.exit(1)
end
local function write(path, lines)
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end
write(md_path, md)
io.stderr:write(("gen_docs: %s\n"):format(md_path))
