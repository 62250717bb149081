// A small, strict JSON reader and writer (RFC 8259): null, bool, number, string, array, object.
// Numbers are doubles; objects keep their insertion order (so written files read like the
// structs they came from) and reject duplicate keys. Parse errors throw gler::Error with the
// line and column, so a bad file becomes one clear `error:` line at the CLI.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gler::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(double d) : v_(d) {}
  Value(int i) : v_(static_cast<double>(i)) {}
  Value(long i) : v_(static_cast<double>(i)) {}
  Value(long long i) : v_(static_cast<double>(i)) {}
  Value(unsigned long i) : v_(static_cast<double>(i)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_number() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  // Typed access; a wrong type throws gler::Error naming the expected and the actual type.
  bool as_bool() const;
  double as_number() const;
  long long as_int() const;  // the number must be integral
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object members: `find` returns nullptr when absent, `at` throws.
  const Value* find(std::string_view key) const;
  const Value& at(std::string_view key) const;
  // Appends a member to an object (a null value becomes an empty object first).
  Value& set(std::string key, Value value);

  const char* type_name() const;

 private:
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_;
};

Value parse(std::string_view text);
Value parse_file(const std::string& path);  // `path` appears in every error message

// indent < 0: compact, one line. indent >= 0: pretty, nested levels indented by `indent` spaces.
// Integral numbers below 2^53 are written as plain integers (100000, not 1e+05); others in the
// shortest form that reads back to the same double.
std::string dump(const Value& value, int indent = -1);
void write_file(const std::string& path, const Value& value, int indent = 1);

}  // namespace gler::json
