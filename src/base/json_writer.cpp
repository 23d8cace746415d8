#include "base/json_writer.hpp"

#include "base/text.hpp"

#include <charconv>
#include <utility>

namespace statgov {

namespace {
// As Response::json prints a body: compact, UTF-8 kept, invalid UTF-8 replaced.
std::string print(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

JsonWriter::JsonWriter(std::size_t reserve) { out_.reserve(reserve); }

void JsonWriter::member() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (first_.back()) {
    first_.back() = false;
  } else {
    out_ += ',';
  }
}

JsonWriter& JsonWriter::open(char bracket) {
  member();
  out_ += bracket;
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  out_ += bracket;
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_object() { return open('{'); }
JsonWriter& JsonWriter::end_object() { return close('}'); }
JsonWriter& JsonWriter::begin_array() { return open('['); }
JsonWriter& JsonWriter::end_array() { return close(']'); }

JsonWriter& JsonWriter::key(std::string_view k) {
  member();
  append_string(k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  member();
  append_string(s);
  return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t v) {
  member();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
  member();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  member();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(const nlohmann::json& v) {
  member();
  out_ += print(v);
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json_text) {
  member();
  out_ += json_text;
  return *this;
}

std::string JsonWriter::take() {
  first_.clear();
  after_key_ = false;
  return std::exchange(out_, std::string());
}

void JsonWriter::append_string(std::string_view s) {
  // NOTE: invalid UTF-8 goes to nlohmann, whose replacement (how many bytes one U+FFFD stands
  // for) this need not copy; valid text is escaped here as nlohmann escapes it: the two-character
  // escapes, \u00xx (lower case) for the other control characters, everything else as it is.
  if (!is_valid_utf8(s)) {
    out_ += print(nlohmann::json(std::string(s)));
    return;
  }
  out_ += '"';
  std::size_t plain = 0;  // start of the run of characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out_.append(esc, sizeof esc);
      }
    }
  }
  out_.append(s.data() + plain, s.size() - plain);
  out_ += '"';
}

}  // namespace statgov
