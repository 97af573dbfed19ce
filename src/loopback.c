/* loopback.c - the redirect catcher for native apps (RFC 8252 7.3): a listener
 * on 127.0.0.1 and a free port, taking one HTTP request at a time and
 * answering it; the Lua layer (ctct.oauth.loopback) decides what to answer.
 *
 *   core.loopback_listen([port]) -> listener | nil, err
 *   listener:port()
 *   listener:accept(timeout) -> method, target | nil, "timeout" | nil, err
 *   listener:respond(status, content_type, body) -> true | nil, err
 *   listener:close()
 * Blocking with a bounded wait: for scripts and CLIs, never inside nginx. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctct.h"

#define LISTENER_MT "ctct.core.listener"
#define MAX_HEAD 8192

typedef struct {
  int fd, client;
  int port;
} listener_t;

static int push_errno(lua_State *L, const char *what) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", what, strerror(errno));
  return 2;
}

static void close_client(listener_t *l) {
  if (l->client >= 0)
    close(l->client);
  l->client = -1;
}

static int listener_close(lua_State *L) {
  listener_t *l = luaL_checkudata(L, 1, LISTENER_MT);
  close_client(l);
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
  return 0;
}

static listener_t *check_open(lua_State *L) {
  listener_t *l = luaL_checkudata(L, 1, LISTENER_MT);
  if (l->fd < 0)
    luaL_error(L, "the loopback listener is closed");
  return l;
}

/* core.loopback_listen([port]) */
static int l_listen(lua_State *L) {
  lua_Integer port = luaL_optinteger(L, 1, 0);
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  listener_t *l;
  int one = 1;
  if (port < 0 || port > 65535)
    return luaL_argerror(L, 1, "port must be 0 (any free port) to 65535");
  l = lua_newuserdata(L, sizeof *l);
  l->fd = l->client = -1;
  l->port = 0;
  luaL_setmetatable(L, LISTENER_MT);
  l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l->fd < 0)
    return push_errno(L, "socket");
  if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    return push_errno(L, "setsockopt");
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from other hosts */
  if (bind(l->fd, (struct sockaddr *)&addr, sizeof addr) != 0)
    return push_errno(L, "bind 127.0.0.1");
  if (listen(l->fd, 8) != 0)
    return push_errno(L, "listen");
  if (getsockname(l->fd, (struct sockaddr *)&addr, &len) != 0)
    return push_errno(L, "getsockname");
  l->port = ntohs(addr.sin_port);
  return 1;
}

static int listener_port(lua_State *L) {
  lua_pushinteger(L, check_open(L)->port);
  return 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait until fd is readable or the deadline passes: 1 ready, 0 timeout, -1 error. */
static int wait_readable(int fd, double deadline) {
  for (;;) {
    struct pollfd p;
    double left = deadline - now_s();
    int rc;
    if (left <= 0)
      return 0;
    p.fd = fd;
    p.events = POLLIN;
    rc = poll(&p, 1, (int)(left * 1000) + 1);
    if (rc > 0)
      return 1;
    if (rc == 0)
      continue;
    if (errno != EINTR)
      return -1;
  }
}

/* listener:accept(timeout) -> method, target: waits for one connection and
 * reads its request head (bounded size and time). */
static int listener_accept(lua_State *L) {
  listener_t *l = check_open(L);
  double timeout = luaL_checknumber(L, 2), deadline;
  char head[MAX_HEAD + 1], *sp1, *sp2;
  size_t got = 0;
  int rc;
  if (!(timeout > 0) || timeout > 86400)
    return luaL_argerror(L, 2, "timeout must be a positive number of seconds");
  deadline = now_s() + timeout;
  close_client(l);
  rc = wait_readable(l->fd, deadline);
  if (rc <= 0) {
    lua_pushnil(L);
    lua_pushstring(L, rc == 0 ? "timeout" : strerror(errno));
    return 2;
  }
  l->client = accept(l->fd, NULL, NULL);
  if (l->client < 0)
    return push_errno(L, "accept");
  /* Read until the end of the head ("\r\n\r\n"); a body is never expected. */
  while (got < MAX_HEAD) {
    ssize_t n;
    head[got] = '\0';
    if (strstr(head, "\r\n\r\n") || strstr(head, "\n\n"))
      break;
    rc = wait_readable(l->client, deadline);
    if (rc <= 0) {
      close_client(l);
      lua_pushnil(L);
      lua_pushstring(L, rc == 0 ? "timeout" : strerror(errno));
      return 2;
    }
    n = read(l->client, head + got, MAX_HEAD - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  head[got] = '\0';
  sp1 = strchr(head, ' ');
  sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
    lua_pushliteral(L, "");
    lua_pushliteral(L, "");
    return 2; /* not HTTP: the caller answers 400 */
  }
  lua_pushlstring(L, head, (size_t)(sp1 - head));
  lua_pushlstring(L, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  return 2;
}

/* listener:respond(status, content_type, body): answers and closes the connection. */
static int listener_respond(lua_State *L) {
  listener_t *l = check_open(L);
  lua_Integer status = luaL_checkinteger(L, 2);
  const char *type = luaL_checkstring(L, 3);
  size_t blen, hlen, off = 0;
  const char *body = luaL_checklstring(L, 4, &blen);
  char head[512];
  int ok = 1;
  if (l->client < 0)
    return luaL_error(L, "no request to answer");
  hlen = (size_t)snprintf(head, sizeof head,
                          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n"
                          "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                          (int)status, status == 200 ? "OK" : "Error", type, (unsigned long)blen);
  if (hlen >= sizeof head)
    return luaL_argerror(L, 3, "content type too long");
  while (ok && off < hlen + blen) {
    const char *p = off < hlen ? head + off : body + (off - hlen);
    size_t n = off < hlen ? hlen - off : blen - (off - hlen);
    /* send, not write: a browser that already hung up must not kill us with SIGPIPE */
    ssize_t w = send(l->client, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    ok = w > 0;
    if (ok)
      off += (size_t)w;
  }
  close_client(l);
  if (!ok)
    return push_errno(L, "write");
  lua_pushboolean(L, 1);
  return 1;
}

void ctct_open_loopback(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"port", listener_port},
    {"accept", listener_accept},
    {"respond", listener_respond},
    {"close", listener_close},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"loopback_listen", l_listen},
    {NULL, NULL},
  };
  luaL_newmetatable(L, LISTENER_MT);
  lua_pushcfunction(L, listener_close);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
