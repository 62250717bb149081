// io/json: the strict reader and the round-trip writer the ensemble (and gler_infer) files use.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "core/error.h"
#include "io/json.h"

using namespace gler;

TEST_CASE("json parses every value type") {
  const json::Value v = json::parse(R"( {"a": [1, -2.5e3, 0.1, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}} )");
  const json::Array& a = v.at("a").as_array();
  CHECK(a.size() == 6);
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_number() == -2500.0);
  CHECK(a[2].as_number() == 0.1);
  CHECK(a[3].as_bool());
  CHECK(!a[4].as_bool());
  CHECK(a[5].is_null());
  CHECK(v.at("s").as_string() == "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v.at("o").as_object().empty());
  CHECK(v.find("missing") == nullptr);
  CHECK_THROWS_AS(v.at("missing"), Error);
  CHECK_THROWS_AS(v.at("a").as_string(), Error);
  CHECK(a[1].as_int() == -2500);
  CHECK_THROWS_AS(a[2].as_int(), Error);  // 0.1 is not integral
}

TEST_CASE("json rejects what RFC 8259 does not allow") {
  for (const char* bad : {"", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "[1 2]", "{\"a\" 1}", "{\"a\":1,\"a\":2}", "\"\t\"",
                          "\"abc", "[\"\\x\"]", "\"\\ud800\"", "nul", "[1] x", "NaN", "1e999", "{'a': 1}"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(json::parse(bad), Error);
  }
  CHECK_THROWS_AS(json::parse(std::string(100000, '[')), Error);  // depth limit, no stack overflow
  CHECK_NOTHROW(json::parse(std::string(500, '[') + std::string(500, ']')));
  try {
    json::parse("{\n  \"a\": tru\n}");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("line 2") != std::string::npos);
  }
}

TEST_CASE("json writes numbers that read back exactly") {
  json::Value v;
  v.set("x", 9e-05);
  v.set("y", 0.1 + 0.2);
  v.set("z", json::Array{1e-300, -3.0, 1.0 / 3});
  v.set("name", "a\"b\n\x01");
  v.set("x", 2.5);  // replaces, keeps the position
  for (int indent : {-1, 0, 2}) {
    const json::Value back = json::parse(json::dump(v, indent));
    CHECK(back.as_object().front().first == "x");
    CHECK(back.at("x").as_number() == 2.5);
    CHECK(back.at("y").as_number() == 0.1 + 0.2);
    CHECK(back.at("z").as_array()[0].as_number() == 1e-300);
    CHECK(back.at("z").as_array()[2].as_number() == 1.0 / 3);
    CHECK(back.at("name").as_string() == "a\"b\n\x01");
  }
  CHECK(json::dump(json::Value(json::Array{1, 2})) == "[1,2]");
  // Integers stay integers for readers that want them (100000, not the shorter 1e+05), up to 2^53.
  CHECK(json::dump(json::Value(json::Array{100000, -4096, 1e15, 9007199254740991.0, 9007199254740992.0, 1e20, 0.5})) ==
        "[100000,-4096,1000000000000000,9007199254740991,9007199254740992,1e+20,0.5]");
  CHECK(json::dump(v.at("z"), 1) == "[1e-300, -3, 0.3333333333333333]");
  CHECK_THROWS_AS(json::dump(json::Value(std::numeric_limits<double>::infinity())), Error);
}
