/* loopback.c - the redirect catcher for native apps (RFC 8252 7.3): a listener
 * on 127.0.0.1 and a free port, handing over one HTTP request head at a time;
 * the Lua layer (ctct.oauth.loopback) decides what to answer.
 *
 *   core.loopback_listen([port]) -> listener | nil, err
 *   listener:port()
 *   listener:accept(timeout [, read_timeout = 5]) -> method, target | nil, "timeout" | nil, err
 *   listener:respond(status, content_type, body) -> true | nil, err
 *   listener:close()
 *
 * Up to MAX_CONNS connections are read at once, each with its own read
 * deadline (read_timeout from its accept): a connection that sends nothing (a
 * browser's preconnect) or never finishes its head is dropped when its time is
 * up, and never delays a request arriving on another connection. The whole
 * wait is bounded by `timeout`. Connections still being read stay open for the
 * next accept. Blocking with a bounded wait: for scripts and CLIs, never inside
 * nginx. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ctct.h"

#define LISTENER_MT "ctct.core.listener"
#define MAX_HEAD 8192
#define MAX_CONNS 8
#define DEFAULT_READ_TIMEOUT 5.0

/* A connection whose request head is being read. */
typedef struct {
  int fd;
  double deadline;
  size_t got;
  char head[MAX_HEAD + 1];
} conn_t;

typedef struct {
  int fd, client; /* client: the connection whose request was handed over */
  int port;
  conn_t conns[MAX_CONNS];
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

static void drop_conn(conn_t *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->got = 0;
}

static int listener_close(lua_State *L) {
  listener_t *l = luaL_checkudata(L, 1, LISTENER_MT);
  int i;
  close_client(l);
  for (i = 0; i < MAX_CONNS; i++)
    drop_conn(&l->conns[i]);
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
  int one = 1, i;
  if (port < 0 || port > 65535)
    return luaL_argerror(L, 1, "port must be 0 (any free port) to 65535");
  l = lua_newuserdata(L, sizeof *l);
  l->fd = l->client = -1;
  l->port = 0;
  for (i = 0; i < MAX_CONNS; i++) {
    l->conns[i].fd = -1;
    l->conns[i].got = 0;
  }
  luaL_setmetatable(L, LISTENER_MT);
  /* non-blocking: a connection reset between poll and accept must not block us */
  l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
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
  if (listen(l->fd, 32) != 0)
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

/* Take one pending connection into free slot c. 1: taken or nothing pending, 0: error (errno). */
static int take_conn(listener_t *l, conn_t *c, double read_timeout) {
  struct timeval tv;
  int fd = accept(l->fd, NULL, NULL), flags;
  if (fd < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED || errno == EPROTO;
  flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    close(fd);
    return 1; /* this one is dropped; the listener goes on */
  }
  /* The answer is sent on a blocking socket: bound the send too. */
  tv.tv_sec = (time_t)read_timeout;
  tv.tv_usec = (suseconds_t)((read_timeout - (double)tv.tv_sec) * 1e6);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  c->fd = fd;
  c->got = 0;
  c->head[0] = '\0';
  c->deadline = now_s() + read_timeout;
  return 1;
}

/* Read what c has for us: 1 the head is complete, 0 not yet, -1 dropped. */
static int read_conn(conn_t *c) {
  ssize_t n = read(c->fd, c->head + c->got, MAX_HEAD - c->got);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    drop_conn(c);
    return -1;
  }
  if (n == 0) { /* closed: a preconnect giving up, or a client done sending */
    if (c->got > 0)
      return 1;
    drop_conn(c);
    return -1;
  }
  c->got += (size_t)n;
  c->head[c->got] = '\0';
  /* A body is never expected: the head ends the request (or fills the buffer). */
  return c->got >= MAX_HEAD || strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n");
}

/* Hand connection c's request over: it becomes the one `respond` answers. */
static int hand_over(lua_State *L, listener_t *l, conn_t *c) {
  char *head = c->head, *sp1, *sp2;
  l->client = c->fd;
  c->fd = -1;
  c->got = 0;
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

/* listener:accept(timeout [, read_timeout]) -> method, target: waits (at most
 * timeout seconds) until one of the connections has sent its request head,
 * reading several at once, each for at most read_timeout seconds. */
static int listener_accept(lua_State *L) {
  listener_t *l = check_open(L);
  double timeout = luaL_checknumber(L, 2), deadline;
  double read_timeout = luaL_optnumber(L, 3, DEFAULT_READ_TIMEOUT);
  if (!(timeout > 0) || timeout > 86400)
    return luaL_argerror(L, 2, "timeout must be a positive number of seconds");
  if (!(read_timeout > 0) || read_timeout > 3600)
    return luaL_argerror(L, 3, "read_timeout must be a positive number of seconds (at most 3600)");
  deadline = now_s() + timeout;
  close_client(l);
  for (;;) {
    struct pollfd p[MAX_CONNS + 1];
    int slot[MAX_CONNS + 1], nfds = 0, free_slot = -1, i, k, rc;
    double now = now_s(), wake = deadline;
    if (now >= deadline) {
      lua_pushnil(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
    for (i = 0; i < MAX_CONNS; i++) {
      conn_t *c = &l->conns[i];
      if (c->fd >= 0 && c->deadline <= now)
        drop_conn(c); /* idle or too slow: its time is up */
      if (c->fd < 0) {
        if (free_slot < 0)
          free_slot = i;
        continue;
      }
      p[nfds].fd = c->fd;
      p[nfds].events = POLLIN;
      p[nfds].revents = 0;
      slot[nfds++] = i;
      if (c->deadline < wake)
        wake = c->deadline;
    }
    if (free_slot >= 0) { /* all slots busy: new connections wait in the backlog */
      p[nfds].fd = l->fd;
      p[nfds].events = POLLIN;
      p[nfds].revents = 0;
      slot[nfds++] = -1;
    }
    rc = poll(p, (nfds_t)nfds, (int)((wake - now) * 1000) + 1);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      return push_errno(L, "poll");
    }
    for (k = 0; k < nfds; k++) {
      if (p[k].revents == 0)
        continue;
      if (slot[k] < 0) {
        if (!take_conn(l, &l->conns[free_slot], read_timeout))
          return push_errno(L, "accept");
        continue;
      }
      if (read_conn(&l->conns[slot[k]]) == 1)
        return hand_over(L, l, &l->conns[slot[k]]);
    }
  }
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
