/* libcurl_loop.c - the baseline for `make bench`: N sequential GETs over one
 * kept-alive libcurl easy handle, the body collected in memory, optionally
 * decoded with lua-cjson (through an embedded Lua state: Lua 5.4, or LuaJIT
 * when built against it). Prints the mean nanoseconds per request of the
 * timed loop, after a warm-up.
 *
 *   libcurl_loop URL N [decode] [bare]
 *
 * By default it sends what ctct sends: the bearer token, Accept, a User-Agent
 * and Accept-Encoding (libcurl's own decoders, as ctct asks for them). `bare`
 * leaves out the last two: plain libcurl with the fewest options. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "version.h" /* the User-Agent ctct sends */

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  buf_t *b = ud;
  size_t len = size * n;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 65536;
    char *d;
    while (cap < b->len + len)
      cap *= 2;
    d = realloc(b->data, cap);
    if (!d)
      return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, len);
  b->len += len;
  return len;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int fetch(CURL *h, buf_t *b) {
  long status = 0;
  CURLcode rc;
  b->len = 0;
  rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    fprintf(stderr, "libcurl_loop: %s\n", curl_easy_strerror(rc));
    return 0;
  }
  if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
    fprintf(stderr, "libcurl_loop: HTTP %ld\n", status);
    return 0;
  }
  return 1;
}

static int decode(lua_State *L, const buf_t *b) {
  lua_pushvalue(L, 1); /* cjson.decode */
  lua_pushlstring(L, b->data, b->len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    fprintf(stderr, "libcurl_loop: decode failed\n");
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  struct curl_slist *headers = NULL;
  buf_t body = {NULL, 0, 0};
  lua_State *L = NULL;
  CURL *h;
  long i, n;
  double t0, t1;
  int ok = 1, with_decode = 0, bare = 0, k;

  if (argc < 3) {
    fprintf(stderr, "usage: %s URL N [decode] [bare]\n", argv[0]);
    return 2;
  }
  n = atol(argv[2]);
  for (k = 3; k < argc; k++) {
    if (strcmp(argv[k], "decode") == 0)
      with_decode = 1;
    else if (strcmp(argv[k], "bare") == 0)
      bare = 1;
  }
  if (n < 1 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 2;
  if (with_decode) {
    L = luaL_newstate();
    if (!L)
      return 1;
    luaL_openlibs(L);
    if (luaL_dostring(L, "return require('cjson').new().decode") != LUA_OK) {
      fprintf(stderr, "libcurl_loop: %s\n", lua_tostring(L, -1));
      return 1;
    }
  }
  h = curl_easy_init();
  /* The same request ctct sends: bearer token, Accept (and, unless bare, its
   * User-Agent and Accept-Encoding), one kept-alive connection. */
  headers = curl_slist_append(headers, "Authorization: Bearer bench-token");
  if (headers)
    headers = curl_slist_append(headers, "Accept: application/json");
  if (!h || !headers)
    return 1;
  if (curl_easy_setopt(h, CURLOPT_URL, argv[1]) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &body) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK)
    return 1;
  if (!bare && (curl_easy_setopt(h, CURLOPT_USERAGENT, "ctct-lua/" CTCT_VERSION) != CURLE_OK ||
                curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK))
    return 1;

  for (i = 0; ok && i < 3; i++) /* warm-up: connect */
    ok = fetch(h, &body) && (!L || decode(L, &body));
  t0 = now_ns();
  for (i = 0; ok && i < n; i++)
    ok = fetch(h, &body) && (!L || decode(L, &body));
  t1 = now_ns();
  if (ok)
    printf("%.0f\n", (t1 - t0) / (double)n);

  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  free(body.data);
  if (L)
    lua_close(L);
  curl_global_cleanup();
  return ok ? 0 : 1;
}
