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

#endif
