/* ctct.h - what the files of ctct.core share: each concern registers its
 * functions into the module table through one open function. */
#ifndef CTCT_CORE_H
#define CTCT_CORE_H

#include "compat.h"

/* Each adds its functions to the table on top of the stack. */
void ctct_open_http(lua_State *L);
void ctct_open_clock(lua_State *L);
void ctct_open_crypto(lua_State *L);
void ctct_open_jwt(lua_State *L);
void ctct_open_oauth(lua_State *L);
void ctct_open_loopback(lua_State *L);
void ctct_open_fs(lua_State *L);
void ctct_open_json(lua_State *L);
void ctct_open_redis(lua_State *L);

/* Read an optional numeric field of the table at index t: seconds (> 0) -> ms.
 * Raises an argument error naming the field when it is not a number >= 0. */
long ctct_opt_ms(lua_State *L, int t, const char *field, long dflt);

/* Read an optional string field; NULL when absent. Raises when not a string. */
const char *ctct_opt_string(lua_State *L, int t, const char *field, size_t *len);

/* Read an optional boolean field. Raises when present and not a boolean. */
int ctct_opt_bool(lua_State *L, int t, const char *field, int dflt);

/* fsync the directory holding path (fs.c), so a rename into it is durable. */
void ctct_fsync_parent(const char *path);

#endif
