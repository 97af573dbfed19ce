/* http.c - the HTTP session of ctct.core over libcurl.
 *
 * A session owns one CURLSH share (connections, DNS, TLS sessions), one easy
 * handle reused for sequential requests (so calls ride one kept-alive
 * connection) and, on demand, a multi handle for running many requests at once.
 * The session's fixed options are set once per handle; a request sets only
 * what varies, and clears its pointers from the handle when it is done.
 *
 * libcurl callbacks only append to C buffers and never call Lua: under
 * OpenResty a Lua call from a C callback could yield across a C boundary.
 * Every per-request resource lives in a "transfer" userdata whose __gc frees
 * it, so a Lua error raised half-way (bad header, out of memory) leaks nothing.
 *
 * A request may name a `sink` file: the body then goes to "<sink>.part" as it
 * arrives (no size cap, constant memory) and is renamed to the sink on a 2xx,
 * removed otherwise, so a sink never holds half a download (download.c, the
 * atomic download-to-file the nginx transport uses too). */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctct.h"
#include "download.h"
#include "version.h"

#define SESSION_MT "ctct.core.session"
#define TRANSFER_MT "ctct.core.transfer"

#define DEFAULT_USER_AGENT "ctct-lua/" CTCT_VERSION
#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_RESPONSE ((curl_off_t)64 * 1024 * 1024)
#define MAX_HEADER_BYTES ((size_t)256 * 1024)
#define MAX_HEADER_FIELDS 1000 /* in one response head */
#define MAX_INTERIM 10         /* 1xx answers before the final one */
#define MAX_CONCURRENCY 64

/* ---- growable byte buffer ------------------------------------------------ */

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

static int buf_add(buf_t *b, const char *p, size_t n) {
  if (n == 0)
    return 1;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 4096;
    char *d;
    while (cap - b->len < n) {
      if (cap > SIZE_MAX / 2)
        return 0;
      cap *= 2;
    }
    d = realloc(b->data, cap);
    if (!d)
      return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 1;
}

static void buf_free(buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- types ---------------------------------------------------------------- */

typedef struct transfer transfer_t;

typedef struct {
  CURLSH *share;
  CURL *easy;           /* reused by sequential requests */
  CURLM *multi;         /* made by the first request_many */
  transfer_t *owned;    /* transfers that own an easy handle (request_many) */
  transfer_t *seq;      /* the sequential requests' transfer, reused (l_request) */
  char *cafile, *user_agent, *proxy;
  long connect_ms, timeout_ms;
  curl_off_t max_response;
  int verify, http2, closed;
} session_t;

struct transfer {
  session_t *session;   /* NULL once the session is closed */
  CURL *easy;           /* borrowed from the session, or owned */
  int owns_easy, in_multi, index;
  transfer_t *next;     /* link in session->owned */
  struct curl_slist *headers;
  buf_t body, head;
  curl_off_t max_response;
  int too_large, out_of_memory, sink_failed, has_sink;
  int head_refused;     /* a HEAD_* reason: the response head broke a bound */
  int head_fields, status_lines, head_done;
  ctct_part_t *sink;    /* the body goes here instead of `body` */
  curl_off_t sink_bytes;
  char sink_error[300];
  char errbuf[CURL_ERROR_SIZE];
};

/* Why a response head was refused (transfer.head_refused, head_problem). */
enum { HEAD_OK, HEAD_TOO_BIG, HEAD_TOO_MANY_FIELDS, HEAD_TOO_MANY_INTERIM, HEAD_LINE_TOO_LONG,
       HEAD_NOT_HTTP, HEAD_LIBCURL_LIMIT };

/* What a request asks for, borrowed from its Lua table (which stays on the
 * stack, so the strings outlive the transfer). */
typedef struct {
  const char *method, *url, *body, *sink;
  size_t body_len;
  long timeout_ms, connect_ms;
} request_t;

/* What libcurl reported when a transfer ended. */
typedef struct {
  CURLcode code;
  long status, http_version, connects, request_size;
} outcome_t;

/* ---- libcurl callbacks: C buffers only ------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  transfer_t *t = ud;
  size_t len = size * n;
  if (t->sink) {
    long status = 0;
    /* Only a success goes to the file; an error body stays in memory for the
     * error message. libcurl allows getinfo from its callbacks. */
    if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
        status <= 299) {
      if (!ctct_part_write(t->sink, p, len)) {
        snprintf(t->sink_error, sizeof t->sink_error, "%s", ctct_part_error(t->sink));
        t->sink_failed = 1;
        return 0;
      }
      t->sink_bytes += (curl_off_t)len;
      return len;
    }
  }
  if ((curl_off_t)(t->body.len + len) > t->max_response) {
    t->too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (!buf_add(&t->body, p, len)) {
    t->out_of_memory = 1;
    return 0;
  }
  return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  transfer_t *t = ud;
  size_t len = size * n;
  /* A status line starts a new header block (after 100 Continue; a proxy's
   * CONNECT answer is suppressed): keep only the final response's headers,
   * and bound how many interim blocks come first and what one block holds. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    t->head.len = 0;
    t->head_fields = t->head_done = 0;
    if (++t->status_lines > MAX_INTERIM + 1) {
      t->head_refused = HEAD_TOO_MANY_INTERIM;
      return 0;
    }
  } else if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
    t->head_done = 1;
  } else if (++t->head_fields > MAX_HEADER_FIELDS) {
    t->head_refused = HEAD_TOO_MANY_FIELDS;
    return 0;
  }
  if (t->head.len + len > MAX_HEADER_BYTES) {
    t->head_refused = HEAD_TOO_BIG;
    return 0;
  }
  if (!buf_add(&t->head, p, len)) {
    t->out_of_memory = 1;
    return 0;
  }
  return len;
}

/* ---- transfers ------------------------------------------------------------ */

static void transfer_unlink(transfer_t *t) {
  session_t *s = t->session;
  transfer_t **pp;
  if (!s)
    return;
  for (pp = &s->owned; *pp; pp = &(*pp)->next) {
    if (*pp == t) {
      *pp = t->next;
      break;
    }
  }
  t->next = NULL;
}

/* Free the handle a transfer owns (detaching it from the multi first). */
static void transfer_release_easy(transfer_t *t) {
  if (t->owns_easy && t->easy) {
    if (t->in_multi && t->session && t->session->multi)
      curl_multi_remove_handle(t->session->multi, t->easy);
    transfer_unlink(t);
    curl_easy_cleanup(t->easy);
  }
  t->easy = NULL;
  t->in_multi = 0;
  t->owns_easy = 0;
}

/* Close the sink; keep it (rename into place) only when asked to. */
static int sink_finish(transfer_t *t, int keep) {
  ctct_part_t *part = t->sink;
  t->sink = NULL;
  if (!part)
    return 1;
  if (keep)
    return ctct_part_commit(part, t->sink_error, sizeof t->sink_error);
  ctct_part_abort(part);
  return 1;
}

static void transfer_free(transfer_t *t) {
  transfer_release_easy(t);
  sink_finish(t, 0);
  curl_slist_free_all(t->headers);
  t->headers = NULL;
  buf_free(&t->body);
  buf_free(&t->head);
}

static int transfer_gc(lua_State *L) {
  transfer_free(luaL_checkudata(L, 1, TRANSFER_MT));
  return 0;
}

/* The sequential requests of a session reuse one C-allocated transfer: no
 * userdata and finalizer per request, and the buffers keep their memory (the
 * body's up to KEEP_BODY bytes). Nothing is lost when a request raises half-way
 * (bad header, out of memory): what it left (a header list, a sink's .part
 * file) is released when the next request starts, or with the session. */
#define KEEP_BODY ((size_t)1 << 20)
#define KEEP_HEAD ((size_t)64 << 10)

static void transfer_reuse(transfer_t *t, session_t *s) {
  buf_t body = t->body, head = t->head;
  sink_finish(t, 0);
  curl_slist_free_all(t->headers);
  memset(t, 0, sizeof *t);
  t->session = s;
  t->max_response = s->max_response;
  t->body = body;
  t->head = head;
  t->body.len = t->head.len = 0;
}

static void transfer_done(transfer_t *t) {
  curl_slist_free_all(t->headers);
  t->headers = NULL;
  if (t->body.cap > KEEP_BODY)
    buf_free(&t->body);
  if (t->head.cap > KEEP_HEAD)
    buf_free(&t->head);
}

static transfer_t *transfer_new(lua_State *L, session_t *s) {
  transfer_t *t = lua_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  t->session = s;
  t->max_response = s->max_response;
  luaL_setmetatable(L, TRANSFER_MT);
  return t;
}

/* ---- reading a request table ---------------------------------------------- */

static int is_token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *required_string(lua_State *L, int r, const char *field, size_t *len) {
  const char *s = ctct_opt_string(L, r, field, len);
  if (!s)
    luaL_error(L, "request.%s is required", field);
  return s;
}

/* Append "Name: value" for one header, after checking both. */
static void add_header(lua_State *L, transfer_t *t, int name_idx, int value_idx) {
  size_t nl, vl, i;
  const char *name, *value;
  char small[512], *line;
  struct curl_slist *list;
  int pushed = 0;

  if (lua_type(L, name_idx) != LUA_TSTRING)
    luaL_error(L, "request.headers: header names must be strings");
  name = lua_tolstring(L, name_idx, &nl);
  if (nl == 0 || nl > 256)
    luaL_error(L, "request.headers: header name must be 1-256 characters");
  for (i = 0; i < nl; i++)
    if (!is_token_char((unsigned char)name[i]))
      luaL_error(L, "request.headers: invalid character in header name '%s'", name);
  if (lua_type(L, value_idx) != LUA_TSTRING && lua_type(L, value_idx) != LUA_TNUMBER)
    luaL_error(L, "request.headers: value of '%s' must be a string", name);
  /* Copy a number to a string without converting the table's value in place. */
  if (lua_type(L, value_idx) == LUA_TNUMBER) {
    lua_pushvalue(L, value_idx);
    pushed = 1;
  }
  value = lua_tolstring(L, pushed ? -1 : value_idx, &vl);
  for (i = 0; i < vl; i++) {
    unsigned char c = (unsigned char)value[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      luaL_error(L, "request.headers: value of '%s' contains a control character (CR/LF?)", name);
  }
  if (!t) { /* validation only */
    lua_pop(L, pushed);
    return;
  }
  /* The usual header fits on the stack: no malloc/free per header. */
  line = nl + vl + 3 <= sizeof small ? small : malloc(nl + vl + 3);
  if (!line)
    luaL_error(L, "ctct.core: out of memory");
  memcpy(line, name, nl);
  /* libcurl: "Name:" removes a header; "Name;" sends it empty. */
  if (vl == 0) {
    line[nl] = ';';
    line[nl + 1] = '\0';
  } else {
    line[nl] = ':';
    line[nl + 1] = ' ';
    memcpy(line + nl + 2, value, vl);
    line[nl + 2 + vl] = '\0';
  }
  list = curl_slist_append(t->headers, line); /* copies the line */
  if (line != small)
    free(line);
  if (!list)
    luaL_error(L, "ctct.core: out of memory");
  t->headers = list;
  lua_pop(L, pushed);
}

static void append_header_line(lua_State *L, transfer_t *t, const char *line) {
  struct curl_slist *list = curl_slist_append(t->headers, line); /* copies the line */
  if (!list)
    luaL_error(L, "ctct.core: out of memory");
  t->headers = list;
}

/* Whether the list holds the header (case-insensitive; "Name:", "Name;" too). */
static int has_header(const struct curl_slist *list, const char *name) {
  size_t n = strlen(name);
  for (; list; list = list->next)
    if (curl_strnequal(list->data, name, n) && (list->data[n] == ':' || list->data[n] == ';'))
      return 1;
  return 0;
}

/* Check the request table at index r and, when t is given, build its header
 * list. Raises a clear error for bad input before anything is sent. */
static void read_request(lua_State *L, int r, const session_t *s, transfer_t *t,
                         request_t *q) {
  size_t len, i;
  if (lua_type(L, r) != LUA_TTABLE)
    luaL_error(L, "request must be a table, got %s", luaL_typename(L, r));
  r = lua_absindex(L, r);

  q->method = required_string(L, r, "method", &len);
  if (len == 0 || len > 16)
    luaL_error(L, "request.method must be 1-16 upper-case letters");
  for (i = 0; i < len; i++)
    if (q->method[i] < 'A' || q->method[i] > 'Z')
      luaL_error(L, "request.method must be 1-16 upper-case letters");

  q->url = required_string(L, r, "url", &len);
  if (strncmp(q->url, "http://", 7) != 0 && strncmp(q->url, "https://", 8) != 0)
    luaL_error(L, "request.url must start with http:// or https://");
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)q->url[i];
    if (c <= 0x20 || c == 0x7f)
      luaL_error(L, "request.url contains a space or control character");
  }

  q->body = ctct_opt_string(L, r, "body", &q->body_len);
  if (q->body && (strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0))
    luaL_error(L, "request.body is not allowed with %s", q->method);

  q->timeout_ms = ctct_opt_ms(L, r, "timeout", s->timeout_ms);
  q->connect_ms = ctct_opt_ms(L, r, "connect_timeout", s->connect_ms);
  q->sink = ctct_opt_string(L, r, "sink", &len);
  if (q->sink && (len == 0 || len > 4000))
    luaL_error(L, "request.sink must be a file path");

  lua_getfield(L, r, "headers");
  if (!lua_isnil(L, -1)) {
    int h = lua_gettop(L);
    if (!lua_istable(L, h))
      luaL_error(L, "request.headers must be a table of name = value");
    lua_pushnil(L);
    while (lua_next(L, h)) {
      add_header(L, t, -2, -1);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);

  if (t && q->sink) {
    char err[4400];
    t->has_sink = 1;
    t->sink = ctct_part_open(q->sink, err, sizeof err); /* <sink>.part, O_EXCL|O_NOFOLLOW 0600 */
    if (!t->sink)
      luaL_error(L, "request.sink: %s", err);
  }
  if (t && (q->body || strcmp(q->method, "POST") == 0)) {
    /* Never wait a second for "100 Continue" before sending a body (only a
     * request with a body can have libcurl add "Expect: 100-continue"). */
    append_header_line(L, t, "Expect:");
    /* A body without a Content-Type of the caller's is sent without one: not
     * libcurl's application/x-www-form-urlencoded, which the API answers 415. */
    if (!has_header(t->headers, "Content-Type"))
      append_header_line(L, t, "Content-Type:");
  }
}

/* ---- configuring and finishing an easy handle ----------------------------- */

#define SET(opt, val)                                   \
  do {                                                  \
    if (rc == CURLE_OK)                                 \
      rc = curl_easy_setopt(h, (opt), (val));           \
  } while (0)

/* What never changes for a session: set once on each easy handle. */
static CURLcode apply_session(const session_t *s, CURL *h) {
  CURLcode rc = CURLE_OK;
  SET(CURLOPT_SHARE, s->share);
  SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SET(CURLOPT_USERAGENT, s->user_agent);
  SET(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl can decode */
  SET(CURLOPT_HTTP_VERSION, s->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
  SET(CURLOPT_PIPEWAIT, 1L);        /* prefer multiplexing over new connections */
  SET(CURLOPT_SSL_VERIFYPEER, s->verify ? 1L : 0L);
  SET(CURLOPT_SSL_VERIFYHOST, s->verify ? 2L : 0L);
  if (s->cafile)
    SET(CURLOPT_CAINFO, s->cafile);
  if (s->proxy) /* otherwise libcurl reads http_proxy/https_proxy/no_proxy */
    SET(CURLOPT_PROXY, s->proxy);
  SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_MAXFILESIZE_LARGE, s->max_response);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  return rc;
}

/* What one request sets. Every option that a previous request on the same
 * handle may have set is set again here, so nothing leaks between requests. */
static CURLcode apply_request(transfer_t *t, const request_t *q) {
  CURL *h = t->easy;
  CURLcode rc = CURLE_OK;
  int get = strcmp(q->method, "GET") == 0, head = strcmp(q->method, "HEAD") == 0;
  int post = strcmp(q->method, "POST") == 0;

  SET(CURLOPT_URL, q->url);
  SET(CURLOPT_CONNECTTIMEOUT_MS, q->connect_ms);
  SET(CURLOPT_TIMEOUT_MS, q->timeout_ms);
  /* A download to a sink file has no size cap (its error bodies do, on_body). */
  SET(CURLOPT_MAXFILESIZE_LARGE, q->sink ? (curl_off_t)0 : t->max_response);
  SET(CURLOPT_WRITEDATA, t);
  SET(CURLOPT_HEADERDATA, t);
  SET(CURLOPT_ERRORBUFFER, t->errbuf);
  SET(CURLOPT_HTTPHEADER, t->headers);
  SET(CURLOPT_PRIVATE, (void *)t);

  if (q->body || post) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    SET(CURLOPT_POSTFIELDS, q->body ? q->body : ""); /* also selects POST */
  } else {
    SET(CURLOPT_HTTPGET, 1L);
  }
  SET(CURLOPT_NOBODY, head ? 1L : 0L);
  SET(CURLOPT_CUSTOMREQUEST, (get || head || post) ? NULL : q->method);
  return rc;
}

/* Drop a handle's pointers into a transfer before the transfer can be freed. */
static void forget_transfer(CURL *h) {
  CURLcode rc = CURLE_OK;
  SET(CURLOPT_ERRORBUFFER, NULL);
  SET(CURLOPT_HTTPHEADER, NULL);
  SET(CURLOPT_POSTFIELDS, NULL);
  SET(CURLOPT_WRITEDATA, NULL);
  SET(CURLOPT_HEADERDATA, NULL);
  SET(CURLOPT_PRIVATE, NULL);
  (void)rc; /* setting these to NULL cannot fail */
}

#undef SET

static long info_long(CURL *h, CURLINFO what) {
  long v = 0;
  if (curl_easy_getinfo(h, what, &v) != CURLE_OK)
    return 0;
  return v;
}

static void collect(transfer_t *t, CURLcode code, outcome_t *o) {
  o->code = code;
  o->status = info_long(t->easy, CURLINFO_RESPONSE_CODE);
  o->http_version = info_long(t->easy, CURLINFO_HTTP_VERSION);
  o->connects = info_long(t->easy, CURLINFO_NUM_CONNECTS);
  /* Only a failure asks whether anything was sent (maybe_sent). */
  o->request_size = code == CURLE_OK ? 0 : info_long(t->easy, CURLINFO_REQUEST_SIZE);
}

/* ---- results --------------------------------------------------------------- */

static const char *http_version_name(long v) {
  switch (v) {
  case CURL_HTTP_VERSION_1_0: return "1.0";
  case CURL_HTTP_VERSION_1_1: return "1.1";
  case CURL_HTTP_VERSION_2_0: return "2";
#ifdef CURL_HTTP_VERSION_3
  case CURL_HTTP_VERSION_3: return "3";
#endif
  default: return "unknown";
  }
}

static int is_upper_ascii(unsigned char c) { return c >= 'A' && c <= 'Z'; }

/* Headers of the final response as { lower-case name = value }; repeated
 * headers are joined with ", " as RFC 9110 allows. */
static void push_headers(lua_State *L, buf_t *head) {
  char *d = head->data, *all_end, *p;
  size_t lines = 0;
  int first = 1;
  if (!d) {
    lua_createtable(L, 0, 0);
    return;
  }
  all_end = d + head->len;
  /* Lines found with memchr, not byte by byte; the table sized once. */
  for (p = d; p < all_end && (p = memchr(p, '\n', (size_t)(all_end - p))) != NULL; p++)
    lines++;
  lua_createtable(L, 0, lines > 1 ? (int)lines - 1 : 0);
  p = d;
  while (p < all_end) {
    char *start = p, *end = memchr(p, '\n', (size_t)(all_end - p)), *colon, *v, *k;
    size_t nl, vl;
    if (end) {
      p = end + 1;
    } else {
      end = p = all_end;
    }
    if (end > start && end[-1] == '\r')
      end--;
    if (first) { /* the status line */
      first = 0;
      continue;
    }
    if (end == start || *start == ' ' || *start == '\t')
      continue; /* blank line, or obsolete line folding (RFC 9112 forbids it) */
    colon = memchr(start, ':', (size_t)(end - start));
    if (!colon || colon == start)
      continue;
    nl = (size_t)(colon - start);
    for (k = start; k < colon; k++)
      if (is_upper_ascii((unsigned char)*k))
        *k = (char)(*k - 'A' + 'a');
    v = colon + 1;
    vl = (size_t)(end - v);
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
      v++;
      vl--;
    }
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
      vl--;
    lua_pushlstring(L, start, nl);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushlstring(L, v, vl);
    } else {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, v, vl);
      lua_concat(L, 3);
    }
    lua_rawset(L, -3);
  }
}

/* A response head the server got wrong: our bounds (on_header), libcurl's
 * own (one line over CURL_MAX_HTTP_HEADER, 100 KiB, is CURLE_OUT_OF_MEMORY
 * with no detail before the head is complete; all heads of an answer over
 * 300 KiB, "Too large response headers"), or no HTTP status line at all
 * (libcurl takes it for HTTP/0.9 and refuses it). */
static int head_problem(const transfer_t *t, CURLcode code) {
  if (t->head_refused)
    return t->head_refused;
  if (code == CURLE_OUT_OF_MEMORY && !t->out_of_memory && !t->head_done)
    return HEAD_LINE_TOO_LONG;
  if (code == CURLE_UNSUPPORTED_PROTOCOL && strstr(t->errbuf, "HTTP/0.9"))
    return HEAD_NOT_HTTP;
  if (code != CURLE_OK && strncmp(t->errbuf, "Too large response headers", 26) == 0)
    return HEAD_LIBCURL_LIMIT;
  return HEAD_OK;
}

static void push_head_problem(lua_State *L, const transfer_t *t, int why) {
  switch (why) {
  case HEAD_TOO_BIG:
    lua_pushfstring(L, "response head over %d KiB", (int)(MAX_HEADER_BYTES / 1024));
    break;
  case HEAD_TOO_MANY_FIELDS:
    lua_pushfstring(L, "response head has more than %d header fields", MAX_HEADER_FIELDS);
    break;
  case HEAD_TOO_MANY_INTERIM:
    lua_pushfstring(L, "more than %d interim (1xx) responses", MAX_INTERIM);
    break;
  case HEAD_LINE_TOO_LONG:
    lua_pushfstring(L, "response header line over %d KiB", CURL_MAX_HTTP_HEADER / 1024);
    break;
  case HEAD_NOT_HTTP:
    lua_pushfstring(L, "not an HTTP response (bad status line; libcurl: %s)", t->errbuf);
    break;
  default:
    lua_pushstring(L, t->errbuf);
  }
}

static const char *error_kind(const transfer_t *t, CURLcode code) {
  if (t->too_large || t->out_of_memory || head_problem(t, code))
    return "protocol";
  if (t->sink_failed)
    return "validation";
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT:
    return "timeout";
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_USE_SSL_FAILED:
    return "tls";
  case CURLE_FILESIZE_EXCEEDED:
    return "protocol";
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return "validation";
  default:
    return "network";
  }
}

/* Could the server have received (and acted on) the request? Only a "no"
 * lets the Lua layer retry a POST. Failures before or during connecting and
 * the TLS handshake are "no"; so is a timeout before any request byte went out. */
static int maybe_sent(const outcome_t *o) {
  switch (o->code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
    return 0;
  case CURLE_OPERATION_TIMEDOUT:
    return o->request_size > 0;
  default:
    return 1;
  }
}

static void push_error(lua_State *L, const transfer_t *t, const outcome_t *o) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, error_kind(t, o->code));
  lua_setfield(L, -2, "kind");
  if (head_problem(t, o->code)) {
    push_head_problem(L, t, head_problem(t, o->code));
  } else if (t->too_large || o->code == CURLE_FILESIZE_EXCEEDED) {
    lua_pushfstring(L, "response larger than max_response_bytes (%d MiB)",
                    (int)(t->max_response / (1024 * 1024)));
  } else if (t->out_of_memory) {
    lua_pushliteral(L, "out of memory while reading the response");
  } else if (t->sink_failed) {
    lua_pushstring(L, t->sink_error[0] ? t->sink_error : "cannot write the download");
  } else if (t->errbuf[0]) { /* libcurl's own detail, e.g. which host and port */
    lua_pushstring(L, t->errbuf);
  } else {
    lua_pushstring(L, curl_easy_strerror(o->code));
  }
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, (lua_Integer)o->code);
  lua_setfield(L, -2, "curl_code");
  lua_pushboolean(L, maybe_sent(o) || head_problem(t, o->code)); /* the server answered */
  lua_setfield(L, -2, "sent");
}

/* Push the response table, or (for failures) nil and an error table; returns
 * the number of values pushed. */
static int push_outcome(lua_State *L, transfer_t *t, const outcome_t *o) {
  if (o->code != CURLE_OK) {
    lua_pushnil(L);
    push_error(L, t, o);
    return 2;
  }
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)o->status);
  lua_setfield(L, -2, "status");
  push_headers(L, &t->head);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
  lua_setfield(L, -2, "body");
  lua_pushstring(L, http_version_name(o->http_version));
  lua_setfield(L, -2, "http_version");
  lua_pushinteger(L, (lua_Integer)o->connects);
  lua_setfield(L, -2, "new_connections");
  if (t->has_sink) {
    lua_pushinteger(L, (lua_Integer)t->sink_bytes);
    lua_setfield(L, -2, "sink_bytes");
  }
  return 1;
}

/* After a transfer with a sink: keep the file on a 2xx, drop it otherwise. */
static void settle_sink(transfer_t *t, outcome_t *o) {
  int keep = o->code == CURLE_OK && o->status >= 200 && o->status <= 299;
  if (!t->sink)
    return;
  if (!sink_finish(t, keep) && keep) {
    t->sink_failed = 1;
    o->code = CURLE_WRITE_ERROR;
  }
}

/* ---- session -------------------------------------------------------------- */

static session_t *check_session(lua_State *L) {
  session_t *s = luaL_checkudata(L, 1, SESSION_MT);
  if (s->closed)
    luaL_error(L, "ctct.core: the HTTP session is closed");
  return s;
}

static void session_free(session_t *s) {
  if (s->closed)
    return;
  s->closed = 1;
  if (s->seq) {
    transfer_free(s->seq);
    free(s->seq);
    s->seq = NULL;
  }
  /* Transfers abandoned by an error still hold easy handles: free them here
   * and cut their link, whatever order the garbage collector picks. */
  while (s->owned) {
    transfer_t *t = s->owned;
    s->owned = t->next;
    t->next = NULL;
    if (t->in_multi && s->multi)
      curl_multi_remove_handle(s->multi, t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = NULL;
    t->in_multi = t->owns_easy = 0;
    t->session = NULL;
  }
  if (s->multi)
    curl_multi_cleanup(s->multi);
  if (s->easy)
    curl_easy_cleanup(s->easy);
  if (s->share)
    curl_share_cleanup(s->share);
  s->multi = NULL;
  s->easy = NULL;
  s->share = NULL;
  free(s->cafile);
  free(s->user_agent);
  free(s->proxy);
  s->cafile = s->user_agent = s->proxy = NULL;
}

static int session_close(lua_State *L) {
  session_free(luaL_checkudata(L, 1, SESSION_MT));
  return 0;
}

static int session_tostring(lua_State *L) {
  session_t *s = luaL_checkudata(L, 1, SESSION_MT);
  lua_pushfstring(L, "ctct.core.session (%s)", s->closed ? "closed" : "open");
  return 1;
}

static char *dup_option(lua_State *L, int t, const char *field, const char *dflt) {
  size_t len;
  const char *v = ctct_opt_string(L, t, field, &len);
  char *copy;
  if (!v)
    v = dflt;
  if (!v)
    return NULL;
  len = strlen(v);
  if (len == 0)
    luaL_error(L, "option '%s' must not be empty", field);
  copy = malloc(len + 1);
  if (!copy)
    luaL_error(L, "ctct.core: out of memory");
  memcpy(copy, v, len + 1);
  return copy;
}

/* core.session{ connect_timeout=, timeout=, cafile=, verify=, user_agent=,
 *               proxy=, http2=, max_response_bytes= } */
static int l_session(lua_State *L) {
  session_t *s;
  CURLSHcode sc = CURLSHE_OK;
  CURLcode rc;
  const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

  if (lua_isnoneornil(L, 1))
    lua_newtable(L);
  else
    luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);

  s = lua_newuserdata(L, sizeof *s);
  memset(s, 0, sizeof *s);
  s->closed = 1; /* nothing to free until fully built */
  luaL_setmetatable(L, SESSION_MT);

  s->connect_ms = ctct_opt_ms(L, 1, "connect_timeout", DEFAULT_CONNECT_MS);
  s->timeout_ms = ctct_opt_ms(L, 1, "timeout", DEFAULT_TIMEOUT_MS);
  s->verify = ctct_opt_bool(L, 1, "verify", 1);
  s->http2 = ctct_opt_bool(L, 1, "http2", 1) && (info->features & CURL_VERSION_HTTP2);
  s->max_response = DEFAULT_MAX_RESPONSE;
  lua_getfield(L, 1, "max_response_bytes");
  if (!lua_isnil(L, -1)) {
    lua_Number n = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(n >= 1) || n > 4e9)
      luaL_error(L, "option 'max_response_bytes' must be a number between 1 and 4e9");
    s->max_response = (curl_off_t)n;
  }
  lua_pop(L, 1);

  s->closed = 0; /* from here on session_free releases what exists */
  s->cafile = dup_option(L, 1, "cafile", NULL);
  s->proxy = dup_option(L, 1, "proxy", NULL);
  s->user_agent = dup_option(L, 1, "user_agent", DEFAULT_USER_AGENT);

  s->share = curl_share_init();
  s->easy = curl_easy_init();
  if (!s->share || !s->easy)
    return luaL_error(L, "ctct.core: cannot create a libcurl handle");
  sc = curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  if (sc == CURLSHE_OK)
    sc = curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (sc == CURLSHE_OK)
    sc = curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (sc != CURLSHE_OK)
    return luaL_error(L, "ctct.core: cannot set up the libcurl share: %s",
                      curl_share_strerror(sc));
  rc = apply_session(s, s->easy);
  if (rc != CURLE_OK)
    return luaL_error(L, "ctct.core: cannot configure libcurl: %s", curl_easy_strerror(rc));
  return 1;
}

/* session:request{ method=, url=, headers=, body=, timeout=, connect_timeout= }
 * -> { status, headers, body, http_version, new_connections } | nil, err */
static int l_request(lua_State *L) {
  session_t *s = check_session(L);
  transfer_t *t;
  request_t q;
  outcome_t o;
  CURLcode rc;
  int pushed;

  lua_settop(L, 2);
  if (!s->seq && !(s->seq = calloc(1, sizeof *s->seq)))
    return luaL_error(L, "ctct.core: out of memory");
  t = s->seq;
  transfer_reuse(t, s);
  read_request(L, 2, s, t, &q);

  t->easy = s->easy;
  rc = apply_request(t, &q);
  if (rc != CURLE_OK) {
    forget_transfer(s->easy);
    t->easy = NULL;
    return luaL_error(L, "ctct.core: cannot configure the request: %s", curl_easy_strerror(rc));
  }
  rc = curl_easy_perform(s->easy);
  collect(t, rc, &o);
  forget_transfer(s->easy);
  t->easy = NULL;
  settle_sink(t, &o);
  pushed = push_outcome(L, t, &o);
  transfer_done(t);
  return pushed;
}

/* Start request i of the list at index reqs: a transfer with its own handle,
 * anchored in the table at index anchors so the GC keeps it while running. */
static void start_transfer(lua_State *L, session_t *s, int reqs, int anchors, int i) {
  transfer_t *t;
  request_t q;
  CURLcode rc;
  CURLMcode mc;

  lua_rawgeti(L, reqs, i);
  t = transfer_new(L, s);
  read_request(L, -2, s, t, &q);
  t->index = i;
  t->easy = curl_easy_init();
  if (!t->easy)
    luaL_error(L, "ctct.core: cannot create a libcurl handle");
  t->owns_easy = 1;
  t->next = s->owned;
  s->owned = t;
  rc = apply_session(s, t->easy);
  if (rc == CURLE_OK)
    rc = apply_request(t, &q);
  if (rc != CURLE_OK)
    luaL_error(L, "ctct.core: cannot configure request %d: %s", i, curl_easy_strerror(rc));
  mc = curl_multi_add_handle(s->multi, t->easy);
  if (mc != CURLM_OK)
    luaL_error(L, "ctct.core: cannot start request %d: %s", i, curl_multi_strerror(mc));
  t->in_multi = 1;
  lua_pushlightuserdata(L, t);
  lua_insert(L, -2);
  lua_rawset(L, anchors);
  lua_pop(L, 1); /* the request table */
}

/* Move every finished transfer's outcome into results; returns how many. */
static int harvest(lua_State *L, session_t *s, int results, int anchors) {
  CURLMsg *msg;
  int left, done = 0;
  while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
    transfer_t *t;
    char *priv = NULL;
    outcome_t o;
    if (msg->msg != CURLMSG_DONE)
      continue;
    if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv)
      luaL_error(L, "ctct.core: lost track of a transfer");
    t = (transfer_t *)(void *)priv;
    collect(t, msg->data.result, &o);
    transfer_release_easy(t);
    settle_sink(t, &o);
    if (push_outcome(L, t, &o) == 2) { /* nil, err -> { error = err } */
      lua_createtable(L, 0, 1);
      lua_insert(L, -2);
      lua_setfield(L, -2, "error");
      lua_remove(L, -2);
    }
    lua_rawseti(L, results, t->index);
    transfer_free(t);
    lua_pushlightuserdata(L, t);
    lua_pushnil(L);
    lua_rawset(L, anchors);
    done++;
  }
  return done;
}

/* session:request_many({ req, req, ... }, { concurrency = 8 })
 * -> { res | { error = err }, ... } in the order of the requests. Every
 * request is checked before the first one is sent. */
static int l_request_many(lua_State *L) {
  session_t *s = check_session(L);
  int n, i, started = 0, active = 0, concurrency = 8;
  int reqs = 2, results, anchors;
  CURLMcode mc;

  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_getfield(L, 3, "concurrency");
    if (!lua_isnil(L, -1)) {
      lua_Number c = lua_tonumber(L, -1);
      if (lua_type(L, -1) != LUA_TNUMBER || !(c >= 1 && c <= MAX_CONCURRENCY))
        luaL_error(L, "option 'concurrency' must be a number from 1 to %d", MAX_CONCURRENCY);
      concurrency = (int)c;
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  n = (int)lua_rawlen(L, reqs);
  for (i = 1; i <= n; i++) {
    request_t q;
    lua_rawgeti(L, reqs, i);
    read_request(L, -1, s, NULL, &q);
    lua_pop(L, 1);
  }

  if (!s->multi) {
    s->multi = curl_multi_init();
    if (!s->multi)
      return luaL_error(L, "ctct.core: cannot create a libcurl multi handle");
    mc = curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (mc != CURLM_OK)
      return luaL_error(L, "ctct.core: curl_multi_setopt: %s", curl_multi_strerror(mc));
  }
  mc = curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
  if (mc != CURLM_OK)
    return luaL_error(L, "ctct.core: curl_multi_setopt: %s", curl_multi_strerror(mc));

  lua_createtable(L, n, 0);
  results = lua_gettop(L);
  lua_createtable(L, 0, concurrency);
  anchors = lua_gettop(L);

  for (;;) {
    int running = 0;
    while (started < n && active < concurrency) {
      start_transfer(L, s, reqs, anchors, ++started);
      active++;
    }
    if (active == 0)
      break;
    mc = curl_multi_perform(s->multi, &running);
    if (mc != CURLM_OK)
      return luaL_error(L, "ctct.core: curl_multi_perform: %s", curl_multi_strerror(mc));
    i = harvest(L, s, results, anchors);
    active -= i;
    if (i == 0 && running > 0) {
      mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
      if (mc != CURLM_OK)
        return luaL_error(L, "ctct.core: curl_multi_poll: %s", curl_multi_strerror(mc));
    }
  }
  lua_pushvalue(L, results);
  return 1;
}

void ctct_open_http(lua_State *L) {
  static const luaL_Reg session_methods[] = {
    {"request", l_request},
    {"request_many", l_request_many},
    {"close", session_close},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"session", l_session},
    {NULL, NULL},
  };

  luaL_newmetatable(L, SESSION_MT);
  lua_pushcfunction(L, session_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, session_close);
  lua_setfield(L, -2, "__close"); /* Lua 5.4: local s <close> = core.session() */
  lua_pushcfunction(L, session_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, session_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  luaL_newmetatable(L, TRANSFER_MT);
  lua_pushcfunction(L, transfer_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_setfuncs(L, funcs, 0);
}
