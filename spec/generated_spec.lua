-- The committed generated files match a fresh run of their generators, and every
-- public method of every resource object has its editor stub and its doc entry.
local sandbox = require "spec.helpers.sandbox"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local RESOURCES = {
  "account", "contacts", "lists", "tags", "custom_fields", "segments", "campaigns", "activities", "reports",
  "events", "automations", "social",
}

describe("generated files #once", function()
  local dir
  lazy_setup(function() dir = assert(io.popen("mktemp -d")):read("*l") end)
  lazy_teardown(function() if dir then sandbox.run("rm -rf " .. sandbox.quote(dir)) end end)

  it("lua/ctct/api/operations.lua is what tools/gen_operations.lua makes of the spec", function()
    local out = dir .. "/operations.lua"
    local log, code = sandbox.run("lua5.4 tools/gen_operations.lua ../shared/spec/ctct-v3-swagger.json "
      .. sandbox.quote(out) .. " 2>&1")
    assert.are.equal(0, code, log)
    assert.is_true(read(out) == read("lua/ctct/api/operations.lua"),
      "lua/ctct/api/operations.lua is stale: run `make operations`")
  end)

  it("lua/ctct/api/schemas.lua is what tools/gen_schemas.lua makes of the spec", function()
    local out = dir .. "/schemas.lua"
    local log, code = sandbox.run("lua5.4 tools/gen_schemas.lua ../shared/spec/ctct-v3-swagger.json "
      .. sandbox.quote(out) .. " 2>&1")
    assert.are.equal(0, code, log)
    assert.is_true(read(out) == read("lua/ctct/api/schemas.lua"),
      "lua/ctct/api/schemas.lua is stale: run `make schemas`")
  end)

  it("docs/API.md and types/ctct.lua are what tools/gen_docs.lua makes of the code", function()
    local md, stubs = dir .. "/API.md", dir .. "/ctct.lua"
    local log, code = sandbox.run("lua5.4 tools/gen_docs.lua " .. sandbox.quote(md) .. " " .. sandbox.quote(stubs)
      .. " 2>&1")
    assert.are.equal(0, code, log)
    assert.is_true(read(md) == read("docs/API.md"), "docs/API.md is stale: run `make docs`")
    assert.is_true(read(stubs) == read("types/ctct.lua"), "types/ctct.lua is stale: run `make docs`")
  end)

  it("every public resource and partner method has a LuaLS stub and an API.md entry", function()
    local stubs, md = read("types/ctct.lua"), read("docs/API.md")
    local missing, checked = {}, 0
    for _, name in ipairs(RESOURCES) do
      local R = require("ctct.resources." .. name)
      for key, value in pairs(R) do
        if type(value) == "function" and key:match("^[a-z][%w_]*$") and key ~= "new" then
          checked = checked + 1
          if not stubs:find("\nfunction " .. name .. ":" .. key .. "(", 1, true) then
            missing[#missing + 1] = name .. ":" .. key .. " (stub)"
          end
          if not md:find("`client." .. name .. ":" .. key .. "(", 1, true) then
            missing[#missing + 1] = name .. ":" .. key .. " (docs/API.md)"
          end
        end
      end
    end
    for _, name in ipairs { "accounts", "webhooks" } do
      local R = require("ctct.partner." .. name)
      for key, value in pairs(R) do
        if type(value) == "function" and key:match("^[a-z][%w_]*$") and key ~= "new" then
          checked = checked + 1
          if not stubs:find("\nfunction partner_" .. name .. ":" .. key .. "(", 1, true) then
            missing[#missing + 1] = "partner." .. name .. ":" .. key .. " (stub)"
          end
          if not md:find("`partner." .. name .. ":" .. key .. "(", 1, true) then
            missing[#missing + 1] = "partner." .. name .. ":" .. key .. " (docs/API.md)"
          end
        end
      end
    end
    assert.is_true(checked > 90, "only " .. checked .. " methods found")
    assert.are.same({}, missing)
  end)

  it("every operation has a typed overload of client:call in the stubs", function()
    local stubs = read("types/ctct.lua")
    for id in pairs(require("ctct.api.operations").operations) do
      assert.truthy(stubs:find('operation_id: "' .. id .. '"', 1, true), id)
      assert.truthy(stubs:find("---@class ctct.params." .. id .. "\n", 1, true), id)
    end
  end)
end)
