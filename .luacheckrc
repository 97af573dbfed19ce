-- luacheck configuration: library code must define no globals.
std = "max"
max_line_length = 120
-- `not (x > 0)` is deliberate: it also rejects NaN.
ignore = { "581" }
exclude_files = { "build/", ".deps/" }

-- Code that runs inside nginx (sandbox app, ngx transport, OpenResty examples).
files["sandbox/lua"] = { std = "ngx_lua" }
files["lua/ctct/transport/ngx.lua"] = { std = "ngx_lua" }
files["examples/openresty"] = { std = "ngx_lua" }

-- Generated from the official spec: long lines are the spec's own strings.
files["lua/ctct/api/operations.lua"] = { max_line_length = false }

-- busted specs use its globals.
files["spec"] = { std = "+busted" }
files["lua/ctct/ngx"] = { std = "ngx_lua" }
files["lua/ctct/store/shdict.lua"] = { std = "ngx_lua" }
