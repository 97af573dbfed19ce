--- ctct.options: the option tables of public functions, checked the same way
-- everywhere: an unknown name (a typo, or another function's option) and a value
-- of the wrong type are errors naming the function, the option and the fix.
--
--   options.check("ctct.webhooks.parse", opts, { secret = "string", now = "number|function" }, 2)
--
-- Rules: LuaLS type names ("string", "number", "integer", "boolean", "function",
-- "table", "userdata", "string[]" for a list, "false"), several joined by "|", or
-- "any"; the LuaLS stubs (types/) are generated from the same tables. `renamed` maps old or other names
-- to the right one (`hmac_secret = "secret"`).
local M = {}

--- Edit distance, ignoring case (suggestions for misspelt names).
function M.distance(a, b)
  a, b = a:lower(), b:lower()
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a:byte(i) == b:byte(j) and 0 or 1))
    end
    prev = cur
  end
  return prev[#b]
end

--- The known name closest to `name` (at most 2 edits away), or nil.
function M.nearest(name, known)
  local best, best_d
  for k in pairs(known) do
    local d = M.distance(name, k)
    if d <= 2 and (not best_d or d < best_d or (d == best_d and k < best)) then best, best_d = k, d end
  end
  return best
end

local function fits(rule, v)
  if rule == "any" then return true end
  local t = type(v)
  for want in rule:gmatch("[^|]+") do
    if want == t or (want:match("%[%]$") and t == "table") or (want == "false" and v == false) then return true end
    if want == "integer" and t == "number" and v == math.floor(v) then return true end
  end
  return false
end

--- Raises (at `level` above the caller) on the first unknown or mistyped option;
-- returns opts, or an empty table for nil.
function M.check(where, opts, rules, level, renamed)
  level = (level or 1) + 1
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(where .. ": options must be a table, got " .. type(opts), level)
  end
  for k, v in pairs(opts) do
    local rule = rules[k]
    if rule == nil then
      local name = tostring(k)
      local right = renamed and renamed[name] or (type(k) == "string" and M.nearest(name, rules))
      error(where .. ": unknown option '" .. name .. "'" .. (right and ("; use '" .. right .. "'") or ""), level)
    end
    if not fits(rule, v) then
      error(where .. ": option '" .. k .. "' must be " .. (rule:gsub("|", " or ")) .. ", got " .. type(v), level)
    end
  end
  return opts
end

return M
