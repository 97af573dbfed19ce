--- ctct.cli.raw: the escape hatches and the completion script.
--
--   ctct call OPERATION_ID name=value ... [--body FILE|-] [--paginate]
--       any of the 128 operations; parameters checked against the operation table
--       (repeat a name, or write a,b, for arrays; name=@FILE reads a file's content)
--   ctct api METHOD PATH [-f name=value ...] [-F name=value ...] [--body FILE|-] [--paginate]
--       -f/-F: query parameters on GET and DELETE, the JSON body's fields otherwise (as gh api)
--   ctct quota
--       the API key's budget: with CTCT_REDIS=host:port the fleet's (ctct.ratelimit.redis:
--       CTCT_REDIS_PASSWORD, CTCT_PER_SECOND, CTCT_DAILY), else this process's own limiter
--   ctct completion bash|zsh|fish
--   ctct help [COMMAND...]
local json = require "ctct.json"
local output = require "ctct.cli.output"
local paginate = require "ctct.paginate"

local M = { raw = {} }
local H = M.raw

-- Print an answer; with --paginate follow _links.next and stream the items.
local function show(ctx, c, data, paginated)
  if paginated and type(data) == "table" then
    local first = true
    local pages = paginate.pages_from(c, function()
      if first then first = false; return data end
    end)
    ctx.out:collection(paginate.items(pages))
  else
    ctx.out:object(data)
  end
end

function H.call(ctx, args)
  local params = {}
  for _, pair in ipairs(args.params) do
    local k, v = pair:match("^([%w_%.%-]+)=(.*)$")
    if not k then ctx:usage("parameters are name=value, got '" .. pair .. "'") end
    if v:sub(1, 1) == "@" and #v > 1 then v = ctx:read_file(v:sub(2)) end
    local prev = params[k]
    if prev == nil then params[k] = v
    elseif type(prev) == "table" then prev[#prev + 1] = v
    else params[k] = { prev, v } end
  end
  if args.body then
    local _, text = ctx:json_file(args.body)
    params.body = text
  end
  local c = ctx:client()
  -- Check the parameters before asking for a token (a typo is a usage error, not a login problem).
  local req, err = require("ctct.api.call").build(args.operation, params)
  if not req then error(err, 0) end
  local data
  data, err = c:call(args.operation, params)
  if data == nil then error(err, 0) end
  show(ctx, c, data, args.paginate)
end

-- -f name=value (strings) and -F name=value (typed), in the order given; name[]
-- appends to an array. Typed: true, false, null, JSON numbers; @FILE is the file's text.
local function api_fields(ctx, args)
  local fields = {}
  local function add(pair, typed)
    local k, v = pair:match("^([^=]+)=(.*)$")
    if not k then ctx:usage((typed and "-F" or "-f") .. " takes name=value, got '" .. pair .. "'") end
    local name, array = k:match("^(.-)%[%]$")
    name = name or k
    if typed then
      if v:sub(1, 1) == "@" and #v > 1 then
        v = ctx:read_file(v:sub(2))
      elseif v == "true" or v == "false" or v == "null" or v:match("^%-?%d[%d.eE+-]*$") then
        local decoded = json.decode(v) -- JSON's own reading: 5 is an integer, 1.2.3 stays text
        if decoded ~= nil then v = decoded end
      end
    end
    fields[#fields + 1] = { name = name, value = v, array = array ~= nil }
  end
  for _, pair in ipairs(args.field) do add(pair, false) end
  for _, pair in ipairs(args.typed_field) do add(pair, true) end
  return fields
end

function H.api(ctx, args)
  local method = args.method:upper()
  local path = args.path
  if path:match("^https?://") then ctx:usage("give a path under the API base, like /contacts") end
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  local c = ctx:client()
  if c.base_path ~= "" and path:sub(1, #c.base_path + 1) == c.base_path .. "/" then
    path = path:sub(#c.base_path + 1)
  end
  local query, body = nil, nil
  local fields = api_fields(ctx, args)
  if args.body then
    if #fields > 0 then ctx:usage("give the body as --body or as -f/-F fields, not both") end
    local _, text = ctx:json_file(args.body)
    body = text
  elseif #fields > 0 then
    if method == "GET" or method == "DELETE" or method == "HEAD" then
      query = {}
      for _, f in ipairs(fields) do
        if f.array then
          query[f.name] = query[f.name] or {}
          table.insert(query[f.name], f.value)
        else
          query[f.name] = f.value
        end
      end
    else
      local obj = {}
      for _, f in ipairs(fields) do
        if f.array then
          local list = obj[f.name]
          if list == nil then list = json.array({}); obj[f.name] = list end
          list[#list + 1] = f.value
        else
          obj[f.name] = f.value
        end
      end
      body = json.encode(obj)
    end
  end
  local ok, data, err = pcall(c.request, c, method, path, { query = query, body = body,
    headers = body and { ["Content-Type"] = "application/json" } or nil })
  if not ok then ctx:usage((tostring(data):gsub("^ctct: ", ""))) end
  if data == nil then error(err, 0) end
  show(ctx, c, data, args.paginate)
end

function H.quota(ctx, args)
  local addr = os.getenv("CTCT_REDIS")
  if not addr or addr == "" then
    local u = ctx:client():usage()
    u.shared = false -- this process only: set CTCT_REDIS to read the fleet's budget
    ctx.out:object(u)
    return
  end
  local host, port = addr:match("^([^:]+):(%d+)$")
  if not host then ctx:usage("CTCT_REDIS must be host:port, got " .. addr) end
  local client_id = require("ctct.cli.config").settings(args).client_id
  if not client_id then ctx:usage("the shared budget is per API key: set CTCT_CLIENT_ID or log in first") end
  local limiter = require("ctct.ratelimit.redis").new {
    redis = { host = host, port = tonumber(port), password = os.getenv("CTCT_REDIS_PASSWORD") },
    api_key = client_id, per_second = tonumber(os.getenv("CTCT_PER_SECOND") or "") or 4,
    daily = tonumber(os.getenv("CTCT_DAILY") or "") or 10000, on_redis_error = "fail",
  }
  local left = limiter:remaining_today()
  if left == nil then
    ctx:check(nil, require("ctct.errors").new { kind = "storage",
                                                message = "cannot read the budget from Redis at " .. addr })
  end
  ctx.out:object { shared = true, limiter = "redis", per_second = limiter.rate, daily = limiter.daily,
                   remaining_today = left, used_today = limiter.daily - left, resets_in = limiter:until_reset() }
end

function H.completion(ctx, args)
  local p = ctx.parser
  local script
  if args.shell == "bash" then script = p:get_bash_complete()
  elseif args.shell == "zsh" then script = p:get_zsh_complete()
  else script = p:get_fish_complete() end
  io.stdout:write(script)
end

-- ctct help [COMMAND...]: the help of any command, at any depth.
function H.help(ctx, args)
  local words = table.concat(args.command, " ")
  local c = words == "" and ctx.parser or ctx.commands[words]
  if not c then ctx:usage("no command '" .. words .. "'", "see ctct --help") end
  io.stdout:write(c:get_help(), "\n")
end

M.output = output
return M
