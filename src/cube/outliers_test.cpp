// Hidiroglou-Berthelot and MAD scores on hand-made data with known outliers.
#include "cube/outliers.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace statgov::cube {
namespace {

std::vector<UnitPair> steady_growth() {
  // 30 units growing 3-7 %, sizes 100..3000.
  std::vector<UnitPair> v;
  for (int i = 0; i < 30; ++i) {
    const double prev = 100.0 * (i + 1);
    v.push_back({i + 1, prev, prev * (1.03 + 0.04 * (i % 5) / 4.0)});
  }
  return v;
}

TEST(Hidiroglou, FlagsJumpsAndDropsAndRanksThem) {
  auto units = steady_growth();
  units.push_back({101, 2000, 10000});  // x5, large unit
  units.push_back({102, 1500, 150});    // /10, large unit
  units.push_back({103, 0, 50});        // no ratio: not scored
  auto s = hidiroglou_berthelot(units);
  ASSERT_EQ(s.size(), 32u);
  EXPECT_TRUE(s[0].outlier);
  EXPECT_TRUE(s[1].outlier);
  EXPECT_TRUE((s[0].id == 101 && s[1].id == 102) || (s[0].id == 102 && s[1].id == 101));
  for (std::size_t i = 2; i < s.size(); ++i) EXPECT_FALSE(s[i].outlier) << s[i].id;
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_GE(s[i - 1].score, s[i].score);
  // The drop's E is negative, the jump's positive.
  for (const auto& x : s) {
    if (x.id == 101) {
      EXPECT_GT(x.statistic, 0);
    }
    if (x.id == 102) {
      EXPECT_LT(x.statistic, 0);
    }
  }
}

TEST(Hidiroglou, SizeEffectMakesTheSameRatioMatterMoreForLargeUnits) {
  auto units = steady_growth();
  units.push_back({201, 10, 25});       // x2.5, tiny unit
  units.push_back({202, 5000, 12500});  // x2.5, large unit
  HbParams p;
  p.u = 1.0;
  auto s = hidiroglou_berthelot(units, p);
  double small = 0, large = 0;
  for (const auto& x : s) {
    if (x.id == 201) small = x.score;
    if (x.id == 202) large = x.score;
  }
  EXPECT_GT(large, small);
  // With U = 0 the size does not matter: equal ratios, equal scores.
  p.u = 0.0;
  s = hidiroglou_berthelot(units, p);
  for (const auto& x : s) {
    if (x.id == 201) small = x.score;
    if (x.id == 202) large = x.score;
  }
  EXPECT_DOUBLE_EQ(large, small);
}

TEST(Hidiroglou, WiderAcceptanceZoneFlagsFewer) {
  auto units = steady_growth();
  units.push_back({301, 1000, 1300});
  units.push_back({302, 1000, 3000});
  auto count = [&](double c) {
    HbParams p;
    p.c = c;
    int n = 0;
    for (const auto& x : hidiroglou_berthelot(units, p)) n += x.outlier;
    return n;
  };
  EXPECT_GE(count(4), count(7));
  EXPECT_GE(count(7), 1);
}

TEST(Mad, FlagsTheFarValue) {
  std::vector<UnitValue> v;
  for (int i = 0; i < 20; ++i) v.push_back({i + 1, 10.0 + i % 7});
  v.push_back({99, 1000});
  v.push_back({98, NAN});  // missing: left out
  auto s = mad_scores(v);
  ASSERT_EQ(s.size(), 21u);
  EXPECT_EQ(s[0].id, 99);
  EXPECT_TRUE(s[0].outlier);
  EXPECT_GT(s[0].statistic, 0);
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_FALSE(s[i].outlier);
}

TEST(Mad, ZeroMadFallsBackToMeanDeviation) {
  std::vector<UnitValue> v;
  for (int i = 0; i < 10; ++i) v.push_back({i + 1, 5});
  v.push_back({50, 6});
  auto s = mad_scores(v);
  EXPECT_EQ(s[0].id, 50);
  EXPECT_TRUE(std::isfinite(s[0].statistic));
  EXPECT_EQ(s.back().score, 0);
}

TEST(Outliers, FromCubes) {
  Cube cur(1), prev(1);
  for (UnitId id = 1; id <= 20; ++id) {
    const double base = 100.0 * id;
    std::vector<double> a{base}, b{id == 7 ? base * 8 : base * 1.05};
    ASSERT_TRUE(prev.upsert({id, {430202001, 13, 2}, a, State::accepted}).ok());
    ASSERT_TRUE(
        cur.upsert({id, {430202001, 13, 2}, b, id == 3 ? State::draft : State::accepted}).ok());
  }
  auto pairs = pairs_of(cur, prev, 0, StateGroup::accepted);
  EXPECT_EQ(pairs.size(), 19u);  // unit 3 is a draft
  auto s = hidiroglou_berthelot(pairs);
  EXPECT_EQ(s[0].id, 7);
  EXPECT_TRUE(s[0].outlier);
  EXPECT_EQ(values_of(cur, 0, StateGroup::submitted_or_later).size(), 19u);
}

}  // namespace
}  // namespace statgov::cube
