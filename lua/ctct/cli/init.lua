--- ctct.cli: the `ctct` command line tool (bin/ctct calls main).
--
--   local code = require("ctct.cli").main(arg)   -- returns the exit code
--
-- Everything runs under xpcall: an error becomes one line on stderr (or a JSON
-- object with --output json) and a documented exit code, never a traceback.
-- One concern per module: parser (the argparse definition), output (formats),
-- exitcodes, config (profiles, environment, clients), progress (bars), and the
-- command groups: auth, resources, partner, raw (call, api, completion).
local core = require "ctct.core"
local errors = require "ctct.errors"
local exitcodes = require "ctct.cli.exitcodes"
local output = require "ctct.cli.output"
local config = require "ctct.cli.config"
local progress = require "ctct.cli.progress"

local M = {}

M.GROUPS = {
  auth = "ctct.cli.auth", contacts = "ctct.cli.resources", lists = "ctct.cli.resources",
  tags = "ctct.cli.resources", custom_fields = "ctct.cli.resources", segments = "ctct.cli.resources",
  campaigns = "ctct.cli.resources", reports = "ctct.cli.resources", activities = "ctct.cli.resources",
  partner = "ctct.cli.partner", raw = "ctct.cli.raw",
}

local Ctx = {}
Ctx.__index = Ctx
M.Ctx = Ctx

--- A note for people on stderr (not with --quiet). Notes and --verbose lines carry
-- server text (paths, error messages): control characters become visible escapes.
function Ctx:note(message)
  if self.args.quiet then return end
  io.stderr:write(errors.printable(exitcodes.redact(message, self.secrets)), "\n")
end

function Ctx:add_secret(s)
  if type(s) == "string" and s ~= "" then self.secrets[#self.secrets + 1] = s end
end

--- A usage error (exit 2).
function Ctx.usage(_, message, hint)
  error(exitcodes.usage(message, hint), 0)
end

--- data, or raise err (the main loop reports it).
function Ctx.check(_, data, err)
  if data == nil then error(err, 0) end
  return data
end

function Ctx:log(level, message)
  if not self.args.verbose then return end
  io.stderr:write(errors.printable(exitcodes.redact("ctct: " .. level .. ": " .. message, self.secrets)), "\n")
end

--- The HTTP transport: ctct's curl transport, logging each exchange with --verbose
-- (method, path without the query, status, time; never headers or bodies).
function Ctx:transport()
  if self._transport then return self._transport end
  local inner = require("ctct.config").transport { user_agent = "ctct-cli", cafile = config.env("CTCT_CAFILE") }
  local ctx = self
  local t = { inner = inner, now = inner.now, time = inner.time, sleep = inner.sleep, name = "cli" }
  function t.request(_, req)
    local started = core.monotonic()
    local res, err = inner:request(req)
    if ctx.args.verbose then
      local path = tostring(req.url):gsub("^%a[%w+.-]*://[^/]*", ""):match("^[^?#]*")
      ctx:log("http", ("%s %s -> %s (%.0f ms)"):format(req.method, path,
        res and tostring(res.status) or (err and err.kind or "error"), (core.monotonic() - started) * 1000))
    end
    return res, err
  end
  function t.close() inner:close() end
  self._transport = t
  return t
end

local function client_options(self)
  -- ordered_json: -o json prints objects in the order the API sent their keys.
  local o = { transport = self:transport(), logger = function(level, message) self:log(level, message) end,
              ordered_json = true }
  local rl = config.env("CTCT_RATE_LIMIT") -- requests per second; 0 turns the client's limiter off
  if rl and tonumber(rl) then
    if tonumber(rl) <= 0 then o.rate_limit = false else o.rate_limit = { per_second = tonumber(rl) } end
  end
  return o
end

--- The partner client (ctct.partner) from the environment.
function Ctx:partner()
  if self._partner then return self._partner end
  local partner, s = config.partner(self.args, client_options(self))
  self:add_secret(s.secret)
  self:add_secret(s.api_key)
  self._partner = partner
  return partner
end

--- The API client: the profile's, the environment token's, or (partner as
-- ACCOUNT) a partner client acting for that account.
function Ctx:client()
  if self._client then return self._client end
  if self.as_account then
    local ok, c = pcall(self:partner().as_client, self:partner(), self.as_account)
    if not ok then self:usage((tostring(c):gsub("^.-as_client: ", ""))) end
    self._client = c
    return c
  end
  local c, s = config.client(self.args, client_options(self))
  self:add_secret(s.access_token)
  self:add_secret(s.client_secret)
  local source = c.token_source
  if source and source.store then
    local tok = source.store:get(s.profile)
    if type(tok) == "table" then
      self:add_secret(tok.access_token)
      self:add_secret(tok.refresh_token)
    end
  end
  self._client = c
  self.settings = s
  return c
end

--- A progress bar on stderr (only on a terminal, not with --quiet).
function Ctx:progress(label)
  return progress.new { label = label, enabled = not self.args.quiet and output.isatty(2) }
end

--- Read a file (or stdin for "-"); a missing or unreadable file is a usage error.
function Ctx:read_file(path)
  if path == "-" then return io.stdin:read("a") end
  local f, why = io.open(path, "rb")
  if not f then self:usage("cannot read " .. path .. ": " .. tostring(why):gsub("^[^:]*: ", "")) end
  local text, rerr = f:read("a")
  f:close()
  if not text then self:usage("cannot read " .. path .. ": " .. tostring(rerr)) end
  return text
end

--- A JSON body from --body FILE|-.
function Ctx:json_file(path)
  local text = self:read_file(path)
  local data, why = require("ctct.json").decode(text)
  if data == nil then self:usage((path == "-" and "stdin" or path) .. " is not JSON: " .. tostring(why)) end
  return data, text
end

-- Run one parsed command line. Returns the exit code.
function M.dispatch(ctx, args)
  local leaf = args._leaf
  if not leaf then ctx:usage("no command given; see ctct --help") end
  local group, name = leaf:match("^([%w_]+)%.([%w_]+)$")
  local handlers = require(M.GROUPS[group])
  local handler = handlers[group] and handlers[group][name] or handlers[name]
  if not handler then ctx:usage("command not implemented: " .. leaf) end
  return handler(ctx, args) or 0
end

-- Words for suggestions when argparse rejects a command.
local function parse(parser, argv)
  local ok, res = parser:pparse(argv)
  if ok then return res end
  local msg = tostring(res)
  local first, rest = msg:match("^([^\n]*)\n?(.*)$")
  error(exitcodes.usage(first, rest ~= "" and rest:gsub("\n", " "):gsub("^%s+", "") or "see ctct --help"), 0)
end
M.parse = parse

--- Parse, run, report. Returns the exit code.
function M.main(argv)
  argv = argv or {}
  local list = {}
  for i = 1, #argv do list[i] = argv[i] end
  -- ctx.cli: the command runner, for handlers that run a command line of their own
  -- (partner as) without requiring this module back (no require cycle).
  local ctx = setmetatable({ args = { quiet = false }, secrets = {}, cli = M }, Ctx)
  local want_json = false
  for _, a in ipairs(list) do
    if a == "json" or a == "--output=json" or a == "-ojson" then want_json = true end
  end
  local function run()
    local parser, commands = require("ctct.cli.parser").build()
    ctx.parser, ctx.commands = parser, commands
    local args = parse(parser, list)
    ctx.args = args
    want_json = args.output == "json"
    ctx.out = output.new { format = args.output, fields = args.fields and output.split(args.fields),
                           limit = args.limit }
    return M.dispatch(ctx, args)
  end
  local ok, code = xpcall(run, function(e)
    if errors.is(e) or exitcodes.is_usage(e) then return e end
    -- Anything else is a bug or a bad argument raised by the library: one
    -- line, no traceback (CTCT_DEBUG=1 adds it, for reporting bugs).
    local text = tostring(e)
    if os.getenv("CTCT_DEBUG") then text = debug.traceback(text, 2) end
    return { internal = text }
  end)
  io.stdout:flush()
  if ok then
    if ctx._client then pcall(ctx._client.close, ctx._client) end
    return code
  end
  local err = code
  if type(err) == "table" and err.internal then
    local text = err.internal:gsub("^[^:]*/[%w_]+%.lua:%d+: ", "")
    -- The library raises on bad arguments ("ctct: bad ...", "ctct.partner: bad ..."): usage errors.
    if text:match("^ctct[%w.:_]*: bad ") or text:match("^ctct[%w.:_]*: missing ") then
      err = exitcodes.usage(text:gsub("^ctct[%w.:_]*: ", ""), nil)
    else
      err = exitcodes.usage("internal error: " .. text)
      return exitcodes.report(err, { json = want_json, secrets = ctx.secrets, code = exitcodes.API })
    end
  end
  if errors.is(err) and err.kind == "validation" and err.suggestions and #err.suggestions > 0
      and not err.message:find("did you mean") then
    err.message = err.message .. "; did you mean " .. table.concat(err.suggestions, ", ") .. "?"
  end
  return exitcodes.report(err, { json = want_json, secrets = ctx.secrets })
end

return M
