-- Test helper: the shell a Lua user often has — `luarocks path`, a LUA_PATH and
-- LUA_CPATH full of foreign modules (a Lua 5.4 cjson.so where LuaJIT would look,
-- a ctct.lua that raises), the _5_4 variants, LUA_INIT — for checking that our
-- scripts set their own module paths.
--
--   local foreign = require "spec.helpers.foreign_env"
--   local env = foreign.new()      -- makes the foreign module directory
--   run(env:wrap("examples/run-demo"))   -- the command in that shell, from the checkout
--   env:remove()
local sandbox = require "spec.helpers.sandbox"
local run, quote = sandbox.run, sandbox.quote

local M = {}
local Env = {}
Env.__index = Env

function M.new()
  local out, code = run("mktemp -d")
  assert(code == 0, "mktemp failed")
  local dir = out:gsub("%s+$", "")
  for _, name in ipairs({ "ctct", "cjson", "busted", "luassert", "say" }) do
    sandbox.write_file(dir .. "/" .. name .. ".lua", "error('foreign " .. name .. ".lua was loaded')\n")
  end
  -- The trap: Lua 5.4's cjson.so and ctct.core where LuaJIT looks.
  local repo = sandbox.repo_root()
  local _, c1 = run("cp /usr/lib/x86_64-linux-gnu/lua/5.4/cjson.so " .. quote(dir) .. "/cjson.so")
  local _, c2 = run("mkdir -p " .. quote(dir .. "/ctct") .. " && cp " .. quote(repo .. "/build/5.4/ctct/core.so")
    .. " " .. quote(dir .. "/ctct/core.so"))
  assert(c1 == 0 and c2 == 0, "could not copy the foreign modules")
  return setmetatable({ dir = dir, repo = repo }, Env)
end

--- cmd (a shell command) run from the checkout in the hostile environment, stderr merged.
function Env:wrap(cmd)
  local f = quote(self.dir)
  return table.concat({
    "eval \"$(luarocks --lua-version 5.4 path 2>/dev/null)\"; ",
    "export LUA_PATH=" .. quote(self.dir .. "/?.lua;" .. "/nonexistent/?.lua") .. "\"${LUA_PATH:+;$LUA_PATH}\";",
    "export LUA_CPATH=" .. quote(self.dir .. "/?.so") .. "\"${LUA_CPATH:+;$LUA_CPATH}\";",
    "export LUA_PATH_5_4=" .. f .. "'/?.lua'\";${LUA_PATH_5_4:-}\";",
    "export LUA_CPATH_5_4=" .. f .. "'/?.so';",
    "export LUA_INIT='error(\"LUA_INIT ran\")' LUA_INIT_5_4='error(\"LUA_INIT_5_4 ran\")';",
    "cd " .. quote(self.repo) .. " && " .. cmd .. " 2>&1",
  }, " ")
end

function Env:remove()
  if self.dir then run("rm -rf " .. quote(self.dir)) end
  self.dir = nil
end

return M
