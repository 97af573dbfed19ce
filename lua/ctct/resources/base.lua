--- ctct.resources.base: how resource objects (client.contacts, client.lists, ...)
-- are made from declarations.
--
--   local Lists = base.define {
--     name = "lists",
--     collection = { op = "getLists", items = "lists" },     -- :each{} :list{} :all{}
--     methods = {
--       get = { op = "getList", args = { "list_id" } },       -- lists:get(list_id[, opts])
--       create = { op = "createList", body = true },          -- lists:create(body[, opts])
--       update = { op = "putList", args = { "list_id" }, body = true },
--       delete = { op = "deleteListActivity", args = { "list_id" }, activity = true },
--     },
--     iterators = {                                         -- reports:opens(id[, opts]) -> iterator
--       opens = { op = "getOpens", args = { "campaign_activity_id" }, items = "tracking_activities" },
--     },
--   }
--
-- A declared method takes its path arguments in order, then the body if it has
-- one, then an optional table of further parameters (query options), and calls
-- client:call: so every argument is checked against the spec, and failures
-- come back as nil, err. `activity = true` wraps the answer in an Activity
-- (:status(), :wait{}). Hand-written methods sit next to the declared ones.
local paginate = require "ctct.paginate"
local Activity = require "ctct.activity"

local M = {}

local DEFAULT_MAX = 10000

local function merge(into, opts, what)
  if opts == nil then return into end
  if type(opts) ~= "table" then error("ctct: bad argument 'options' to " .. what .. ": expected a table", 4) end
  for k, v in pairs(opts) do
    if into[k] ~= nil then error("ctct: " .. what .. ": '" .. k .. "' is given twice", 4) end
    into[k] = v
  end
  return into
end

-- "client.lists:get(list_id[, opts])": how a method is called, for misuse errors.
local function usage(R, name, m)
  if m.hand then return "client." .. R.NAME .. ":" .. name .. "(...)" end
  local args = {}
  for _, a in ipairs(m.args or {}) do args[#args + 1] = a end
  if m.body then args[#args + 1] = "body" end
  args[#args + 1] = "opts"
  local shown = table.concat(args, ", "):gsub(", opts$", "[, opts]"):gsub("^opts$", "[opts]")
  return "client." .. R.NAME .. ":" .. name .. "(" .. shown .. ")"
end

-- A method called with a dot (client.lists.get(id)) gets the id as self.
local function check_self(R, self, name, m)
  if getmetatable(self) ~= R then
    error("ctct: " .. R.NAME .. "." .. name .. " called without its object: use " .. usage(R, name, m or {}), 3)
  end
end

--- Call operation `m` with positional arguments (see the header).
function M.invoke(self, name, m, ...)
  local params = {}
  local n = #(m.args or {})
  for i, arg in ipairs(m.args or {}) do params[arg] = (select(i, ...)) end
  local next_arg = n + 1
  if m.body then
    local body = (select(next_arg, ...))
    if type(body) ~= "table" then
      error("ctct: bad argument 'body' to " .. self.NAME .. ":" .. name .. ": expected a table of the " ..
        "request's fields (e.g. { name = ... }), got " .. (type(body) == "string" and
        string.format("the string %q", body:sub(1, 40)) or type(body)) .. "; use " .. usage(self, name, m), 3)
    end
    params.body = body
    next_arg = next_arg + 1
  end
  merge(params, (select(next_arg, ...)), self.NAME .. ":" .. name)
  local data, res = self.client:call(m.op, params)
  if data and m.activity and type(data) == "table" then return Activity.new(self.client, data), res end
  return data, res
end

--- Iterator over every item of a collection operation, page after page.
-- opts: the operation's parameters; raises the ctct.Error if a page fails.
function M.each(client, op, items, opts)
  local params = merge({}, opts, op)
  return paginate.items(paginate.pages_from(client, function() return client:call(op, params) end), items, op)
end

--- All items (at most opts.max, default 10,000) and whether more were left.
function M.all(client, op, items, opts)
  local params = merge({}, opts, op)
  local max = params.max or DEFAULT_MAX
  params.max = nil
  local ok, list, more = pcall(paginate.collect, M.each(client, op, items, params), max)
  if not ok then return nil, list end
  return list, more
end

function M.define(decl)
  local R = { NAME = decl.name, DECL = decl }
  R.__index = R
  R.__tostring = function() return "ctct." .. decl.name end

  function R.new(client) return setmetatable({ client = client }, R) end

  local c = decl.collection
  if c then
    --- One page (the decoded answer), with the operation's parameters.
    function R:list(opts)
      check_self(R, self, "list")
      return self.client:call(c.op, merge({}, opts, decl.name .. ":list"))
    end
    --- Every item, one at a time: for item in client.<resource>:each{...} do ... end
    function R:each(opts)
      check_self(R, self, "each")
      return M.each(self.client, c.op, c.items, opts)
    end
    --- All items (opts.max, default 10,000), and whether more were left.
    function R:all(opts)
      check_self(R, self, "all")
      return M.all(self.client, c.op, c.items, opts)
    end
  end
  for name, m in pairs(decl.methods or {}) do
    R[name] = function(self, ...)
      check_self(R, self, name, m)
      return M.invoke(self, name, m, ...)
    end
  end
  for name, it in pairs(decl.iterators or {}) do
    R[name] = function(self, ...)
      check_self(R, self, name, it)
      local params = {}
      for i, arg in ipairs(it.args or {}) do params[arg] = (select(i, ...)) end
      merge(params, (select(#(it.args or {}) + 1, ...)), decl.name .. ":" .. name)
      return M.each(self.client, it.op, it.items, params)
    end
  end
  -- Methods written by hand after define (function R:name(...) ... end) get the
  -- same check: a call with a dot says to use the colon. Functions whose first
  -- parameter is not self (function R.helper(campaign)) are not methods.
  R.__hand = {}
  return setmetatable(R, { __newindex = function(t, name, fn)
    if type(fn) == "function" and type(name) == "string" and not name:match("^_") and name ~= "new"
        and debug.getlocal(fn, 1) == "self" then
      local method = fn
      R.__hand[name] = method -- the function as written, for tools/gen_docs.lua
      fn = function(self, ...)
        check_self(R, self, name, { hand = true })
        return method(self, ...)
      end
    end
    rawset(t, name, fn)
  end })
end

return M
