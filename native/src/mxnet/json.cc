#include "json.h"

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace netlite {
namespace json {

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "boolean";
    case Value::Kind::Number: return "number";
    case Value::Kind::String: return "string";
    case Value::Kind::Array: return "array";
    case Value::Kind::Object: return "object";
  }
  return "?";
}

const Value* Value::find(const std::string& key) const {
  if (kind != Kind::Object) return nullptr;
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

bool Value::is_integer() const {
  if (kind != Kind::Number || text.empty()) return false;
  for (char c : text)
    if (c == '.' || c == 'e' || c == 'E') return false;
  return std::fabs(number) < 9.2e18;
}

bool parse_double(const std::string& s, double* out) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  if (b == e || e - b > 400) return false;
  std::string t = s.substr(b, e - b);
  // Only the characters of a number (inf/nan spelled out) reach strtod: no hex
  // floats, no locale-specific grouping, no leading junk.
  for (char c : t) {
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
              c == 'i' || c == 'n' || c == 'f' || c == 'a' || c == 'I' || c == 'N' || c == 'F' || c == 'A' ||
              c == 't' || c == 'y' || c == 'T' || c == 'Y';
    if (!ok) return false;
  }
  // strtod follows the C locale's decimal point; write the number in that form.
  const struct lconv* lc = std::localeconv();
  char point = (lc && lc->decimal_point && lc->decimal_point[0]) ? lc->decimal_point[0] : '.';
  if (point != '.')
    for (char& c : t) if (c == '.') c = point;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return false;
  *out = v;
  return true;
}

namespace {

class Parser {
 public:
  Parser(const char* p, size_t n, const char* what, const Limits& lim)
      : begin_(p), p_(p), end_(p + n), what_(what), lim_(lim) {}

  Value document() {
    if (size_t(end_ - begin_) >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    skip_ws();
    if (p_ == end_) error("the document is empty");
    Value v = value(0);
    skip_ws();
    while (p_ < end_ && *p_ == '\0') ++p_;
    skip_ws();
    if (p_ != end_) error("unexpected '", printable(*p_), "' after the end of the document");
    return v;
  }

 private:
  template <typename... Parts>
  [[noreturn]] void error_at(const char* at, const Parts&... parts) const {
    size_t line = 1, col = 1;
    for (const char* q = begin_; q < at && q < end_; ++q) {
      if (*q == '\n') { ++line; col = 1; } else { ++col; }
    }
    fail(StatusCode::InvalidModel, what_, ": invalid JSON at byte ", size_t(at - begin_), " (line ", line, ", column ",
         col, "): ", parts...);
  }
  template <typename... Parts>
  [[noreturn]] void error(const Parts&... parts) const { error_at(p_, parts...); }

  static std::string printable(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    static const char* hex = "0123456789abcdef";
    return std::string("\\x") + hex[u >> 4] + hex[u & 15];
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  void count_value() {
    if (++values_ > lim_.max_values) error("more than ", lim_.max_values, " values");
  }

  Value value(int depth) {
    if (p_ >= end_) error("unexpected end of input, expected a value");
    count_value();
    Value v;
    v.offset = size_t(p_ - begin_);
    switch (*p_) {
      case '{': object(depth, &v); break;
      case '[': array(depth, &v); break;
      case '"': v.kind = Value::Kind::String; v.text = string(); break;
      case 't': literal("true"); v.kind = Value::Kind::Bool; v.boolean = true; break;
      case 'f': literal("false"); v.kind = Value::Kind::Bool; v.boolean = false; break;
      case 'n': literal("null"); v.kind = Value::Kind::Null; break;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) { number(&v); break; }
        error("unexpected '", printable(*p_), "', expected a value");
    }
    return v;
  }

  void literal(const char* word) {
    size_t n = std::strlen(word);
    if (size_t(end_ - p_) < n || std::memcmp(p_, word, n) != 0) error("invalid literal, expected '", word, "'");
    p_ += n;
  }

  void object(int depth, Value* v) {
    if (depth + 1 > lim_.max_depth) error("nesting deeper than ", lim_.max_depth, " levels");
    v->kind = Value::Kind::Object;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == '}') { ++p_; return; }
    for (;;) {
      skip_ws();
      if (p_ >= end_) error("unexpected end of input inside an object");
      if (*p_ != '"') error("expected a string key, got '", printable(*p_), "'");
      std::string key = string();
      skip_ws();
      if (p_ >= end_ || *p_ != ':') error("expected ':' after an object key");
      ++p_;
      skip_ws();
      v->members.emplace_back(std::move(key), value(depth + 1));
      skip_ws();
      if (p_ >= end_) error("unexpected end of input inside an object");
      if (*p_ == ',') { ++p_; continue; }
      if (*p_ == '}') { ++p_; check_unique_keys(*v); return; }
      error("expected ',' or '}' in an object, got '", printable(*p_), "'");
    }
  }

  // Sorted, so a hostile object with millions of keys costs n log n, not n^2.
  void check_unique_keys(const Value& v) const {
    const auto& m = v.members;
    if (m.size() < 2) return;
    std::vector<const std::string*> keys;
    keys.reserve(m.size());
    for (const auto& kv : m) keys.push_back(&kv.first);
    std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t i = 1; i < keys.size(); ++i)
      if (*keys[i] == *keys[i - 1]) {
        const std::string& k = *keys[i];
        error_at(begin_ + v.offset, "duplicate key \"", k.size() > 64 ? k.substr(0, 64) + "..." : k, "\" in an object");
      }
  }

  void array(int depth, Value* v) {
    if (depth + 1 > lim_.max_depth) error("nesting deeper than ", lim_.max_depth, " levels");
    v->kind = Value::Kind::Array;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == ']') { ++p_; return; }
    for (;;) {
      skip_ws();
      v->items.push_back(value(depth + 1));
      skip_ws();
      if (p_ >= end_) error("unexpected end of input inside an array");
      if (*p_ == ',') { ++p_; continue; }
      if (*p_ == ']') { ++p_; return; }
      error("expected ',' or ']' in an array, got '", printable(*p_), "'");
    }
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  uint32_t hex4() {
    if (end_ - p_ < 4) error("truncated \\u escape");
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) {
      int d = hex_digit(p_[i]);
      if (d < 0) error("invalid \\u escape");
      u = u * 16 + uint32_t(d);
    }
    p_ += 4;
    return u;
  }

  static void append_utf8(std::string* s, uint32_t cp) {
    if (cp < 0x80) {
      s->push_back(char(cp));
    } else if (cp < 0x800) {
      s->push_back(char(0xC0 | (cp >> 6)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(char(0xE0 | (cp >> 12)));
      s->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(char(0xF0 | (cp >> 18)));
      s->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  std::string string() {
    const char* start = p_;
    ++p_;  // opening quote
    std::string s;
    for (;;) {
      if (p_ >= end_) error_at(start, "unterminated string");
      char c = *p_;
      if (c == '"') { ++p_; return s; }
      if (static_cast<unsigned char>(c) < 0x20) error("control character ", printable(c), " inside a string");
      if (c != '\\') {
        // Copy a run of plain bytes at once.
        const char* run = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
        s.append(run, size_t(p_ - run));
        continue;
      }
      ++p_;
      if (p_ >= end_) error_at(start, "unterminated string");
      char e = *p_++;
      switch (e) {
        case '"': s.push_back('"'); break;
        case '\\': s.push_back('\\'); break;
        case '/': s.push_back('/'); break;
        case 'b': s.push_back('\b'); break;
        case 'f': s.push_back('\f'); break;
        case 'n': s.push_back('\n'); break;
        case 'r': s.push_back('\r'); break;
        case 't': s.push_back('\t'); break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
              p_ += 2;
              uint32_t lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) error("invalid UTF-16 surrogate pair");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              error("unpaired UTF-16 surrogate");
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            error("unpaired UTF-16 surrogate");
          }
          append_utf8(&s, cp);
          break;
        }
        default: error_at(p_ - 2, "invalid escape '\\", printable(e), "'");
      }
    }
  }

  void number(Value* v) {
    const char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ >= end_ || !(*p_ >= '0' && *p_ <= '9')) error_at(start, "invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || !(*p_ >= '0' && *p_ <= '9')) error_at(start, "invalid number (no digit after '.')");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !(*p_ >= '0' && *p_ <= '9')) error_at(start, "invalid number (bad exponent)");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ - start > 400) error_at(start, "number literal too long");
    v->kind = Value::Kind::Number;
    v->text.assign(start, size_t(p_ - start));
    if (!parse_double(v->text, &v->number)) error_at(start, "invalid number");
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const char* what_;
  Limits lim_;
  size_t values_ = 0;
};

}  // namespace

Value parse(const char* text, size_t size, const char* what, const Limits& limits) {
  if (!text && size) fail(StatusCode::InvalidArgument, what, ": text is null");
  if (size > limits.max_bytes)
    fail(StatusCode::InvalidModel, what, ": ", size, " bytes is larger than the limit of ", limits.max_bytes, " bytes");
  Parser p(text ? text : "", size, what, limits);
  return p.document();
}

}  // namespace json
}  // namespace netlite
