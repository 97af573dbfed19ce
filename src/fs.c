/* fs.c - what a token file needs and plain Lua cannot do: an atomic write
 * (temp file, fsync, rename, fsync of the directory; mode 0600 from creation)
 * so a crash leaves the old or the new file and never a torn one, an advisory
 * lock shared by processes (flock), and creating private directories.
 *
 *   core.write_file_atomic(path, data [, mode = 0600]) -> true | nil, err
 *   core.try_lock(path) -> lock | nil, "busy" | nil, err     (lock:unlock())
 *   core.mkdirs(path [, mode = 0700]) -> true | nil, err */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "ctct.h"

#define LOCK_MT "ctct.core.filelock"

static int fail(lua_State *L, const char *what, const char *path, int err) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(err));
  return 2;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return 0;
    p += w;
    n -= (size_t)w;
  }
  return 1;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path) {
  char dir[4096];
  char *slash;
  int fd;
  size_t n = strlen(path);
  if (n >= sizeof dir)
    return;
  memcpy(dir, path, n + 1);
  slash = strrchr(dir, '/');
  if (!slash)
    strcpy(dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

static int l_write_file_atomic(lua_State *L) {
  size_t plen, dlen;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  mode_t mode = (mode_t)luaL_optinteger(L, 3, 0600);
  unsigned char rnd[8];
  char tmp[4200], err[300];
  int fd, e;
  if (plen == 0 || plen > 4000)
    return luaL_argerror(L, 1, "path must be 1-4000 bytes");
  if (!ctct_random(rnd, sizeof rnd, err, sizeof err))
    return luaL_error(L, "%s", err);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%02x%02x%02x%02x%02x%02x%02x%02x", path, (long)getpid(), rnd[0], rnd[1],
           rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
  /* O_EXCL: never write through a file (or symlink) someone else placed there. */
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return fail(L, "cannot create", tmp, errno);
  if (fchmod(fd, mode) != 0 || !write_all(fd, data, dlen) || fsync(fd) != 0) {
    e = errno;
    close(fd);
    unlink(tmp);
    return fail(L, "cannot write", tmp, e);
  }
  if (close(fd) != 0) {
    e = errno;
    unlink(tmp);
    return fail(L, "cannot close", tmp, e);
  }
  if (rename(tmp, path) != 0) {
    e = errno;
    unlink(tmp);
    return fail(L, "cannot replace", path, e);
  }
  sync_dir(path);
  lua_pushboolean(L, 1);
  return 1;
}

typedef struct {
  int fd;
} filelock_t;

static int lock_release(lua_State *L) {
  filelock_t *k = luaL_checkudata(L, 1, LOCK_MT);
  if (k->fd >= 0) {
    (void)flock(k->fd, LOCK_UN);
    close(k->fd); /* closing also releases it */
  }
  k->fd = -1;
  return 0;
}

/* core.try_lock(path): one attempt at an exclusive flock on path (created 0600).
 * The caller retries with its own sleep, which may yield under OpenResty. */
static int l_try_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  filelock_t *k = lua_newuserdata(L, sizeof *k);
  k->fd = -1;
  luaL_setmetatable(L, LOCK_MT);
  k->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (k->fd < 0)
    return fail(L, "cannot open lock file", path, errno);
  if (flock(k->fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(k->fd);
    k->fd = -1;
    lua_pushnil(L);
    if (e == EWOULDBLOCK)
      lua_pushliteral(L, "busy");
    else
      lua_pushfstring(L, "cannot lock %s: %s", path, strerror(e));
    return 2;
  }
  return 1;
}

/* core.mkdirs(path [, mode]): mkdir -p; new directories get mode (default 0700). */
static int l_mkdirs(lua_State *L) {
  size_t n, i;
  const char *path = luaL_checklstring(L, 1, &n);
  mode_t mode = (mode_t)luaL_optinteger(L, 2, 0700);
  char buf[4096];
  if (n == 0 || n >= sizeof buf)
    return luaL_argerror(L, 1, "path must be 1-4095 bytes");
  memcpy(buf, path, n + 1);
  for (i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return fail(L, "cannot create directory", buf, errno);
      buf[i] = c;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

void ctct_open_fs(lua_State *L) {
  static const luaL_Reg lock_methods[] = {
    {"unlock", lock_release},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"write_file_atomic", l_write_file_atomic},
    {"try_lock", l_try_lock},
    {"mkdirs", l_mkdirs},
    {NULL, NULL},
  };
  luaL_newmetatable(L, LOCK_MT);
  lua_pushcfunction(L, lock_release);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, lock_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
