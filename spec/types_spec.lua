-- The LuaLS addon in types/ (config.json, library/): generated from the code and
-- complete. lua-language-server is neither a Debian 12 package nor on npm, so its
-- `--check` cannot run here; instead every function reachable from the public
-- modules is looked up in the stubs, with its parameters, each annotated, and the
-- declared resource methods' types are compared with the spec's operations.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local public = dofile("tools/public_modules.lua")
local MODULES, RESOURCES = public.MODULES, public.RESOURCES

local function stub_path(module)
  return "types/library/" .. (module == "ctct" and "ctct" or module:gsub("%.", "/")) .. ".lua"
end

local function lines_of(path)
  local t = {}
  for line in (read(path) .. "\n"):gmatch("(.-)\n") do t[#t + 1] = line end
  return t
end

-- The annotation block above line i of a stub.
local function block_above(lines, i)
  local block = {}
  local j = i - 1
  while j > 0 and lines[j]:match("^%-%-%-") do
    table.insert(block, 1, lines[j])
    j = j - 1
  end
  return block
end

-- The type of a @param/@field/@return/@alias line and the description after it:
-- brackets balanced, spaces inside a type only after ':' ',' '|'.
local function type_and_description(line)
  local tag, rest = line:match("^%-%-%-@(%w+)%s+(.*)$")
  if tag == "param" or tag == "field" or tag == "alias" then rest = rest:match("^%S+%s+(.*)$") or ""
  elseif tag ~= "return" then return nil end
  local depth, i, last = 0, 1, ""
  while i <= #rest do
    local c = rest:sub(i, i)
    if c:match("[%(<{%[]") then depth = depth + 1
    elseif c:match("[%)>}%]]") then depth = depth - 1
    elseif c:match("%s") and depth == 0 and not last:match("[:,|]") then break end
    if not c:match("%s") then last = c end
    i = i + 1
  end
  return rest:sub(1, i - 1), rest:sub(i)
end

describe("LuaLS addon (types/) #once", function()
  local ops = require("ctct.api.operations").operations

  it("is what tools/gen_types.lua makes of the code", function()
    local dir = assert(io.popen("mktemp -d")):read("l")
    finally(function() sandbox.run("rm -rf " .. sandbox.quote(dir)) end)
    local log, code = sandbox.run("lua5.4 tools/gen_types.lua " .. sandbox.quote(dir) .. " 2>&1")
    assert.are.equal(0, code, log)
    local diff, dcode = sandbox.run("diff -r " .. sandbox.quote(dir) .. " types 2>&1")
    assert.are.equal(0, dcode, "types/ is stale: run `make docs`\n" .. diff:sub(1, 2000))
  end)

  it("is an addon: config.json recommends it where ctct is required; .luarc.json uses it", function()
    local config = cjson.decode(read("types/config.json"))
    assert.are.equal("ctct", config.name)
    assert.are.equal("Lua 5.4", config.settings["Lua.runtime.version"])
    local function recommended(text)
      for _, word in ipairs(config.words) do
        if text:find(word) then return true end
      end
      return false
    end
    assert.is_true(recommended('local ctct = require "ctct"'))
    assert.is_true(recommended("local jwt = require('ctct.jwt')"))
    assert.is_true(recommended('local x = require("ctct")'))
    assert.is_false(recommended('local x = require "ctcts"'))
    assert.is_false(recommended('print("ctct")'))
    local luarc = cjson.decode(read(".luarc.json"))
    assert.are.same({ "types/library" }, luarc["workspace.library"])
    assert.are.equal("Lua 5.4", luarc["runtime.version"])
  end)

  it("every stub file is valid Lua and every stub function has a @param per parameter", function()
    local files = assert(io.popen("find types/library -name '*.lua' | sort"))
    local n, functions, missing = 0, 0, {}
    for path in files:lines() do
      n = n + 1
      assert(loadfile(path))
      local lines = lines_of(path)
      for i, line in ipairs(lines) do
        local name, plist = line:match("^function ([%w_.:]+)%((.-)%) end$")
        if name then
          functions = functions + 1
          local have = {}
          for _, l in ipairs(block_above(lines, i)) do
            local p = l:match("^%-%-%-@param ([%w_]+)%??%s+%S")
            if p then have[p] = true end
          end
          for p in plist:gmatch("[%w_]+") do
            if p ~= "self" and not have[p] then missing[#missing + 1] = path .. ":" .. i .. " " .. name .. " " .. p end
          end
        end
      end
    end
    files:close()
    assert.is_true(n >= #MODULES + 2, n .. " files")
    assert.is_true(functions > 200, functions .. " stub functions")
    assert.are.same({}, missing)
  end)

  it("every function of every public module and object has its stub, with the same parameters", function()
    local sources, stubs = {}, {}
    local function source_line(path, n)
      sources[path] = sources[path] or lines_of(path)
      return sources[path][n]
    end
    local function stub_text(module)
      stubs[module] = stubs[module] or read(stub_path(module))
      return stubs[module]
    end
    local missing, checked, seen = {}, 0, {}
    -- f reached as <module> ... .key: its own header must be in its own module's stub,
    -- and a function defined elsewhere (an alias) must be a field of the module.
    local function check(module, key, f, label)
      if seen[f] then return end
      seen[f] = true
      checked = checked + 1
      local info = debug.getinfo(f, "S")
      local src = info.source:match("^@(.*)$") or ""
      src = src:gsub("^%./", "")
      local own = src:match("^lua/(ctct/.-)%.lua$")
      own = own and own:gsub("/init$", ""):gsub("/", ".")
      local header = own and info.linedefined > 0 and source_line(src, info.linedefined)
      local fname, plist = (header or ""):match("^function ([%w_.:]+)%((.-)%)")
      if not fname then fname, plist = (header or ""):match("^([%w_]+[.:][%w_]+)%s*=%s*function%s*%((.-)%)") end
      if fname and own and (own == module or not stub_text(module):find("---@field " .. key .. " ", 1, true)) then
        local ok = pcall(stub_text, own)
        if not ok or not stub_text(own):find("\nfunction " .. fname .. "(" .. plist .. ") end\n", 1, true) then
          missing[#missing + 1] = label .. " (" .. fname .. "(" .. plist .. ") in " .. stub_path(own) .. ")"
        end
      elseif not fname or not own then
        -- Made at run time (a declared resource method, a flow made in a loop) or an
        -- alias of a local function: a method or a typed field of the module's stub.
        local text = stub_text(module)
        local as_method = text:find("\nfunction [%w_]+[:.]" .. key .. "%(")
        if not (as_method or text:find("\n%-%-%-@field " .. key .. " fun%(")) then
          missing[#missing + 1] = label
        end
      end
    end
    local function walk(module, t, prefix, depth)
      for key, v in pairs(t) do
        -- Resource objects are made by the client (client.contacts): their new is not public.
        local made_by_client = key == "new" and module:match("^ctct%.resources%.")
        if type(key) == "string" and not key:match("^_") and not made_by_client then
          if type(v) == "function" then
            local hand = rawget(t, "__hand")
            check(module, key, hand and hand[key] or v, prefix .. key)
          elseif type(v) == "table" and depth < 1 and v ~= t and key:match("^%u") then
            walk(module, v, prefix .. key .. ".", depth + 1) -- an exported class (M.Token, M.Client, ...)
          end
        end
      end
    end
    for _, module in ipairs(MODULES) do walk(module, require(module), module .. ".", 0) end
    -- Objects whose class is not exported: their methods through an instance.
    local dir = assert(io.popen("mktemp -d")):read("l")
    finally(function() sandbox.run("rm -rf " .. sandbox.quote(dir)) end)
    local instances = {
      ["ctct.store.memory"] = require("ctct.store.memory").new {},
      ["ctct.store.file"] = require("ctct.store.file").new { path = dir .. "/tokens.json" },
      ["ctct.ratelimit"] = require("ctct.ratelimit").new {},
    }
    for module, obj in pairs(instances) do
      local class = getmetatable(obj).__index
      walk(module, type(class) == "table" and class or getmetatable(obj), module .. ":", 0)
    end
    assert.is_true(checked > 250, "only " .. checked .. " functions found")
    assert.are.same({}, missing)
  end)

  it("declared resource methods take and return the spec's types", function()
    local wrong, checked = {}, 0
    local function schema(name)
      return "ctct.schema." .. name:gsub("%[%]$", "_item")
    end
    for _, name in ipairs(RESOURCES) do
      local R = require("ctct.resources." .. name)
      local lines = lines_of(stub_path("ctct.resources." .. name))
      local var = read("lua/ctct/resources/" .. name .. ".lua"):match("\nlocal ([%w_]+) = base%.define")
      for mname, m in pairs(R.DECL.methods or {}) do
        if not (R.__hand and R.__hand[mname]) then
          local block = ""
          for i, l in ipairs(lines) do
            if l:find("function " .. var .. ":" .. mname .. "(", 1, true) == 1 then
              block = table.concat(block_above(lines, i), "\n") .. "\n"
            end
          end
          local op = ops[m.op]
          checked = checked + 1
          for _, p in ipairs(op.params) do
            if p["in"] == "body" and m.body and p.schema and p.schema ~= "object" and
                not block:find("---@param body " .. schema(p.schema) .. "\n", 1, true) then
              wrong[#wrong + 1] = name .. ":" .. mname .. " body should be " .. schema(p.schema)
            end
          end
          local first = m.activity and "ctct.Activity|nil" or (op.response and (schema(op.response) .. "|nil"))
          if first and not block:find("---@return " .. first .. " ", 1, true) then
            wrong[#wrong + 1] = name .. ":" .. mname .. " should return " .. first
          end
          if not block:find("---@param opts? ctct.params." .. m.op .. "\n", 1, true) then
            wrong[#wrong + 1] = name .. ":" .. mname .. " opts should be ctct.params." .. m.op
          end
        end
      end
    end
    assert.is_true(checked > 40, checked .. " declared methods")
    assert.are.same({}, wrong)
  end)

  it("client:call has an overload per operation, typed by its parameters", function()
    local text = read("types/library/ctct/client.lua")
    local n = 0
    for id in pairs(ops) do
      n = n + 1
      assert.truthy(text:find('operation_id: "' .. id .. '", params%??: ctct%.params%.' .. id .. ","), id)
      assert.truthy(read("types/library/ctct/api/operations.lua"):find("---@class ctct.params." .. id .. "\n", 1,
        true), id)
    end
    assert.are.equal(128, n)
  end)

  it("no `any` where there is a type: each one says it takes any value", function()
    local files = assert(io.popen("find types/library -name '*.lua' | sort"))
    local anys, unexplained = 0, {}
    for path in files:lines() do
      for i, line in ipairs(lines_of(path)) do
        local t, description = type_and_description(line)
        if t and t:match("%f[%w]any%f[^%w]") then
          anys = anys + 1
          -- a description that says why: any value, any JSON values
          if not description:match("%f[%w]any%f[^%w]") then
            unexplained[#unexplained + 1] = path .. ":" .. i .. ": " .. line
          end
        end
      end
    end
    files:close()
    for _, dir in ipairs { "types/library/ctct/api", "types/library/ctct/resources" } do
      local out = sandbox.run("grep -rlw any " .. dir .. " || true")
      assert.are.equal("", out, "generated stubs use any: " .. out)
    end
    assert.is_true(anys < 20, anys .. " annotations use any")
    assert.are.same({}, unexplained)
  end)

  it("every option table has its class, with every option typed", function()
    local found = 0
    for _, module in ipairs(MODULES) do
      local M = require(module)
      if type(M.OPTIONS) == "table" then
        found = found + 1
        local text = read(stub_path(module))
        for name, rule in pairs(M.OPTIONS) do
          assert.truthy(text:find("---@field " .. name .. "? " .. rule .. "\n", 1, true), module .. " " .. name)
        end
        assert.truthy(text:find("---@class " .. module .. ".Options\n", 1, true), module)
      end
    end
    assert.is_true(found >= 9, found .. " option tables")
  end)
end)
