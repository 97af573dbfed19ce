/* compat.h - one source for Lua 5.4 and LuaJIT 2.1 (the Lua 5.1 ABI).
 * LuaJIT 2.1 already has luaL_setfuncs, luaL_newlib, luaL_testudata and
 * luaL_setmetatable; only the few 5.2+ names below need a shim. */
#ifndef CTCT_COMPAT_H
#define CTCT_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define lua_absindex(L, i) \
  (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#define lua_getuservalue(L, i) lua_getfenv((L), (i))
#define lua_setuservalue(L, i) lua_setfenv((L), (i))
#endif

/* Built against plain Lua 5.1 headers (what `luarocks --lua-version 5.1`
 * finds first on Debian) for use in LuaJIT 2.1: LuaJIT exports these 5.2
 * functions, the 5.1 headers just do not declare them. Without the
 * declarations gcc only warns and the module fails to load in LuaJIT
 * (`undefined symbol: luaL_newlib`). PUC Lua 5.1 itself is not supported. */
#if LUA_VERSION_NUM == 501 && !defined(luaL_newlib)
LUALIB_API void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
LUALIB_API void *luaL_testudata(lua_State *L, int ud, const char *tname);
LUALIB_API void luaL_setmetatable(lua_State *L, const char *tname);
#define luaL_newlibtable(L, l) lua_createtable((L), 0, sizeof(l) / sizeof((l)[0]) - 1)
#define luaL_newlib(L, l) (luaL_newlibtable((L), (l)), luaL_setfuncs((L), (l), 0))
#endif

#endif
