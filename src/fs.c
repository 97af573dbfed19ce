/* fs.c - what a token file needs and plain Lua cannot do: an atomic write
 * (temp file, fsync, rename, fsync of the directory; mode 0600 from creation)
 * so a crash leaves the old or the new file and never a torn one, an advisory
 * lock shared by processes (flock), creating private directories (and refusing
 * ones other users can write to), and removing the temp files of writers that
 * died mid-write.
 *
 *   core.write_file_atomic(path, data [, mode = 0600]) -> true | nil, err
 *   core.try_lock(path) -> lock | nil, "busy" | nil, err     (lock:unlock())
 *   core.mkdirs(path [, mode = 0700]) -> true | nil, err
 *   core.remove_stale_temps(path, max_age [, dead_writers]) -> count | nil, err */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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
void ctct_fsync_parent(const char *path) {
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
  ctct_fsync_parent(path);
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

/* nil and a formatted message (lua_pushfstring has no %o). */
static int refuse(lua_State *L, const char *fmt, ...) {
  char msg[9000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/* As ssh's StrictModes: the directory that holds the files must belong to us
 * (or root) and be writable by nobody else, or another user could replace or
 * read what we put there; a directory above it must not be writable by others
 * unless it is sticky (as /tmp is: others cannot rename what is ours). Group
 * write on a parent is allowed (user-private groups). Returns 0 when fine, else
 * pushes nil, message and returns 2. */
static int check_dir(lua_State *L, const char *dir, int holds_files) {
  struct stat st;
  unsigned mode;
  if (stat(dir, &st) != 0)
    return fail(L, "cannot check directory", dir, errno);
  if (!S_ISDIR(st.st_mode))
    return refuse(L, "%s is not a directory", dir);
  mode = (unsigned)(st.st_mode & 07777);
  if (holds_files) {
    if (st.st_uid != geteuid() && st.st_uid != 0)
      return refuse(L, "%s is owned by uid %ld, not by you (uid %ld): refusing to keep secrets there "
                       "(use a directory of your own)", dir, (long)st.st_uid, (long)geteuid());
    if (st.st_mode & S_IWOTH)
      return refuse(L, "%s is writable by others (mode %04o): refusing to keep secrets there; "
                       "run: chmod go-w %s", dir, mode, dir);
    if (st.st_mode & S_IWGRP)
      return refuse(L, "%s is writable by its group (mode %04o): refusing to keep secrets there; "
                       "run: chmod go-w %s", dir, mode, dir);
  } else if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
    return refuse(L, "%s is writable by others and not sticky (mode %04o): another user could replace "
                     "what is below it; run: chmod go-w %s", dir, mode, dir);
  }
  return 0;
}

/* core.mkdirs(path [, mode]): mkdir -p; new directories get mode (default 0700).
 * Existing ones are checked like new ones (check_dir): path itself must be
 * private to us, the directories above it not open to others. */
static int l_mkdirs(lua_State *L) {
  size_t n, i;
  const char *path = luaL_checklstring(L, 1, &n);
  mode_t mode = (mode_t)luaL_optinteger(L, 2, 0700);
  char buf[4096];
  int rc;
  if (n == 0 || n >= sizeof buf)
    return luaL_argerror(L, 1, "path must be 1-4095 bytes");
  memcpy(buf, path, n + 1);
  while (n > 1 && buf[n - 1] == '/') /* "a/b/" is "a/b" */
    buf[--n] = '\0';
  for (i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      if (i > 0 && buf[i - 1] == '/')
        continue; /* "a//b" */
      buf[i] = '\0';
      if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return fail(L, "cannot create directory", buf, errno);
      if ((rc = check_dir(L, buf, c == '\0')) != 0)
        return rc;
      buf[i] = c;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* Is the process gone (or a zombie: killed, not yet reaped)? */
static int pid_gone(long pid) {
  char stat_path[64], text[512], *close_paren;
  FILE *f;
  size_t got;
  if (pid <= 0 || (pid_t)pid != pid)
    return 1;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
    return 1;
  snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", pid);
  f = fopen(stat_path, "r");
  if (!f)
    return 0; /* no /proc: trust kill() */
  got = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[got] = '\0';
  close_paren = strrchr(text, ')');
  return close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

/* A temp name of write_file_atomic for `base`: "<base>.tmp.<pid>.<16 hex>". */
static int temp_name_pid(const char *name, const char *base, size_t blen, long *pid) {
  const char *p;
  char *end;
  size_t k;
  if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
    return 0;
  p = name + blen + 5;
  if (*p < '0' || *p > '9')
    return 0;
  errno = 0;
  *pid = strtol(p, &end, 10);
  if (errno != 0 || *end != '.')
    return 0;
  for (k = 1; k <= 16; k++) {
    char c = end[k];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
  }
  return end[17] == '\0';
}

/* core.remove_stale_temps(path, max_age [, dead_writers]): removes the temp
 * files write_file_atomic(path) left behind (a writer killed mid-write): our
 * own regular files older than max_age seconds, and with dead_writers (the
 * caller holds the writers' lock) also those whose writing process is gone.
 * Returns how many were removed. */
static int l_remove_stale_temps(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  lua_Number max_age = luaL_checknumber(L, 2);
  int dead_writers = lua_toboolean(L, 3), count = 0, dfd;
  char dir[4096];
  const char *base, *slash;
  DIR *d;
  struct dirent *e;
  time_t now = time(NULL);
  if (plen == 0 || plen >= sizeof dir)
    return luaL_argerror(L, 1, "path must be 1-4095 bytes");
  if (!(max_age >= 0))
    return luaL_argerror(L, 2, "max_age must be a number of seconds >= 0");
  slash = strrchr(path, '/');
  if (slash) {
    size_t dlen = slash == path ? 1 : (size_t)(slash - path);
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    base = slash + 1;
  } else {
    strcpy(dir, ".");
    base = path;
  }
  if (*base == '\0')
    return luaL_argerror(L, 1, "path must name a file");
  d = opendir(dir);
  if (!d)
    return fail(L, "cannot list directory", dir, errno);
  dfd = dirfd(d);
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    long pid;
    if (!temp_name_pid(e->d_name, base, strlen(base), &pid))
      continue;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
      continue;
    if ((lua_Number)(now - st.st_mtime) > max_age || (dead_writers && pid_gone(pid))) {
      if (unlinkat(dfd, e->d_name, 0) == 0)
        count++;
    }
  }
  closedir(d);
  lua_pushinteger(L, count);
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
    {"remove_stale_temps", l_remove_stale_temps},
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
