#include "domain/codes.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace statgov::domain {

namespace {

constexpr std::string_view kUsccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::array<int, 17> kUsccWeights = {1, 3, 9, 27, 19, 26, 16, 17, 20,
                                              29, 25, 13, 8, 24, 10, 30, 28};
constexpr std::array<int, 8> kOrgWeights = {3, 7, 9, 10, 5, 8, 4, 2};

int org_char_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

std::string upper_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

char org_code_check_char(std::string_view body8) {
  if (body8.size() != 8) return '\0';
  int sum = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    int v = org_char_value(body8[i]);
    if (v < 0) return '\0';
    sum += v * kOrgWeights[i];
  }
  // NOTE: the check is 11 - (sum mod 11), not (sum mod 11): the latter rejects valid codes.
  int c = 11 - sum % 11;
  if (c == 10) return 'X';
  if (c == 11) return '0';
  return static_cast<char>('0' + c);
}

bool org_code_valid(std::string_view code) {
  std::string c = upper_trimmed(code);
  if (c.size() == 10 && c[8] == '-') c.erase(8, 1);
  if (c.size() != 9) return false;
  char check = org_code_check_char(std::string_view(c).substr(0, 8));
  return check != '\0' && check == c[8];
}

char uscc_check_char(std::string_view body17) {
  if (body17.size() != 17) return '\0';
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) {
    auto pos = kUsccCharset.find(body17[i]);
    if (pos == std::string_view::npos) return '\0';
    sum += static_cast<int>(pos) * kUsccWeights[i];
  }
  int c = 31 - sum % 31;
  if (c == 31) c = 0;
  return kUsccCharset[static_cast<std::size_t>(c)];
}

Result<Uscc> Uscc::parse(std::string_view text) {
  std::string code = upper_trimmed(text);
  if (code.size() != 18) {
    return make_error(ErrorKind::invalid, "USCC_FORMAT", "统一社会信用代码应为18位",
                      "A unified social credit code has 18 characters",
                      nlohmann::json::array({{{"value", std::string(text)}}}));
  }
  for (char c : code) {
    if (kUsccCharset.find(c) == std::string_view::npos) {
      return make_error(ErrorKind::invalid, "USCC_FORMAT",
                        "统一社会信用代码含有非法字符（不可使用 I、O、S、V、Z）",
                        "The unified social credit code has an invalid character (I, O, S, V, Z are not used)",
                        nlohmann::json::array({{{"value", code}}}));
    }
  }
  char expected = uscc_check_char(std::string_view(code).substr(0, 17));
  if (expected == code[17]) return Uscc(std::move(code), UsccCheck::valid);
  // Early pilot-area codes (e.g. Fujian, 2014-2015) were issued before the national check rule and
  // fail it, yet they are real. Their 主体标识码 was newly assigned and starts with 'M'; a modern
  // code carries the old organisation code there instead, so a wrong check on it is a typo.
  if (code[8] == 'M') return Uscc(std::move(code), UsccCheck::pilot_exception);
  return make_error(ErrorKind::invalid, "USCC_CHECK",
                    fmt::format("统一社会信用代码校验位错误（应为 {}）", expected),
                    fmt::format("The check character of the unified social credit code is wrong (expected {})", expected),
                    nlohmann::json::array({{{"value", code}, {"expected_check_char", std::string(1, expected)}}}));
}

}  // namespace statgov::domain

namespace statgov::domain {

Result<RegionCode> RegionCode::parse(std::string_view text) {
  std::string s = upper_trimmed(text);
  if (!all_digits(s) || (s.size() != 2 && s.size() != 4 && s.size() != 6 && s.size() != 9 &&
                         s.size() != 12)) {
    return make_error(ErrorKind::invalid, "REGION_FORMAT", "区划代码应为2、4、6、9或12位数字",
                      "A region code has 2, 4, 6, 9 or 12 digits",
                      nlohmann::json::array({{{"value", std::string(text)}}}));
  }
  s.append(12 - s.size(), '0');
  if (s.substr(0, 2) == "00") {
    return make_error(ErrorKind::invalid, "REGION_FORMAT", "区划代码的省级部分不能为00",
                      "The province part of a region code cannot be 00",
                      nlohmann::json::array({{{"value", std::string(text)}}}));
  }
  return RegionCode(std::move(s));
}

RegionLevel RegionCode::level() const {
  if (code_.substr(9, 3) != "000") return RegionLevel::village;
  if (code_.substr(6, 3) != "000") return RegionLevel::township;
  if (code_.substr(4, 2) != "00") return RegionLevel::county;
  if (code_.substr(2, 2) != "00") return RegionLevel::city;
  return RegionLevel::province;
}

std::string RegionCode::significant() const {
  switch (level()) {
    case RegionLevel::province: return code_.substr(0, 2);
    case RegionLevel::city: return code_.substr(0, 4);
    case RegionLevel::county: return code_.substr(0, 6);
    case RegionLevel::township: return code_.substr(0, 9);
    case RegionLevel::village: return code_;
  }
  return code_;
}

RegionCode RegionCode::parent() const {
  std::string p = code_;
  switch (level()) {
    case RegionLevel::province: return *this;
    case RegionLevel::city: p.replace(2, 10, 10, '0'); break;
    case RegionLevel::county: p.replace(4, 8, 8, '0'); break;
    case RegionLevel::township: p.replace(6, 6, 6, '0'); break;
    case RegionLevel::village: p.replace(9, 3, 3, '0'); break;
  }
  return RegionCode(std::move(p));
}

bool RegionCode::contains(const RegionCode& other) const {
  std::string sig = significant();
  return other.code_.compare(0, sig.size(), sig) == 0;
}

Result<IndustryCode> IndustryCode::parse(std::string_view text) {
  std::string s = upper_trimmed(text);
  bool ok = (s.size() == 1 && s[0] >= 'A' && s[0] <= 'T') ||
            ((s.size() == 2 || s.size() == 3 || s.size() == 4) && all_digits(s));
  if (!ok) {
    return make_error(ErrorKind::invalid, "INDUSTRY_FORMAT",
                      "行业代码应为门类字母(A-T)或2至4位数字（GB/T 4754-2017）",
                      "An industry code is a section letter (A-T) or 2 to 4 digits (GB/T 4754-2017)",
                      nlohmann::json::array({{{"value", std::string(text)}}}));
  }
  return IndustryCode(std::move(s));
}

IndustryLevel IndustryCode::level() const {
  switch (code_.size()) {
    case 1: return IndustryLevel::section;
    case 2: return IndustryLevel::division;
    case 3: return IndustryLevel::group;
    default: return IndustryLevel::industry_class;
  }
}

std::string IndustryCode::division() const { return code_.size() >= 2 ? code_.substr(0, 2) : ""; }

Result<SizeClass> parse_size_class(std::string_view text) {
  static constexpr std::array<std::string_view, 4> kNames = {"大型", "中型", "小型", "微型"};
  std::string s(text);
  for (int i = 0; i < 4; ++i) {
    if (s == std::to_string(i + 1) || s == kNames[static_cast<std::size_t>(i)]) {
      return static_cast<SizeClass>(i + 1);
    }
  }
  return make_error(ErrorKind::invalid, "SIZE_CLASS", "规模代码应为1-4（大型、中型、小型、微型）",
                    "The size class is 1-4 (large, medium, small, micro)",
                    nlohmann::json::array({{{"value", s}}}));
}

std::string_view size_class_name(SizeClass s) {
  switch (s) {
    case SizeClass::large: return "大型";
    case SizeClass::medium: return "中型";
    case SizeClass::small: return "小型";
    case SizeClass::micro: return "微型";
  }
  return "";
}

}  // namespace statgov::domain
