-- `luarocks test` (the rockspec's test section): the unit specs, which need no
-- server, no network and nothing outside Debian's busted. Run by luarocks with
-- the interpreter it builds for (lua5.4, or luajit under --lua-version 5.1),
-- from the checkout or an unpacked source rock:
--   luarocks --lua-version 5.4 test        luarocks --lua-version 5.1 test
local UNIT_SPECS = {
  "spec/url_spec.lua", "spec/json_spec.lua", "spec/errors_spec.lua", "spec/retry_spec.lua",
  "spec/ratelimit_spec.lua", "spec/api_call_spec.lua", "spec/client_spec.lua",
  "spec/crypto_spec.lua", "spec/jwt_spec.lua", "spec/oauth_spec.lua", "spec/store_spec.lua",
  "spec/security_jwt_crit_exp_spec.lua", "spec/security_retry_after_floor_spec.lua",
  "spec/security_file_store_spec.lua", "spec/pipeline_stages_spec.lua",
  "spec/lock_spec.lua", "spec/paginate_spec.lua", "spec/csv_spec.lua", "spec/multipart_spec.lua",
  "spec/activity_spec.lua", "spec/partner_sync_spec.lua", "spec/ngx_http_parser_spec.lua",
  "spec/cli_parser_spec.lua", "spec/cli_output_spec.lua",
}

-- arg[-1] is the interpreter luarocks started (a path or a bare name). Under
-- --lua-version 5.1 that is often PUC Lua 5.1, which ctct does not support: the
-- 5.1 ABI is LuaJIT's here, so the specs run on luajit.
local lua = arg and arg[-1] or "lua5.4"
local is_jit = type(rawget(_G, "jit")) == "table"
if _VERSION == "Lua 5.1" and not is_jit then lua, is_jit = "luajit", true end
local build = is_jit and "build/jit" or "build/5.4"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local ok, how, code = os.execute("bash -c " .. sh_quote(cmd))
  if type(ok) == "number" then return ok == 0 end -- Lua 5.1 / LuaJIT without 5.2 compat
  return ok == true and how == "exit" and code == 0
end

if not run("make -s " .. build .. "/ctct/core.so") then
  io.stderr:write("spec/unit.lua: building ", build, "/ctct/core.so failed\n")
  os.exit(1)
end
local cmd = ". tools/lua-env.sh && ctct_lua_env \"$PWD\" && busted --lua=" .. sh_quote(lua)
  .. " --cpath=" .. sh_quote(build .. "/?.so")
  .. (is_jit and " --exclude-tags=once" or "") .. " " .. table.concat(UNIT_SPECS, " ")
os.exit(run(cmd) and 0 or 1)
