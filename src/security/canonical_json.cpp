#include "security/canonical_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace statgov::security {

namespace {

// UTF-16 code units of a UTF-8 string (input comes from a JSON parser, so it is valid UTF-8;
// a stray byte is taken as one unit so that the order stays total).
std::u16string utf16(const std::string& s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    char32_t cp = b;
    std::size_t n = 1;
    if (b >= 0xF0) {
      n = 4;
      cp = b & 0x07;
    } else if (b >= 0xE0) {
      n = 3;
      cp = b & 0x0F;
    } else if (b >= 0xC0) {
      n = 2;
      cp = b & 0x1F;
    }
    if (i + n > s.size()) {
      n = 1;
      cp = b;
    }
    for (std::size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += n;
  }
  return out;
}

void put_string(std::string& out, const std::string& s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

Status put(std::string& out, const nlohmann::json& v) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null:
      out += "null";
      return Ok{};
    case T::boolean:
      out += v.get<bool>() ? "true" : "false";
      return Ok{};
    case T::number_integer:
    case T::number_unsigned:
    case T::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d)) {
        return make_error(ErrorKind::invalid, "BAD_JSON_VALUE", "数值必须是有限数",
                          "Numbers must be finite");
      }
      out += ecma_number(d);
      return Ok{};
    }
    case T::string:
      put_string(out, v.get_ref<const std::string&>());
      return Ok{};
    case T::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        SG_TRY(put(out, e));
      }
      out += ']';
      return Ok{};
    }
    case T::object: {
      std::vector<std::pair<std::u16string, const std::string*>> keys;
      for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(utf16(it.key()), &it.key());
      std::sort(keys.begin(), keys.end());
      out += '{';
      bool first = true;
      for (const auto& [k16, k] : keys) {
        if (!first) out += ',';
        first = false;
        put_string(out, *k);
        out += ':';
        SG_TRY(put(out, v.at(*k)));
      }
      out += '}';
      return Ok{};
    }
    case T::binary:
    case T::discarded:
      break;
  }
  return make_error(ErrorKind::invalid, "BAD_JSON_VALUE", "无法规范化的 JSON 值",
                    "A JSON value that cannot be canonicalised");
}

}  // namespace

std::string ecma_number(double d) {
  if (d == 0) return "0";  // also -0
  std::string sign = d < 0 ? "-" : "";
  char buf[64];
  // Shortest round-trip digits in scientific form: d[.ddd]e[+-]XX
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  auto epos = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < epos; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp10 = std::atoi(sci.c_str() + epos + 1);
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // the value is 0.digits * 10^n
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<std::size_t>(n)) + "." +
          digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
  } else {
    int e = n - 1;
    std::string es = (e < 0 ? "-" : "+") + std::to_string(std::abs(e));
    out = k == 1 ? digits + "e" + es : digits.substr(0, 1) + "." + digits.substr(1) + "e" + es;
  }
  return sign + out;
}

Result<std::string> canonical_json(const nlohmann::json& value) {
  std::string out;
  SG_TRY(put(out, value));
  return out;
}

}  // namespace statgov::security
