/* clock.c - monotonic and wall clocks and a sleep, for the Lua layer's
 * rate limiter and retry backoff (plain Lua has none of the three). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <time.h>

#include "ctct.h"

static double ts_seconds(const struct timespec *ts) {
  return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static int l_monotonic(lua_State *L) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return luaL_error(L, "clock_gettime(CLOCK_MONOTONIC) failed");
  lua_pushnumber(L, ts_seconds(&ts));
  return 1;
}

static int l_time(lua_State *L) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return luaL_error(L, "clock_gettime(CLOCK_REALTIME) failed");
  lua_pushnumber(L, ts_seconds(&ts));
  return 1;
}

static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  struct timespec req, rem;
  if (!(s >= 0) || s > 86400.0)
    return luaL_argerror(L, 1, "seconds must be between 0 and 86400");
  req.tv_sec = (time_t)floor(s);
  req.tv_nsec = (long)((s - floor(s)) * 1e9);
  while (nanosleep(&req, &rem) != 0) {
    if (errno != EINTR)
      return luaL_error(L, "nanosleep failed");
    req = rem;
  }
  return 0;
}

void ctct_open_clock(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"monotonic", l_monotonic},
    {"time", l_time},
    {"sleep", l_sleep},
    {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
