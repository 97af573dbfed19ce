--- ctct.ngx.shdict: finding a lua_shared_dict by name, with a clear error when
-- nginx.conf does not declare it.
local M = {}

--- The shared dict `name` (a string), or raise at `level` naming it and `who` needs it.
function M.get(name, who, level)
  level = (level or 1) + 1
  if type(name) ~= "string" or name == "" then
    error(who .. ": option 'dict' must be the name of a lua_shared_dict", level)
  end
  if type(ngx) ~= "table" or type(ngx.shared) ~= "table" then
    error(who .. ": a lua_shared_dict needs nginx with the Lua module (ngx.shared); outside nginx leave the " ..
      "shared_dict/dict option out (or use ctct.store.file for tokens)", level)
  end
  local dict = ngx.shared[name]
  if not dict then
    error(who .. ": no lua_shared_dict named '" .. name .. "': add `lua_shared_dict " .. name ..
      " 1m;` to the http {} block of nginx.conf", level)
  end
  return dict
end

return M
