#include "base/json_writer.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace statgov {
namespace {

using nlohmann::json;
using namespace std::string_literals;

std::string nlohmann_dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Every string nlohmann treats specially, and some it does not.
const std::vector<std::string> kStrings = {
    "",
    "plain ascii",
    "株洲市统计局",
    "quote \" backslash \\ slash /",
    "\b\f\n\r\t",
    "nul \0 and \x01\x1f"s,  // with the NUL: a std::string literal
    "\x7f del",
    "emoji \xF0\x9F\x93\x8A and \xE2\x80\xA8",
    "bad \xC3\x28 utf-8",
    "truncated \xE6\xA0",
    "surrogate \xED\xA0\x80",
    "overlong \xC0\xAF",
    "\xFF",
};

TEST(JsonWriter, StringsPrintAsNlohmannPrintsThem) {
  for (const auto& s : kStrings) {
    JsonWriter w;
    w.string(s);
    EXPECT_EQ(w.take(), nlohmann_dump(json(s))) << s;
    JsonWriter k;
    k.begin_object().key(s).integer(1).end_object();
    EXPECT_EQ(k.take(), nlohmann_dump(json{{s, 1}})) << s;
  }
}

TEST(JsonWriter, ScalarsAndNesting) {
  const auto lo = std::numeric_limits<std::int64_t>::min();
  const auto hi = std::numeric_limits<std::int64_t>::max();
  JsonWriter w;
  w.begin_object();
  w.key("a").begin_array().integer(0).integer(-7).integer(lo).integer(hi).end_array();
  w.key("b").boolean(true);
  w.key("c").boolean(false);
  w.key("d").null();
  w.key("e").begin_object().end_object();
  w.key("f").begin_array().end_array();
  w.key("g")
      .begin_array()
      .begin_object()
      .key("x")
      .string("y")
      .end_object()
      .begin_object()
      .end_object()
      .end_array();
  w.key("h").value(json{{"n", 1.5}, {"m", 0.1}, {"k", json::array({1e300, -0.0, 2})}});
  w.key("i").value(json("\xC3\x28"));
  w.end_object();
  json expected = {{"a", {0, -7, lo, hi}},
                   {"b", true},
                   {"c", false},
                   {"d", nullptr},
                   {"e", json::object()},
                   {"f", json::array()},
                   {"g", json::array({json{{"x", "y"}}, json::object()})},
                   {"h", {{"n", 1.5}, {"m", 0.1}, {"k", {1e300, -0.0, 2}}}},
                   {"i", "\xC3\x28"}};
  EXPECT_EQ(w.take(), nlohmann_dump(expected));
  // Empty after take(), and usable again.
  w.begin_array().integer(1).end_array();
  EXPECT_EQ(w.take(), "[1]");
}

// A value given as printed text takes its place among the members like any other value.
TEST(JsonWriter, RawTextIsAValueInItsPlace) {
  const json doc = {{"a", 1.5}, {"b", json::array({"x", nullptr})}};
  JsonWriter w;
  w.begin_object().key("first").raw(nlohmann_dump(doc)).key("list").begin_array();
  w.raw("[]").integer(2).raw(nlohmann_dump(doc)).end_array();
  w.key("z").raw("{}").end_object();
  const json expected = {
      {"first", doc}, {"list", json::array({json::array(), 2, doc})}, {"z", json::object()}};
  EXPECT_EQ(w.take(), nlohmann_dump(expected));
}

}  // namespace
}  // namespace statgov
