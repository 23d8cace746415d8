// JSON text written straight into a string, for an answer with a fixed shape that is built often
// (issue #6: a submit's answer made as a nlohmann::json tree, then printed and freed, cost about
// 55k instructions; written with this, the submit costs about 15k fewer, callgrind, bench/INGEST.md
// "Session 12"). It prints exactly what nlohmann::json's compact dump()
// prints for the same values (UTF-8 kept, invalid UTF-8 replaced by U+FFFD, as Response::json
// prints), provided the caller writes an object's keys in nlohmann's order: sorted bytewise, the
// order of its std::map. Values given as nlohmann::json are printed by nlohmann itself.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace statgov {

class JsonWriter {
 public:
  explicit JsonWriter(std::size_t reserve = 1024);

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // An object's next key; the value follows.
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& integer(std::int64_t v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  JsonWriter& value(const nlohmann::json& v);
  // A value already printed as JSON text (by nlohmann, compact, as value() would print it),
  // written as it is: the caller vouches for it.
  JsonWriter& raw(std::string_view json_text);

  // The text so far (complete once every object and array is closed); the writer is empty after.
  std::string take();

 private:
  // A comma before an array's or object's every member after the first; nothing after a key.
  void member();
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void append_string(std::string_view s);

  std::string out_;
  std::vector<bool> first_;  // per open object or array: no member yet
  bool after_key_ = false;
};

}  // namespace statgov
