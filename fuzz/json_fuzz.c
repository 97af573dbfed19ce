/* json_fuzz.c - libFuzzer target for ctct.core's JSON decoder and encoder
 * (src/json.c over src/json_simd.cpp). An embedded Lua 5.4 state gets the JSON
 * functions of ctct.core (json_decode, json_encode, json_array_mt, json_null:
 * ctct_open_json on a table of its own) and fuzz/json_check.lua, which for every
 * input decodes it, re-encodes and re-decodes the result, plainly and with
 * `ordered`, and under small max_depth / max_bytes limits, and names the first
 * property that does not hold (see the header of that file). Then this aborts,
 * as it does on any Lua error, so libFuzzer keeps the input.
 *
 * Instrumentation: json.c, this file and json_simd.cpp are built with ASan and
 * UBSan, json_simd.cpp with -fsanitize=fuzzer-no-link too, so simdjson's inline
 * header code (On Demand, used to locate errors, and the DOM glue) is covered
 * and checked. libsimdjson.so itself (the DOM parser's stage 1 and 2, the UTF-8
 * validator) is Debian's uninstrumented build: ASan sees its heap through the
 * allocator only, and it gives no coverage feedback. lua5.4 is not instrumented
 * either.
 *
 * fuzz/json_check.lua is read at start-up from the path the build baked in
 * (JSON_CHECK_LUA), so a reproducer runs from any directory:
 *   build/fuzz/json_fuzz build/fuzz/crash-<sha1> */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lualib.h>

#include "../src/ctct.h"

#ifndef JSON_CHECK_LUA
#define JSON_CHECK_LUA "fuzz/json_check.lua"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The one part of src/core.c that json.c uses (a copy: core.c would bring
 * libcurl and every other concern with it). */
int ctct_opt_bool(lua_State *L, int t, const char *field, int dflt) {
  int v = dflt;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TBOOLEAN)
      luaL_error(L, "option '%s' must be a boolean, got %s", field, luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static lua_State *state;
static int check_ref = LUA_NOREF;

static int open_json(lua_State *L) {
  lua_newtable(L);
  ctct_open_json(L);
  return 1;
}

static int traceback(lua_State *L) {
  luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  state = luaL_newstate();
  if (!state) abort();
  luaL_openlibs(state);
  luaL_requiref(state, "ctct.core", open_json, 0);
  if (luaL_loadfile(state, JSON_CHECK_LUA) != LUA_OK) {
    fprintf(stderr, "json_fuzz: %s\n", lua_tostring(state, -1));
    abort();
  }
  lua_insert(state, -2); /* chunk, core */
  if (lua_pcall(state, 1, 1, 0) != LUA_OK || !lua_isfunction(state, -1)) {
    fprintf(stderr, "json_fuzz: %s did not return a check function: %s\n", JSON_CHECK_LUA,
            lua_isstring(state, -1) ? lua_tostring(state, -1) : "?");
    abort();
  }
  check_ref = luaL_ref(state, LUA_REGISTRYINDEX);
  lua_settop(state, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = state;
  int rc;
  lua_settop(L, 0);
  lua_pushcfunction(L, traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(L, (const char *)data, size);
  rc = lua_pcall(L, 1, 1, 1);
  if (rc != LUA_OK || !lua_isnil(L, -1)) {
    fprintf(stderr, "json_fuzz: %s (%zu input bytes): %s\n", rc != LUA_OK ? "Lua error" : "property failed",
            size, lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no message)");
    abort();
  }
  lua_settop(L, 0);
  /* A full collection every input: memory reuse (and any __gc) happens at the
   * same point for the same input, so a reproducer reproduces. */
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
