// Property test: maintained cells, comparable cells and the full recompute against a naive model
// that the test keeps itself (a map of rows), over random directories, revisions and removals.
#include "cube/cube.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>

// Counting allocations proves the steady-state upsert allocates nothing. Not under ASan, which
// owns operator new itself (and flags a malloc/delete pairing it did not make).
namespace {
std::atomic<long> g_allocations{0};
}
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCountsAllocations = false;
#else
constexpr bool kCountsAllocations = true;
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace statgov::cube {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ModelRow {
  UnitDims dims;
  std::vector<double> values;
  State state;
};
using Model = std::map<UnitId, ModelRow>;

bool in_group(State s, StateGroup g) {
  if (g == StateGroup::accepted) return s == State::accepted;
  return s == State::submitted || s == State::reviewed || s == State::approved ||
         s == State::accepted;
}

struct NaiveRow {
  std::array<std::uint32_t, kStateCount> units{};
  std::vector<double> sum, abs;
  std::vector<std::uint32_t> count;
};

std::map<CellKey, NaiveRow> naive_rollup(const Model& m, int K, Rollup by, StateGroup g) {
  std::map<CellKey, NaiveRow> out;
  for (const auto& [id, row] : m) {
    NaiveRow& n = out[key_of(by, row.dims)];
    if (n.sum.empty()) n.sum.assign(K, 0), n.abs.assign(K, 0), n.count.assign(K, 0);
    n.units[static_cast<int>(row.state)]++;
    if (!in_group(row.state, g)) continue;
    for (int k = 0; k < K; ++k)
      if (!std::isnan(row.values[k]))
        n.sum[k] += row.values[k], n.abs[k] += std::fabs(row.values[k]), n.count[k]++;
  }
  return out;
}

struct NaiveGrowth {
  std::vector<double> cur, prev, abs;
  std::vector<std::uint32_t> units;
};

std::map<CellKey, NaiveGrowth> naive_growth(const Model& cur, const Model& prev, int K, Rollup by,
                                            StateGroup g) {
  std::map<CellKey, NaiveGrowth> out;
  for (const auto& [id, row] : cur) {
    auto it = prev.find(id);
    if (it == prev.end() || !in_group(row.state, g) || !in_group(it->second.state, g)) continue;
    bool any = false;
    for (int k = 0; k < K; ++k)
      any |= !std::isnan(row.values[k]) && !std::isnan(it->second.values[k]);
    if (!any) continue;
    NaiveGrowth& n = out[key_of(by, row.dims)];
    if (n.cur.empty())
      n.cur.assign(K, 0), n.prev.assign(K, 0), n.abs.assign(K, 0), n.units.assign(K, 0);
    for (int k = 0; k < K; ++k) {
      const double v = row.values[k], w = it->second.values[k];
      if (std::isnan(v) || std::isnan(w)) continue;
      n.cur[k] += v, n.prev[k] += w, n.abs[k] += std::fabs(v) + std::fabs(w), n.units[k]++;
    }
  }
  return out;
}

// Sums are maintained by adding and subtracting, so they may differ from the naive sum by rounding;
// the bound scales with the magnitudes that went through the cell.
void expect_near_sum(double got, double want, double abs, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-9 * (abs + 1.0)) << what;
}

const Rollup kRollups[] = {
    Rollup::city,     Rollup::county, Rollup::township,         Rollup::section,
    Rollup::division, Rollup::size,   Rollup::county_by_section};
const StateGroup kGroups[] = {StateGroup::accepted, StateGroup::submitted_or_later};

std::string where(Rollup by, StateGroup g, const CellKey& key) {
  return "rollup " + std::to_string(static_cast<int>(by)) + " group " +
         std::to_string(static_cast<int>(g)) + " county " + std::to_string(key.county) +
         " township " + std::to_string(key.township) + " section " +
         std::string(1, key.section ? key.section : '-') + " division " +
         std::to_string(key.division) + " size " + std::to_string(key.size);
}

// The recompute kernel builds this CPU runs (each asks STATGOV_CUBE_KERNEL for itself; an
// unsupported one falls back to a lesser build, which is then simply checked twice).
const char* const kKernels[] = {"base", "avx2", "avx512"};
struct KernelOverride {
  explicit KernelOverride(const char* k) { setenv("STATGOV_CUBE_KERNEL", k, 1); }
  ~KernelOverride() { unsetenv("STATGOV_CUBE_KERNEL"); }
};

void check_rollups(const Cells& cells, const Dictionaries& dict, const Model& m, int K,
                   const char* label) {
  for (StateGroup g : kGroups) {
    // All rollups at once give the same rows as one by one.
    auto all = rollups(cells, dict, kRollups, g);
    ASSERT_EQ(all.size(), std::size(kRollups));
    for (std::size_t i = 0; i < all.size(); ++i) {
      auto one = rollup(cells, dict, kRollups[i], g);
      ASSERT_EQ(all[i].size(), one.size()) << label;
      for (std::size_t r = 0; r < one.size(); ++r) {
        EXPECT_EQ(all[i][r].key, one[r].key) << label;
        EXPECT_EQ(all[i][r].units, one[r].units) << label;
        EXPECT_EQ(all[i][r].sum, one[r].sum) << label;
        EXPECT_EQ(all[i][r].count, one[r].count) << label;
      }
    }
  }
  for (Rollup by : kRollups)
    for (StateGroup g : kGroups) {
      auto want = naive_rollup(m, K, by, g);
      auto got = rollup(cells, dict, by, g);
      ASSERT_EQ(got.size(), want.size()) << label << " " << where(by, g, {});
      for (const RollupRow& row : got) {
        auto it = want.find(row.key);
        ASSERT_NE(it, want.end()) << label << " " << where(by, g, row.key);
        EXPECT_EQ(row.units, it->second.units) << label << " " << where(by, g, row.key);
        for (int k = 0; k < K; ++k) {
          EXPECT_EQ(row.count[k], it->second.count[k])
              << label << " " << where(by, g, row.key) << " k " << k;
          expect_near_sum(
              row.sum[k], it->second.sum[k], it->second.abs[k],
              std::string(label) + " " + where(by, g, row.key) + " k " + std::to_string(k));
        }
      }
    }
}

// Bit for bit (growth is NaN where it has no base).
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool same_row(const RollupRow& a, const RollupRow& b) {
  return a.key == b.key && a.units == b.units && same_bits(a.sum, b.sum) && a.count == b.count;
}
bool same_row(const GrowthRow& a, const GrowthRow& b) {
  return a.key == b.key && same_bits(a.current, b.current) && same_bits(a.previous, b.previous) &&
         a.units == b.units && same_bits(a.growth, b.growth);
}
template <class Row>
void expect_same_tables(const std::vector<std::vector<Row>>& got,
                        const std::vector<std::vector<Row>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t t = 0; t < got.size(); ++t) {
    ASSERT_EQ(got[t].size(), want[t].size()) << "table " << t;
    for (std::size_t r = 0; r < got[t].size(); ++r)
      EXPECT_TRUE(same_row(got[t][r], want[t][r])) << "table " << t << " row " << r;
  }
}

void check_growth(const ComparableCells& cells, const Dictionaries& dict, const Model& cur,
                  const Model& prev, int K, const char* label) {
  for (StateGroup g : kGroups) {
    auto all = growth_rollups(cells, dict, kRollups, g);
    ASSERT_EQ(all.size(), std::size(kRollups));
    for (std::size_t i = 0; i < all.size(); ++i) {
      auto one = growth_rollup(cells, dict, kRollups[i], g);
      ASSERT_EQ(all[i].size(), one.size()) << label;
      for (std::size_t r = 0; r < one.size(); ++r) {
        EXPECT_EQ(all[i][r].key, one[r].key) << label;
        EXPECT_EQ(all[i][r].current, one[r].current) << label;
        EXPECT_EQ(all[i][r].previous, one[r].previous) << label;
        EXPECT_EQ(all[i][r].units, one[r].units) << label;
      }
    }
  }
  for (Rollup by : kRollups)
    for (StateGroup g : kGroups) {
      auto want = naive_growth(cur, prev, K, by, g);
      auto got = growth_rollup(cells, dict, by, g);
      ASSERT_EQ(got.size(), want.size()) << label << " " << where(by, g, {});
      for (const GrowthRow& row : got) {
        auto it = want.find(row.key);
        ASSERT_NE(it, want.end()) << label << " " << where(by, g, row.key);
        const NaiveGrowth& n = it->second;
        for (int k = 0; k < K; ++k) {
          const std::string w =
              std::string(label) + " " + where(by, g, row.key) + " k " + std::to_string(k);
          EXPECT_EQ(row.units[k], n.units[k]) << w;
          expect_near_sum(row.current[k], n.cur[k], n.abs[k], w);
          expect_near_sum(row.previous[k], n.prev[k], n.abs[k], w);
          if (n.units[k] == 0 || n.prev[k] == 0) {
            // Tiny residue of an exact zero would give a huge growth; only check the no-unit case.
            if (n.units[k] == 0) {
              EXPECT_TRUE(std::isnan(row.growth[k])) << w;
            }
          } else if (std::fabs(n.prev[k]) > 1e-6 * (n.abs[k] + 1)) {
            const double g_want = n.cur[k] / n.prev[k] - 1;
            EXPECT_NEAR(row.growth[k], g_want, 1e-6 * (std::fabs(g_want) + 1)) << w;
          }
        }
      }
    }
}

// A random directory: counties with townships, and a pool of unit ids.
struct Directory {
  std::vector<std::uint32_t> townships;
  std::mt19937_64 rng;

  explicit Directory(std::uint64_t seed) : rng(seed) {
    const int counties = 1 + static_cast<int>(rng() % 5);
    for (int c = 0; c < counties; ++c) {
      const std::uint32_t county = 430200 + static_cast<std::uint32_t>(rng() % 99) + 1;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int t = 0; t < n; ++t)
        townships.push_back(county * 1000 + static_cast<std::uint32_t>(rng() % 30) + 1);
    }
  }
  UnitDims dims() {
    // A few divisions only, so cells fill up and rollups merge many units.
    static constexpr std::uint8_t divisions[] = {1,  6,  13, 30, 43, 44, 48,
                                                 51, 52, 61, 70, 72, 84, 97};
    return {townships[rng() % townships.size()], divisions[rng() % std::size(divisions)],
            static_cast<std::uint8_t>(1 + rng() % 4)};
  }
  std::vector<double> values(int K) {
    std::vector<double> v(static_cast<std::size_t>(K));
    for (auto& x : v) {
      const int kind = static_cast<int>(rng() % 10);
      if (kind < 2)
        x = kNaN;
      else if (kind == 2)
        x = 0;
      else if (kind == 3)
        x = -static_cast<double>(rng() % 1000) / 10;
      else
        x = std::exp(std::uniform_real_distribution<double>(0, 14)(rng));  // skewed, up to ~1e6
    }
    return v;
  }
  State state() { return static_cast<State>(rng() % kStateCount); }
};

void record(Model& m, const UnitRow& row) {
  m[row.id] =
      ModelRow{row.dims, std::vector<double>(row.values.begin(), row.values.end()), row.state};
}

class CubeProperty : public ::testing::TestWithParam<int> {};

TEST_P(CubeProperty, MaintainedAndRecomputedMatchNaive) {
  Directory dir(static_cast<std::uint64_t>(GetParam()) * 7919 + 1);
  const int K = 1 + static_cast<int>(dir.rng() % 9);
  Cube cur(K), prev(K);
  Model mcur, mprev;
  // Some rows before the pair exists: the pair's constructor must pick them up.
  for (UnitId id = 1; id <= 30; ++id) {
    auto v = dir.values(K);
    UnitRow row{id, dir.dims(), v, dir.state()};
    ASSERT_TRUE(prev.upsert(row).ok());
    record(mprev, row);
    if (dir.rng() % 4 != 0) {
      // Units that change county or industry between periods: fresh dims half the time.
      if (dir.rng() % 2) row.dims = dir.dims();
      auto v2 = dir.values(K);
      row.values = v2;
      row.state = dir.state();
      ASSERT_TRUE(cur.upsert(row).ok());
      record(mcur, row);
    }
  }
  CubePair pair(cur, prev);
  UnitId next_id = 31;
  for (int batch = 0; batch < 25; ++batch) {
    const int ops = 1 + static_cast<int>(dir.rng() % 40);
    for (int op = 0; op < ops; ++op) {
      const bool on_current = dir.rng() % 3 != 0;
      Model& m = on_current ? mcur : mprev;
      const int kind = static_cast<int>(dir.rng() % 10);
      if (kind < 2 || m.empty()) {  // a new unit (sometimes one known in the other period)
        UnitId id = next_id++;
        const Model& other = on_current ? mprev : mcur;
        if (!other.empty() && dir.rng() % 2) {
          auto it = other.begin();
          std::advance(it, static_cast<long>(dir.rng() % other.size()));
          if (!m.count(it->first)) id = it->first;
        }
        auto v = dir.values(K);
        UnitRow row{id, dir.dims(), v, dir.state()};
        ASSERT_TRUE((on_current ? pair.upsert_current(row) : pair.upsert_previous(row)).ok());
        record(m, row);
      } else if (kind < 8) {  // a revision: new values, maybe new state, maybe new classification
        auto it = m.begin();
        std::advance(it, static_cast<long>(dir.rng() % m.size()));
        UnitRow row{it->first, it->second.dims, {}, it->second.state};
        auto v = it->second.values;
        for (auto& x : v)
          if (dir.rng() % 2) x = dir.values(1)[0];
        row.values = v;
        if (dir.rng() % 2) row.state = dir.state();
        if (dir.rng() % 4 == 0) row.dims = dir.dims();
        ASSERT_TRUE((on_current ? pair.upsert_current(row) : pair.upsert_previous(row)).ok());
        record(m, row);
      } else {  // a removal
        auto it = m.begin();
        std::advance(it, static_cast<long>(dir.rng() % m.size()));
        const UnitId id = it->first;
        ASSERT_TRUE((on_current ? pair.remove_current(id) : pair.remove_previous(id)).ok());
        m.erase(id);
      }
    }
    ASSERT_EQ(cur.units(), mcur.size());
    ASSERT_EQ(prev.units(), mprev.size());
    check_rollups(cur.cells(), cur.dictionaries(), mcur, K, "maintained current");
    check_rollups(prev.cells(), prev.dictionaries(), mprev, K, "maintained previous");
    check_growth(pair.comparable(), cur.dictionaries(), mcur, mprev, K, "maintained growth");
    const int threads = 1 + batch % 2;
    for (const char* kernel : kKernels) {
      KernelOverride use(kernel);
      SCOPED_TRACE(kernel);
      PairCells full = recompute_pair(cur, prev, threads);
      check_rollups(full.current, cur.dictionaries(), mcur, K, "recomputed current");
      check_rollups(full.previous, prev.dictionaries(), mprev, K, "recomputed previous");
      check_growth(full.comparable, cur.dictionaries(), mcur, mprev, K, "recomputed growth");
      ComparableCells cmp = recompute_comparable(cur, prev, threads);
      check_growth(cmp, cur.dictionaries(), mcur, mprev, K, "recomputed comparable alone");
    }
    if (::testing::Test::HasFailure()) return;

    // Drill-down: the contributing units of a random county x section cell.
    if (!mcur.empty()) {
      auto it = mcur.begin();
      std::advance(it, static_cast<long>(dir.rng() % mcur.size()));
      const CellKey key = key_of(Rollup::county_by_section, it->second.dims);
      for (StateGroup g : kGroups) {
        std::vector<UnitId> want;
        for (const auto& [id, row] : mcur)
          if (key_of(Rollup::county_by_section, row.dims) == key && in_group(row.state, g) &&
              !std::isnan(row.values[0]))
            want.push_back(id);
        EXPECT_EQ(cur.contributing_units(key, g, 0), want);
      }
    }
  }
  // Clustering the current period and aligning the previous one to it changes row order, not
  // figures.
  cur.cluster();
  prev.align_to(cur);
  for (const char* kernel : kKernels) {
    KernelOverride use(kernel);
    SCOPED_TRACE(kernel);
    PairCells full = recompute_pair(cur, prev, 2);
    check_rollups(full.current, cur.dictionaries(), mcur, K, "clustered current");
    check_growth(full.comparable, cur.dictionaries(), mcur, mprev, K, "aligned growth");
    check_rollups(full.previous, prev.dictionaries(), mprev, K, "aligned previous");
  }
  CubePair again(cur, prev);
  check_growth(again.comparable(), cur.dictionaries(), mcur, mprev, K, "pair after align");
}

INSTANTIATE_TEST_SUITE_P(Seeds, CubeProperty, ::testing::Range(0, 12));

// Many units in few cells: after cluster() the recompute takes its run-by-run path (the random
// directories above are too sparse for it), including runs whose partners are not consecutive.
TEST(Cube, ClusteredRecomputeMatchesNaive) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    std::mt19937_64 rng(seed);
    const int K = 1 + static_cast<int>(rng() % 6);
    Cube cur(K), prev(K);
    Model mcur, mprev;
    auto dims = [&] {
      return UnitDims{static_cast<std::uint32_t>(430202001 + 1000 * (rng() % 2) + rng() % 2),
                      static_cast<std::uint8_t>(rng() % 2 ? 13 : 44),
                      static_cast<std::uint8_t>(1 + rng() % 2)};
    };
    auto values = [&] {
      std::vector<double> v(static_cast<std::size_t>(K));
      for (auto& x : v) x = rng() % 10 == 0 ? kNaN : static_cast<double>(rng() % 10000) / 7;
      return v;
    };
    for (UnitId id = 1; id <= 3001; ++id) {
      const UnitDims d = dims();
      auto v = values();
      UnitRow row{id, d, v, static_cast<State>(rng() % kStateCount)};
      ASSERT_TRUE(cur.upsert(row).ok());
      record(mcur, row);
      if (rng() % 10 != 0) {
        auto w = values();
        UnitRow old{id, rng() % 20 == 0 ? dims() : d, w, static_cast<State>(rng() % kStateCount)};
        ASSERT_TRUE(prev.upsert(old).ok());
        record(mprev, old);
      }
    }
    for (UnitId id = 5000; id < 5100; ++id) {  // gone since last year
      auto w = values();
      UnitRow old{id, dims(), w, State::accepted};
      ASSERT_TRUE(prev.upsert(old).ok());
      record(mprev, old);
    }
    cur.cluster();
    prev.align_to(cur);
    auto check_all = [&](const char* when) {
      SCOPED_TRACE(when);
      for (const char* kernel : kKernels) {
        KernelOverride use(kernel);
        SCOPED_TRACE(kernel);
        for (int threads : {1, 2}) {
          PairCells full = recompute_pair(cur, prev, threads);
          check_rollups(full.current, cur.dictionaries(), mcur, K, "clustered current");
          check_rollups(full.previous, prev.dictionaries(), mprev, K, "clustered previous");
          check_growth(full.comparable, cur.dictionaries(), mcur, mprev, K, "clustered growth");
        }
        Cube copy = cur;
        copy.recompute(2);
        check_rollups(copy.cells(), cur.dictionaries(), mcur, K, "clustered Cube::recompute");
      }
      // All the tables of the pair at once, on 1 to 3 threads: each the same as rollups() or
      // growth_rollups() gives for its cells, dictionaries and group (checked against the model
      // above).
      const PairCells full = recompute_pair(cur, prev, 2);
      const StateGroup groups[] = {StateGroup::submitted_or_later, StateGroup::accepted};
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(threads);
        const auto tables =
            pair_rollups(full, cur.dictionaries(), prev.dictionaries(), kRollups, groups, threads);
        ASSERT_EQ(tables.size(), std::size(groups));
        for (std::size_t g = 0; g < std::size(groups); ++g) {
          EXPECT_EQ(tables[g].group, groups[g]);
          expect_same_tables(tables[g].current,
                             rollups(full.current, cur.dictionaries(), kRollups, groups[g]));
          expect_same_tables(tables[g].previous,
                             rollups(full.previous, prev.dictionaries(), kRollups, groups[g]));
          expect_same_tables(tables[g].growth, growth_rollups(full.comparable, cur.dictionaries(),
                                                              kRollups, groups[g]));
        }
      }
    };
    check_all("after cluster");
    CubePair pair(cur, prev);
    check_growth(pair.comparable(), cur.dictionaries(), mcur, mprev, K, "clustered pair");
    check_rollups(cur.cells(), cur.dictionaries(), mcur, K, "clustered maintained");
    // Upserts after clustering: revisions in place (new state, sometimes new cells), new units
    // appended at the end of either period, removals that move the last row into the hole.
    for (int op = 0; op < 400; ++op) {
      const bool on_current = rng() % 3 != 0;
      Model& m = on_current ? mcur : mprev;
      UnitId id = static_cast<UnitId>(1 + rng() % 3001);
      if (op % 10 == 0) id = 6000 + op;  // new
      if (op % 17 == 0 && m.count(id)) {
        ASSERT_TRUE((on_current ? pair.remove_current(id) : pair.remove_previous(id)).ok());
        m.erase(id);
        continue;
      }
      auto v = values();
      const auto it = m.find(id);
      UnitRow row{id, it == m.end() || rng() % 5 == 0 ? dims() : it->second.dims, v,
                  static_cast<State>(rng() % kStateCount)};
      ASSERT_TRUE((on_current ? pair.upsert_current(row) : pair.upsert_previous(row)).ok());
      record(m, row);
    }
    check_all("after upserts");
    check_growth(pair.comparable(), cur.dictionaries(), mcur, mprev, K, "pair after upserts");
  }
}

// ---- exact agreement of the kernels (whole-number values: every partial sum is exact) ----------

// A unit's cell: most in one big cell, the rest in `spread` x `spread` townships of two sections.
UnitDims clustered_dims(std::mt19937_64& rng, unsigned big_one_in, unsigned spread) {
  const bool big = rng() % big_one_in != 0;
  return UnitDims{
      static_cast<std::uint32_t>(430202001 + (big ? 0 : 1000 * (rng() % spread) + rng() % spread)),
      static_cast<std::uint8_t>(big ? 13 : (rng() % 2 ? 13 : 44)),
      static_cast<std::uint8_t>(big ? 4 : 1 + rng() % 4)};
}

// K whole numbers below 1000, one in ten missing.
std::vector<double> whole_values(std::mt19937_64& rng, int K) {
  std::vector<double> v(static_cast<std::size_t>(K));
  for (auto& x : v) x = rng() % 10 == 0 ? kNaN : static_cast<double>(rng() % 1000);
  return v;
}

// Units 1..n in the current period; nine in ten also in the previous one (one in twenty of those in
// another cell there).
void fill_clustered(Cube& cur, Cube& prev, UnitId n, int K, std::mt19937_64& rng, unsigned big_one_in,
                    unsigned spread) {
  for (UnitId id = 1; id <= n; ++id) {
    const UnitDims d = clustered_dims(rng, big_one_in, spread);
    ASSERT_TRUE(cur.upsert({id, d, whole_values(rng, K), static_cast<State>(rng() % kStateCount)}).ok());
    if (rng() % 10 != 0) {
      auto w = whole_values(rng, K);
      const UnitDims pd = rng() % 20 == 0 ? clustered_dims(rng, big_one_in, spread) : d;
      ASSERT_TRUE(prev.upsert({id, pd, w, static_cast<State>(rng() % kStateCount)}).ok());
    }
  }
}

// Bands 0 and 1 equal to the last bit (band 2's sums are scratch in a recompute). A maintained grid
// may have more cells than a recomputed one (it grows when a unit lands in a new cell and does not
// shrink): cells past the shorter grid must be empty.
void expect_same_grid(const Grid& a, const Grid& b, const char* what) {
  for (std::size_t cell = 0; cell < std::max(a.cells(), b.cells()); ++cell)
    for (int band = 0; band < 2; ++band)
      for (int k = 0; k < a.k; ++k) {
        const auto at = [&](const Grid& g) { return g.at(cell, band) + static_cast<std::size_t>(k); };
        const auto value = [&](const Grid& g, const std::vector<double>& v) {
          return cell < g.cells() ? v[at(g)] : 0.0;
        };
        const std::uint32_t na = cell < a.cells() ? a.count[at(a)] : 0;
        const std::uint32_t nb = cell < b.cells() ? b.count[at(b)] : 0;
        ASSERT_EQ(na, nb) << what << " cell " << cell << " band " << band;
        ASSERT_EQ(value(a, a.sum), value(b, b.sum)) << what << " cell " << cell << " band " << band;
        if (!a.second.empty() && !b.second.empty()) {
          ASSERT_EQ(value(a, a.second), value(b, b.second)) << what << " cell " << cell;
        }
      }
}

void expect_same_cells(const Cells& a, const Cells& b, const char* what) {
  expect_same_grid(a.cds, b.cds, what);
  expect_same_grid(a.ts, b.ts, what);
  EXPECT_EQ(a.cds_states, b.cds_states) << what;
  EXPECT_EQ(a.ts_states, b.ts_states) << what;
}

// Every kernel build, with 1 and 2 threads: the pair, the current cells alone and the comparable
// cells alone equal what is expected.
void expect_kernels_give(const Cube& cur, const Cube& prev, const Cells& want_current, const Cells& want_previous,
                         const ComparableCells& want_comparable) {
  for (const char* kernel : kKernels) {
    KernelOverride use(kernel);
    SCOPED_TRACE(kernel);
    for (int threads : {1, 2}) {
      PairCells got = recompute_pair(cur, prev, threads);
      expect_same_cells(got.current, want_current, "current");
      expect_same_cells(got.previous, want_previous, "previous");
      expect_same_grid(got.comparable.cds, want_comparable.cds, "comparable cds");
      expect_same_grid(got.comparable.ts, want_comparable.ts, "comparable ts");
      expect_same_cells(recompute_cells(cur, threads), want_current, "current alone");
      const ComparableCells cmp = recompute_comparable(cur, prev, threads);
      expect_same_grid(cmp.cds, want_comparable.cds, "comparable alone");
    }
  }
}

// Every build of the recompute kernel gives exactly the same cells when the values are whole
// numbers (every partial sum is then exact, whatever the order of the adds). Big enough for the
// AVX-512 kernel's long blocks (262,144 rows) and for runs of one cell longer than one segment may
// be (65,528 rows): a quarter of a million units in few cells.
TEST(Cube, KernelsAgreeExactlyOnLongRuns) {
  std::mt19937_64 rng(42);
  const int K = 2;
  Cube cur(K), prev(K);
  fill_clustered(cur, prev, 300000, K, rng, 4, 2);  // most units in one cell, the rest in a few others
  cur.cluster();
  prev.align_to(cur);
  PairCells want;
  {
    KernelOverride use("base");
    want = recompute_pair(cur, prev, 2);
  }
  ASSERT_EQ(want.current.cds.cells(), cur.cells().cds.cells());
  expect_kernels_give(cur, prev, want.current, want.previous, want.comparable);
  // And the base build against the cells maintained row by row.
  expect_same_cells(cur.cells(), want.current, "maintained current");
}

// The same exactness after the rows have been churned: clustered and aligned, then revisions (new
// state, values, sometimes a move to other cells), new units of either period and removals (which
// move the last row into the hole), so that the set-up pass meets every fallback: previous-period
// rows in other cells than their current partner's, partners not at the same row, units of one
// period only, in cells long and short. Every build, 1 and 2 threads, equals the base build and the
// cells maintained row by row (current and comparable).
TEST(Cube, KernelsAgreeExactlyAfterChurn) {
  for (std::uint64_t seed = 7; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    const int K = 3;
    Cube cur(K), prev(K);
    const UnitId n = 20000;
    fill_clustered(cur, prev, n, K, rng, 3, 3);
    for (UnitId id = n + 1; id <= n + 500; ++id) {  // only in the previous period
      auto w = whole_values(rng, K);
      ASSERT_TRUE(prev.upsert({id, clustered_dims(rng, 3, 3), w, static_cast<State>(rng() % kStateCount)}).ok());
    }
    cur.cluster();
    prev.align_to(cur);
    CubePair pair(cur, prev);
    for (int op = 0; op < 3000; ++op) {
      const bool on_current = rng() % 2 != 0;
      const Cube& c = on_current ? cur : prev;
      UnitId id = static_cast<UnitId>(1 + rng() % (n + 500));
      if (op % 10 == 0) id = 2 * n + op;  // new
      if (op % 13 == 0 && c.find(id)) {
        ASSERT_TRUE((on_current ? pair.remove_current(id) : pair.remove_previous(id)).ok());
        continue;
      }
      auto v = whole_values(rng, K);
      const auto r = c.find(id);
      const UnitDims d = !r || rng() % 4 == 0 ? clustered_dims(rng, 3, 3) : c.row_dims(*r);
      const UnitRow row{id, d, v, static_cast<State>(rng() % kStateCount)};
      ASSERT_TRUE((on_current ? pair.upsert_current(row) : pair.upsert_previous(row)).ok());
    }
    expect_kernels_give(cur, prev, cur.cells(), prev.cells(), pair.comparable());
  }
}

TEST(Cube, RejectsBadRows) {
  Cube c(2);
  std::vector<double> two{1, 2}, one{1};
  EXPECT_EQ(c.upsert({1, {430202001, 13, 1}, one, State::accepted}).error().code, "CUBE_BAD_ROW");
  EXPECT_FALSE(c.upsert({1, {4302020, 13, 1}, two, State::accepted}).ok());
  EXPECT_FALSE(c.upsert({1, {430202001, 99, 1}, two, State::accepted}).ok());
  EXPECT_FALSE(c.upsert({1, {430202001, 13, 5}, two, State::accepted}).ok());
  EXPECT_EQ(c.units(), 0u);
  EXPECT_EQ(c.remove(7).error().kind, ErrorKind::not_found);
}

TEST(Cube, SectionsFollowGbt4754) {
  EXPECT_EQ(section_of_division(1), 'A');
  EXPECT_EQ(section_of_division(5), 'A');
  EXPECT_EQ(section_of_division(6), 'B');
  EXPECT_EQ(section_of_division(13), 'C');
  EXPECT_EQ(section_of_division(43), 'C');
  EXPECT_EQ(section_of_division(44), 'D');
  EXPECT_EQ(section_of_division(70), 'K');
  EXPECT_EQ(section_of_division(83), 'P');
  EXPECT_EQ(section_of_division(97), 'T');
  EXPECT_EQ(section_of_division(0), 0);
  EXPECT_EQ(section_of_division(98), 0);
}

TEST(Cube, RevisionOfAKnownUnitAllocatesNothing) {
  const int K = 50;
  Cube cur(K), prev(K);
  std::vector<double> v(K, 1.0);
  for (UnitId id = 1; id <= 100; ++id) {
    ASSERT_TRUE(
        cur.upsert(
               {id, {430202001u + static_cast<std::uint32_t>(id % 3), 13, 2}, v, State::submitted})
            .ok());
    ASSERT_TRUE(prev.upsert({id, {430202001, 14, 2}, v, State::accepted}).ok());
  }
  CubePair pair(cur, prev);
  std::vector<double> w(K, 2.0);
  const long before = g_allocations.load();
  // Changes values, state, county and industry, on both sides.
  const RowError e1 = pair.apply_current({5, {430202002, 30, 4}, w, State::accepted});
  const RowError e2 = pair.apply_previous({5, {430202001, 30, 1}, w, State::accepted});
  const RowError e3 = cur.apply({6, {430202001, 31, 3}, w, State::returned});
  const long allocations = g_allocations.load() - before;
  if (kCountsAllocations) {
    EXPECT_EQ(allocations, 0);
  }
  EXPECT_EQ(e1, RowError::none);
  EXPECT_EQ(e2, RowError::none);
  EXPECT_EQ(e3, RowError::none);
  auto growth = pair.growth(Rollup::division, StateGroup::accepted);
  ASSERT_EQ(growth.size(), 1u);  // only unit 5 is accepted in both periods
  EXPECT_EQ(growth[0].key.division, 30);
  EXPECT_EQ(growth[0].units[0], 1u);
  EXPECT_EQ(growth[0].growth[0], 0.0);
}

TEST(Cube, YtdSumsMonthsAndTakesTheLatestClassification) {
  const int K = 2;
  Cube jan(K), feb(K), mar(K);
  std::vector<double> a{1, kNaN}, b{2, kNaN}, c{4, 5}, d{10, 20};
  ASSERT_TRUE(jan.upsert({1, {430202001, 13, 1}, a, State::accepted}).ok());
  ASSERT_TRUE(feb.upsert({1, {430202001, 13, 1}, b, State::accepted}).ok());
  ASSERT_TRUE(mar.upsert({1, {430203001, 44, 2}, c, State::submitted}).ok());  // moved county
  ASSERT_TRUE(jan.upsert({2, {430202001, 13, 3}, d, State::accepted}).ok());   // stopped reporting
  const Cube* months[] = {&jan, &feb, &mar};
  auto ytd = derive_ytd(months);
  ASSERT_TRUE(ytd.ok());
  ASSERT_EQ(ytd->units(), 2u);
  const std::uint32_t r1 = *ytd->find(1), r2 = *ytd->find(2);
  EXPECT_EQ(ytd->value(r1, 0), 7);
  EXPECT_EQ(ytd->value(r1, 1), 5);
  EXPECT_EQ(ytd->row_dims(r1), (UnitDims{430203001, 44, 2}));
  EXPECT_EQ(ytd->row_state(r1), State::submitted);
  EXPECT_EQ(ytd->value(r2, 1), 20);
  auto accepted = ytd->rollup(Rollup::county, StateGroup::accepted);
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_EQ(accepted[0].key.county, 430202u);
  EXPECT_EQ(accepted[0].sum[0], 10);
  EXPECT_EQ(accepted[1].count[0], 0u);  // unit 1 is only submitted in March
  auto submitted = ytd->rollup(Rollup::city, StateGroup::submitted_or_later);
  EXPECT_EQ(submitted[0].sum[0], 17);
  EXPECT_EQ(submitted[0].sum[1], 25);

  Cube other(3);
  const Cube* mixed[] = {&jan, &other};
  EXPECT_FALSE(derive_ytd(mixed).ok());
  EXPECT_FALSE(derive_ytd(std::span<const Cube* const>{}).ok());
}

TEST(Cube, MemoryStaysNearTheRawValues) {
  const int K = 50;
  Cube c(K);
  c.reserve(20000);
  std::vector<double> v(K, 1.0);
  for (UnitId id = 1; id <= 20000; ++id)
    ASSERT_TRUE(
        c.upsert({id,
                  {430202001u + static_cast<std::uint32_t>(id % 40),
                   static_cast<std::uint8_t>(1 + id % 97), static_cast<std::uint8_t>(1 + id % 4)},
                  v,
                  State::accepted})
            .ok());
  const double per_unit = static_cast<double>(c.memory_bytes()) / static_cast<double>(c.units());
  EXPECT_LT(per_unit, 1.5 * 8 * K);
}

}  // namespace
}  // namespace statgov::cube
