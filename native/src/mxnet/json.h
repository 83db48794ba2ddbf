// A small JSON reader for MXNet symbol files (RFC 8259), written for hostile
// input: the text is never trusted. Nesting depth, input size and the number of
// values are bounded, every error is an InvalidModel naming the byte offset,
// line and column, and nothing is allocated beyond what the values need.
// No third-party code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.h"

namespace netlite {
namespace json {

struct Limits {
  size_t max_bytes = size_t(256) << 20;  // input size
  int max_depth = 128;                   // arrays/objects nested inside each other
  size_t max_values = size_t(1) << 22;   // values of any kind in the document
};

class Value {
 public:
  enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0.0;
  std::string text;                                    // String: decoded text; Number: the literal as written
  std::vector<Value> items;                            // Array
  std::vector<std::pair<std::string, Value>> members;  // Object, in file order (keys are unique)
  size_t offset = 0;                                   // byte offset where the value starts

  bool is_null() const { return kind == Kind::Null; }
  bool is_bool() const { return kind == Kind::Bool; }
  bool is_number() const { return kind == Kind::Number; }
  bool is_string() const { return kind == Kind::String; }
  bool is_array() const { return kind == Kind::Array; }
  bool is_object() const { return kind == Kind::Object; }
  // Object member by key, or null when absent (or when this is not an object).
  const Value* find(const std::string& key) const;
  // True when the number is an integer that fits int64 exactly (written without fraction or exponent).
  bool is_integer() const;
};

const char* kind_name(Value::Kind k);

// Parses one JSON document. `what` names the input in errors ("symbol JSON").
// A UTF-8 byte order mark and trailing whitespace (or NUL bytes, as C strings
// passed with their terminator) are accepted. Throws netlite::Error.
Value parse(const char* text, size_t size, const char* what = "JSON", const Limits& limits = Limits());

// Locale-independent strtod for a whole string: true when `s` (surrounding
// spaces allowed) is a decimal/scientific number, "inf"/"nan" (any case, signed).
bool parse_double(const std::string& s, double* out);

}  // namespace json
}  // namespace netlite
