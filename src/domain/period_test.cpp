#include "domain/period.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace statgov::domain {
namespace {

TEST(Period, ParseAndFormat) {
  EXPECT_EQ(Period::parse("2026M10").value().str(), "2026M10");
  EXPECT_EQ(Period::parse("2026M3").value().str(), "2026M03");
  EXPECT_EQ(Period::parse("2026Q3").value().quarter_number(), 3);
  EXPECT_EQ(Period::parse("2026").value().frequency(), Frequency::year);
  for (auto bad : {"", "26M1", "2026M13", "2026M0", "2026Q5", "2026X1", "2026M1x", "abcd", "2026M-1"}) {
    auto r = Period::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "PERIOD_FORMAT");
  }
}

TEST(Period, Arithmetic) {
  auto jan = Period::month(2026, 1);
  EXPECT_EQ(jan.previous().str(), "2025M12");
  EXPECT_EQ(jan.same_last_year().str(), "2025M01");
  EXPECT_EQ(Period::quarter(2026, 1).previous().str(), "2025Q4");
  EXPECT_EQ(Period::month(2026, 12).next().str(), "2027M01");
  EXPECT_EQ(Period::containing(Frequency::quarter, 2026, 11).str(), "2026Q4");
  EXPECT_LT(Period::month(2025, 12), Period::month(2026, 1));
}

TEST(Period, DeadlineIsLocalTime) {
  // 2026M11 due 5 December 18:00 Beijing time = 10:00 UTC.
  EXPECT_EQ(format_local(Period::month(2026, 11).deadline(5, 18)), "2026-12-05T18:00:00+08:00");
  EXPECT_EQ(format_utc(Period::month(2026, 12).deadline(5, 18)), "2027-01-05T10:00:00.000Z");
  EXPECT_EQ(format_local(Period::quarter(2026, 3).deadline(15, 17)), "2026-10-15T17:00:00+08:00");
}

// str() writes what fmt wrote before it was written by hand, for any year and sub-period.
TEST(Period, TextIsTheFormattedYearAndSubPeriod) {
  for (int y : {-12, -1, 0, 7, 99, 999, 2026, 10000, 123456}) {
    for (int m : {-3, -1, 0, 1, 9, 10, 12, 99, 100, 1234}) {
      EXPECT_EQ(Period::month(y, m).str(), fmt::format("{}M{:02}", y, m));
      EXPECT_EQ(Period::quarter(y, m).str(), fmt::format("{}Q{}", y, m));
    }
    EXPECT_EQ(Period::year(y).str(), fmt::format("{}", y));
  }
}

}  // namespace
}  // namespace statgov::domain
