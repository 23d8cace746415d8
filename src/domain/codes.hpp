// Code value types: 统一社会信用代码 (GB 32100-2015), 组织机构代码 (GB 11714-1997),
// 统计用区划代码 (12 digits) and GB/T 4754-2017 industry codes. Pure logic, no I/O.
#pragma once

#include "base/result.hpp"

#include <string>
#include <string_view>

namespace statgov::domain {

// --- 组织机构代码 -------------------------------------------------------------------------------
// Check character for the 8-character body; '\0' if the body has a character outside 0-9A-Z.
char org_code_check_char(std::string_view body8);
// Accepts "XXXXXXXX-X" or "XXXXXXXXX".
bool org_code_valid(std::string_view code);

// --- 统一社会信用代码 -----------------------------------------------------------------------------
char uscc_check_char(std::string_view body17);  // '\0' if a character is outside the charset

enum class UsccCheck {
  valid,
  pilot_exception,  // legitimately issued early pilot code that fails the check: accept, warn
};

class Uscc {
 public:
  // Upper-cases and trims ASCII spaces. Errors: USCC_FORMAT (length or charset), USCC_CHECK
  // (check character wrong). Codes failing only the check whose 9-17 part is a valid organisation
  // code and whose registration prefix is from the pilot era are accepted as pilot_exception.
  static Result<Uscc> parse(std::string_view text);
  const std::string& str() const { return code_; }
  UsccCheck check() const { return check_; }
  std::string region_part() const { return code_.substr(2, 6); }
  bool operator==(const Uscc&) const = default;

 private:
  Uscc(std::string code, UsccCheck check) : code_(std::move(code)), check_(check) {}
  std::string code_;
  UsccCheck check_ = UsccCheck::valid;
};

// --- 统计用区划代码 -------------------------------------------------------------------------------
enum class RegionLevel { province = 1, city = 2, county = 3, township = 4, village = 5 };

class RegionCode {
 public:
  // Accepts 2, 4, 6, 9 or 12 digits; stores the 12-digit form.
  static Result<RegionCode> parse(std::string_view text);
  const std::string& str() const { return code_; }
  RegionLevel level() const;
  // The shortest prefix that identifies this region at its level (43, 4302, 430202, 430202001...).
  std::string significant() const;
  RegionCode parent() const;  // the province's parent is itself
  // True if `other` lies in this region's subtree (a region contains itself).
  bool contains(const RegionCode& other) const;
  bool operator==(const RegionCode&) const = default;
  auto operator<=>(const RegionCode&) const = default;

 private:
  explicit RegionCode(std::string code) : code_(std::move(code)) {}
  std::string code_;
};

// --- GB/T 4754-2017 ---------------------------------------------------------------------------
enum class IndustryLevel { section = 1, division = 2, group = 3, industry_class = 4 };  // 门类 大类 中类 小类

class IndustryCode {
 public:
  // Section letter A-T, or 2/3/4 digits. Whether the code exists is the reference table's call.
  static Result<IndustryCode> parse(std::string_view text);
  const std::string& str() const { return code_; }
  IndustryLevel level() const;
  std::string division() const;  // 2-digit 大类, empty for a section
  bool operator==(const IndustryCode&) const = default;

 private:
  explicit IndustryCode(std::string code) : code_(std::move(code)) {}
  std::string code_;
};

// 大中小微 (国统字〔2017〕213号): stored as 1..4.
enum class SizeClass { large = 1, medium = 2, small = 3, micro = 4 };
Result<SizeClass> parse_size_class(std::string_view text);  // "1".."4" or 大型/中型/小型/微型
std::string_view size_class_name(SizeClass s);

}  // namespace statgov::domain
