-- tools/module_graph.lua: the require graph of the library's Lua modules, against
-- the layering docs/ARCHITECTURE.md draws (a module may require its own layer or
-- lower ones, never a higher one).
--
--   lua5.4 tools/module_graph.lua [LUA_DIR] [--list]
--     prints "modules: M lua modules, E require edges, U upward edges, C cycles";
--     --list also names each upward edge and the modules of each cycle.
--
-- Edges: `require "x"` / `require("x")` with a literal name, and the dynamic ones
-- (`require(name)` with a variable): every module name written as a string in a
-- file that requires dynamically counts as an edge of that file (the resource
-- map, the lazy exports, the CLI's command groups). ctct.core (C) is left out.
-- A cycle is a strongly connected set of two or more modules (or one requiring
-- itself).
local dir, list = "lua", false
for _, a in ipairs(arg) do
  if a == "--list" then list = true else dir = a end
end

-- Lowest first. The first matching prefix decides; a module matching none is
-- reported as unlayered (and counted as an upward edge source of nothing).
-- A prefix ending in "." names only the modules under it.
local LAYERS = {
  { "foundations", { "ctct.compat", "ctct.errors", "ctct.json", "ctct.url", "ctct.csv", "ctct.multipart",
                     "ctct.options", "ctct.lock", "ctct.retry", "ctct.ngx.shdict", "ctct.redis.", "ctct.api.operations",
                     "ctct.api.schemas" } },
  { "transports, stores, crypto", { "ctct.transport.", "ctct.store.", "ctct.ngx.lock", "ctct.ngx.ratelimit",
                                    "ctct.ratelimit", "ctct.config", "ctct.jwt", "ctct.jwks", "ctct.webhooks",
                                    "ctct.oauth" } },
  { "token sources", { "ctct.auth", "ctct.ngx.partner_token", "ctct.partner.token" } },
  { "pipeline", { "ctct.pipeline", "ctct.paginate", "ctct.activity" } },
  { "operations", { "ctct.api.call", "ctct.api.validate" } },
  { "resources", { "ctct.resources.", "ctct.partner." } },
  { "clients", { "ctct.client", "ctct.partner" } },
  { "entry points", { "ctct", "ctct.cli" } },
}

local function layer_of(name)
  for i, layer in ipairs(LAYERS) do
    for _, prefix in ipairs(layer[2]) do
      if name == prefix or (prefix:sub(-1) == "." and name:sub(1, #prefix) == prefix)
         or name:sub(1, #prefix + 1) == prefix .. "." then
        return i
      end
    end
  end
  return nil
end

local function files_under(root)
  local p = assert(io.popen("find '" .. root:gsub("'", "'\\''") .. "' -name '*.lua' | sort"))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function module_name(path)
  local rel = path:sub(#dir + 2):gsub("%.lua$", ""):gsub("/init$", "")
  return (rel:gsub("/", "."))
end

local modules, sources = {}, {}
for _, path in ipairs(files_under(dir)) do
  local f = assert(io.open(path, "rb"))
  local name = module_name(path)
  modules[#modules + 1] = name
  sources[name] = f:read("*a"):gsub("%-%-[^\n]*", "") -- comments name modules too
  f:close()
end
local known = {}
for _, m in ipairs(modules) do known[m] = true end

local edges, n_edges = {}, 0
for _, m in ipairs(modules) do
  local src, to = sources[m], {}
  for target in src:gmatch("require%s*%(?%s*[\"']([%w_%.]+)[\"']") do
    if known[target] then to[target] = true end
  end
  if src:find("require%s*%(%s*[%a_][%w_%.%[%]]*%s*%)") then -- dynamic
    for s in src:gmatch("[\"']([%w_%.]+)[\"']") do
      if known[s] and s ~= m then to[s] = true end
    end
  end
  edges[m] = {}
  for target in pairs(to) do
    edges[m][#edges[m] + 1] = target
    n_edges = n_edges + 1
  end
  table.sort(edges[m])
end

local upward = {}
for _, m in ipairs(modules) do
  local from = layer_of(m)
  for _, t in ipairs(edges[m]) do
    local into = layer_of(t)
    if from and into and into > from then
      upward[#upward + 1] = ("%s (%s) -> %s (%s)"):format(m, LAYERS[from][1], t, LAYERS[into][1])
    end
  end
end

-- Tarjan's strongly connected components.
local index, low, on_stack, stack, counter, cycles = {}, {}, {}, {}, 0, {}
local function connect(v)
  counter = counter + 1
  index[v], low[v] = counter, counter
  stack[#stack + 1], on_stack[v] = v, true
  for _, w in ipairs(edges[v]) do
    if not index[w] then
      connect(w)
      low[v] = math.min(low[v], low[w])
    elseif on_stack[w] then
      low[v] = math.min(low[v], index[w])
    end
  end
  if low[v] == index[v] then
    local scc = {}
    repeat
      local w = table.remove(stack)
      on_stack[w] = nil
      scc[#scc + 1] = w
    until w == v
    local self_loop = false
    for _, w in ipairs(edges[v]) do if w == v then self_loop = true end end
    if #scc > 1 or self_loop then
      table.sort(scc)
      cycles[#cycles + 1] = scc
    end
  end
end
for _, m in ipairs(modules) do if not index[m] then connect(m) end end

local unlayered = {}
for _, m in ipairs(modules) do if not layer_of(m) then unlayered[#unlayered + 1] = m end end

print(("modules: %d lua modules, %d require edges, %d upward edges, %d cycles"):format(
  #modules, n_edges, #upward, #cycles))
if list then
  for _, e in ipairs(upward) do print("  upward: " .. e) end
  for _, c in ipairs(cycles) do print("  cycle: " .. table.concat(c, ", ")) end
  for _, m in ipairs(unlayered) do print("  unlayered: " .. m) end
end
