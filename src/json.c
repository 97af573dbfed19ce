/* json.c - exact JSON for Lua: simdjson parses (json_simd.cpp), this file turns
 * its tape into Lua values and encodes Lua values back, so that what the API
 * sent is what the user gets and sends back:
 *
 *   core.json_decode(text [, { max_depth = 200, max_bytes = 64 MiB, ordered = false }])
 *       -> value | nil, message, byte_offset
 *   core.json_encode(value [, { root = "value", max_depth = 200 }])
 *       -> text | nil, message                  (the message names the path)
 *   core.json_array_mt      the metatable of arrays, decoded or made by ctct.array
 *   core.json_null          JSON null (a NULL light userdata, equal to cjson.null)
 *
 * Decoding: every array carries json_array_mt (so `[]` goes back as `[]`);
 * integers are Lua integers on 5.4 (int64; larger ones are floats) and numbers
 * on LuaJIT; duplicate keys: the last one wins. With `ordered`, each object gets
 * a metatable { __name = "ctct.object", key1, key2, ... } in document order,
 * which the encoder follows (the CLI prints what the API sent).
 *
 * Encoding: arrays are tables with the mark, or with keys exactly 1..n; other
 * tables are objects with string keys; empty unmarked tables are `{}`. Floats
 * are written in the shortest form that reads back the same (on 5.4 an
 * integral float keeps its ".0": the value stays a float); NaN, infinities,
 * cycles, sparse arrays, mixed keys, invalid UTF-8 and functions are refused
 * with the path of the offending value (body.street_addresses[2].city). */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctct.h"
#include "json_simd.h"

#define PARSER_MT "ctct.core.json_parser"
#define BUFFER_MT "ctct.core.json_buffer"
#define DEFAULT_DEPTH 200
#define MAX_DEPTH_LIMIT 10000
#define DEFAULT_MAX_BYTES ((size_t)64 << 20)
#define KEEP_BYTES ((size_t)8 << 20) /* parser buffers kept between decodes */
#define VALUE_MASK 0x00FFFFFFFFFFFFFFull
#define COUNT_MASK 0xFFFFFFu

/* Upvalues of decode and encode. */
#define UV_ARRAY_MT 1
#define UV_STATE 2

typedef struct {
  ctct_json_parser *parser;
} decoder_state;

/* ------------------------------------------------------------------ decode */

typedef struct {
  lua_State *L;
  const uint64_t *tape;
  const uint8_t *strings;
  int ordered;
  size_t depth, max_depth; /* containers open, and the bound */
  int too_deep;
} walker;

static void push_string(walker *w, uint64_t word) {
  const uint8_t *s = w->strings + (word & VALUE_MASK);
  uint32_t len;
  memcpy(&len, s, sizeof len);
  lua_pushlstring(w->L, (const char *)s + sizeof len, len);
}

static size_t push_value(walker *w, size_t i);

/* simdjson counts a scalar inside the innermost container as one more level;
 * ctct's limit counts arrays and objects only, so the walker applies it. */
static int too_deep(walker *w) {
  if (w->depth < w->max_depth) return 0;
  w->too_deep = 1;
  lua_pushnil(w->L);
  return 1;
}

static size_t push_array(walker *w, size_t i) {
  lua_State *L = w->L;
  uint64_t word = w->tape[i];
  size_t end = (size_t)(uint32_t)word - 1; /* index of the closing ']' */
  int n = 0;
  if (too_deep(w)) return end + 1;
  w->depth++;
  luaL_checkstack(L, 3, "JSON nesting");
  lua_createtable(L, (int)((word >> 32) & COUNT_MASK), 0);
  for (i = i + 1; i < end;) {
    i = push_value(w, i);
    lua_rawseti(L, -2, ++n);
  }
  lua_pushvalue(L, lua_upvalueindex(UV_ARRAY_MT));
  lua_setmetatable(L, -2);
  w->depth--;
  return end + 1;
}

static size_t push_object(walker *w, size_t i) {
  lua_State *L = w->L;
  uint64_t word = w->tape[i];
  size_t end = (size_t)(uint32_t)word - 1; /* index of the closing '}' */
  int count = (int)((word >> 32) & COUNT_MASK), n = 0;
  if (too_deep(w)) return end + 1;
  w->depth++;
  luaL_checkstack(L, 5, "JSON nesting");
  lua_createtable(L, 0, count);
  if (w->ordered) {
    lua_createtable(L, count, 1);
    lua_pushliteral(L, "ctct.object");
    lua_setfield(L, -2, "__name");
  }
  for (i = i + 1; i < end;) {
    push_string(w, w->tape[i]);
    if (w->ordered) {
      /* a repeated key keeps its first place (its value: the last one) */
      lua_pushvalue(L, -1);
      lua_rawget(L, -4);
      int seen = !lua_isnil(L, -1);
      lua_pop(L, 1);
      if (!seen) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, ++n);
      }
    }
    i = push_value(w, i + 1);
    lua_rawset(L, w->ordered ? -4 : -3);
  }
  if (w->ordered)
    lua_setmetatable(L, -2);
  w->depth--;
  return end + 1;
}

static size_t push_value(walker *w, size_t i) {
  lua_State *L = w->L;
  uint64_t word = w->tape[i];
  switch ((char)(word >> 56)) {
  case '"':
    push_string(w, word);
    return i + 1;
  case 'l': {
    int64_t v;
    memcpy(&v, &w->tape[i + 1], sizeof v);
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v);
#endif
    return i + 2;
  }
  case 'u': { /* only above INT64_MAX: a float on every runtime */
    uint64_t v;
    memcpy(&v, &w->tape[i + 1], sizeof v);
    lua_pushnumber(L, (lua_Number)v);
    return i + 2;
  }
  case 'd': {
    double v;
    memcpy(&v, &w->tape[i + 1], sizeof v);
    lua_pushnumber(L, (lua_Number)v);
    return i + 2;
  }
  case 't':
    lua_pushboolean(L, 1);
    return i + 1;
  case 'f':
    lua_pushboolean(L, 0);
    return i + 1;
  case 'n':
    lua_pushlightuserdata(L, NULL);
    return i + 1;
  case '[':
    return push_array(w, i);
  case '{':
    return push_object(w, i);
  default: /* not produced by a successful parse */
    luaL_error(L, "ctct.core: unexpected JSON tape word");
    return i + 1;
  }
}

/* The first byte of an invalid UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF); len when there is none. Only used to say
 * where simdjson's validator (which answers yes or no) found a problem. */
static size_t utf8_error_at(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else return i;
    if (i + need >= len) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k <= need; k++)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += need + 1;
  }
  return len;
}

/* Offset of the first opener nested deeper than limit; else len when an
 * array, object or string is left open at the end; else (size_t)-1. */
static size_t structure_error_at(const unsigned char *s, size_t len, size_t limit) {
  int in_string = 0;
  size_t depth = 0, i;
  for (i = 0; i < len; i++) {
    if (in_string) {
      if (s[i] == '\\') i++;
      else if (s[i] == '"') in_string = 0;
    } else if (s[i] == '"') {
      in_string = 1;
    } else if (s[i] == '[' || s[i] == '{') {
      if (++depth > limit) return i;
    } else if ((s[i] == ']' || s[i] == '}') && depth > 0) {
      depth--;
    }
  }
  return depth > 0 || in_string ? len : (size_t)-1;
}

/* The first raw control character inside a string, for the same reason. */
static size_t control_char_at(const unsigned char *s, size_t len) {
  int in_string = 0;
  for (size_t i = 0; i < len; i++) {
    if (in_string) {
      if (s[i] == '\\') i++;
      else if (s[i] == '"') in_string = 0;
      else if (s[i] < 0x20) return i;
    } else if (s[i] == '"') {
      in_string = 1;
    }
  }
  return len;
}

/* simdjson refuses integers beyond 64 bits; ctct reads them as floats. A copy of
 * the text with "e0" after each such literal (outside strings) says exactly
 * that to the parser. NULL when there is none (or no memory: the caller then
 * reports the original error). */
static char *widen_big_integers(const char *s, size_t len, size_t *out_len) {
  size_t i, n = 0, extra = 0;
  char *out = NULL;
  int pass;
  for (pass = 0; pass < 2; pass++) {
    int in_string = 0;
    for (i = 0; i < len; i++) {
      size_t j = i, digits;
      if (in_string) {
        if (s[i] == '\\' && i + 1 < len) {
          if (out) out[n++] = s[i];
          i++;
        } else if (s[i] == '"') {
          in_string = 0;
        }
        if (out) out[n++] = s[i];
        continue;
      }
      if (s[i] == '"') in_string = 1;
      if (s[i] == '-') j++;
      while (j < len && s[j] >= '0' && s[j] <= '9') j++;
      digits = j - i - (s[i] == '-' ? 1 : 0);
      if (digits >= 20 && (i == 0 || !(s[i - 1] >= '0' && s[i - 1] <= '9')) &&
          (j >= len || (s[j] != '.' && s[j] != 'e' && s[j] != 'E'))) {
        if (out) {
          memcpy(out + n, s + i, j - i);
          n += j - i;
          out[n++] = 'e';
          out[n++] = '0';
        }
        extra += 2;
        i = j - 1;
        continue;
      }
      if (out) out[n++] = s[i];
    }
    if (pass == 0 && (extra == 0 || !(out = (char *)malloc(len + extra)))) return NULL;
  }
  *out_len = n;
  return out;
}

static const char *reason_of(int status) {
  switch (status) {
  case CTCT_JSON_BAD_LITERAL: return "invalid literal (true, false or null expected)";
  case CTCT_JSON_BAD_NUMBER: return "invalid number (NaN, Infinity and numbers beyond a double are not JSON)";
  case CTCT_JSON_BAD_STRING: return "invalid string escape";
  case CTCT_JSON_UNCLOSED_STRING: return "unclosed string";
  case CTCT_JSON_CONTROL_CHAR: return "unescaped control character in a string";
  case CTCT_JSON_BAD_UTF8: return "invalid UTF-8";
  case CTCT_JSON_TOO_DEEP: return "nested too deeply";
  case CTCT_JSON_EMPTY: return "empty document";
  case CTCT_JSON_NO_MEMORY: return "out of memory";
  default: return "unexpected character or structure";
  }
}

static int decode_error(lua_State *L, int status, const char *buf, size_t len, size_t depth) {
  size_t at;
  char msg[160];
  const unsigned char *u = (const unsigned char *)buf;
  if (status == CTCT_JSON_BAD_UTF8) at = utf8_error_at(u, len);
  else if (status == CTCT_JSON_CONTROL_CHAR) at = control_char_at(u, len);
  else if (status == CTCT_JSON_UNCLOSED_STRING || status == CTCT_JSON_EMPTY) at = len;
  else if (status == CTCT_JSON_NO_MEMORY) at = 0;
  else if (status == CTCT_JSON_TOO_DEEP) at = structure_error_at(u, len, depth);
  else {
    at = ctct_json_error_offset(buf, len, depth);
    if (at == 0 || at == (size_t)-1) {
      size_t open = structure_error_at(u, len, (size_t)-1);
      if (open != (size_t)-1 || at == (size_t)-1) at = open != (size_t)-1 ? open : len;
    }
  }
  if (at > len) at = len;
  lua_pushnil(L);
  if (status == CTCT_JSON_TOO_DEEP)
    snprintf(msg, sizeof msg, "invalid JSON at byte %zu: nested deeper than %zu levels", at, depth);
  else
    snprintf(msg, sizeof msg, "invalid JSON at byte %zu: %s", at, reason_of(status));
  lua_pushstring(L, msg);
  lua_pushinteger(L, (lua_Integer)at);
  return 3;
}

static size_t opt_size(lua_State *L, int t, const char *field, size_t dflt, size_t max) {
  lua_Number v;
  size_t out = dflt;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "option '%s' must be a positive integer, got %s", field, luaL_typename(L, -1));
    v = lua_tonumber(L, -1);
    if (!(v >= 1) || v > (lua_Number)max || v != floor(v)) {
      char limit[32];
      snprintf(limit, sizeof limit, "%zu", max);
      luaL_error(L, "option '%s' must be an integer from 1 to %s", field, limit);
    }
    out = (size_t)v;
  }
  lua_pop(L, 1);
  return out;
}

static int l_json_decode(lua_State *L) {
  size_t len, depth = DEFAULT_DEPTH, max_bytes = DEFAULT_MAX_BYTES;
  const char *text = luaL_checklstring(L, 1, &len);
  decoder_state *st = (decoder_state *)lua_touserdata(L, lua_upvalueindex(UV_STATE));
  const uint64_t *tape;
  const uint8_t *strings;
  walker w;
  int status;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    depth = opt_size(L, 2, "max_depth", DEFAULT_DEPTH, MAX_DEPTH_LIMIT);
    max_bytes = opt_size(L, 2, "max_bytes", DEFAULT_MAX_BYTES, (size_t)1 << 40);
    w.ordered = ctct_opt_bool(L, 2, "ordered", 0);
  } else {
    w.ordered = 0;
  }
  if (len > max_bytes) {
    char msg[120];
    snprintf(msg, sizeof msg, "JSON body of %zu bytes is over the limit of %zu bytes", len, max_bytes);
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushinteger(L, (lua_Integer)max_bytes);
    return 3;
  }
  if (!st->parser && !(st->parser = ctct_json_parser_new()))
    return luaL_error(L, "ctct.core: out of memory for the JSON parser");
  status = ctct_json_parse(st->parser, text, len, depth + 1, &tape, &strings);
  if (status == CTCT_JSON_BAD_NUMBER) {
    size_t wide_len;
    char *wide = widen_big_integers(text, len, &wide_len);
    if (wide) {
      int again = ctct_json_parse(st->parser, wide, wide_len, depth + 1, &tape, &strings);
      free(wide); /* the parser works on its own padded copy */
      /* a depth or syntax error found past the widened number is the answer */
      if (again != CTCT_JSON_BAD_NUMBER) status = again;
    }
  }
  if (status != CTCT_JSON_OK) {
    ctct_json_parser_shrink(st->parser, KEEP_BYTES);
    return decode_error(L, status, text, len, depth);
  }
  w.L = L;
  w.tape = tape;
  w.strings = strings;
  /* tape[0] is the root word; the document's value starts at 1. */
  w.depth = 0;
  w.max_depth = depth;
  w.too_deep = 0;
  push_value(&w, 1);
  if (w.too_deep) {
    lua_pop(L, 1);
    return decode_error(L, CTCT_JSON_TOO_DEEP, text, len, depth);
  }
  if (len > KEEP_BYTES)
    ctct_json_parser_shrink(st->parser, KEEP_BYTES);
  return 1;
}

static int l_parser_gc(lua_State *L) {
  decoder_state *st = (decoder_state *)luaL_checkudata(L, 1, PARSER_MT);
  ctct_json_parser_free(st->parser);
  st->parser = NULL;
  return 0;
}

/* ------------------------------------------------------------------ encode */

typedef struct {
  char *data;
  size_t len, cap;
} buffer;

typedef struct {
  int is_index;
  lua_Integer index;
  const char *key; /* kept alive by the key on the Lua stack */
  size_t key_len;
} path_part;

typedef struct {
  lua_State *L;
  buffer *b;
  int max_depth, depth;
  const void **seen;   /* the tables being encoded, outermost first: cycles */
  path_part *path;
  const char *root;
  char error[160];
} encoder;

static int buf_grow(buffer *b, size_t extra) {
  size_t cap = b->cap ? b->cap : 256;
  char *p;
  if (b->len + extra <= b->cap) return 1;
  while (cap < b->len + extra) {
    if (cap > ((size_t)-1) / 2) return 0;
    cap *= 2;
  }
  p = (char *)realloc(b->data, cap);
  if (!p) return 0;
  b->data = p;
  b->cap = cap;
  return 1;
}

static int buf_add(encoder *e, const char *s, size_t n) {
  if (!buf_grow(e->b, n)) {
    snprintf(e->error, sizeof e->error, "out of memory");
    return 0;
  }
  memcpy(e->b->data + e->b->len, s, n);
  e->b->len += n;
  return 1;
}

static int buf_char(encoder *e, char c) { return buf_add(e, &c, 1); }

static int fail(encoder *e, const char *fmt, const char *detail) {
  snprintf(e->error, sizeof e->error, fmt, detail);
  return 0;
}

static int add_string(encoder *e, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  if (!ctct_json_valid_utf8(s, n)) return fail(e, "%s", "a string is not valid UTF-8");
  if (!buf_char(e, '"')) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[6];
    size_t elen = 2;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (!buf_add(e, s + run, i - run)) return 0;
    run = i + 1;
    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
      esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
      esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
      elen = 6;
    }
    if (!buf_add(e, esc, elen)) return 0;
  }
  return buf_add(e, s + run, n - run) && buf_char(e, '"');
}

/* The shortest %g text that reads back as the same double. */
static int add_float(encoder *e, double d) {
  char text[40];
  int prec, n = 0;
  char point = localeconv()->decimal_point[0];
  if (isnan(d) || isinf(d)) return fail(e, "%s", isnan(d) ? "NaN is not JSON" : "an infinity is not JSON");
#if LUA_VERSION_NUM < 503
  /* LuaJIT has one number type: integral values are written as integers. */
  if (d == floor(d) && fabs(d) < 9007199254740992.0 && !(d == 0 && signbit(d))) {
    n = snprintf(text, sizeof text, "%.0f", d);
    return buf_add(e, text, (size_t)n);
  }
#endif
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(text, sizeof text, "%.*g", prec, d);
    if (strtod(text, NULL) == d) break;
  }
  for (int i = 0; i < n; i++)
    if (text[i] == point) text[i] = '.';
  /* Keep a float a float: 2.0, not 2 (on LuaJIT only -0.0 gets here). */
  if (strspn(text, "-0123456789") == (size_t)n) {
    text[n++] = '.';
    text[n++] = '0';
  }
  return buf_add(e, text, (size_t)n);
}

static int encode_value(encoder *e, int idx);

/* Classify the table at idx: 1 array (with *n items), 0 object, -1 refused. */
static int table_kind(encoder *e, int idx, int marked, size_t *n) {
  lua_State *L = e->L;
  size_t count = 0, strings = 0;
  lua_Number max = 0;
  const char *bad = NULL;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    count++;
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings++;
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (k < 1 || k != floor(k)) bad = "a key that is neither a string nor an array index";
      else if (k > max) max = k;
    } else {
      bad = "a key that is neither a string nor an array index";
    }
  }
  if (bad) return fail(e, "%s", bad) - 1;
  if (marked) {
    if (strings) return fail(e, "%s", "an array (ctct.array) with string keys") - 1;
  } else if (count == 0 || strings == count) {
    return 0;
  } else if (strings) {
    return fail(e, "%s", "a table that mixes array items and string keys") - 1;
  }
  if ((lua_Number)count != max) return fail(e, "%s", "a sparse array (items must be at 1..n with no holes)") - 1;
  *n = count;
  return 1;
}

static int enter(encoder *e, int idx) {
  const void *p = lua_topointer(e->L, idx);
  int i;
  if (e->depth >= e->max_depth) {
    snprintf(e->error, sizeof e->error, "nested deeper than %d levels", e->max_depth);
    return 0;
  }
  for (i = 0; i < e->depth; i++)
    if (e->seen[i] == p) return fail(e, "%s", "a cycle (a table inside itself)");
  e->seen[e->depth++] = p;
  return 1;
}

static int encode_array(encoder *e, int idx, size_t n) {
  lua_State *L = e->L;
  path_part *part = &e->path[e->depth - 1];
  size_t i;
  if (!buf_char(e, '[')) return 0;
  part->is_index = 1;
  for (i = 1; i <= n; i++) {
    part->index = (lua_Integer)i;
    if (i > 1 && !buf_char(e, ',')) return 0;
    lua_rawgeti(L, idx, (lua_Integer)i);
    if (!encode_value(e, lua_gettop(L))) return 0;
    lua_pop(L, 1);
  }
  return buf_char(e, ']');
}

/* key at -2, value at -1 */
static int encode_member(encoder *e, int *first) {
  lua_State *L = e->L;
  path_part *part = &e->path[e->depth - 1];
  part->is_index = 0;
  part->key = lua_tolstring(L, -2, &part->key_len);
  if (!*first && !buf_char(e, ',')) return 0;
  *first = 0;
  if (!add_string(e, part->key, part->key_len) || !buf_char(e, ':')) return 0;
  return encode_value(e, lua_gettop(L));
}

/* The key order of a decoded-with-ordered object: its metatable's array part. */
static int ordered_keys(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  lua_getfield(L, -1, "__name");
  if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "ctct.object") == 0) {
    lua_pop(L, 1);
    return 1; /* the metatable stays on the stack */
  }
  lua_pop(L, 2);
  return 0;
}

static int in_order(lua_State *L, int order, size_t n) {
  size_t i;
  for (i = 1; i <= n; i++) {
    int same;
    lua_rawgeti(L, order, (lua_Integer)i);
    same = lua_rawequal(L, -1, -3); /* the key under the value */
    lua_pop(L, 1);
    if (same) return 1;
  }
  return 0;
}

static int encode_object(encoder *e, int idx) {
  lua_State *L = e->L;
  int first = 1, order = 0;
  size_t norder = 0, i;
  if (!buf_char(e, '{')) return 0;
  if (ordered_keys(L, idx)) {
    order = lua_gettop(L);
    norder = lua_rawlen(L, order);
    for (i = 1; i <= norder; i++) {
      lua_rawgeti(L, order, (lua_Integer)i);
      lua_pushvalue(L, -1);
      lua_rawget(L, idx);
      if (lua_isnil(L, -1) || lua_type(L, -2) != LUA_TSTRING) {
        lua_pop(L, 2);
        continue;
      }
      if (!encode_member(e, &first)) return 0;
      lua_pop(L, 2);
    }
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (order && in_order(L, order, norder)) {
      lua_pop(L, 1);
      continue;
    }
    if (!encode_member(e, &first)) return 0;
    lua_pop(L, 1);
  }
  if (order) lua_pop(L, 1);
  return buf_char(e, '}');
}

static int encode_table(encoder *e, int idx) {
  lua_State *L = e->L;
  int marked = 0, kind, ok;
  size_t n = 0;
  luaL_checkstack(L, 6, "JSON nesting");
  if (lua_getmetatable(L, idx)) {
    marked = lua_rawequal(L, -1, lua_upvalueindex(UV_ARRAY_MT));
    lua_pop(L, 1);
  }
  kind = table_kind(e, idx, marked, &n);
  if (kind < 0) return 0;
  if (!enter(e, idx)) return 0;
  ok = kind == 1 ? encode_array(e, idx, n) : encode_object(e, idx);
  if (ok) e->depth--;
  return ok;
}

static int encode_value(encoder *e, int idx) {
  lua_State *L = e->L;
  char text[32];
  int n;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return buf_add(e, "null", 4);
  case LUA_TBOOLEAN: return lua_toboolean(L, idx) ? buf_add(e, "true", 4) : buf_add(e, "false", 5);
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == NULL) return buf_add(e, "null", 4);
    return fail(e, "%s", "a light userdata other than ctct.null");
  case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) {
      n = snprintf(text, sizeof text, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
      return buf_add(e, text, (size_t)n);
    }
#endif
    (void)text;
    (void)n;
    return add_float(e, (double)lua_tonumber(L, idx));
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return add_string(e, s, len);
  }
  case LUA_TTABLE: return encode_table(e, idx);
  default: return fail(e, "a %s cannot be JSON", luaL_typename(L, idx));
  }
}

/* "body.street_addresses[2].city" from the path parts down to depth. */
static void push_path(encoder *e, int depth) {
  lua_State *L = e->L;
  luaL_Buffer b;
  int i;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, e->root);
  for (i = 0; i < depth; i++) {
    path_part *p = &e->path[i];
    char num[32];
    size_t k;
    int plain = !p->is_index && p->key_len > 0 && p->key_len <= 64;
    if (p->is_index) {
      snprintf(num, sizeof num, "[%lld]", (long long)p->index);
      luaL_addstring(&b, num);
      continue;
    }
    for (k = 0; plain && k < p->key_len; k++) {
      char c = p->key[k];
      plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (k > 0 && c >= '0' && c <= '9');
    }
    if (plain) {
      luaL_addchar(&b, '.');
      luaL_addlstring(&b, p->key, p->key_len);
    } else {
      luaL_addstring(&b, "[<key>]");
    }
  }
  luaL_pushresult(&b);
}

static int l_buffer_gc(lua_State *L) {
  buffer *b = (buffer *)luaL_checkudata(L, 1, BUFFER_MT);
  free(b->data);
  b->data = NULL;
  return 0;
}

static int l_json_encode(lua_State *L) {
  encoder e;
  buffer *b;
  int top;
  luaL_checkany(L, 1);
  e.L = L;
  e.root = "value";
  e.max_depth = DEFAULT_DEPTH;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    e.max_depth = (int)opt_size(L, 2, "max_depth", DEFAULT_DEPTH, MAX_DEPTH_LIMIT);
    lua_getfield(L, 2, "root");
    if (!lua_isnil(L, -1)) e.root = luaL_checkstring(L, -1);
    lua_replace(L, 2); /* keeps the root string alive */
  }
  lua_settop(L, 2);
  /* Memory owned by userdata: a Lua error half-way (no memory) leaks nothing. */
  b = (buffer *)lua_newuserdata(L, sizeof *b);
  b->data = NULL;
  b->len = b->cap = 0;
  luaL_setmetatable(L, BUFFER_MT);
  e.seen = (const void **)lua_newuserdata(L, sizeof(void *) * (size_t)e.max_depth);
  e.path = (path_part *)lua_newuserdata(L, sizeof(path_part) * (size_t)e.max_depth);
  e.b = b;
  e.depth = 0;
  e.error[0] = '\0';
  lua_pushvalue(L, 1);
  top = lua_gettop(L);
  if (!encode_value(&e, top)) {
    lua_pushnil(L);
    lua_pushstring(L, e.error);
    lua_pushliteral(L, " at ");
    push_path(&e, e.depth);
    lua_concat(L, 3);
    return 2;
  }
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  return 1;
}

void ctct_open_json(lua_State *L) {
  decoder_state *st;
  luaL_newmetatable(L, PARSER_MT);
  lua_pushcfunction(L, l_parser_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, BUFFER_MT);
  lua_pushcfunction(L, l_buffer_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  lua_createtable(L, 0, 1); /* the array metatable */
  lua_pushliteral(L, "ctct.array");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "json_array_mt");

  st = (decoder_state *)lua_newuserdata(L, sizeof *st);
  memset(st, 0, sizeof *st); /* the parser is made on first use */
  luaL_setmetatable(L, PARSER_MT);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, l_json_decode, 2);
  lua_setfield(L, -4, "json_decode");
  lua_pop(L, 1); /* parser */
  lua_pushcclosure(L, l_json_encode, 1);
  lua_setfield(L, -2, "json_encode");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "json_null");
}
