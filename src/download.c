/* download.c - the one atomic download-to-file of ctct.core.
 *
 * Both transports stream a successful body to a file through it: the libcurl
 * session (http.c, a request's `sink`) from its write callback, the nginx
 * transport (lua/ctct/transport/ngx.lua) through core.open_part as cosocket
 * reads arrive. The body goes to "<path>.part", created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600: never written through a symlink
 * or a file someone else put there (a leftover ".part" of ours, a regular
 * file, is replaced; anything else is refused). On success it is fsync'd and
 * renamed over <path> (rename replaces a symlink at <path> instead of
 * following it) and the directory is fsync'd; on failure it is removed. So
 * the destination holds the old file or the complete new one, never half.
 *
 *   core.open_part(path) -> part | nil, err
 *   part:write(data) -> true | nil, err
 *   part:commit() -> bytes | nil, err
 *   part:abort()                 (also what __gc does to an unfinished part)
 *   part:bytes(), part:name()    (bytes written, the ".part" path) */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "download.h"
#include "ctct.h"

#define PART_MT "ctct.core.part"
#define MAX_PATH_LEN 4000

struct ctct_part {
  int fd;
  char *path, *part;
  long long bytes;
  char error[300];
};

static void set_error(char *err, size_t errlen, const char *what, const char *path, int e) {
  if (err && errlen)
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
}

static void part_free(ctct_part_t *p) {
  free(p->path);
  free(p->part);
  free(p);
}

static int create_excl(const char *part) {
  return open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

ctct_part_t *ctct_part_open(const char *path, char *err, size_t errlen) {
  size_t n = path ? strlen(path) : 0;
  ctct_part_t *p;
  if (n == 0 || n > MAX_PATH_LEN) {
    if (err && errlen)
      snprintf(err, errlen, "the download path must be 1-%d bytes", MAX_PATH_LEN);
    return NULL;
  }
  p = calloc(1, sizeof *p);
  if (p) {
    p->path = malloc(n + 1);
    p->part = malloc(n + 6);
  }
  if (!p || !p->path || !p->part) {
    if (p) {
      free(p->path);
      free(p->part);
      free(p);
    }
    if (err && errlen)
      snprintf(err, errlen, "out of memory");
    return NULL;
  }
  memcpy(p->path, path, n + 1);
  memcpy(p->part, path, n);
  memcpy(p->part + n, ".part", 6);
  p->fd = create_excl(p->part);
  if (p->fd < 0 && errno == EEXIST) {
    struct stat st;
    if (lstat(p->part, &st) != 0) {
      if (errno == ENOENT) /* removed meanwhile */
        p->fd = create_excl(p->part);
    } else if (S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
      /* A download of ours that died half-way: start it again. */
      if (unlink(p->part) == 0 || errno == ENOENT)
        p->fd = create_excl(p->part);
    } else {
      if (err && errlen)
        snprintf(err, errlen, "%s already exists and is %s: refusing to write through it", p->part,
                 S_ISLNK(st.st_mode) ? "a symbolic link"
                 : !S_ISREG(st.st_mode) ? "not a regular file"
                                        : "another user's file");
      part_free(p);
      return NULL;
    }
  }
  if (p->fd < 0) {
    set_error(err, errlen, "cannot create", p->part, errno);
    part_free(p);
    return NULL;
  }
  return p;
}

int ctct_part_write(ctct_part_t *p, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(p->fd, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      set_error(p->error, sizeof p->error, "cannot write", p->part, w < 0 ? errno : EIO);
      return 0;
    }
    data += w;
    n -= (size_t)w;
    p->bytes += (long long)w;
  }
  return 1;
}

long long ctct_part_bytes(const ctct_part_t *p) { return p->bytes; }
const char *ctct_part_name(const ctct_part_t *p) { return p->part; }
const char *ctct_part_error(const ctct_part_t *p) { return p->error; }

int ctct_part_commit(ctct_part_t *p, char *err, size_t errlen) {
  int ok = 1;
  if (fsync(p->fd) != 0) {
    set_error(err, errlen, "cannot write", p->part, errno);
    ok = 0;
  }
  if (close(p->fd) != 0 && ok) {
    set_error(err, errlen, "cannot write", p->part, errno);
    ok = 0;
  }
  p->fd = -1;
  if (ok && rename(p->part, p->path) != 0) {
    set_error(err, errlen, "cannot rename the download to", p->path, errno);
    ok = 0;
  }
  if (ok)
    ctct_fsync_parent(p->path);
  else
    unlink(p->part);
  part_free(p);
  return ok;
}

void ctct_part_abort(ctct_part_t *p) {
  if (!p)
    return;
  if (p->fd >= 0)
    close(p->fd);
  unlink(p->part);
  part_free(p);
}

/* ---- Lua binding ----------------------------------------------------------- */

typedef struct {
  ctct_part_t *p; /* NULL once committed or aborted */
} part_ud;

static ctct_part_t *check_open(lua_State *L) {
  part_ud *u = luaL_checkudata(L, 1, PART_MT);
  if (!u->p)
    luaL_error(L, "ctct.core: this download is already committed or aborted");
  return u->p;
}

static int l_open_part(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[MAX_PATH_LEN + 200];
  part_ud *u = lua_newuserdata(L, sizeof *u);
  u->p = NULL;
  luaL_setmetatable(L, PART_MT);
  u->p = ctct_part_open(path, err, sizeof err);
  if (!u->p) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

static int l_part_write(lua_State *L) {
  ctct_part_t *p = check_open(L);
  size_t n;
  const char *data = luaL_checklstring(L, 2, &n);
  if (!ctct_part_write(p, data, n)) {
    lua_pushnil(L);
    lua_pushstring(L, ctct_part_error(p));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_part_commit(lua_State *L) {
  part_ud *u = luaL_checkudata(L, 1, PART_MT);
  char err[MAX_PATH_LEN + 200];
  long long bytes;
  ctct_part_t *p = check_open(L);
  bytes = ctct_part_bytes(p);
  u->p = NULL;
  if (!ctct_part_commit(p, err, sizeof err)) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)bytes);
  return 1;
}

static int l_part_abort(lua_State *L) {
  part_ud *u = luaL_checkudata(L, 1, PART_MT);
  ctct_part_abort(u->p);
  u->p = NULL;
  return 0;
}

static int l_part_bytes(lua_State *L) {
  part_ud *u = luaL_checkudata(L, 1, PART_MT);
  lua_pushinteger(L, u->p ? (lua_Integer)ctct_part_bytes(u->p) : 0);
  return 1;
}

static int l_part_name(lua_State *L) {
  ctct_part_t *p = check_open(L);
  lua_pushstring(L, ctct_part_name(p));
  return 1;
}

void ctct_open_download(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"write", l_part_write},
    {"commit", l_part_commit},
    {"abort", l_part_abort},
    {"bytes", l_part_bytes},
    {"name", l_part_name},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"open_part", l_open_part},
    {NULL, NULL},
  };
  luaL_newmetatable(L, PART_MT);
  lua_pushcfunction(L, l_part_abort);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
