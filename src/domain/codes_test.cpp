#include "domain/codes.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace statgov::domain {
namespace {

// Minimal CSV split for the vector file (quoted fields with commas occur in the notes column).
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool q = false;
  for (char c : line) {
    if (c == '"') q = !q;
    else if (c == ',' && !q) { out.push_back(cur); cur.clear(); }
    else cur += c;
  }
  out.push_back(cur);
  return out;
}

struct Vector { std::string code, type; char check; bool valid; bool pilot; };

std::vector<Vector> load_vectors() {
  std::ifstream in(std::string(STATGOV_SOURCE_DIR) + "/data/refdata/check_code_test_vectors.csv");
  std::string line;
  std::getline(in, line);
  std::vector<Vector> v;
  while (std::getline(in, line)) {
    auto f = split_csv_line(line);
    if (f.size() < 10) continue;
    Vector x{f[0], f[1], f[7].empty() ? '\0' : f[7][0], f[8] == "true",
             line.find("pilot") != std::string::npos};
    v.push_back(x);
  }
  return v;
}

TEST(CheckCodes, EveryVectorInTheReferenceFile) {
  auto vectors = load_vectors();
  ASSERT_EQ(vectors.size(), 18u);
  int pilots = 0, invalid = 0;
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.code);
    if (v.type == "USCC") {
      EXPECT_EQ(uscc_check_char(std::string_view(v.code).substr(0, 17)), v.check);
      auto r = Uscc::parse(v.code);
      if (v.valid) {
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->check(), UsccCheck::valid);
      } else if (v.pilot) {
        ++pilots;
        ASSERT_TRUE(r.ok()) << "pilot-era codes are accepted";
        EXPECT_EQ(r->check(), UsccCheck::pilot_exception);
      } else {
        ++invalid;
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, "USCC_CHECK");
      }
    } else {
      EXPECT_EQ(org_code_check_char(std::string_view(v.code).substr(0, 8)), v.check);
      EXPECT_EQ(org_code_valid(v.code), v.valid);
      EXPECT_EQ(org_code_valid(v.code.substr(0, 8) + "-" + v.code.substr(8)), v.valid);
    }
  }
  EXPECT_EQ(pilots, 3);
  EXPECT_EQ(invalid, 1);
}

TEST(CheckCodes, UsccFormatErrors) {
  EXPECT_EQ(Uscc::parse("9137000072861193").error().code, "USCC_FORMAT");
  EXPECT_EQ(Uscc::parse("91370000728611939I").error().code, "USCC_FORMAT");
  EXPECT_TRUE(Uscc::parse(" 91370000728611939a ").ok());
}

TEST(CheckCodes, OrgCodeRejectsBadCharacters) {
  EXPECT_FALSE(org_code_valid("7286119*9"));
  EXPECT_FALSE(org_code_valid("72861193"));
  // The 三经普 convention: first 8 of the legal unit's code + "B" deliberately fails the check.
  EXPECT_FALSE(org_code_valid("72861193B"));
}

TEST(RegionCode, LevelsAndContainment) {
  auto city = RegionCode::parse("4302").value();
  auto county = RegionCode::parse("430202").value();
  auto town = RegionCode::parse("430202001").value();
  auto other = RegionCode::parse("430300000000").value();
  EXPECT_EQ(city.str(), "430200000000");
  EXPECT_EQ(city.level(), RegionLevel::city);
  EXPECT_EQ(county.level(), RegionLevel::county);
  EXPECT_EQ(town.level(), RegionLevel::township);
  EXPECT_EQ(town.parent(), county);
  EXPECT_EQ(county.parent(), city);
  EXPECT_TRUE(city.contains(town));
  EXPECT_TRUE(county.contains(county));
  EXPECT_FALSE(county.contains(city));
  EXPECT_FALSE(other.contains(town));
  EXPECT_EQ(RegionCode::parse("43020").error().code, "REGION_FORMAT");
  EXPECT_EQ(RegionCode::parse("4302ab").error().code, "REGION_FORMAT");
}

TEST(IndustryCode, Levels) {
  EXPECT_EQ(IndustryCode::parse("C").value().level(), IndustryLevel::section);
  EXPECT_EQ(IndustryCode::parse("3311").value().division(), "33");
  EXPECT_FALSE(IndustryCode::parse("U").ok());
  EXPECT_FALSE(IndustryCode::parse("33111").ok());
  EXPECT_EQ(parse_size_class("小型").value(), SizeClass::small);
  EXPECT_FALSE(parse_size_class("5").ok());
}

}  // namespace
}  // namespace statgov::domain
