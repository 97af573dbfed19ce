/* core.c - luaopen_ctct_core: the ctct.core module table, built from the
 * per-concern files (http.c, clock.c, ...) and a few option readers they share. */
#include <curl/curl.h>

#include "ctct.h"
#include "download.h"
#include "version.h"

long ctct_opt_ms(lua_State *L, int t, const char *field, long dflt) {
  long ms = dflt;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) {
    double s;
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "option '%s' must be a number of seconds, got %s", field,
                 luaL_typename(L, -1));
    s = lua_tonumber(L, -1);
    /* !(s > 0) also catches NaN; 0 would mean "no limit" to libcurl. */
    if (!(s > 0) || s > 86400.0)
      luaL_error(L, "option '%s' must be a positive number of seconds (at most 86400)", field);
    ms = (long)(s * 1000.0 + 0.5);
  }
  lua_pop(L, 1);
  return ms;
}

const char *ctct_opt_string(lua_State *L, int t, const char *field, size_t *len) {
  const char *s = NULL;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "option '%s' must be a string, got %s", field, luaL_typename(L, -1));
    /* The string stays alive: the table at t still refers to it. */
    s = lua_tolstring(L, -1, len);
  } else if (len) {
    *len = 0;
  }
  lua_pop(L, 1);
  return s;
}

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

static int l_features(lua_State *L) {
  const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
  lua_createtable(L, 0, 6);
  lua_pushstring(L, info->version);
  lua_setfield(L, -2, "curl");
  lua_pushstring(L, info->ssl_version ? info->ssl_version : "");
  lua_setfield(L, -2, "ssl");
  lua_pushboolean(L, (info->features & CURL_VERSION_HTTP2) != 0);
  lua_setfield(L, -2, "http2");
  lua_pushboolean(L, (info->features & CURL_VERSION_LIBZ) != 0);
  lua_setfield(L, -2, "gzip");
  lua_pushboolean(L, (info->features & CURL_VERSION_SSL) != 0);
  lua_setfield(L, -2, "tls");
  return 1;
}

/* Exported for luaopen / luaL_requiref / package.preload in C hosts. */
int luaopen_ctct_core(lua_State *L);

int luaopen_ctct_core(lua_State *L) {
  static int curl_ready = 0;
  static const luaL_Reg funcs[] = {
    {"features", l_features},
    {NULL, NULL},
  };
  /* libcurl asks for one global init per process before any other call. */
  if (!curl_ready) {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
      return luaL_error(L, "ctct.core: curl_global_init failed: %s", curl_easy_strerror(rc));
    curl_ready = 1;
  }
  luaL_newlib(L, funcs);
  lua_pushliteral(L, CTCT_VERSION);
  lua_setfield(L, -2, "VERSION");
  ctct_open_clock(L);
  ctct_open_http(L);
  ctct_open_crypto(L);
  ctct_open_jwt(L);
  ctct_open_oauth(L);
  ctct_open_loopback(L);
  ctct_open_fs(L);
  ctct_open_json(L);
  ctct_open_redis(L);
  ctct_open_download(L);
  return 1;
}
