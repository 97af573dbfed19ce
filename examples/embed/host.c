/* host.c - a C application that embeds Lua 5.4 and ctct.
 *
 * ctct.core is linked in statically (build/5.4/libctct.a) and registered in
 * package.preload, so nothing is installed into the system Lua paths; the Lua
 * half of ctct is found through package.path, set from CTCT_LUA_DIR.
 *
 *   build/embed-host script.lua [args...]
 */
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_ctct_core(lua_State *L);

static int traceback(lua_State *L) {
  luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

int main(int argc, char **argv) {
  const char *lua_dir = getenv("CTCT_LUA_DIR");
  lua_State *L;
  int i, status;

  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "embed-host: cannot create a Lua state\n");
    return 1;
  }
  luaL_openlibs(L);

  /* package.preload["ctct.core"] = luaopen_ctct_core */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_ctct_core);
  lua_setfield(L, -2, "ctct.core");
  lua_pop(L, 1);

  /* package.path = "<lua_dir>/?.lua;<lua_dir>/?/init.lua;" .. package.path */
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_dir ? lua_dir : "lua", lua_dir ? lua_dir : "lua");
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);

  /* arg table, as the lua interpreter makes it */
  lua_createtable(L, argc, 0);
  for (i = 0; i < argc - 1; i++) {
    lua_pushstring(L, argv[i + 1]);
    lua_rawseti(L, -2, i);
  }
  lua_setglobal(L, "arg");

  lua_pushcfunction(L, traceback);
  status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK) {
    for (i = 2; i < argc; i++)
      lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 0, 1);
  }
  if (status != LUA_OK)
    fprintf(stderr, "embed-host: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
