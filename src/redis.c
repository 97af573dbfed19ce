/* redis.c - a small blocking Redis client for plain Lua, over Debian's hiredis
 * (0.14.1: RESP2, no TLS: hiredis_ssl arrived with hiredis 1.0). Inside nginx
 * the ngx runtime talks to Redis through lua-resty-redis (cosockets) instead:
 * these calls block the thread.
 *
 *   core.redis_connect{ host = "127.0.0.1", port = 6379 | unix = "/path.sock",
 *                       connect_timeout = 2, timeout = 2,   -- seconds
 *                       username = nil, password = nil, db = nil }
 *     -> conn | nil, err
 *   conn:command{ "SET", "k", 1 }  -> reply | nil, err
 *   conn:set_timeout(seconds)      -> true | nil, err
 *   conn:connected()               -> boolean (false after close or an I/O error)
 *   conn:close()                   (also __gc, and __close on Lua 5.4)
 *   core.redis_nil                 the value of a nil reply
 *
 * Replies: bulk and status strings -> Lua strings ("OK" for +OK); integers ->
 * integers (numbers on LuaJIT: exact up to 2^53); nil -> core.redis_nil (a
 * sentinel, not Lua nil: it keeps array positions and never looks like the
 * `nil, err` of a failure); arrays -> sequences; an error reply -> nil,
 * { kind = "redis", code = "NOSCRIPT", message = <the server's text> }; an
 * error inside an array -> that same error table as the element.
 *
 * Failures: { kind, message } with kind "network" (refused, reset, closed,
 * resolve), "timeout", "protocol", "auth" (AUTH refused at connect) or
 * "redis". After an I/O error the reply stream can no longer be trusted (a
 * late reply would answer the next command): the socket is closed at once and
 * every later command fails with "network" until the caller connects again.
 *
 * Secrets: the password is used once (AUTH) and never kept; a server error text
 * that would contain it (or, for AUTH/HELLO sent through command, any of their
 * arguments) is replaced before it reaches Lua.
 *
 * hiredis writes with write(2): a peer that closed mid-command would raise
 * SIGPIPE and kill a plain lua process. Each call blocks SIGPIPE for the calling
 * thread and discards one it caused (the libpq approach): no process-wide
 * handler is touched. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "ctct.h"

#define REDIS_MT "ctct.core.redis"
#define REDIS_NIL_MT "ctct.core.redis_nil"
#define REDIS_NIL_KEY "ctct.core.redis_nil"
#define DEFAULT_CONNECT_MS 2000L
#define DEFAULT_TIMEOUT_MS 2000L
#define MAX_ARGS (1 << 20)
#define MAX_HOST 255
#define MAX_UNIX 107 /* sizeof(sun_path) - 1: hiredis would truncate silently */

typedef struct {
  redisContext *ctx; /* NULL once closed or broken */
  redisReply *reply; /* the reply being read: freed even if pushing it raises */
  long timeout_ms;
  int closed;                  /* closed by the caller */
  char where[MAX_HOST + 16];   /* "127.0.0.1:6379" or "unix:/path", for messages */
  char broken[200];            /* why the connection was dropped (empty: it was not) */
} conn_t;

/* ---- SIGPIPE, per thread --------------------------------------------------- */

typedef struct {
  sigset_t old;
  int was_pending, blocked;
} sigpipe_guard;

static void sigpipe_block(sigpipe_guard *g) {
  sigset_t set, pending;
  g->blocked = g->was_pending = 0;
  if (sigemptyset(&set) != 0 || sigaddset(&set, SIGPIPE) != 0)
    return;
  if (sigpending(&pending) == 0)
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
  g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

static void sigpipe_restore(sigpipe_guard *g) {
  sigset_t set, pending;
  struct timespec zero = {0, 0};
  int saved = errno;
  if (!g->blocked)
    return;
  /* Discard a SIGPIPE this call raised (not one that was already waiting). */
  if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1 &&
      sigemptyset(&set) == 0 && sigaddset(&set, SIGPIPE) == 0) {
    while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &g->old, NULL);
  errno = saved;
}

/* ---- errors -------------------------------------------------------------- */

/* Pushes nil and { kind, message }; returns 2. */
static int push_fail(lua_State *L, const char *kind, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_setfield(L, -2, "message");
  return 2;
}

static int is_timeout(int err, const char *errstr) {
  if (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT || err == EINPROGRESS)
    return 1;
  return strcmp(errstr, strerror(EAGAIN)) == 0 || strcmp(errstr, strerror(ETIMEDOUT)) == 0;
}

/* The kind and text of a hiredis context error. */
static const char *ctx_kind(const redisContext *ctx, int saved_errno) {
  switch (ctx->err) {
  case REDIS_ERR_IO:
    return is_timeout(saved_errno, ctx->errstr) ? "timeout" : "network";
  case REDIS_ERR_PROTOCOL:
  case REDIS_ERR_OOM:
    return "protocol";
  default: /* EOF, OTHER (resolve failures, bad paths) */
    return "network";
  }
}

static void conn_drop(conn_t *c) {
  if (c->reply) {
    freeReplyObject(c->reply);
    c->reply = NULL;
  }
  if (c->ctx) {
    redisFree(c->ctx);
    c->ctx = NULL;
  }
}

/* After an I/O error: remember why, close the socket, push nil, err. */
static int fail_io(lua_State *L, conn_t *c, int saved_errno, const char *doing) {
  const char *kind = ctx_kind(c->ctx, saved_errno);
  const char *text = c->ctx->errstr[0] ? c->ctx->errstr : "connection error";
  if (strcmp(kind, "timeout") == 0)
    snprintf(c->broken, sizeof c->broken, "timed out after %ld ms %s", c->timeout_ms, doing);
  else
    snprintf(c->broken, sizeof c->broken, "%s (%s)", text, doing);
  conn_drop(c);
  return push_fail(L, kind, "redis %s: %s", c->where, c->broken);
}

static int contains(const char *hay, size_t hl, const char *needle, size_t nl) {
  size_t i;
  if (nl == 0 || nl > hl)
    return 0;
  for (i = 0; i + nl <= hl; i++)
    if (memcmp(hay + i, needle, nl) == 0)
      return 1;
  return 0;
}

/* The leading upper-case word of an error reply ("NOSCRIPT", "MOVED", "ERR"). */
static size_t error_code_len(const char *s, size_t len) {
  size_t i = 0;
  while (i < len && i < 32 && ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
    i++;
  return (i == len || s[i] == ' ') ? i : 0;
}

/* Pushes { kind = "redis", code, message } for an error reply. `secrets`
 * (count n) are strings the text must not show. */
static void push_reply_error(lua_State *L, const redisReply *r, const char *const *secrets,
                             const size_t *secret_lens, int n) {
  int i, withheld = 0;
  size_t len = r->str ? r->len : 0;
  const char *s = r->str ? r->str : "";
  size_t code_len = error_code_len(s, len);
  for (i = 0; i < n; i++)
    if (contains(s, len, secrets[i], secret_lens[i]))
      withheld = 1;
  lua_createtable(L, 0, 3);
  lua_pushliteral(L, "redis");
  lua_setfield(L, -2, "kind");
  if (code_len > 0) {
    lua_pushlstring(L, s, code_len);
    lua_setfield(L, -2, "code");
  }
  if (withheld) {
    lua_pushlstring(L, s, code_len);
    lua_pushliteral(L, " (the server's text is withheld: it repeated a secret argument)");
    lua_concat(L, 2);
  } else {
    lua_pushlstring(L, s, len);
  }
  lua_setfield(L, -2, "message");
}

/* ---- replies --------------------------------------------------------------- */

/* The nil sentinel is upvalue 1 of every function that reads replies. */
static void push_reply(lua_State *L, const redisReply *r, const char *const *secrets,
                       const size_t *secret_lens, int n) {
  size_t i;
  luaL_checkstack(L, 4, "redis reply nested too deeply");
  switch (r->type) {
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
    lua_pushlstring(L, r->str ? r->str : "", r->str ? r->len : 0);
    break;
  case REDIS_REPLY_INTEGER:
    lua_pushinteger(L, (lua_Integer)r->integer);
    break;
  case REDIS_REPLY_NIL:
    lua_pushvalue(L, lua_upvalueindex(1));
    break;
  case REDIS_REPLY_ARRAY:
    if (r->elements > (size_t)INT_MAX)
      luaL_error(L, "ctct.core: redis reply has too many elements");
    lua_createtable(L, (int)r->elements, 0);
    for (i = 0; i < r->elements; i++) {
      push_reply(L, r->element[i], secrets, secret_lens, n);
      lua_rawseti(L, -2, (int)i + 1);
    }
    break;
  case REDIS_REPLY_ERROR:
    push_reply_error(L, r, secrets, secret_lens, n);
    break;
  default:
    luaL_error(L, "ctct.core: redis reply of unknown type %d", r->type);
  }
}

/* One command, blocking. Returns the reply (kept in c->reply until the next
 * call or close) or NULL with *saved_errno set; c->ctx->err then says why. */
static redisReply *conn_call(conn_t *c, int argc, const char **argv, const size_t *lens,
                             int *saved_errno) {
  sigpipe_guard g;
  void *r;
  if (c->reply) {
    freeReplyObject(c->reply);
    c->reply = NULL;
  }
  sigpipe_block(&g);
  errno = 0;
  r = redisCommandArgv(c->ctx, argc, argv, lens);
  *saved_errno = errno;
  sigpipe_restore(&g);
  c->reply = r;
  if (r == NULL && c->ctx->err == 0) /* not documented, but never trust it */
    c->ctx->err = REDIS_ERR_OTHER;
  return r;
}

static void conn_done(conn_t *c) {
  if (c->reply) {
    freeReplyObject(c->reply);
    c->reply = NULL;
  }
}

static void ms_to_tv(long ms, struct timeval *tv) {
  tv->tv_sec = (time_t)(ms / 1000);
  tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

/* ---- connect --------------------------------------------------------------- */

static int opt_int(lua_State *L, int t, const char *field, lua_Integer lo, lua_Integer hi,
                   lua_Integer dflt, int *present) {
  lua_Integer v = dflt;
  lua_getfield(L, t, field);
  *present = !lua_isnil(L, -1);
  if (*present) {
    lua_Number n;
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "option '%s' must be an integer, got %s", field, luaL_typename(L, -1));
    n = lua_tonumber(L, -1);
    if (!(n >= (lua_Number)lo && n <= (lua_Number)hi) || floor(n) != n)
      luaL_error(L, "option '%s' must be an integer from %d to %d", field, (int)lo, (int)hi);
    v = (lua_Integer)n;
  }
  lua_pop(L, 1);
  return (int)v;
}

/* AUTH [username] password, then SELECT db. Returns 0 (ok) or the number of
 * values pushed for the failure. */
static int handshake(lua_State *L, conn_t *c, const char *user, size_t user_len, const char *pass,
                     size_t pass_len, int has_db, int db) {
  int e;
  redisReply *r;
  if (pass) {
    const char *argv[3];
    size_t lens[3];
    const char *secrets[1];
    size_t secret_lens[1];
    int argc = 0;
    argv[argc] = "AUTH";
    lens[argc++] = 4;
    if (user) {
      argv[argc] = user;
      lens[argc++] = user_len;
    }
    argv[argc] = pass;
    lens[argc++] = pass_len;
    if (!(r = conn_call(c, argc, argv, lens, &e)))
      return fail_io(L, c, e, "during AUTH");
    if (r->type == REDIS_REPLY_ERROR) {
      secrets[0] = pass;
      secret_lens[0] = pass_len;
      lua_pushnil(L);
      push_reply_error(L, r, secrets, secret_lens, 1);
      lua_pushliteral(L, "auth");
      lua_setfield(L, -2, "kind");
      lua_pushfstring(L, "redis %s: AUTH refused: ", c->where);
      lua_getfield(L, -2, "message");
      lua_concat(L, 2);
      lua_setfield(L, -2, "message");
      conn_drop(c);
      return 2;
    }
    if (r->type != REDIS_REPLY_STATUS) {
      conn_drop(c);
      return push_fail(L, "protocol", "redis %s: unexpected answer to AUTH", c->where);
    }
    conn_done(c);
  }
  if (has_db) {
    char num[16];
    const char *argv[2];
    size_t lens[2];
    snprintf(num, sizeof num, "%d", db);
    argv[0] = "SELECT";
    lens[0] = 6;
    argv[1] = num;
    lens[1] = strlen(num);
    if (!(r = conn_call(c, 2, argv, lens, &e)))
      return fail_io(L, c, e, "during SELECT");
    if (r->type == REDIS_REPLY_ERROR) {
      lua_pushnil(L);
      push_reply_error(L, r, NULL, NULL, 0);
      conn_drop(c);
      return 2;
    }
    conn_done(c);
  }
  return 0;
}

static int l_redis_connect(lua_State *L) {
  size_t host_len = 0, unix_len = 0, user_len = 0, pass_len = 0;
  const char *host, *unix_path, *user, *pass;
  long connect_ms, timeout_ms;
  int port, has_port, db, has_db, pushed, e;
  struct timeval tv;
  conn_t *c;

  luaL_checktype(L, 1, LUA_TTABLE);
  host = ctct_opt_string(L, 1, "host", &host_len);
  unix_path = ctct_opt_string(L, 1, "unix", &unix_len);
  port = opt_int(L, 1, "port", 1, 65535, 6379, &has_port);
  connect_ms = ctct_opt_ms(L, 1, "connect_timeout", DEFAULT_CONNECT_MS);
  timeout_ms = ctct_opt_ms(L, 1, "timeout", DEFAULT_TIMEOUT_MS);
  user = ctct_opt_string(L, 1, "username", &user_len);
  pass = ctct_opt_string(L, 1, "password", &pass_len);
  db = opt_int(L, 1, "db", 0, 1000000, 0, &has_db);
  if (unix_path && (host || has_port))
    return luaL_argerror(L, 1, "give either 'unix' or 'host'/'port', not both");
  if (unix_path && (unix_len == 0 || unix_len > MAX_UNIX || strlen(unix_path) != unix_len))
    return luaL_argerror(L, 1, "'unix' must be a socket path of 1-107 bytes");
  if (!unix_path) {
    if (!host) {
      host = "127.0.0.1";
      host_len = 9;
    }
    if (host_len == 0 || host_len > MAX_HOST || strlen(host) != host_len)
      return luaL_argerror(L, 1, "'host' must be a name or address of 1-255 bytes");
  }
  if (user && !pass)
    return luaL_argerror(L, 1, "'username' needs a 'password'");
  if ((user && (user_len == 0 || strlen(user) != user_len)) || (pass && pass_len == 0))
    return luaL_argerror(L, 1, "'username' and 'password' must not be empty");

  /* The userdata first: from here __gc frees whatever hiredis gave us. */
  c = lua_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, REDIS_MT);
  c->timeout_ms = timeout_ms;
  if (unix_path)
    snprintf(c->where, sizeof c->where, "unix:%s", unix_path);
  else if (strchr(host, ':'))
    snprintf(c->where, sizeof c->where, "[%s]:%d", host, port);
  else
    snprintf(c->where, sizeof c->where, "%s:%d", host, port);

  ms_to_tv(connect_ms, &tv);
  errno = 0;
  c->ctx = unix_path ? redisConnectUnixWithTimeout(unix_path, tv)
                     : redisConnectWithTimeout(host, port, tv);
  e = errno;
  if (!c->ctx)
    return push_fail(L, "network", "redis %s: out of memory", c->where);
  if (c->ctx->err) {
    const char *kind = ctx_kind(c->ctx, e);
    if (strcmp(kind, "timeout") == 0)
      pushed = push_fail(L, kind, "redis %s: connect timed out after %d ms", c->where,
                         (int)connect_ms);
    else
      pushed = push_fail(L, kind, "redis %s: cannot connect: %s", c->where, c->ctx->errstr);
    conn_drop(c);
    return pushed;
  }
  ms_to_tv(timeout_ms, &tv);
  if (redisSetTimeout(c->ctx, tv) != REDIS_OK)
    return fail_io(L, c, errno, "setting the timeout");
  if (!unix_path && redisEnableKeepAlive(c->ctx) != REDIS_OK)
    return fail_io(L, c, errno, "enabling keep-alive");
  if ((pushed = handshake(L, c, user, user_len, pass, pass_len, has_db, db)) != 0)
    return pushed;
  return 1; /* the userdata */
}

/* ---- conn methods ------------------------------------------------------------ */

static conn_t *check_conn(lua_State *L) {
  conn_t *c = luaL_checkudata(L, 1, REDIS_MT);
  if (c->closed)
    luaL_error(L, "ctct.core: the redis connection is closed");
  return c;
}

static int push_broken(lua_State *L, const conn_t *c) {
  return push_fail(L, "network", "redis %s: connection lost earlier (%s); connect again", c->where,
                   c->broken[0] ? c->broken : "unknown");
}

/* A command's argument as bytes: strings as they are, numbers as Redis reads
 * them (integers without ".0", whatever the runtime). Pushes the string. */
static void push_arg(lua_State *L, int tbl, int i) {
  lua_rawgeti(L, tbl, i);
  if (lua_type(L, -1) == LUA_TSTRING)
    return;
  if (lua_type(L, -1) == LUA_TNUMBER) {
    char num[64];
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, -1)) {
      snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -1));
    } else
#endif
    {
      double d = (double)lua_tonumber(L, -1);
      if (d != d)
        luaL_error(L, "bad argument #%d to 'command' (NaN is not a Redis value)", i);
      else if (isinf(d))
        snprintf(num, sizeof num, "%s", d > 0 ? "inf" : "-inf");
      else if (floor(d) == d && fabs(d) < 9.2e18)
        snprintf(num, sizeof num, "%lld", (long long)d);
      else {
        /* The shortest text that reads back as the same double: 0.1, not
         * 0.10000000000000001. */
        int prec;
        for (prec = 15; prec < 17; prec++) {
          snprintf(num, sizeof num, "%.*g", prec, d);
          if (strtod(num, NULL) == d)
            break;
        }
        if (prec == 17)
          snprintf(num, sizeof num, "%.17g", d);
      }
    }
    lua_pop(L, 1);
    lua_pushstring(L, num);
    return;
  }
  luaL_error(L, "bad argument #%d to 'command' (string or number expected, got %s)", i,
             luaL_typename(L, -1));
}

static int ieq(const char *s, size_t len, const char *word) {
  size_t i, n = strlen(word);
  if (len != n)
    return 0;
  for (i = 0; i < n; i++) {
    char ch = s[i];
    if (ch >= 'a' && ch <= 'z')
      ch = (char)(ch - 'a' + 'A');
    if (ch != word[i])
      return 0;
  }
  return 1;
}

static int l_command(lua_State *L) {
  conn_t *c = check_conn(L);
  size_t n;
  int i, argc, tmp, e, nsecret = 0;
  const char **argv;
  size_t *lens;
  redisReply *r;

  luaL_checktype(L, 2, LUA_TTABLE);
  n = (size_t)lua_rawlen(L, 2);
  if (n == 0 || n > MAX_ARGS)
    return luaL_argerror(L, 2, "a command of 1 to 1048576 arguments expected");
  argc = (int)n;
  /* Collected as strings in a table of our own, so none can be collected (or
   * changed by a metamethod) while hiredis reads them. */
  lua_createtable(L, argc, 0);
  tmp = lua_gettop(L);
  for (i = 1; i <= argc; i++) {
    push_arg(L, 2, i);
    lua_rawseti(L, tmp, i);
  }
  argv = lua_newuserdata(L, n * sizeof *argv);
  lens = lua_newuserdata(L, n * sizeof *lens);
  for (i = 1; i <= argc; i++) {
    lua_rawgeti(L, tmp, i);
    argv[i - 1] = lua_tolstring(L, -1, &lens[i - 1]);
    lua_pop(L, 1);
  }
  if (!c->ctx)
    return push_broken(L, c);
  /* AUTH and HELLO carry credentials: an error text must not echo them. */
  if (ieq(argv[0], lens[0], "AUTH") || ieq(argv[0], lens[0], "HELLO"))
    nsecret = argc - 1;
  if (!(r = conn_call(c, argc, argv, lens, &e))) {
    /* Name the command (not its arguments) when it is a plain word. */
    char doing[48];
    size_t k;
    int word = lens[0] > 0 && lens[0] <= 32;
    for (k = 0; word && k < lens[0]; k++)
      word = (argv[0][k] >= 'A' && argv[0][k] <= 'Z') || (argv[0][k] >= 'a' && argv[0][k] <= 'z') ||
             argv[0][k] == '_' || argv[0][k] == '.' || argv[0][k] == '|';
    if (word)
      snprintf(doing, sizeof doing, "during %.*s", (int)lens[0], argv[0]);
    else
      snprintf(doing, sizeof doing, "during the command");
    return fail_io(L, c, e, doing);
  }
  if (r->type == REDIS_REPLY_ERROR) {
    lua_pushnil(L);
    push_reply_error(L, r, argv + 1, lens + 1, nsecret);
    conn_done(c);
    return 2;
  }
  push_reply(L, r, argv + 1, lens + 1, nsecret);
  conn_done(c);
  return 1;
}

static int l_set_timeout(lua_State *L) {
  conn_t *c = check_conn(L);
  struct timeval tv;
  long ms;
  lua_settop(L, 2);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "timeout");
  ms = ctct_opt_ms(L, 3, "timeout", 0);
  if (ms <= 0)
    return luaL_argerror(L, 2, "seconds expected");
  if (!c->ctx)
    return push_broken(L, c);
  ms_to_tv(ms, &tv);
  if (redisSetTimeout(c->ctx, tv) != REDIS_OK)
    return fail_io(L, c, errno, "setting the timeout");
  c->timeout_ms = ms;
  lua_pushboolean(L, 1);
  return 1;
}

static int l_connected(lua_State *L) {
  conn_t *c = luaL_checkudata(L, 1, REDIS_MT);
  lua_pushboolean(L, !c->closed && c->ctx != NULL);
  return 1;
}

static int l_close(lua_State *L) {
  conn_t *c = luaL_checkudata(L, 1, REDIS_MT);
  conn_drop(c);
  c->closed = 1;
  return 0;
}

static int l_tostring(lua_State *L) {
  conn_t *c = luaL_checkudata(L, 1, REDIS_MT);
  lua_pushfstring(L, "ctct.core.redis (%s, %s)", c->where,
                  c->closed ? "closed" : c->ctx ? "open" : "broken");
  return 1;
}

static int nil_tostring(lua_State *L) {
  lua_pushliteral(L, "ctct.core.redis_nil");
  return 1;
}

void ctct_open_redis(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"command", l_command},
    {"set_timeout", l_set_timeout},
    {"connected", l_connected},
    {"close", l_close},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"redis_connect", l_redis_connect},
    {NULL, NULL},
  };
  int nil_idx;

  /* One sentinel per Lua state (kept in the registry), so a reloaded module
   * still hands out the same value. */
  lua_getfield(L, LUA_REGISTRYINDEX, REDIS_NIL_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newuserdata(L, 1);
    if (luaL_newmetatable(L, REDIS_NIL_MT)) {
      lua_pushcfunction(L, nil_tostring);
      lua_setfield(L, -2, "__tostring");
      lua_pushliteral(L, "locked");
      lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REDIS_NIL_KEY);
  }
  nil_idx = lua_gettop(L);

  luaL_newmetatable(L, REDIS_MT);
  lua_pushcfunction(L, l_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_close);
  lua_setfield(L, -2, "__close"); /* Lua 5.4: local r <close> = core.redis_connect{...} */
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  lua_pushvalue(L, nil_idx);
  luaL_setfuncs(L, methods, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  /* The module table is just below the sentinel, which becomes the upvalue. */
  lua_pushvalue(L, nil_idx);
  lua_setfield(L, nil_idx - 1, "redis_nil");
  luaL_setfuncs(L, funcs, 1);
}
