--- tools/spec_source.lua: where the official spec is, and its text as JSON, for the
-- generators (tools/gen_operations.lua, tools/gen_schemas.lua) and the contract test
-- (spec/support/contract/patch.lua). Loaded with dofile (the tools are not modules):
--
--   local source = dofile(dir .. "/spec_source.lua")
--   source.DEFAULT            -- ../shared/newer-spec/ctct-v3-swagger-3.0.178.yaml
--   source.json_text(path)    -- JSON text: .yaml/.yml through tools/spec_json.py
--                             -- (python3-yaml), any other file as it is
--
-- The spec is read only when generating or testing: nothing at run time needs it.
local M = {}

local here = debug.getinfo(1, "S").source:gsub("^@", "")
local tools_dir = here:match("^(.*)/[^/]+$") or "."
local root = tools_dir:match("^(.*)/tools$") or (tools_dir == "tools" and "") or (tools_dir .. "/../")
if root ~= "" and not root:match("/$") then root = root .. "/" end

--- The spec the committed tables are generated from (the API serves YAML only),
-- in ../shared next to the checkout.
M.DEFAULT = root .. "../shared/newer-spec/ctct-v3-swagger-3.0.178.yaml"

--- The converter (tools/spec_json.py).
M.CONVERTER = tools_dir .. "/spec_json.py"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_all(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot read the spec: " .. tostring(err), 0) end
  local text = f:read("*a")
  f:close()
  return text
end

--- The spec at `path` as JSON text; raises naming the file when it cannot.
function M.json_text(path)
  path = path or M.DEFAULT
  if not (path:lower():match("%.ya?ml$")) then return read_all(path) end
  read_all(path) -- a missing file is named as such, not as a converter failure
  local p = assert(io.popen("python3 " .. quote(M.CONVERTER) .. " " .. quote(path)))
  local text = p:read("*a")
  local ok, how, code = p:close() -- LuaJIT: true whatever the status; the text tells
  if not ok or not text:match("^%s*{") then
    local status = how and (tostring(how) .. " " .. tostring(code)) or "no JSON"
    error(("tools/spec_json.py failed on %s (%s; is python3-yaml installed? `make deps`)"):format(path, status), 0)
  end
  return text
end

return M
