--- ctct.compat: the few Lua 5.2+ conveniences the library needs on LuaJIT (5.1).
local M = {}

M.unpack = table.unpack or unpack -- luacheck: ignore 143

--- All results of a call, with their count (nils included).
function M.pack(...)
  return { n = select("#", ...), ... }
end

--- Run fn protected, then `finally`, then return fn's results or re-raise its error.
function M.ensure(fn, finally)
  local r = M.pack(pcall(fn))
  finally()
  if not r[1] then error(r[2], 0) end
  return M.unpack(r, 2, r.n)
end

return M
