# Sourced (bash) by every script of ours that starts a Lua runtime: sandbox/start,
# examples/run-demo, spec/run, bench/run. It sets the module paths explicitly, so
# what the caller's shell holds (`eval "$(luarocks path)"`, an unrelated LUA_PATH,
# the _5_4 variants, LUA_INIT) changes nothing: this checkout first, then the
# runtime's own built-in defaults (";;"), which on Debian are the apt paths.
#
#   ctct_lua_env REPO [EXTRA_LUA_PATH]
#
# Lua 5.4 reads LUA_PATH_5_4 / LUA_CPATH_5_4 before LUA_PATH / LUA_CPATH, and
# LuaJIT (busted --lua=luajit, the sandbox's nginx) reads only the latter, so
# each runtime gets its own build of ctct.core and never the other's .so.
ctct_lua_env() {
  local repo=$1 extra=${2:-}
  unset LUA_INIT LUA_INIT_5_4 LUA_INIT_5_3 LUA_PATH_5_3 LUA_CPATH_5_3
  export LUA_PATH_5_4="$repo/lua/?.lua;$repo/lua/?/init.lua;${extra:+$extra;};"
  export LUA_CPATH_5_4="$repo/build/5.4/?.so;;"
  export LUA_PATH="$repo/lua/?.lua;$repo/lua/?/init.lua;${extra:+$extra;};"
  export LUA_CPATH="$repo/build/jit/?.so;;"
}
