// json_simd.cpp - simdjson behind a C ABI (json_simd.h). The only C++ in
// ctct.core: compiled without exceptions or RTTI, so every simdjson call is
// used through its error-code API and nothing can throw across the C boundary.
#include <new>

#include <simdjson.h>

#include "json_simd.h"

using simdjson::error_code;
namespace ondemand = simdjson::ondemand;

struct ctct_json_parser {
  simdjson::dom::parser dom;
  size_t depth = 0; // max_depth the buffers were allocated for
};

static int status_of(error_code e) {
  switch (e) {
  case simdjson::SUCCESS: return CTCT_JSON_OK;
  case simdjson::DEPTH_ERROR: return CTCT_JSON_TOO_DEEP;
  case simdjson::T_ATOM_ERROR:
  case simdjson::F_ATOM_ERROR:
  case simdjson::N_ATOM_ERROR: return CTCT_JSON_BAD_LITERAL;
  case simdjson::NUMBER_ERROR:
  case simdjson::NUMBER_OUT_OF_RANGE: return CTCT_JSON_BAD_NUMBER;
  case simdjson::STRING_ERROR: return CTCT_JSON_BAD_STRING;
  case simdjson::UNCLOSED_STRING: return CTCT_JSON_UNCLOSED_STRING;
  case simdjson::UNESCAPED_CHARS: return CTCT_JSON_CONTROL_CHAR;
  case simdjson::UTF8_ERROR: return CTCT_JSON_BAD_UTF8;
  case simdjson::EMPTY: return CTCT_JSON_EMPTY;
  case simdjson::MEMALLOC: return CTCT_JSON_NO_MEMORY;
  default: return CTCT_JSON_SYNTAX;
  }
}

extern "C" ctct_json_parser *ctct_json_parser_new(void) {
  return new (std::nothrow) ctct_json_parser();
}

extern "C" void ctct_json_parser_free(ctct_json_parser *p) { delete p; }

extern "C" int ctct_json_parse(ctct_json_parser *p, const char *buf, size_t len, size_t max_depth,
                               const uint64_t **tape, const uint8_t **strings) {
  if (len == 0) return CTCT_JSON_EMPTY;
  // The buffers are sized by the parser on demand; depth needs an explicit
  // allocation whenever it changes (it sizes the open-container stacks).
  if (p->depth != max_depth) {
    size_t cap = p->dom.capacity() > len ? p->dom.capacity() : len;
    if (p->dom.allocate(cap, max_depth) != simdjson::SUCCESS) return CTCT_JSON_NO_MEMORY;
    p->depth = max_depth;
  }
  simdjson::dom::element root;
  error_code e = p->dom.parse(buf, len, true).get(root);
  if (e) return status_of(e);
  // The root element's document is the parser's own: its tape and strings.
  const simdjson::dom::document &doc = p->dom.doc;
  *tape = doc.tape.get();
  *strings = doc.string_buf.get();
  return CTCT_JSON_OK;
}

extern "C" void ctct_json_parser_shrink(ctct_json_parser *p, size_t keep_bytes) {
  if (p->dom.capacity() <= keep_bytes) return;
  // A fresh parser allocates again on the next parse, sized to that input.
  p->dom.~parser();
  new (&p->dom) simdjson::dom::parser();
  p->depth = 0;
}

extern "C" int ctct_json_valid_utf8(const char *buf, size_t len) {
  return simdjson::validate_utf8(buf, len) ? 1 : 0;
}

// ---- error location: walk the same bytes with On Demand, which can say
// where it stopped (the DOM parser only says why).

static error_code walk(ondemand::value v, size_t depth);

static error_code walk_array(ondemand::array a, size_t depth) {
  for (auto item : a) {
    ondemand::value v;
    error_code e = item.get(v);
    if (!e) e = walk(v, depth);
    if (e) return e;
  }
  return simdjson::SUCCESS;
}

static error_code walk_object(ondemand::object o, size_t depth) {
  for (auto field : o) {
    std::string_view key;
    error_code e = field.unescaped_key().get(key);
    if (e) return e;
    ondemand::value v;
    e = field.value().get(v);
    if (!e) e = walk(v, depth);
    if (e) return e;
  }
  return simdjson::SUCCESS;
}

static error_code walk(ondemand::value v, size_t depth) {
  if (depth == 0) return simdjson::DEPTH_ERROR;
  ondemand::json_type t;
  error_code e = v.type().get(t);
  if (e) return e;
  switch (t) {
  case ondemand::json_type::array: {
    ondemand::array a;
    e = v.get_array().get(a);
    return e ? e : walk_array(a, depth - 1);
  }
  case ondemand::json_type::object: {
    ondemand::object o;
    e = v.get_object().get(o);
    return e ? e : walk_object(o, depth - 1);
  }
  case ondemand::json_type::number: {
    ondemand::number n;
    return v.get_number().get(n);
  }
  case ondemand::json_type::string: {
    std::string_view s;
    return v.get_string().get(s);
  }
  case ondemand::json_type::boolean: {
    bool b;
    return v.get_bool().get(b);
  }
  case ondemand::json_type::null: {
    bool is_null;
    e = v.is_null().get(is_null);
    return e ? e : (is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR);
  }
  }
  return simdjson::TAPE_ERROR;
}

static error_code walk_document(ondemand::document &doc, size_t depth) {
  ondemand::json_type t;
  error_code e = doc.type().get(t);
  if (e) return e;
  switch (t) {
  case ondemand::json_type::array: {
    ondemand::array a;
    e = doc.get_array().get(a);
    if (!e) e = walk_array(a, depth - 1);
    break;
  }
  case ondemand::json_type::object: {
    ondemand::object o;
    e = doc.get_object().get(o);
    if (!e) e = walk_object(o, depth - 1);
    break;
  }
  case ondemand::json_type::number: {
    ondemand::number n;
    e = doc.get_number().get(n);
    break;
  }
  case ondemand::json_type::string: {
    std::string_view str;
    e = doc.get_string().get(str);
    break;
  }
  case ondemand::json_type::boolean: {
    bool b;
    e = doc.get_bool().get(b);
    break;
  }
  case ondemand::json_type::null: {
    bool is_null;
    e = doc.is_null().get(is_null);
    if (!e && !is_null) e = simdjson::N_ATOM_ERROR;
    break;
  }
  }
  return e;
}

// Where a second document starts after a complete first one (trailing
// content), from simdjson's document stream; (size_t)-1 otherwise.
// `buf` must be padded (simdjson reads up to SIMDJSON_PADDING bytes past len);
// one batch holds the whole text, so the stream sees it as one window.
static size_t second_document_at(const char *buf, size_t len) {
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  if (parser.parse_many(buf, len, len < 64 ? 64 : len).get(stream)) return (size_t)-1;
  auto it = stream.begin();
  simdjson::dom::element el;
  if (!(it != stream.end()) || (*it).get(el) != simdjson::SUCCESS) return (size_t)-1;
  ++it;
  return it != stream.end() ? it.current_index() : (size_t)-1;
}

extern "C" size_t ctct_json_error_offset(const char *buf, size_t len, size_t max_depth) {
  simdjson::padded_string padded(buf, len);
  if (padded.size() != len) return (size_t)-1;
  ondemand::parser parser;
  if (parser.allocate(len > 0 ? len : 1, max_depth + 1)) return (size_t)-1;
  ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return (size_t)-1;
  error_code e = walk_document(doc, max_depth + 1);
  const char *at;
  size_t off = (size_t)-1;
  if (e && !doc.current_location().get(at)) off = (size_t)(at - padded.data());
  // On Demand does not see trailing content, and may point at the first byte
  // when it gives up: then ask the document stream.
  if (off == (size_t)-1 || off == 0) {
    size_t second = second_document_at(padded.data(), len);
    if (second != (size_t)-1) return second;
  }
  return off <= len ? off : (size_t)-1;
}
