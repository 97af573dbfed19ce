-- The committed generated files match a fresh run of their generators, and every
-- public method of every resource object has its doc entry (the LuaLS stubs:
-- spec/types_spec.lua).
local sandbox = require "spec.helpers.sandbox"

-- The spec `make operations schemas` reads (YAML, through tools/spec_json.py).
local SPEC = dofile("tools/spec_source.lua").DEFAULT

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local RESOURCES = dofile("tools/public_modules.lua").RESOURCES

describe("generated files #once", function()
  local dir
  lazy_setup(function() dir = assert(io.popen("mktemp -d")):read("*l") end)
  lazy_teardown(function() if dir then sandbox.run("rm -rf " .. sandbox.quote(dir)) end end)

  -- Same JSON value, same key order in every object (ctct.json ordered decoding).
  local function same_json(a, b, path)
    local json = require "ctct.json"
    if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
    if type(a) == "number" and math.type and math.type(a) ~= math.type(b) then
      return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b)
    end
    if type(a) ~= "table" then return a == b, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    if json.is_array(a) ~= json.is_array(b) then return false, path .. ": array vs object" end
    if json.is_array(a) then
      if #a ~= #b then return false, path .. ": " .. #a .. " vs " .. #b .. " items" end
      for i = 1, #a do
        local ok, why = same_json(a[i], b[i], path .. "[" .. i .. "]")
        if not ok then return false, why end
      end
      return true
    end
    local ka, kb = getmetatable(a), getmetatable(b)
    if #ka ~= #kb then return false, path .. ": " .. #ka .. " vs " .. #kb .. " members" end
    for i = 1, #ka do
      if ka[i] ~= kb[i] then return false, path .. ": member " .. i .. " is " .. ka[i] .. " vs " .. kb[i] end
      local ok, why = same_json(a[ka[i]], b[kb[i]], path .. "." .. ka[i])
      if not ok then return false, why end
    end
    return true
  end

  local function decode_file(path)
    return assert(require("ctct.json").decode(read(path), { ordered = true }))
  end

  it("tools/spec_json.py reads the 3.0.172 YAML exactly as its JSON twin, and the 3.0.178 spec", function()
    local out = dir .. "/172.json"
    local log, code = sandbox.run("python3 tools/spec_json.py ../shared/spec/ctct-v3-swagger.yaml "
      .. sandbox.quote(out) .. " 2>&1")
    assert.are.equal(0, code, log)
    assert(same_json(decode_file(out), decode_file("../shared/spec/ctct-v3-swagger.json"), "spec"))
    local new = dir .. "/178.json"
    log, code = sandbox.run("python3 tools/spec_json.py " .. sandbox.quote(SPEC) .. " > " .. sandbox.quote(new)
      .. " 2>&1")
    assert.are.equal(0, code, log)
    local doc = decode_file(new)
    assert.are.equal("3.0.178", doc.info.version)
    local ops, defs = 0, 0
    for _, item in pairs(doc.paths) do
      for _, op in pairs(item) do if type(op) == "table" and op.operationId then ops = ops + 1 end end
    end
    for _ in pairs(doc.definitions) do defs = defs + 1 end
    assert.are.same({ 128, 286 }, { ops, defs })
    assert.are.equal("swagger", getmetatable(doc)[1]) -- the file's key order
  end)

  it("tools/spec_json.py keeps dates as text and refuses what only YAML 1.1 reads as a value", function()
    local yaml = dir .. "/t.yaml"
    local function convert(text)
      local f = assert(io.open(yaml, "wb"))
      f:write(text)
      f:close()
      return sandbox.run("python3 tools/spec_json.py " .. sandbox.quote(yaml) .. " 2>&1")
    end
    local out, code = convert("b: 2023-01-23\nc: 2023-01-23T06:09:23Z\nd: 'yes'\ne: [1, 2.5, true, null]\n")
    assert.are.equal(0, code, out)
    assert.are.equal('{"b":"2023-01-23","c":"2023-01-23T06:09:23Z","d":"yes","e":[1,2.5,true,null]}\n', out)
    for _, text in ipairs { "a: yes\n", "a: off\n", "a: 0x1F\n", "a: 017\n", "a: 1:30\n", "a: .inf\n",
                            "b: &x {c: 1}\na: {<<: *x}\n" } do
      out, code = convert(text)
      assert.are_not.equal(0, code, text)
      assert.truthy(out:find("in YAML 1.1 only", 1, true), out)
    end
  end)

  it("lua/ctct/api/operations.lua is what tools/gen_operations.lua makes of the spec", function()
    local out = dir .. "/operations.lua"
    local log, code = sandbox.run("lua5.4 tools/gen_operations.lua " .. sandbox.quote(SPEC) .. " "
      .. sandbox.quote(out) .. " 2>&1")
    assert.are.equal(0, code, log)
    assert.is_true(read(out) == read("lua/ctct/api/operations.lua"),
      "lua/ctct/api/operations.lua is stale: run `make operations`")
  end)

  it("lua/ctct/api/schemas.lua is what tools/gen_schemas.lua makes of the spec", function()
    local out = dir .. "/schemas.lua"
    local log, code = sandbox.run("lua5.4 tools/gen_schemas.lua " .. sandbox.quote(SPEC) .. " "
      .. sandbox.quote(out) .. " 2>&1")
    assert.are.equal(0, code, log)
    assert.is_true(read(out) == read("lua/ctct/api/schemas.lua"),
      "lua/ctct/api/schemas.lua is stale: run `make schemas`")
  end)

  it("docs/API.md is what tools/gen_docs.lua makes of the code", function()
    local md = dir .. "/API.md"
    local log, code = sandbox.run("lua5.4 tools/gen_docs.lua " .. sandbox.quote(md) .. " 2>&1")
    assert.are.equal(0, code, log)
    assert.is_true(read(md) == read("docs/API.md"), "docs/API.md is stale: run `make docs`")
  end)

  it("every public resource and partner method has an API.md entry", function()
    local md = read("docs/API.md")
    local missing, checked = {}, 0
    local objects = {}
    for _, name in ipairs(RESOURCES) do objects[#objects + 1] = { "ctct.resources." .. name, "client." .. name } end
    for _, name in ipairs { "accounts", "webhooks" } do
      objects[#objects + 1] = { "ctct.partner." .. name, "partner." .. name }
    end
    for _, o in ipairs(objects) do
      for key, value in pairs(require(o[1])) do
        if type(value) == "function" and key:match("^[a-z][%w_]*$") and key ~= "new" then
          checked = checked + 1
          if not md:find("`" .. o[2] .. ":" .. key .. "(", 1, true) then missing[#missing + 1] = o[2] .. ":" .. key end
        end
      end
    end
    assert.is_true(checked > 90, "only " .. checked .. " methods found")
    assert.are.same({}, missing)
  end)
end)
