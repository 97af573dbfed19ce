-- Path templates ("/contacts/{contact_id}") compiled once per worker into matchers.
-- The compiled table is a constant built from code, never request state.
local _M = {}

local function split(path)
  local segments = {}
  for segment in path:gmatch("[^/]+") do segments[#segments + 1] = segment end
  return segments
end

-- routes: { { method, template, handler, options... }, ... } under base ("/v3").
function _M.compile(base, modules)
  local routes = {}
  for _, mod in ipairs(modules) do
    for _, r in ipairs(mod.routes) do
      local template = base .. r[2]
      routes[#routes + 1] = {
        method = r[1], template = template, handler = r[3],
        auth = r.auth or "bearer", segments = split(template),
      }
    end
  end
  return routes
end

local function match_segments(route, segments)
  local want = route.segments
  if #want ~= #segments then return nil end
  local params = {}
  for i, w in ipairs(want) do
    local name = w:match("^{(.+)}$")
    if name then
      params[name] = segments[i]   -- ngx.var.uri is already decoded
    elseif w ~= segments[i] then
      return nil
    end
  end
  return params
end

-- Returns route, params for a match; nil, allowed_methods when only the method is
-- wrong; nil when no route has this path.
function _M.find(routes, method, path)
  if path:sub(-1) == "/" and #path > 1 then return nil end
  local segments = split(path)
  local allowed
  for _, route in ipairs(routes) do
    local params = match_segments(route, segments)
    if params then
      if route.method == method then return route, params end
      allowed = allowed or {}
      allowed[#allowed + 1] = route.method
    end
  end
  return nil, allowed
end

return _M
