// Disclosure control invariants on random tables, and one table worked by hand.
#include "cube/disclosure.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace statgov::cube {
namespace {

int suppressed_in_row(const DisclosureTable& t, std::size_t r) {
  int n = 0;
  for (std::size_t c = 0; c <= t.cols(); ++c) n += t.mark(r, c) != Suppression::none;
  return n;
}
int suppressed_in_col(const DisclosureTable& t, std::size_t c) {
  int n = 0;
  for (std::size_t r = 0; r <= t.rows(); ++r) n += t.mark(r, c) != Suppression::none;
  return n;
}

TEST(Disclosure, RandomTablesKeepTheInvariants) {
  std::mt19937_64 rng(42);
  DisclosureParams p;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t R = 1 + rng() % 8, C = 1 + rng() % 8;
    p.min_units = 2 + static_cast<std::uint32_t>(rng() % 3);
    p.dominance = 0.6 + 0.3 * std::uniform_real_distribution<double>(0, 1)(rng);
    DisclosureTable t(R, C);
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < C; ++c) {
        TableCell& x = t.cell(r, c);
        x.units = rng() % 3 == 0 ? 0 : static_cast<std::uint32_t>(rng() % 12);
        if (x.units == 0) continue;
        x.largest = 1 + static_cast<double>(rng() % 1000);
        x.total =
            x.largest + (x.units - 1) * std::uniform_real_distribution<double>(0, x.largest)(rng);
      }
    t.with_margins();
    suppress(t, p);
    const std::string at = "trial " + std::to_string(trial);
    for (std::size_t r = 0; r <= R; ++r)
      EXPECT_NE(suppressed_in_row(t, r), 1) << at << " row " << r;
    for (std::size_t c = 0; c <= C; ++c)
      EXPECT_NE(suppressed_in_col(t, c), 1) << at << " col " << c;
    for (std::size_t r = 0; r <= R; ++r)
      for (std::size_t c = 0; c <= C; ++c) {
        if (is_primary(t.cell(r, c), p)) {
          EXPECT_EQ(t.mark(r, c), Suppression::primary) << at;
        }
        if (t.mark(r, c) == Suppression::primary) {
          EXPECT_TRUE(is_primary(t.cell(r, c), p)) << at;
        }
        if (t.cell(r, c).units == 0) {
          EXPECT_EQ(t.mark(r, c), Suppression::none) << at << " empty cell";
        }
      }
    // The linear audit: no suppressed cell follows from the published ones.
    EXPECT_TRUE(recoverable_cells(t).empty()) << at;
    // Totals are consistent: margins are the sums of what they total.
    for (std::size_t r = 0; r <= R; ++r) {
      double s = 0;
      std::uint32_t u = 0;
      for (std::size_t c = 0; c < C; ++c) s += t.cell(r, c).total, u += t.cell(r, c).units;
      EXPECT_NEAR(s, t.cell(r, C).total, 1e-6 * (std::fabs(s) + 1)) << at;
      EXPECT_EQ(u, t.cell(r, C).units) << at;
    }
    for (std::size_t c = 0; c <= C; ++c) {
      double s = 0;
      for (std::size_t r = 0; r < R; ++r) s += t.cell(r, c).total;
      EXPECT_NEAR(s, t.cell(R, c).total, 1e-6 * (std::fabs(s) + 1)) << at;
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// Marks by hand on an R x C table (margins included), for the audit alone.
DisclosureTable marked(std::size_t R, std::size_t C,
                       std::initializer_list<std::pair<std::size_t, std::size_t>> cells) {
  DisclosureTable t(R, C);
  for (auto [r, c] : cells) t.mark(r, c) = Suppression::secondary;
  return t;
}

TEST(Disclosure, AuditFindsExactlyTheDeterminedCells) {
  // A lone suppressed cell in its row is its margin minus the rest.
  EXPECT_EQ(recoverable_cells(marked(3, 3, {{0, 0}, {1, 0}})),
            (std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {1, 0}}));
  // A rectangle protects all four cells: +x -x around it keeps every total.
  EXPECT_TRUE(recoverable_cells(marked(3, 3, {{0, 0}, {0, 1}, {1, 0}, {1, 1}})).empty());
  // A rectangle through the margins protects too.
  EXPECT_TRUE(recoverable_cells(marked(3, 3, {{0, 0}, {0, 3}, {3, 0}, {3, 3}})).empty());
  // Two rectangles joined by one cell: every row and column holds two or more suppressed cells,
  // yet the joining cell is fixed (whatever flows round one rectangle can't cross to the other).
  // The simple line rule misses it; the audit finds it and only it.
  const auto dumbbell = marked(4, 4, {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 3},
                                      {1, 2}});
  EXPECT_EQ(recoverable_cells(dumbbell),
            (std::vector<std::pair<std::size_t, std::size_t>>{{1, 2}}));
  EXPECT_TRUE(recoverable_cells(marked(2, 2, {})).empty());
}

TEST(Disclosure, SuppressClosesWhatTheLineRuleLeavesOpen) {
  // The dumbbell again, as primaries: two units per cell (min_units 3) in the two blocks and the
  // joining cell; everything else has many units. suppress() must protect the joining cell.
  DisclosureTable t(4, 4);
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 4; ++c) t.cell(r, c) = {20, 1000.0 + 10 * r + c, 100};
  for (auto [r, c] : {std::pair<std::size_t, std::size_t>{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 2},
                      {2, 3}, {3, 2}, {3, 3}, {1, 2}})
    t.cell(r, c) = {2, 50.0, 30};
  t.with_margins();
  suppress(t);
  EXPECT_EQ(t.mark(1, 2), Suppression::primary);
  EXPECT_TRUE(recoverable_cells(t).empty());
  int secondary = 0;
  for (std::size_t r = 0; r <= 4; ++r)
    for (std::size_t c = 0; c <= 4; ++c) secondary += t.mark(r, c) == Suppression::secondary;
  EXPECT_GE(secondary, 1);
}

TEST(Disclosure, HandMadeTablePicksTheSmallestComplements) {
  DisclosureTable t(2, 3);
  t.cell(0, 0) = {10, 500, 60};
  t.cell(0, 1) = {2, 40, 30};  // primary: 2 units
  t.cell(0, 2) = {8, 100, 20};
  t.cell(1, 0) = {6, 300, 90};
  t.cell(1, 1) = {9, 200, 190};  // primary: one unit holds 95 %
  t.cell(1, 2) = {7, 700, 100};
  t.with_margins();
  suppress(t);
  EXPECT_EQ(t.mark(0, 1), Suppression::primary);
  EXPECT_EQ(t.mark(1, 1), Suppression::primary);
  // Column 1 already has two; rows 0 and 1 need one complement each.
  EXPECT_EQ(t.mark(0, 2), Suppression::secondary);  // 100 < 500
  EXPECT_EQ(t.mark(1, 0), Suppression::secondary);  // 300 < 700
  // Now columns 0 and 2 each have one: complements in the other row, or the margin.
  for (std::size_t c = 0; c <= 3; ++c) EXPECT_NE(suppressed_in_col(t, c), 1) << c;
  for (std::size_t r = 0; r <= 2; ++r) EXPECT_NE(suppressed_in_row(t, r), 1) << r;
  EXPECT_EQ(t.mark(2, 3), Suppression::none);  // the grand total stays published
}

TEST(Disclosure, CountySectionTableFromACube) {
  Cube cube(1);
  std::vector<double> v{10}, big{1000};
  ASSERT_TRUE(cube.upsert({1, {430202001, 13, 1}, v, State::accepted}).ok());
  ASSERT_TRUE(cube.upsert({2, {430202001, 13, 1}, v, State::accepted}).ok());
  ASSERT_TRUE(cube.upsert({3, {430202001, 13, 1}, big, State::accepted}).ok());
  ASSERT_TRUE(cube.upsert({4, {430203001, 44, 1}, v, State::accepted}).ok());
  ASSERT_TRUE(cube.upsert({5, {430203001, 44, 1}, v, State::draft}).ok());
  auto t = county_section_table(cube, 0, StateGroup::accepted);
  ASSERT_EQ(t.counties, (std::vector<std::uint32_t>{430202, 430203}));
  ASSERT_EQ(t.sections, (std::vector<char>{'C', 'D'}));
  EXPECT_EQ(t.table.cell(0, 0).units, 3u);
  EXPECT_EQ(t.table.cell(0, 0).largest, 1000);
  EXPECT_EQ(t.table.cell(1, 1).units, 1u);
  EXPECT_EQ(t.table.cell(2, 2).total, 1030);
  suppress(t.table);
  EXPECT_EQ(t.table.mark(0, 0), Suppression::primary);
  EXPECT_EQ(t.table.mark(1, 1), Suppression::primary);
}

}  // namespace
}  // namespace statgov::cube
