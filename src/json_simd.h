/* json_simd.h - the C ABI of src/json_simd.cpp, the one C++ file of ctct.core.
 *
 * simdjson (Debian's libsimdjson-dev) parses; json.c turns the result into Lua
 * values. The parsed document is handed over as simdjson's tape (its documented
 * format, simdjson doc/tape.md): one 64-bit word per value, the type in the top
 * byte, and a string buffer of [uint32 length][bytes][NUL] records. */
#ifndef CTCT_JSON_SIMD_H
#define CTCT_JSON_SIMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctct_json_parser ctct_json_parser;

/* NULL when out of memory. */
ctct_json_parser *ctct_json_parser_new(void);
void ctct_json_parser_free(ctct_json_parser *p);

/* Why a parse failed (json_simd.cpp maps simdjson's error codes onto these). */
enum ctct_json_status {
  CTCT_JSON_OK = 0,
  CTCT_JSON_SYNTAX,        /* a wrong token: a comma, a brace, a key... */
  CTCT_JSON_BAD_LITERAL,   /* true/false/null misspelt */
  CTCT_JSON_BAD_NUMBER,    /* includes NaN, Infinity and numbers beyond a double */
  CTCT_JSON_BAD_STRING,    /* a bad escape or surrogate */
  CTCT_JSON_UNCLOSED_STRING,
  CTCT_JSON_CONTROL_CHAR,  /* an unescaped control character inside a string */
  CTCT_JSON_BAD_UTF8,
  CTCT_JSON_TOO_DEEP,
  CTCT_JSON_EMPTY,
  CTCT_JSON_NO_MEMORY
};

/* Parse len bytes (no padding needed: they are copied). max_depth bounds the
 * nesting of arrays and objects. On CTCT_JSON_OK, *tape and *strings point into
 * the parser and stay valid until the next parse, shrink or free. */
int ctct_json_parse(ctct_json_parser *p, const char *buf, size_t len, size_t max_depth,
                    const uint64_t **tape, const uint8_t **strings);

/* After a failed parse of the same bytes: the byte offset where the parse
 * stopped, found by walking the document with simdjson's On Demand API;
 * (size_t)-1 when it cannot say (json.c then looks for itself). */
size_t ctct_json_error_offset(const char *buf, size_t len, size_t max_depth);

/* Give back the parser's buffers when they grew past keep_bytes of input. */
void ctct_json_parser_shrink(ctct_json_parser *p, size_t keep_bytes);

/* 1 when buf is valid UTF-8 (simdjson's validator). */
int ctct_json_valid_utf8(const char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
