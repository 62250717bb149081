#include "io/json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "io/utf8.h"

namespace gler::json {

namespace {

// 2^53: below it a double holds every integer exactly, so integral numbers are read and written
// as integers only there.
constexpr double kExactIntLimit = 9007199254740992.0;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Value access

const char* Value::type_name() const {
  static const char* names[] = {"null", "bool", "number", "string", "array", "object"};
  return names[v_.index()];
}

namespace {

template <typename T, typename V>
auto& get_checked(V& v, const char* expected, const char* actual) {
  GLER_CHECK(std::holds_alternative<T>(v), "json: expected " << expected << ", got " << actual);
  return std::get<T>(v);
}

}  // namespace

bool Value::as_bool() const { return get_checked<bool>(v_, "a bool", type_name()); }
double Value::as_number() const { return get_checked<double>(v_, "a number", type_name()); }
const std::string& Value::as_string() const { return get_checked<std::string>(v_, "a string", type_name()); }
const Array& Value::as_array() const { return get_checked<Array>(v_, "an array", type_name()); }
Array& Value::as_array() { return get_checked<Array>(v_, "an array", type_name()); }
const Object& Value::as_object() const { return get_checked<Object>(v_, "an object", type_name()); }
Object& Value::as_object() { return get_checked<Object>(v_, "an object", type_name()); }

long long Value::as_int() const {
  double d = as_number();
  GLER_CHECK(std::trunc(d) == d && std::fabs(d) < kExactIntLimit, "json: expected an integer, got " << d);
  return static_cast<long long>(d);
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  const Value* v = find(key);
  GLER_CHECK(v, "json: missing key \"" << key << "\"");
  return *v;
}

Value& Value::set(std::string key, Value value) {
  if (is_null()) v_ = Object{};
  Object& o = as_object();
  for (auto& [k, v] : o)
    if (k == key) return v = std::move(value);
  o.emplace_back(std::move(key), std::move(value));
  return o.back().second;
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over the whole text; depth-limited so hostile input cannot overflow
// the stack.

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Value document() {
    skip_ws();
    Value v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;
  std::string_view s_;
  std::size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    GLER_FAIL("json: " << what << " at line " << line << ", column " << col);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  void expect(char c) {
    if (peek() != c || at_end()) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal");
    pos_ += word.size();
  }

  Value value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    if (at_end()) fail("unexpected end of input");
    switch (peek()) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return Value(string());
      case 't': literal("true"); return Value(true);
      case 'f': literal("false"); return Value(false);
      case 'n': literal("null"); return Value(nullptr);
      default: return Value(number());
    }
  }

  Value object(int depth) {
    expect('{');
    Object o;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return Value(std::move(o));
    }
    // A set, not a scan of `o`: a hostile object with a million keys (a safetensors header may be
    // 100 MiB) must not take quadratic time.
    std::set<std::string> keys;
    while (true) {
      skip_ws();
      if (peek() != '"') fail("expected a string key");
      std::size_t key_pos = pos_;
      std::string key = string();
      if (!keys.insert(key).second) {
        pos_ = key_pos;
        fail("duplicate key \"" + key + "\"");
      }
      skip_ws();
      expect(':');
      skip_ws();
      Value v = value(depth + 1);
      o.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return Value(std::move(o));
    }
  }

  Value array(int depth) {
    expect('[');
    Array a;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return Value(std::move(a));
    }
    while (true) {
      skip_ws();
      a.push_back(value(depth + 1));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return Value(std::move(a));
    }
  }

  // The JSON number grammar is checked here; from_chars then converts with correct rounding.
  double number() {
    std::size_t start = pos_;
    auto digits = [&] {
      std::size_t d = pos_;
      while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digits() == 0) {
      fail("invalid value");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) fail("invalid number");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) fail("invalid number");
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, d);
    if (ec != std::errc() || ptr != s_.data() + pos_) {
      pos_ = start;
      fail("number out of range");
    }
    return d;
  }

  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      u <<= 4;
      if (c >= '0' && c <= '9') u |= c - '0';
      else if (c >= 'a' && c <= 'f') u |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') u |= c - 'A' + 10;
      else fail("invalid \\u escape");
    }
    return u;
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair encodes one code point
            if (s_.substr(pos_, 2) != "\\u") fail("unpaired surrogate");
            pos_ += 2;
            std::uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("invalid escape");
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Writer

void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void write_number(std::string& out, double d) {
  GLER_CHECK(std::isfinite(d), "json: cannot write the non-finite number " << d);
  char buf[32];
  // Integers are written digit for digit: the shortest form would make 100000 "1e+05", which
  // readers that want an integer (Python's safetensors, for offsets and shapes) refuse.
  const bool integral = std::trunc(d) == d && std::fabs(d) < kExactIntLimit;
  auto [ptr, ec] = integral ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                            : std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  out.append(buf, ptr);
}

void write_value(std::string& out, const Value& v, int indent, int level) {
  auto newline = [&](int lvl) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * lvl), ' ');
  };
  if (v.is_null()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_number()) {
    write_number(out, v.as_number());
  } else if (v.is_string()) {
    write_string(out, v.as_string());
  } else if (v.is_array()) {
    const Array& a = v.as_array();
    // Arrays of scalars stay on one line: a 42-long coefficient row is easier to read that way.
    bool flat = true;
    for (const auto& e : a) flat = flat && !e.is_array() && !e.is_object();
    out += '[';
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) out += flat && indent >= 0 ? ", " : ",";
      if (!flat) newline(level + 1);
      write_value(out, a[i], indent, level + 1);
    }
    if (!flat && !a.empty()) newline(level);
    out += ']';
  } else {
    const Object& o = v.as_object();
    out += '{';
    for (std::size_t i = 0; i < o.size(); ++i) {
      if (i) out += ',';
      newline(level + 1);
      write_string(out, o[i].first);
      out += indent >= 0 ? ": " : ":";
      write_value(out, o[i].second, indent, level + 1);
    }
    if (!o.empty()) newline(level);
    out += '}';
  }
}

}  // namespace

Value parse(std::string_view text) { return Parser(text).document(); }

Value parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GLER_CHECK(in, "cannot open " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  GLER_CHECK(!in.bad(), "cannot read " << path);
  try {
    return parse(ss.str());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::string dump(const Value& value, int indent) {
  std::string out;
  write_value(out, value, indent, 0);
  return out;
}

void write_file(const std::string& path, const Value& value, int indent) {
  std::ofstream out(path, std::ios::binary);
  GLER_CHECK(out, "cannot write " << path);
  out << dump(value, indent) << '\n';
  GLER_CHECK(out.good(), "cannot write " << path);
}

}  // namespace gler::json
