/* oauth.c - the OAuth 2.0 protocol of ctct.core, free of I/O: it builds the
 * requests (authorize URLs, token, device authorization and revocation
 * requests as { method, url, headers, body } tables) and interprets the
 * answers (token responses, the RFC 8628 device polling state machine). A
 * transport carries the requests, so the same code runs over libcurl and over
 * nginx cosockets.
 *
 *   core.oauth_pkce([verifier])              -> verifier, challenge      (RFC 7636, S256)
 *   core.oauth_state([bytes])                -> random URL-safe string   (state, nonce)
 *   core.oauth_authorize_url(endpoint, params)             -> url
 *   core.oauth_form_request(endpoint, params [, client])   -> request   (token, device, revoke)
 *   core.oauth_client_credentials_request(endpoint, id, secret [, scope]) -> request (partners)
 *   core.oauth_token(status, decoded, now)   -> token | nil, err
 *   core.oauth_device(decoded, now)          -> device | nil, err
 *     device:info(), device:wait_time(now), device:poll_request(endpoint, client),
 *     device:handle(status, decoded, now) -> "token", token | "pending" | "slow_down" | nil, err
 *
 * `client` is { id = ..., secret = ... }: with a secret, HTTP Basic as RFC 6749
 * 2.3.1 says (each part form-urlencoded, then base64); without, client_id in the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "crypto.h"
#include "ctct.h"

#define DEVICE_MT "ctct.core.device"
#define DEFAULT_INTERVAL 5 /* RFC 8628 3.2: when the server gives none */
#define SLOW_DOWN_STEP 5   /* RFC 8628 3.5 */
#define MAX_FIELD 8192

/* ---- encoding ------------------------------------------------------------------ */

static int is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

/* Percent-encode everything but RFC 3986's unreserved characters. */
static void add_escaped(luaL_Buffer *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c)) {
      luaL_addchar(b, (char)c);
    } else {
      luaL_addchar(b, '%');
      luaL_addchar(b, hex[c >> 4]);
      luaL_addchar(b, hex[c & 15]);
    }
  }
}

static int key_rank(const char *k) {
  /* The usual order first, for readable URLs and logs; then the rest sorted. */
  static const char *first[] = {"grant_type", "response_type", "client_id", "redirect_uri", "scope", "state",
                                NULL};
  int i;
  for (i = 0; first[i]; i++)
    if (strcmp(k, first[i]) == 0)
      return i;
  return 100;
}

static int compare_keys(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  int rx = key_rank(x), ry = key_rank(y);
  if (rx != ry)
    return rx - ry;
  return strcmp(x, y);
}

/* Append "k=v&k=v" for the string/number fields of the table at index t to b.
 * Raises for values of other types, naming the field. */
static void add_form(lua_State *L, luaL_Buffer *b, int t, int first) {
  const char *keys[64];
  int n = 0, i;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int vt = lua_type(L, -1);
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "OAuth parameter names must be strings");
    if (vt != LUA_TSTRING && vt != LUA_TNUMBER)
      luaL_error(L, "OAuth parameter '%s' must be a string", lua_tostring(L, -2));
    if (n == 64)
      luaL_error(L, "too many OAuth parameters");
    keys[n++] = lua_tostring(L, -2); /* alive: the key is in the table */
    lua_pop(L, 1);
  }
  qsort(keys, (size_t)n, sizeof keys[0], compare_keys);
  for (i = 0; i < n; i++) {
    char number[64];
    size_t vl;
    const char *v;
    /* A buffer in use may hold stack slots: read each value into C first and
     * leave the stack as the buffer left it. Strings stay alive in the table. */
    lua_getfield(L, t, keys[i]);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number x = lua_tonumber(L, -1);
      if (x == (lua_Number)(long long)x)
        snprintf(number, sizeof number, "%lld", (long long)x);
      else
        snprintf(number, sizeof number, "%.17g", (double)x);
      v = number;
      vl = strlen(number);
    } else {
      v = lua_tolstring(L, -1, &vl);
    }
    lua_pop(L, 1);
    if (vl > MAX_FIELD)
      luaL_error(L, "OAuth parameter '%s' is too long", keys[i]);
    if (!first || i > 0)
      luaL_addchar(b, '&');
    add_escaped(b, keys[i], strlen(keys[i]));
    luaL_addchar(b, '=');
    add_escaped(b, v, vl);
  }
}

static const char *check_endpoint(lua_State *L, int i) {
  size_t n, k;
  const char *url = luaL_checklstring(L, i, &n);
  if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
    luaL_argerror(L, i, "endpoint must be an absolute http(s) URL");
  for (k = 0; k < n; k++)
    if ((unsigned char)url[k] <= 0x20 || url[k] == '#')
      luaL_argerror(L, i, "endpoint must not contain spaces, control characters or '#'");
  return url;
}

/* ---- PKCE and random strings ---------------------------------------------------- */

static int push_random_b64url(lua_State *L, size_t bytes) {
  unsigned char raw[96];
  char out[130], err[300];
  size_t len;
  if (!ctct_random(raw, bytes, err, sizeof err))
    return luaL_error(L, "%s", err);
  len = ctct_b64_encode(raw, bytes, out, 1);
  lua_pushlstring(L, out, len);
  return 1;
}

/* core.oauth_pkce([verifier]) -> verifier, challenge | nil, reason */
static int l_pkce(lua_State *L) {
  size_t n, i, len;
  const char *v;
  unsigned char digest[CTCT_SHA256_LEN];
  char challenge[64], err[300];
  ctct_piece piece;

  if (lua_isnoneornil(L, 1)) {
    push_random_b64url(L, 32); /* 32 bytes -> 43 characters, 256 bits */
  } else {
    v = luaL_checklstring(L, 1, &n);
    if (n < 43 || n > 128) {
      lua_pushnil(L);
      lua_pushliteral(L, "code_verifier must be 43 to 128 characters (RFC 7636 4.1)");
      return 2;
    }
    for (i = 0; i < n; i++)
      if (!is_unreserved((unsigned char)v[i])) {
        lua_pushnil(L);
        lua_pushliteral(L, "code_verifier may only use A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)");
        return 2;
      }
    lua_pushvalue(L, 1);
  }
  piece.p = lua_tolstring(L, -1, &piece.n);
  if (!ctct_sha256(&piece, 1, digest, err, sizeof err))
    return luaL_error(L, "%s", err);
  len = ctct_b64_encode(digest, sizeof digest, challenge, 1);
  lua_pushlstring(L, challenge, len);
  return 2;
}

/* core.oauth_state([bytes = 32]) -> random base64url string */
static int l_state(lua_State *L) {
  lua_Integer bytes = luaL_optinteger(L, 1, 32);
  if (bytes < 16 || bytes > 96)
    return luaL_argerror(L, 1, "between 16 and 96 bytes");
  return push_random_b64url(L, (size_t)bytes);
}

/* ---- requests ------------------------------------------------------------------ */

/* core.oauth_authorize_url(endpoint, params) -> endpoint?params (or &params) */
static int l_authorize_url(lua_State *L) {
  const char *url = check_endpoint(L, 1);
  luaL_Buffer b;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, url);
  luaL_addchar(&b, strchr(url, '?') ? '&' : '?');
  add_form(L, &b, 2, 1);
  luaL_pushresult(&b);
  return 1;
}

/* Authorization: Basic base64(urlencode(id) ":" urlencode(secret)) */
static void push_basic(lua_State *L, const char *id, size_t idl, const char *secret, size_t sl) {
  luaL_Buffer b;
  size_t n, len;
  const char *plain;
  char *out;
  luaL_buffinit(L, &b);
  add_escaped(&b, id, idl);
  luaL_addchar(&b, ':');
  add_escaped(&b, secret, sl);
  luaL_pushresult(&b);
  plain = lua_tolstring(L, -1, &n);
  len = ctct_b64_encoded_len(n, 0);
  out = malloc(len + 7);
  if (!out)
    luaL_error(L, "ctct.core: out of memory");
  memcpy(out, "Basic ", 6);
  ctct_b64_encode((const unsigned char *)plain, n, out + 6, 0);
  lua_pushlstring(L, out, len + 6);
  free(out);
  lua_remove(L, -2);
}

/* Push the request table of a form POST: url and body are stack indexes; HTTP
 * Basic with id and secret when secret is given. */
static void push_form_post(lua_State *L, int url, int body, const char *id, size_t idl, const char *secret,
                           size_t sl) {
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "POST");
  lua_setfield(L, -2, "method");
  lua_pushvalue(L, url);
  lua_setfield(L, -2, "url");
  lua_pushvalue(L, body);
  lua_setfield(L, -2, "body");
  lua_createtable(L, 0, 3);
  lua_pushliteral(L, "application/x-www-form-urlencoded");
  lua_setfield(L, -2, "Content-Type");
  lua_pushliteral(L, "application/json");
  lua_setfield(L, -2, "Accept");
  if (secret) {
    push_basic(L, id, idl, secret, sl);
    lua_setfield(L, -2, "Authorization");
  }
  lua_setfield(L, -2, "headers");
}

/* core.oauth_form_request(endpoint, params [, client]) -> { method = "POST", url,
 * headers, body }: a form POST to a token, device authorization or revocation
 * endpoint, authenticating the client as it can. */
static int l_form_request(lua_State *L) {
  const char *url = check_endpoint(L, 1);
  const char *id = NULL, *secret = NULL;
  size_t idl = 0, sl = 0;
  luaL_Buffer b;
  int has_body;

  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    id = ctct_opt_string(L, 3, "id", &idl);
    secret = ctct_opt_string(L, 3, "secret", &sl);
    if (!id || idl == 0)
      luaL_error(L, "client.id (the API key) is required");
    if (secret && sl == 0)
      secret = NULL;
  }
  lua_settop(L, 3);

  luaL_buffinit(L, &b);
  lua_pushnil(L); /* is the params table empty? */
  has_body = lua_next(L, 2) != 0;
  if (has_body)
    lua_pop(L, 2);
  add_form(L, &b, 2, 1);
  if (id && !secret) { /* a public client names itself in the body */
    if (has_body)
      luaL_addchar(&b, '&');
    luaL_addstring(&b, "client_id=");
    add_escaped(&b, id, idl);
  }
  luaL_pushresult(&b); /* index 4 */

  push_form_post(L, 1, 4, id, idl, secret, sl);
  (void)url;
  return 1;
}

/* core.oauth_client_credentials_request(token_url, client_id, secret [, scope]) -> request:
 * the client credentials grant (RFC 6749 4.4) as Constant Contact's partner token
 * endpoint wants it: POST, HTTP Basic base64(urlencode(id) ":" urlencode(secret)),
 * a form body grant_type=client_credentials&scope=<scope> (default
 * v3api/general.partner; '/' is left as is, as the guide writes it). Raises for a
 * missing id or secret without ever quoting the secret. */
static int l_client_credentials_request(lua_State *L) {
  static const char hex[] = "0123456789ABCDEF";
  size_t idl, sl, scl, i;
  const char *id, *secret, *scope;
  luaL_Buffer b;

  check_endpoint(L, 1);
  id = luaL_checklstring(L, 2, &idl);
  if (lua_type(L, 3) != LUA_TSTRING)
    return luaL_argerror(L, 3, "the client secret must be a string");
  secret = lua_tolstring(L, 3, &sl);
  scope = luaL_optlstring(L, 4, "v3api/general.partner", &scl);
  if (idl == 0 || idl > MAX_FIELD)
    return luaL_argerror(L, 2, "the client id must be a non-empty string");
  if (sl == 0 || sl > MAX_FIELD)
    return luaL_argerror(L, 3, "the client secret must be a non-empty string");
  if (scl == 0 || scl > MAX_FIELD)
    return luaL_argerror(L, 4, "the scope must be a non-empty string");
  for (i = 0; i < scl; i++)
    if ((unsigned char)scope[i] < 0x20 || scope[i] == 0x7f)
      return luaL_argerror(L, 4, "the scope must not contain control characters");
  lua_settop(L, 4);

  luaL_buffinit(L, &b);
  luaL_addstring(&b, "grant_type=client_credentials&scope=");
  for (i = 0; i < scl; i++) {
    unsigned char c = (unsigned char)scope[i];
    if (is_unreserved(c) || c == '/') {
      luaL_addchar(&b, (char)c);
    } else {
      luaL_addchar(&b, '%');
      luaL_addchar(&b, hex[c >> 4]);
      luaL_addchar(&b, hex[c & 15]);
    }
  }
  luaL_pushresult(&b); /* index 5 */

  push_form_post(L, 1, 5, id, idl, secret, sl);
  return 1;
}

/* ---- responses ------------------------------------------------------------------ */

/* Push an auth error table { kind, error_key, message, status }. */
static void push_auth_error(lua_State *L, const char *key, const char *message, lua_Integer status) {
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "auth");
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, key);
  lua_setfield(L, -2, "error_key");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  if (status) {
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
  }
}

/* A string field of the decoded answer at index t, or NULL. */
static const char *answer_string(lua_State *L, int t, const char *name, size_t *len) {
  const char *s = NULL;
  lua_getfield(L, t, name);
  if (lua_type(L, -1) == LUA_TSTRING)
    s = lua_tolstring(L, -1, len);
  lua_pop(L, 1);
  return s;
}

/* A numeric field (a number, or a string of digits as some servers send). */
static int answer_number(lua_State *L, int t, const char *name, double *out) {
  int ok = 0;
  lua_getfield(L, t, name);
  if (lua_type(L, -1) == LUA_TNUMBER || (lua_type(L, -1) == LUA_TSTRING && lua_isnumber(L, -1))) {
    *out = lua_tonumber(L, -1);
    ok = *out >= 0 && *out < 1e9;
  }
  lua_pop(L, 1);
  return ok;
}

/* An OAuth error answer ({ error, error_description }) at t: push nil, err. */
static int oauth_error(lua_State *L, int t, lua_Integer status) {
  const char *code = lua_istable(L, t) ? answer_string(L, t, "error", NULL) : NULL;
  const char *desc = lua_istable(L, t) ? answer_string(L, t, "error_description", NULL) : NULL;
  lua_pushnil(L);
  if (code) {
    push_auth_error(L, code, desc ? desc : code, status);
  } else {
    lua_pushfstring(L, "the authorization server answered HTTP %d without an OAuth error", (int)status);
    push_auth_error(L, "server_error", lua_tostring(L, -1), status);
    lua_remove(L, -2);
  }
  return 2;
}

/* core.oauth_token(status, decoded, now) -> token | nil, err
 * token = { access_token, token_type = "Bearer", expires_at, scope, refresh_token,
 *           id_token, obtained_at } */
static int l_token(lua_State *L) {
  lua_Integer status = luaL_checkinteger(L, 1);
  double now = luaL_checknumber(L, 3), expires_in;
  const char *access, *type;
  size_t alen = 0;
  static const char *copied[] = {"refresh_token", "scope", "id_token", NULL};
  int i;

  lua_settop(L, 3);
  if (status < 200 || status > 299 || !lua_istable(L, 2) || answer_string(L, 2, "error", NULL))
    return oauth_error(L, 2, status);
  access = answer_string(L, 2, "access_token", &alen);
  if (!access || alen == 0) {
    lua_pushnil(L);
    push_auth_error(L, "invalid_token_response", "the token response has no access_token", status);
    return 2;
  }
  type = answer_string(L, 2, "token_type", NULL);
  if (type && strcmp(type, "Bearer") != 0 && strcmp(type, "bearer") != 0) {
    lua_pushnil(L);
    push_auth_error(L, "invalid_token_response", "the token response is not a Bearer token", status);
    return 2;
  }
  lua_createtable(L, 0, 8);
  lua_pushlstring(L, access, alen);
  lua_setfield(L, -2, "access_token");
  lua_pushliteral(L, "Bearer");
  lua_setfield(L, -2, "token_type");
  lua_pushnumber(L, now);
  lua_setfield(L, -2, "obtained_at");
  if (answer_number(L, 2, "expires_in", &expires_in)) {
    lua_pushnumber(L, now + expires_in);
    lua_setfield(L, -2, "expires_at");
  }
  for (i = 0; copied[i]; i++) {
    size_t n;
    const char *v = answer_string(L, 2, copied[i], &n);
    if (v && n > 0) {
      lua_pushlstring(L, v, n);
      lua_setfield(L, -2, copied[i]);
    }
  }
  return 1;
}

/* ---- the device authorization grant (RFC 8628) ------------------------------------- */

typedef struct {
  char *device_code, *user_code, *verification_uri, *verification_uri_complete;
  double expires_at, interval, last_poll;
} device_t;

static void device_free(device_t *d) {
  free(d->device_code);
  free(d->user_code);
  free(d->verification_uri);
  free(d->verification_uri_complete);
  d->device_code = d->user_code = d->verification_uri = d->verification_uri_complete = NULL;
}

static int device_gc(lua_State *L) {
  device_free(luaL_checkudata(L, 1, DEVICE_MT));
  return 0;
}

static char *dup_answer(lua_State *L, int t, const char *name) {
  size_t n;
  const char *s = answer_string(L, t, name, &n);
  char *copy;
  if (!s || n == 0 || n > MAX_FIELD)
    return NULL;
  copy = malloc(n + 1);
  if (!copy)
    luaL_error(L, "ctct.core: out of memory");
  memcpy(copy, s, n + 1);
  return copy;
}

/* core.oauth_device(decoded, now) -> device | nil, err: the device authorization
 * response, kept for polling. */
static int l_device(lua_State *L) {
  double now = luaL_checknumber(L, 2), expires_in, interval;
  device_t *d;
  lua_settop(L, 2);
  if (!lua_istable(L, 1)) {
    lua_pushnil(L);
    push_auth_error(L, "invalid_device_response", "the device authorization response is not a JSON object", 0);
    return 2;
  }
  if (answer_string(L, 1, "error", NULL))
    return oauth_error(L, 1, 400);
  d = lua_newuserdata(L, sizeof *d); /* index 3 */
  memset(d, 0, sizeof *d);
  luaL_setmetatable(L, DEVICE_MT);
  d->device_code = dup_answer(L, 1, "device_code");
  d->user_code = dup_answer(L, 1, "user_code");
  d->verification_uri = dup_answer(L, 1, "verification_uri");
  d->verification_uri_complete = dup_answer(L, 1, "verification_uri_complete");
  if (!d->device_code || !d->user_code || !d->verification_uri || !answer_number(L, 1, "expires_in", &expires_in)) {
    lua_pushnil(L);
    push_auth_error(L, "invalid_device_response",
                    "the device authorization response lacks device_code, user_code, verification_uri or "
                    "expires_in", 0);
    return 2;
  }
  if (!answer_number(L, 1, "interval", &interval) || interval < 1)
    interval = DEFAULT_INTERVAL;
  d->expires_at = now + expires_in;
  d->interval = interval;
  d->last_poll = now; /* the first poll waits one interval too */
  lua_settop(L, 3);
  return 1;
}

static device_t *check_device(lua_State *L) {
  device_t *d = luaL_checkudata(L, 1, DEVICE_MT);
  if (!d->device_code)
    luaL_error(L, "the device authorization is no longer usable");
  return d;
}

/* device:info() -> { user_code, verification_uri, verification_uri_complete,
 * expires_at, interval } (the device_code stays inside) */
static int device_info(lua_State *L) {
  device_t *d = check_device(L);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, d->user_code);
  lua_setfield(L, -2, "user_code");
  lua_pushstring(L, d->verification_uri);
  lua_setfield(L, -2, "verification_uri");
  if (d->verification_uri_complete) {
    lua_pushstring(L, d->verification_uri_complete);
    lua_setfield(L, -2, "verification_uri_complete");
  }
  lua_pushnumber(L, d->expires_at);
  lua_setfield(L, -2, "expires_at");
  lua_pushnumber(L, d->interval);
  lua_setfield(L, -2, "interval");
  return 1;
}

/* device:wait_time(now) -> seconds before the next poll | nil, err (expired).
 * When the next allowed poll falls after the code's expiry, waiting for it is
 * pointless: the code is reported expired at once. */
static int device_wait_time(lua_State *L) {
  device_t *d = check_device(L);
  double now = luaL_checknumber(L, 2), due = d->last_poll + d->interval;
  if (now >= d->expires_at || due >= d->expires_at) {
    lua_pushnil(L);
    push_auth_error(L, "expired_token", "the device code expired before the user approved it", 0);
    return 2;
  }
  lua_pushnumber(L, due > now ? due - now : 0);
  return 1;
}

/* device:poll_request(token_endpoint [, client]) -> request */
static int device_poll_request(lua_State *L) {
  device_t *d = check_device(L);
  lua_settop(L, 3);
  lua_pushcfunction(L, l_form_request);
  lua_pushvalue(L, 2);
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "urn:ietf:params:oauth:grant-type:device_code");
  lua_setfield(L, -2, "grant_type");
  lua_pushstring(L, d->device_code);
  lua_setfield(L, -2, "device_code");
  lua_pushvalue(L, 3);
  lua_call(L, 3, 1);
  return 1;
}

/* device:handle(status, decoded, now) -> "token", token | "pending" | "slow_down"
 * | nil, err (access_denied, expired_token, anything else: final) */
static int device_handle(lua_State *L) {
  device_t *d = check_device(L);
  lua_Integer status = luaL_checkinteger(L, 2);
  double now = luaL_checknumber(L, 4);
  const char *code;
  lua_settop(L, 4);
  d->last_poll = now;
  if (status >= 200 && status <= 299) {
    lua_pushcfunction(L, l_token);
    lua_pushinteger(L, status);
    lua_pushvalue(L, 3);
    lua_pushnumber(L, now);
    lua_call(L, 3, 2);
    if (lua_isnil(L, -2))
      return 2;
    lua_pop(L, 1);
    lua_pushliteral(L, "token");
    lua_insert(L, -2);
    device_free(d); /* a device code is single use */
    return 2;
  }
  code = lua_istable(L, 3) ? answer_string(L, 3, "error", NULL) : NULL;
  if (code && strcmp(code, "authorization_pending") == 0) {
    lua_pushliteral(L, "pending");
    return 1;
  }
  if (code && strcmp(code, "slow_down") == 0) {
    d->interval += SLOW_DOWN_STEP;
    lua_pushliteral(L, "slow_down");
    return 1;
  }
  return oauth_error(L, 3, status);
}

void ctct_open_oauth(lua_State *L) {
  static const luaL_Reg device_methods[] = {
    {"info", device_info},
    {"wait_time", device_wait_time},
    {"poll_request", device_poll_request},
    {"handle", device_handle},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"oauth_pkce", l_pkce},
    {"oauth_state", l_state},
    {"oauth_authorize_url", l_authorize_url},
    {"oauth_form_request", l_form_request},
    {"oauth_client_credentials_request", l_client_credentials_request},
    {"oauth_token", l_token},
    {"oauth_device", l_device},
    {NULL, NULL},
  };
  luaL_newmetatable(L, DEVICE_MT);
  lua_pushcfunction(L, device_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, device_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
