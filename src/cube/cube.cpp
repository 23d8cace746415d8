// Cube rows, maintained cells, rollups from cells, the comparable-unit pair and the full recompute.
#include "cube/cube.hpp"

#include <immintrin.h>
#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <thread>
#include <tuple>

namespace statgov::cube {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Error bad_input(std::string zh, std::string en) {
  return make_error(ErrorKind::invalid, "CUBE_BAD_ROW", std::move(zh), std::move(en));
}

std::size_t cds_cell(std::uint32_t county, int division, int size) {
  return (static_cast<std::size_t>(county) * kDivisions + division) * kSizes + (size - 1);
}
std::size_t ts_cell(std::uint32_t township, int size) {
  return static_cast<std::size_t>(township) * kSizes + (size - 1);
}

// Pair band of a comparable unit: 0 both accepted, 1 both submitted or later, 2 not comparable.
int pair_band(int band_current, int band_previous) {
  if (band_current == 0 && band_previous == 0) return 0;
  if (band_current <= 1 && band_previous <= 1) return 1;
  return 2;
}

std::span<const int> bands_of(StateGroup g) {
  static constexpr int accepted[] = {0};
  static constexpr int submitted[] = {0, 1};
  if (g == StateGroup::accepted) return accepted;
  return submitted;
}

// Where a cds cell goes in a rollup: output slot and key. Township is handled from grid ts.
struct Slotter {
  Rollup by;
  const Dictionaries& dict;
  std::size_t slots() const {
    switch (by) {
      case Rollup::city:
        return 1;
      case Rollup::county:
        return dict.counties();
      case Rollup::township:
        return dict.townships();
      case Rollup::section:
        return 20;
      case Rollup::division:
        return kDivisions;
      case Rollup::size:
        return kSizes;
      case Rollup::county_by_section:
        return dict.counties() * 20;
    }
    return 1;
  }
  // From a cds cell number.
  std::size_t slot(std::size_t cell, CellKey& key) const {
    std::size_t size = cell % kSizes + 1;
    std::size_t division = cell / kSizes % kDivisions;
    std::size_t county = cell / kSizes / kDivisions;
    int sec = section_index(section_of_division(static_cast<int>(division)));
    key = {};
    switch (by) {
      case Rollup::city:
        return 0;
      case Rollup::county:
        key.county = dict.county_code(county);
        return county;
      case Rollup::section:
        key.section = section_of_division(static_cast<int>(division));
        return sec < 0 ? 0 : sec;
      case Rollup::division:
        key.division = static_cast<std::uint8_t>(division);
        return division;
      case Rollup::size:
        key.size = static_cast<std::uint8_t>(size);
        return size - 1;
      case Rollup::county_by_section:
        key.county = dict.county_code(county);
        key.section = section_of_division(static_cast<int>(division));
        return county * 20 + (sec < 0 ? 0 : sec);
      case Rollup::township:
        break;
    }
    assert(false && "township rollups read grid ts");
    return 0;
  }
  // From a ts cell number.
  std::size_t township_slot(std::size_t cell, CellKey& key) const {
    std::size_t t = cell / kSizes;
    key = {};
    key.township = dict.township_code(t);
    key.county = key.township / 1000;
    return t;
  }
};

}  // namespace

// --- codes --------------------------------------------------------------------------------------

char section_of_division(int d) {
  // GB/T 4754-2017: the first division of each section A..T, then a sentinel.
  static constexpr int first[] = {1,  6,  13, 44, 47, 51, 53, 61, 63, 66, 70,
                                  71, 73, 76, 80, 83, 84, 86, 91, 97, 98};
  if (d < 1 || d > 97) return 0;
  for (int i = 0; i < 20; ++i)
    if (d < first[i + 1]) return static_cast<char>('A' + i);
  return 0;
}

int section_index(char s) { return s >= 'A' && s <= 'T' ? s - 'A' : -1; }

int band_of(State s) {
  switch (s) {
    case State::accepted:
      return 0;
    case State::submitted:
    case State::reviewed:
    case State::approved:
      return 1;
    case State::not_started:
    case State::draft:
    case State::returned:
      return 2;
  }
  return 2;
}

CellKey key_of(Rollup by, const UnitDims& d) {
  CellKey k;
  switch (by) {
    case Rollup::city:
      break;
    case Rollup::county:
      k.county = d.township / 1000;
      break;
    case Rollup::township:
      k.township = d.township;
      k.county = d.township / 1000;
      break;
    case Rollup::section:
      k.section = section_of_division(d.division);
      break;
    case Rollup::division:
      k.division = d.division;
      break;
    case Rollup::size:
      k.size = d.size;
      break;
    case Rollup::county_by_section:
      k.county = d.township / 1000;
      k.section = section_of_division(d.division);
      break;
  }
  return k;
}

// --- grids and dictionaries --------------------------------------------------------------------

void Grid::resize_cells(std::size_t n, bool with_second) {
  std::size_t len = n * bands * static_cast<std::size_t>(k);
  sum.resize(len, 0.0);
  count.resize(len, 0);
  if (with_second) second.resize(len, 0.0);
}

std::pair<std::uint32_t, std::uint32_t> Dictionaries::intern(std::uint32_t township) {
  std::uint32_t county = township / 1000;
  auto c = county_index_.find(county);
  std::uint32_t ci;
  if (c == county_index_.end()) {
    ci = static_cast<std::uint32_t>(county_codes_.size());
    county_codes_.push_back(county);
    county_index_.emplace(county, ci);
  } else {
    ci = c->second;
  }
  auto t = township_index_.find(township);
  std::uint32_t ti;
  if (t == township_index_.end()) {
    ti = static_cast<std::uint32_t>(township_codes_.size());
    township_codes_.push_back(township);
    township_index_.emplace(township, ti);
  } else {
    ti = t->second;
  }
  return {ci, ti};
}

std::optional<std::uint32_t> Dictionaries::find_county(std::uint32_t county) const {
  auto it = county_index_.find(county);
  if (it == county_index_.end()) return std::nullopt;
  return it->second;
}
std::optional<std::uint32_t> Dictionaries::find_township(std::uint32_t township) const {
  auto it = township_index_.find(township);
  if (it == township_index_.end()) return std::nullopt;
  return it->second;
}
std::size_t Dictionaries::memory_bytes() const {
  return (county_codes_.capacity() + township_codes_.capacity()) * 4 +
         (county_index_.size() + township_index_.size()) * 32 +
         (county_index_.bucket_count() + township_index_.bucket_count()) * 8;
}

void Cells::init(int k) {
  cds = Grid{k, kBands, {}, {}, {}};
  ts = Grid{k, kBands, {}, {}, {}};
  cds_states.clear();
  ts_states.clear();
}
void Cells::fit(const Dictionaries& dict) {
  std::size_t n1 = dict.counties() * kDivisions * kSizes;
  std::size_t n2 = dict.townships() * kSizes;
  if (cds.cells() < n1) {
    cds.resize_cells(n1, false);
    cds_states.resize(n1 * kStateCount, 0);
  }
  if (ts.cells() < n2) {
    ts.resize_cells(n2, false);
    ts_states.resize(n2 * kStateCount, 0);
  }
}

void ComparableCells::init(int k) {
  cds = Grid{k, kBands, {}, {}, {}};
  ts = Grid{k, kBands, {}, {}, {}};
}
void ComparableCells::fit(const Dictionaries& dict) {
  std::size_t n1 = dict.counties() * kDivisions * kSizes;
  std::size_t n2 = dict.townships() * kSizes;
  if (cds.cells() < n1) cds.resize_cells(n1, true);
  if (ts.cells() < n2) ts.resize_cells(n2, true);
}

// --- rollups from cells -------------------------------------------------------------------------

// Several rollups, for several state groups, in one pass over each grid: a cell's figures are
// read once (from memory; the grids are larger than the caches) and added to its row in every
// rollup and group asked for (reading the grids once per rollup cost more than the adds). Each
// (group, rollup) adds its cells in cell order, so its rows are the same as when asked alone.
// Result [g][i]: rollup by[i] of groups[g].
std::vector<std::vector<std::vector<RollupRow>>> grouped_rollups(
    const Cells& cells, const Dictionaries& dict, std::span<const Rollup> bys,
    std::span<const StateGroup> groups) {
  const std::size_t k = static_cast<std::size_t>(cells.cds.k);
  struct Out {
    Slotter slotter;
    StateGroup group;
    std::vector<RollupRow> rows;
    std::vector<bool> used;
  };
  std::vector<Out> outs;
  for (StateGroup group : groups)
    for (Rollup by : bys) {
      Slotter slotter{by, dict};
      const std::size_t n = slotter.slots();
      outs.push_back({slotter, group, std::vector<RollupRow>(n), std::vector<bool>(n, false)});
    }
  for (const bool township : {false, true}) {
    const Grid& g = township ? cells.ts : cells.cds;
    const std::vector<std::uint32_t>& states = township ? cells.ts_states : cells.cds_states;
    bool any = false;
    for (const Out& o : outs) any |= (o.slotter.by == Rollup::township) == township;
    if (!any) continue;
    const std::size_t n_cells = std::min(g.cells(), states.size() / kStateCount);
    for (std::size_t c = 0; c < n_cells; ++c) {
      const std::uint32_t* st = &states[c * kStateCount];
      std::uint32_t units = 0;
      for (int s = 0; s < kStateCount; ++s) units += st[s];
      if (units == 0) continue;  // most (county, division, size) cells are empty
      for (Out& o : outs) {
        if ((o.slotter.by == Rollup::township) != township) continue;
        CellKey key;
        const std::size_t slot =
            township ? o.slotter.township_slot(c, key) : o.slotter.slot(c, key);
        RollupRow& row = o.rows[slot];
        if (!o.used[slot]) {
          o.used[slot] = true;
          row.key = key;
          row.sum.assign(k, 0.0);
          row.count.assign(k, 0);
        }
        for (int s = 0; s < kStateCount; ++s) row.units[s] += st[s];
        double* sum = row.sum.data();
        std::uint32_t* count = row.count.data();
        for (int b : bands_of(o.group)) {
          const double* cs = &g.sum[g.at(c, b)];
          const std::uint32_t* cn = &g.count[g.at(c, b)];
          for (std::size_t i = 0; i < k; ++i) sum[i] += cs[i], count[i] += cn[i];
        }
      }
    }
  }
  std::vector<std::vector<std::vector<RollupRow>>> result(groups.size());
  for (std::size_t i = 0; i < outs.size(); ++i) {
    Out& o = outs[i];
    std::vector<RollupRow> rows;
    for (std::size_t s = 0; s < o.rows.size(); ++s)
      if (o.used[s]) rows.push_back(std::move(o.rows[s]));
    std::sort(rows.begin(), rows.end(),
              [](const RollupRow& a, const RollupRow& b) { return a.key < b.key; });
    result[i / bys.size()].push_back(std::move(rows));
  }
  return result;
}

std::vector<std::vector<RollupRow>> rollups(const Cells& cells, const Dictionaries& dict,
                                            std::span<const Rollup> bys, StateGroup group) {
  return std::move(grouped_rollups(cells, dict, bys, {&group, 1})[0]);
}

std::vector<RollupRow> rollup(const Cells& cells, const Dictionaries& dict, Rollup by,
                              StateGroup group) {
  return std::move(rollups(cells, dict, {&by, 1}, group)[0]);
}

// As grouped_rollups, for growth.
std::vector<std::vector<std::vector<GrowthRow>>> grouped_growth_rollups(
    const ComparableCells& cells, const Dictionaries& dict, std::span<const Rollup> bys,
    std::span<const StateGroup> groups) {
  const std::size_t k = static_cast<std::size_t>(cells.cds.k);
  struct Out {
    Slotter slotter;
    StateGroup group;
    std::vector<GrowthRow> rows;
    std::vector<bool> used;
  };
  std::vector<Out> outs;
  for (StateGroup group : groups)
    for (Rollup by : bys) {
      Slotter slotter{by, dict};
      const std::size_t n = slotter.slots();
      outs.push_back({slotter, group, std::vector<GrowthRow>(n), std::vector<bool>(n, false)});
    }
  for (const bool township : {false, true}) {
    const Grid& g = township ? cells.ts : cells.cds;
    bool wanted = false;
    for (const Out& o : outs) wanted |= (o.slotter.by == Rollup::township) == township;
    if (!wanted) continue;
    const std::size_t n_cells = g.cells();
    for (std::size_t c = 0; c < n_cells; ++c) {
      // Whether the cell has a comparable unit in a group asked for (for some indicator).
      bool in_group[2] = {false, false};
      for (int gi = 0; gi < 2; ++gi) {
        const StateGroup group = gi == 0 ? StateGroup::accepted : StateGroup::submitted_or_later;
        if (std::find(groups.begin(), groups.end(), group) == groups.end()) continue;
        for (int b : bands_of(group)) {
          const std::uint32_t* cnt = &g.count[g.at(c, b)];
          for (std::size_t i = 0; i < k && !in_group[gi]; ++i) in_group[gi] = cnt[i] != 0;
        }
      }
      if (!in_group[0] && !in_group[1]) continue;
      for (Out& o : outs) {
        if ((o.slotter.by == Rollup::township) != township) continue;
        if (!in_group[o.group == StateGroup::accepted ? 0 : 1]) continue;
        CellKey key;
        const std::size_t slot =
            township ? o.slotter.township_slot(c, key) : o.slotter.slot(c, key);
        GrowthRow& row = o.rows[slot];
        if (!o.used[slot]) {
          o.used[slot] = true;
          row.key = key;
          row.current.assign(k, 0.0);
          row.previous.assign(k, 0.0);
          row.units.assign(k, 0);
        }
        double* cur = row.current.data();
        double* prev = row.previous.data();
        std::uint32_t* units = row.units.data();
        for (int b : bands_of(o.group)) {
          const std::size_t at = g.at(c, b);
          const double* cs = &g.sum[at];
          const double* ps = &g.second[at];
          const std::uint32_t* cn = &g.count[at];
          for (std::size_t i = 0; i < k; ++i) cur[i] += cs[i], prev[i] += ps[i], units[i] += cn[i];
        }
      }
    }
  }
  std::vector<std::vector<std::vector<GrowthRow>>> result(groups.size());
  for (std::size_t i = 0; i < outs.size(); ++i) {
    Out& o = outs[i];
    std::vector<GrowthRow> rows;
    for (std::size_t s = 0; s < o.rows.size(); ++s) {
      if (!o.used[s]) continue;
      GrowthRow& r = o.rows[s];
      r.growth.resize(k);
      for (std::size_t j = 0; j < k; ++j)
        r.growth[j] =
            (r.units[j] == 0 || r.previous[j] == 0.0) ? kNaN : r.current[j] / r.previous[j] - 1.0;
      rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(),
              [](const GrowthRow& a, const GrowthRow& b) { return a.key < b.key; });
    result[i / bys.size()].push_back(std::move(rows));
  }
  return result;
}

std::vector<std::vector<GrowthRow>> growth_rollups(const ComparableCells& cells,
                                                   const Dictionaries& dict,
                                                   std::span<const Rollup> bys, StateGroup group) {
  return std::move(grouped_growth_rollups(cells, dict, bys, {&group, 1})[0]);
}

std::vector<GrowthRow> growth_rollup(const ComparableCells& cells, const Dictionaries& dict,
                                     Rollup by, StateGroup group) {
  return std::move(growth_rollups(cells, dict, {&by, 1}, group)[0]);
}

// --- Cube ---------------------------------------------------------------------------------------

Cube::Cube(int indicators) : k_(indicators), columns_(static_cast<std::size_t>(indicators)) {
  cells_.init(k_);
}

void Cube::reserve(std::size_t n) {
  ids_.reserve(n);
  for (auto& c : columns_) c.reserve(n);
  cds_.reserve(n);
  ts_.reserve(n);
  state_.reserve(n);
  row_of_.reserve(n);
}

UnitDims Cube::row_dims(std::uint32_t r) const {
  UnitDims d;
  d.township = dict_.township_code(ts_[r] / kSizes);
  d.division = static_cast<std::uint8_t>(cds_[r] / kSizes % kDivisions);
  d.size = static_cast<std::uint8_t>(cds_[r] % kSizes + 1);
  return d;
}

std::optional<std::uint32_t> Cube::find(UnitId id) const {
  auto it = row_of_.find(id);
  if (it == row_of_.end()) return std::nullopt;
  return it->second;
}

void Cube::add_contribution(std::uint32_t r, double sign) {
  const int band = band_of(static_cast<State>(state_[r]));
  const std::uint32_t step =
      sign > 0 ? 1u : static_cast<std::uint32_t>(-1);  // wraps: unsigned add of -1
  double* s1 = &cells_.cds.sum[cells_.cds.at(cds_[r], band)];
  std::uint32_t* n1 = &cells_.cds.count[cells_.cds.at(cds_[r], band)];
  double* s2 = &cells_.ts.sum[cells_.ts.at(ts_[r], band)];
  std::uint32_t* n2 = &cells_.ts.count[cells_.ts.at(ts_[r], band)];
  // Band 2 (not submitted) adds to the state counts only: no figure reads its sums.
  for (int k = 0; k < k_ && band != 2; ++k) {
    const double v = columns_[k][r];
    if (std::isnan(v)) continue;
    s1[k] += sign * v;
    n1[k] += step;
    s2[k] += sign * v;
    n2[k] += step;
    // An emptied cell is exactly zero again, so rounding left by add-then-subtract can't linger.
    if (n1[k] == 0) s1[k] = 0.0;
    if (n2[k] == 0) s2[k] = 0.0;
  }
  cells_.cds_states[cds_[r] * kStateCount + state_[r]] += step;
  cells_.ts_states[ts_[r] * kStateCount + state_[r]] += step;
}

Status to_status(RowError e) {
  switch (e) {
    case RowError::none:
      return Ok{};
    case RowError::wrong_count:
      return bad_input("指标个数与报表不符",
                       "the number of values does not match the form's indicators");
    case RowError::bad_township:
      return bad_input("乡镇代码应为9位", "the township code must have 9 digits");
    case RowError::bad_division:
      return bad_input("行业大类代码无效", "the industry division is not a GB/T 4754 大类");
    case RowError::bad_size:
      return bad_input("规模代码应为1至4", "the size class must be 1 to 4");
    case RowError::bad_state:
      return bad_input("状态无效", "unknown submission state");
  }
  return bad_input("行数据无效", "invalid row");
}

Status Cube::upsert(const UnitRow& row) { return to_status(apply(row)); }

RowError Cube::apply(const UnitRow& row) {
  if (row.values.size() != static_cast<std::size_t>(k_)) return RowError::wrong_count;
  if (row.dims.township < 100000000u || row.dims.township > 999999999u)
    return RowError::bad_township;
  if (section_of_division(row.dims.division) == 0) return RowError::bad_division;
  if (row.dims.size < 1 || row.dims.size > 4) return RowError::bad_size;
  if (static_cast<int>(row.state) >= kStateCount) return RowError::bad_state;

  auto [county, township] = dict_.intern(row.dims.township);
  cells_.fit(dict_);  // grows only when the township or county is new
  std::uint32_t r;
  auto it = row_of_.find(row.id);
  if (it != row_of_.end()) {
    r = it->second;
    add_contribution(r, -1.0);
  } else {
    r = static_cast<std::uint32_t>(ids_.size());
    row_of_.emplace(row.id, r);
    ids_.push_back(row.id);
    for (auto& c : columns_) c.push_back(kNaN);
    cds_.push_back(0);
    ts_.push_back(0);
    state_.push_back(0);
  }
  for (int k = 0; k < k_; ++k) columns_[k][r] = row.values[k];
  cds_[r] = static_cast<std::uint32_t>(cds_cell(county, row.dims.division, row.dims.size));
  ts_[r] = static_cast<std::uint32_t>(ts_cell(township, row.dims.size));
  state_[r] = static_cast<std::uint8_t>(row.state);
  add_contribution(r, 1.0);
  return RowError::none;
}

Status Cube::remove(UnitId id) {
  auto it = row_of_.find(id);
  if (it == row_of_.end())
    return make_error(ErrorKind::not_found, "CUBE_NO_UNIT", "汇总表中没有该单位",
                      "the unit is not in the cube");
  const std::uint32_t r = it->second;
  add_contribution(r, -1.0);
  const std::uint32_t last = static_cast<std::uint32_t>(ids_.size() - 1);
  if (r != last) {  // keep columns dense: move the last row into the hole
    ids_[r] = ids_[last];
    for (auto& c : columns_) c[r] = c[last];
    cds_[r] = cds_[last];
    ts_[r] = ts_[last];
    state_[r] = state_[last];
    row_of_[ids_[r]] = r;
  }
  ids_.pop_back();
  for (auto& c : columns_) c.pop_back();
  cds_.pop_back();
  ts_.pop_back();
  state_.pop_back();
  row_of_.erase(id);
  return Ok{};
}

std::vector<RollupRow> Cube::rollup(Rollup by, StateGroup group) const {
  return cube::rollup(cells_, dict_, by, group);
}

std::vector<UnitId> Cube::contributing_units(const CellKey& key, StateGroup group,
                                             std::optional<int> indicator) const {
  std::vector<UnitId> out;
  const int max_band = group == StateGroup::accepted ? 0 : 1;
  for (std::uint32_t r = 0; r < ids_.size(); ++r) {
    if (band_of(static_cast<State>(state_[r])) > max_band) continue;
    if (indicator && std::isnan(columns_[*indicator][r])) continue;
    const UnitDims d = row_dims(r);
    if (key.county != 0 && d.township / 1000 != key.county) continue;
    if (key.township != 0 && d.township != key.township) continue;
    if (key.section != 0 && section_of_division(d.division) != key.section) continue;
    if (key.division != 0 && d.division != key.division) continue;
    if (key.size != 0 && d.size != key.size) continue;
    out.push_back(ids_[r]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t Cube::memory_bytes() const {
  std::size_t b = 0;
  for (const auto& c : columns_) b += c.capacity() * sizeof(double);
  b +=
      ids_.capacity() * sizeof(UnitId) + (cds_.capacity() + ts_.capacity()) * 4 + state_.capacity();
  // libstdc++ hash node: next pointer + key + value (+ padding) = 24 bytes, 32 with malloc's
  // header.
  b += row_of_.size() * 32 + row_of_.bucket_count() * sizeof(void*);
  b += (cells_.cds.sum.capacity() + cells_.ts.sum.capacity()) * 8;
  b += (cells_.cds.count.capacity() + cells_.ts.count.capacity() + cells_.cds_states.capacity() +
        cells_.ts_states.capacity()) *
       4;
  b += dict_.memory_bytes();
  return b;
}

void Cube::align_to(const Cube& other) {
  const std::size_t n = ids_.size();
  std::vector<std::uint32_t> order;  // new row -> old row
  order.reserve(n);
  std::vector<bool> shared(n, false);
  for (std::uint32_t ro = 0; ro < other.ids_.size(); ++ro) {
    auto it = row_of_.find(other.ids_[ro]);
    if (it != row_of_.end()) shared[it->second] = true;
  }
  std::vector<std::uint32_t> own;  // our units that `other` lacks: they fill `other`'s gaps
  for (std::uint32_t r = 0; r < n; ++r)
    if (!shared[r]) own.push_back(r);
  std::size_t next_own = 0;
  // Row i of ours holds other's row i's unit when we have it; where other has a unit we lack, one
  // of our own units takes the place, so that shared units keep coinciding row for row.
  for (std::uint32_t ro = 0; ro < other.ids_.size() && order.size() < n; ++ro) {
    auto it = row_of_.find(other.ids_[ro]);
    if (it != row_of_.end())
      order.push_back(it->second);
    else if (next_own < own.size())
      order.push_back(own[next_own++]);
  }
  while (next_own < own.size()) order.push_back(own[next_own++]);
  assert(order.size() == n);
  reorder(order);
}

void Cube::reorder(const std::vector<std::uint32_t>& order) {
  const std::size_t n = ids_.size();
  auto permute = [&](auto& v) {
    std::remove_reference_t<decltype(v)> w;
    w.reserve(v.capacity());  // keep the loader's reserve
    w.resize(n);
    for (std::size_t i = 0; i < n; ++i) w[i] = v[order[i]];
    v.swap(w);
  };
  permute(ids_);
  for (auto& c : columns_) permute(c);
  permute(cds_);
  permute(ts_);
  permute(state_);
  for (std::uint32_t r = 0; r < n; ++r) row_of_[ids_[r]] = r;
}

void Cube::cluster() {
  std::vector<std::uint32_t> order(ids_.size());
  for (std::uint32_t r = 0; r < order.size(); ++r) order[r] = r;
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (cds_[a] != cds_[b]) return cds_[a] < cds_[b];
    if (ts_[a] != ts_[b]) return ts_[a] < ts_[b];
    return band_of(static_cast<State>(state_[a])) < band_of(static_cast<State>(state_[b]));
  });
  reorder(order);
}

// --- full recompute
// -------------------------------------------------------------------------------

namespace {

// One thread's partial state, laid out as the grids themselves ([cell][band][k]): a segment's
// sums for every indicator land in a few adjacent cache lines, and a row in a cell of its own (a
// unit that moved, or one only in the previous period) costs a few lines, not one per indicator.
// A thread's partial of grid cds covers only the cells [lo1, lo1 + cells1) its rows fall in (after
// Cube::cluster, about its share of the counties), which saves clearing and adding the rest.
struct Partial {
  std::size_t lo1 = 0;         // first cds cell covered
  std::size_t n1 = 0, n2 = 0;  // cells*bands of grid cds and ts
  std::vector<double> s1, s2, cs1, cp1, cs2, cp2;
  std::vector<std::uint32_t> n1c, n2c, cn1, cn2;
  std::vector<std::uint32_t> st1, st2;

  void init(std::size_t first1, std::size_t cells1, std::size_t cells2, int k, bool comparable) {
    lo1 = first1;
    n1 = cells1 * kBands;
    n2 = cells2 * kBands;
    s1.assign(n1 * k, 0.0);
    n1c.assign(n1 * k, 0);
    st1.assign(cells1 * kStateCount, 0);
    st2.assign(cells2 * kStateCount, 0);
    if (comparable) {
      cs1.assign(n1 * k, 0.0);
      cp1.assign(n1 * k, 0.0);
      cn1.assign(n1 * k, 0);
    }
    s2.assign(n2 * k, 0.0);
    n2c.assign(n2 * k, 0);
    if (comparable) {
      cs2.assign(n2 * k, 0.0);
      cp2.assign(n2 * k, 0.0);
      cn2.assign(n2 * k, 0);
    }
  }
  // Add `o`, which covers cds cells from o.lo1 >= lo1 on.
  void add(const Partial& o, int k) {
    auto acc = [](auto& a, const auto& b, std::size_t at) {
      for (std::size_t i = 0; i < b.size(); ++i) a[at + i] += b[i];
    };
    const std::size_t at = (o.lo1 - lo1) * kBands * static_cast<std::size_t>(k);
    acc(s1, o.s1, at), acc(n1c, o.n1c, at), acc(s2, o.s2, 0), acc(n2c, o.n2c, 0);
    acc(st1, o.st1, (o.lo1 - lo1) * kStateCount), acc(st2, o.st2, 0);
    acc(cs1, o.cs1, at), acc(cp1, o.cp1, at), acc(cn1, o.cn1, at), acc(cs2, o.cs2, 0),
        acc(cp2, o.cp2, 0), acc(cn2, o.cn2, 0);
  }
};

// The scan works in blocks of about kBlock rows. Per block, a scalar set-up pass splits the rows
// into segments (runs of rows sharing both cells; after Cube::cluster a segment is a whole finest
// cell, county x 大类 x size x township) and lays out per-row lane masks (band 0, band 1, pair
// band 0, pair band 1, and the previous period's own band 0 and 1), each segment padded to a
// multiple of the vector width with zero masks. Then, indicator by indicator, each segment is
// summed with a branch-free masked add over its contiguous rows (after Cube::align_to the previous
// period's row i is the partner of row i), and its sums reach the grids once per segment. Rows that
// can't take the vector path (a partner elsewhere; a previous-period row in other cells than the
// current row beside it; a segment whose padded reads would pass the end of a column) are summed
// one by one.
constexpr std::uint32_t kWidth = 4;     // rows per vector step
constexpr std::uint32_t kAhead = 512;   // rows prefetched ahead (4 KB)
constexpr std::uint32_t kBlock = 2048;  // rows per block: its masks and columns stay in L1/L2
constexpr std::uint32_t kNone = ~std::uint32_t{0};

// GNU vectors of W doubles (and of W 64-bit lane masks): 4 in the AVX2 build, 2 (one SSE2
// register) in the baseline one.
template <int W>
struct Lanes {
  typedef double d __attribute__((vector_size(8 * W)));
  typedef long long l __attribute__((vector_size(8 * W)));
};

struct Segment {
  std::uint32_t row;           // first row
  std::uint32_t pad;           // offset in the block's mask arrays (a multiple of kWidth)
  std::uint32_t len;           // rows
  std::uint32_t base1, base2;  // offset of the cell's band 0 in the partial's grids (cell-major)
  // The same cells in the previous period's partial, when some of its rows are summed here (the
  // previous period's own cells, fused into the pass); else kNone.
  std::uint32_t prev1 = kNone, prev2 = kNone;
};
struct OwnRow {  // a row summed one by one into its own cells
  std::uint32_t row, base1, base2;
  std::uint8_t band;
};
struct PairRow {  // a comparable row summed one by one
  std::uint32_t row, partner, base1, base2;
  std::uint8_t band;
};

struct Block {
  std::vector<Segment> segs;
  // Lane masks per padded row: band 0/1, pair band 0/1, previous period's band 0/1.
  std::vector<long long> m0, m1, p0, p1, q0, q1;
  std::vector<OwnRow> own, prev_own;
  std::vector<PairRow> pair;
  std::uint32_t padded = 0;
  // Room for `rows` rows (each segment padded to kWidth at worst), the masks all zero.
  void reset(std::uint32_t rows) {
    const std::size_t cap = static_cast<std::size_t>(rows) * kWidth;
    segs.clear(), own.clear(), prev_own.clear(), pair.clear();
    for (auto* m : {&m0, &m1, &p0, &p1, &q0, &q1}) {
      if (m->size() < cap) m->resize(cap, 0);
      std::fill(m->begin(), m->begin() + padded, 0);
    }
    padded = 0;
  }
};

// Vector helpers take references and return scalars, so no vector crosses a call between the two
// instruction-set builds of the kernel (and no ABI warning arises).
template <class V, class T>
[[gnu::always_inline]] inline void load(V& out, const T* p) {
  std::memcpy(&out, p, sizeof out);
}
template <class V>
[[gnu::always_inline]] inline double hsum(const V& a) {
  if constexpr (sizeof a == 32) return (a[0] + a[1]) + (a[2] + a[3]);
  return a[0] + a[1];
}
template <class V>
[[gnu::always_inline]] inline std::uint32_t hcount(const V& a) {
  if constexpr (sizeof a == 32) return static_cast<std::uint32_t>(a[0] + a[1] + a[2] + a[3]);
  return static_cast<std::uint32_t>(a[0] + a[1]);
}

// All indicators over one block. A missing value (NaN) fails v == v and is masked to +0.0; counts
// subtract the all-ones mask (-1) per value. kCmp: comparable cells with `prev`; kPrev: also
// `prev`'s own cells into `pp`.
template <int W, bool kCmp, bool kPrev>
[[gnu::always_inline]] inline void sum_block(const Cube& cur, const Cube* prev, const Block& b,
                                             Partial& p, Partial* pp) {
  using vd = typename Lanes<W>::d;
  using vl = typename Lanes<W>::l;
  const int K = cur.indicators();
  for (int k = 0; k < K; ++k) {
    const double* x = cur.column(k).data();
    const double* y = kCmp ? prev->column(k).data() : nullptr;
    double* s1 = p.s1.data() + k;
    double* s2 = p.s2.data() + k;
    std::uint32_t* n1 = p.n1c.data() + k;
    std::uint32_t* n2 = p.n2c.data() + k;
    double *cs1 = nullptr, *cp1 = nullptr, *cs2 = nullptr, *cp2 = nullptr;
    std::uint32_t *cn1 = nullptr, *cn2 = nullptr;
    double *ps1 = nullptr, *ps2 = nullptr;
    std::uint32_t *pn1 = nullptr, *pn2 = nullptr;
    if constexpr (kCmp) {
      cs1 = p.cs1.data() + k, cp1 = p.cp1.data() + k, cn1 = p.cn1.data() + k;
      cs2 = p.cs2.data() + k, cp2 = p.cp2.data() + k, cn2 = p.cn2.data() + k;
    }
    if constexpr (kPrev) {
      ps1 = pp->s1.data() + k, ps2 = pp->s2.data() + k;
      pn1 = pp->n1c.data() + k, pn2 = pp->n2c.data() + k;
    }
    for (const Segment& g : b.segs) {
      vd a0{}, a1{}, c0{}, d0{}, c1{}, d1{}, e0{}, e1{};
      vl k0{}, k1{}, u0{}, u1{}, j0{}, j1{};
      const double* xs = x + g.row;
      const long long* m0 = b.m0.data() + g.pad;
      const long long* m1 = b.m1.data() + g.pad;
      for (std::uint32_t i = 0; i < g.len; i += W) {
        // Ahead of the hardware prefetcher, which stops at each 4 KB page and does not see far
        // enough past the per-segment work.
        __builtin_prefetch(xs + i + kAhead);
        vd v;
        vl t0, t1;
        load(v, xs + i), load(t0, m0 + i), load(t1, m1 + i);
        const vl bits = (vl)v;  // the same bits (a GNU vector cast)
        const vl ok = v == v;
        t0 &= ok, t1 &= ok;
        a0 += (vd)(bits & t0);
        a1 += (vd)(bits & t1);
        k0 -= t0, k1 -= t1;
        if constexpr (kCmp) {
          __builtin_prefetch(y + g.row + i + kAhead);
          vd w;
          vl r0, r1;
          load(w, y + g.row + i), load(r0, b.p0.data() + g.pad + i),
              load(r1, b.p1.data() + g.pad + i);
          const vl wbits = (vl)w;
          const vl wok = w == w;
          const vl both = ok & wok;
          r0 &= both, r1 &= both;
          c0 += (vd)(bits & r0);
          d0 += (vd)(wbits & r0);
          c1 += (vd)(bits & r1);
          d1 += (vd)(wbits & r1);
          u0 -= r0, u1 -= r1;
          if constexpr (kPrev) {
            vl h0, h1;
            load(h0, b.q0.data() + g.pad + i), load(h1, b.q1.data() + g.pad + i);
            h0 &= wok, h1 &= wok;
            e0 += (vd)(wbits & h0);
            e1 += (vd)(wbits & h1);
            j0 -= h0, j1 -= h1;
          }
        }
      }
      const double sa0 = hsum(a0), sa1 = hsum(a1);
      const std::uint32_t na0 = hcount(k0), na1 = hcount(k1);
      s1[g.base1] += sa0, s1[g.base1 + K] += sa1, n1[g.base1] += na0, n1[g.base1 + K] += na1;
      s2[g.base2] += sa0, s2[g.base2 + K] += sa1, n2[g.base2] += na0, n2[g.base2 + K] += na1;
      if constexpr (kCmp) {
        const double sc0 = hsum(c0), sc1 = hsum(c1), sd0 = hsum(d0), sd1 = hsum(d1);
        const std::uint32_t nu0 = hcount(u0), nu1 = hcount(u1);
        cs1[g.base1] += sc0, cs1[g.base1 + K] += sc1, cp1[g.base1] += sd0, cp1[g.base1 + K] += sd1;
        cn1[g.base1] += nu0, cn1[g.base1 + K] += nu1;
        cs2[g.base2] += sc0, cs2[g.base2 + K] += sc1, cp2[g.base2] += sd0, cp2[g.base2 + K] += sd1;
        cn2[g.base2] += nu0, cn2[g.base2 + K] += nu1;
      }
      if constexpr (kPrev) {
        if (g.prev1 != kNone) {
          const double se0 = hsum(e0), se1 = hsum(e1);
          const std::uint32_t nj0 = hcount(j0), nj1 = hcount(j1);
          ps1[g.prev1] += se0, ps1[g.prev1 + K] += se1;
          pn1[g.prev1] += nj0, pn1[g.prev1 + K] += nj1;
          ps2[g.prev2] += se0, ps2[g.prev2 + K] += se1;
          pn2[g.prev2] += nj0, pn2[g.prev2 + K] += nj1;
        }
      }
    }
    for (const OwnRow& o : b.own) {
      const double v = x[o.row];
      if (v != v) continue;
      s1[o.base1 + o.band * K] += v, n1[o.base1 + o.band * K] += 1;
      s2[o.base2 + o.band * K] += v, n2[o.base2 + o.band * K] += 1;
    }
    if constexpr (kCmp) {
      for (const PairRow& o : b.pair) {
        const double v = x[o.row], w = y[o.partner];
        if (v != v || w != w) continue;
        cs1[o.base1 + o.band * K] += v, cp1[o.base1 + o.band * K] += w;
        cn1[o.base1 + o.band * K] += 1;
        cs2[o.base2 + o.band * K] += v, cp2[o.base2 + o.band * K] += w;
        cn2[o.base2 + o.band * K] += 1;
      }
    }
    if constexpr (kPrev) {
      for (const OwnRow& o : b.prev_own) {
        const double w = y[o.row];
        if (w != w) continue;
        ps1[o.base1 + o.band * K] += w, pn1[o.base1 + o.band * K] += 1;
        ps2[o.base2 + o.band * K] += w, pn2[o.base2 + o.band * K] += 1;
      }
    }
  }
}

// Two builds of the kernel: AVX2 where the CPU has it (checked at run time), baseline x86-64
// (SSE2, two lanes) otherwise.
template <bool kCmp, bool kPrev>
[[gnu::target("avx2")]] void sum_block_avx2(const Cube& cur, const Cube* prev, const Block& b,
                                            Partial& p, Partial* pp) {
  sum_block<4, kCmp, kPrev>(cur, prev, b, p, pp);
}
template <bool kCmp, bool kPrev>
void sum_block_base(const Cube& cur, const Cube* prev, const Block& b, Partial& p, Partial* pp) {
  sum_block<2, kCmp, kPrev>(cur, prev, b, p, pp);
}

// The best build of the kernel this CPU runs; STATGOV_CUBE_KERNEL=avx2 or =base asks for a lesser
// one (the tests run every build this way). Read per recompute: a getenv is cheap beside one.
enum class Kernel : std::uint8_t { base, avx2, avx512 };
Kernel kernel() {
  // The wide kernel's set-up pass uses byte and 256-bit forms (AVX-512 BW and VL), which every
  // AVX-512 CPU but the Xeon Phi has.
  static const Kernel best =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("popcnt")
          ? Kernel::avx512
      : __builtin_cpu_supports("avx2") ? Kernel::avx2
                                       : Kernel::base;
  const char* want = std::getenv("STATGOV_CUBE_KERNEL");
  if (want == nullptr) return best;
  const std::string_view w(want);
  const Kernel k = w == "base" ? Kernel::base : w == "avx2" ? Kernel::avx2 : Kernel::avx512;
  return std::min(k, best);
}

void sum(const Cube& cur, const Cube* prev, const Block& b, Partial& p, Partial* pp) {
  const bool avx2 = kernel() >= Kernel::avx2;
  if (pp)
    (avx2 ? sum_block_avx2<true, true> : sum_block_base<true, true>)(cur, prev, b, p, pp);
  else if (prev)
    (avx2 ? sum_block_avx2<true, false> : sum_block_base<true, false>)(cur, prev, b, p, pp);
  else
    (avx2 ? sum_block_avx2<false, false> : sum_block_base<false, false>)(cur, prev, b, p, pp);
}

// Cell numbers of the current period's dictionaries in the previous period's (kNone if absent).
struct CellMap {
  std::vector<std::uint32_t> county, township;
  CellMap(const Dictionaries& from, const Dictionaries& to) {
    for (std::size_t c = 0; c < from.counties(); ++c)
      county.push_back(
          to.find_county(from.county_code(static_cast<std::uint32_t>(c))).value_or(kNone));
    for (std::size_t t = 0; t < from.townships(); ++t)
      township.push_back(
          to.find_township(from.township_code(static_cast<std::uint32_t>(t))).value_or(kNone));
  }
  std::uint32_t cds(std::uint32_t cell) const {
    const std::uint32_t per = kDivisions * kSizes, c = county[cell / per];
    return c == kNone ? kNone : c * per + cell % per;
  }
  std::uint32_t ts(std::uint32_t cell) const {
    const std::uint32_t t = township[cell / kSizes];
    return t == kNone ? kNone : t * kSizes + cell % kSizes;
  }
};

// Rows [begin, end) of `cur` into `p`: its own cells, and with `prev` the comparable cells. With
// `pp` (and `map`), also `prev`'s own cells for its rows [begin, end) and [prev_begin, prev_end),
// the latter being rows past the end of `cur`.
void scan(const Cube& cur, const Cube* prev, std::uint32_t begin, std::uint32_t end, Partial& p,
          Partial* pp = nullptr, const CellMap* map = nullptr, std::uint32_t prev_begin = 0,
          std::uint32_t prev_end = 0) {
  const bool cmp = prev != nullptr && prev->units() > 0;
  if (!cmp) pp = nullptr;
  const std::uint32_t n_cur = static_cast<std::uint32_t>(cur.units());
  const std::uint32_t n_prev = cmp ? static_cast<std::uint32_t>(prev->units()) : 0;
  // A vector step reads kWidth rows from the segment's first row on: those reads must stay inside
  // the columns (of both periods when comparable).
  const std::uint32_t limit = cmp ? std::min(n_cur, n_prev) : n_cur;
  const std::uint32_t K = static_cast<std::uint32_t>(cur.indicators());
  const std::uint32_t lo1 = static_cast<std::uint32_t>(p.lo1);
  const std::uint32_t plo1 = pp ? static_cast<std::uint32_t>(pp->lo1) : 0;
  Block b;
  // A previous-period row summed one by one into its own cells (and its state counted).
  auto prev_row = [&](std::uint32_t i) {
    const State s = prev->row_state(i);
    const std::uint32_t c1 = prev->row_cds(i), c2 = prev->row_ts(i);
    pp->st1[(c1 - plo1) * kStateCount + static_cast<int>(s)]++;
    pp->st2[c2 * kStateCount + static_cast<int>(s)]++;
    const int band = band_of(s);
    if (band < 2)
      b.prev_own.push_back(
          {i, (c1 - plo1) * kBands * K, c2 * kBands * K, static_cast<std::uint8_t>(band)});
  };
  std::uint32_t cursor = 0;  // where the next partner is looked for first
  for (std::uint32_t bb = begin; bb < end; bb += kBlock) {
    const std::uint32_t be = std::min(end, bb + kBlock);
    b.reset(be - bb);
    for (std::uint32_t r = bb; r < be;) {
      // One segment: rows r .. e - 1 share both cells.
      const std::uint32_t c1 = cur.row_cds(r), c2 = cur.row_ts(r);
      std::uint32_t e = r + 1;
      while (e < be && cur.row_cds(e) == c1 && cur.row_ts(e) == c2) ++e;
      const std::uint32_t len = e - r;
      const std::uint32_t padded_len = (len + kWidth - 1) / kWidth * kWidth;
      const bool vec = std::uint64_t{r} + padded_len <= limit;
      Segment g{r, b.padded, len, (c1 - lo1) * kBands * K, c2 * kBands * K};
      // The previous period's cells equal to this segment's, if any.
      const std::uint32_t pc1 = pp ? map->cds(c1) : kNone, pc2 = pp ? map->ts(c2) : kNone;
      for (std::uint32_t i = r; i < e; ++i) {
        const State s = cur.row_state(i);
        const int band = band_of(s);
        p.st1[(c1 - lo1) * kStateCount + static_cast<int>(s)]++;
        p.st2[c2 * kStateCount + static_cast<int>(s)]++;
        const std::uint32_t at = g.pad + (i - r);
        if (band < 2) {
          if (vec)
            (band == 0 ? b.m0 : b.m1)[at] = -1;
          else
            b.own.push_back({i, g.base1, g.base2, static_cast<std::uint8_t>(band)});
        }
        if (pp && i < n_prev) {
          if (vec && pc1 != kNone && pc2 != kNone && prev->row_cds(i) == pc1 &&
              prev->row_ts(i) == pc2) {
            const State ps = prev->row_state(i);
            pp->st1[(pc1 - plo1) * kStateCount + static_cast<int>(ps)]++;
            pp->st2[pc2 * kStateCount + static_cast<int>(ps)]++;
            const int pband = band_of(ps);
            if (pband < 2) (pband == 0 ? b.q0 : b.q1)[at] = -1;
            g.prev1 = (pc1 - plo1) * kBands * K, g.prev2 = pc2 * kBands * K;
          } else {
            prev_row(i);
          }
        }
        if (!cmp || band == 2) continue;
        // The partner: the same row after align_to, else the row after the last partner found,
        // else the id index.
        std::optional<std::uint32_t> q;
        const UnitId id = cur.row_id(i);
        if (i < n_prev && prev->row_id(i) == id)
          q = i;
        else if (cursor < n_prev && prev->row_id(cursor) == id)
          q = cursor;
        else
          q = prev->find(id);
        if (!q) continue;
        cursor = *q + 1;
        const int pb = pair_band(band, band_of(prev->row_state(*q)));
        if (pb == 2) continue;
        if (vec && *q == i)
          (pb == 0 ? b.p0 : b.p1)[at] = -1;
        else
          b.pair.push_back({i, *q, g.base1, g.base2, static_cast<std::uint8_t>(pb)});
      }
      if (vec) {
        b.segs.push_back(g);
        b.padded += padded_len;
      }
      r = e;
    }
    sum(cur, cmp ? prev : nullptr, b, p, pp);
  }
  // The previous period's rows past the end of the current one.
  for (std::uint32_t bb = prev_begin; pp && bb < prev_end; bb += kBlock) {
    b.reset(0);
    for (std::uint32_t i = bb; i < std::min(prev_end, bb + kBlock); ++i) prev_row(i);
    sum(cur, prev, b, p, pp);
  }
}

// --- the wide kernel (AVX-512) ---
// The same segments as scan() with 8-row steps and the lane masks held as bits, which AVX-512
// applies to an add for free (a masked add): the masks cost a byte per 8 rows instead of 8 bytes
// per row, and no AND per value; counts are popcounts of the masks. Per segment and indicator the
// 8 sums are reduced together (a transpose-and-add tree, 21 instructions for all 8) into one
// vector whose lanes are the slots below.
//
// Access pattern (bench/README.md, 2026-11-26 23:20 UTC): the set-up pass runs over blocks of
// 262,144 rows, and then each column of the block is read from end to end, so the columns stream
// almost as in the bare sum (2 MB runs; blocks of 1,024 rows read the 100 columns round-robin in
// 8 KB pieces, and a bare sum in that pattern took 2.9x its time; measured here, blocks of 16K rows
// cost about 50 ms more CPU per recompute than 256K, 64K about 20 ms more, the whole range the
// same). What makes long streams affordable is where the results go: each thread's partial is
// indicator-major (WidePartial: [k][cell][slot]), so the cells one column writes are about 400 KB
// of grid cds, written in cell order (rows are clustered by cell), and 32 KB of grid ts; a
// segment's results go straight there, with no per-block buffer and no second pass. Rows summed one
// by one (units that moved, units of one period only) are added after their column's segments,
// their lines prefetched a few rows ahead. Once the threads are done, all threads add the partials
// and turn them into the grids' cell-major layout, each for a range of cells.
constexpr std::uint32_t kWide = 8;
constexpr std::uint32_t kWideBlock = 1u << 18;  // rows per block
constexpr std::uint32_t kMaxSegment = 65528;    // rows per segment at most (a multiple of 8)
constexpr std::uint32_t kWideAhead = 256;       // rows prefetched ahead in each column (2 KB)
constexpr std::size_t kRowAhead = 16;           // rows summed one by one: prefetch distance
// Bits of a row's code, and bytes of a group's mask word: current band 0/1, pair band 0/1, the
// previous period's own band 0/1 (its row summed in this segment's cells).
constexpr unsigned kM0 = 1, kP0 = 4, kQ0 = 16;
// Slots of the 8-sum vector (the reduction tree's lane order): own band b at 2b, comparable
// previous-period sums of pair band b at 1 + 2b, comparable current-period sums at 4 + 2b; lanes 5
// and 7 carry the previous period's own sums (bands 0, 1) of rows matched in this cell, which
// belong to the previous period's cell that CellMap gives for it. Counts: own band b at b,
// comparable pair band b at 2 + b, the previous period's own band b at 4 + b.
constexpr std::uint32_t kSlots = 8;

constexpr std::uint8_t kBandOf[8] = {2, 2, 1, 2, 1, 1, 0, 2};  // band_of by State value
static_assert(static_cast<int>(State::accepted) == 6 && static_cast<int>(State::submitted) == 2);

struct WideSegment {
  std::uint32_t row, group, groups;  // first row, first mask word, 8-row steps
  std::uint32_t c1, c2;              // cds cell (from the partial's lo1) and ts cell
};
struct WideRow {  // a row summed one by one into its own cells (c1 from the partial's lo1)
  std::uint32_t row, c1, c2;
  std::uint8_t band;
};
struct WidePair {  // a comparable row summed one by one
  std::uint32_t row, partner, c1, c2;
  std::uint8_t band;
};

// One thread's partial state for the wide kernel, indicator-major ([k][cell][slot], slots as
// above), so that the cells one column touches stay in L2 while the column streams. Grid cds covers
// only the cells [lo1, lo1 + cells1) the thread's rows fall in; the previous period's rows summed
// one by one go to pw1/pw2 ([k][cell][band], its own cell numbers, all cells).
struct WidePartial {
  std::size_t lo1 = 0, cells1 = 0, cells2 = 0, pcells1 = 0, pcells2 = 0;
  std::vector<double> w1, w2, pw1, pw2;
  std::vector<std::uint32_t> n1, n2, pn1, pn2;
  std::vector<std::uint32_t> st1, st2, pst1, pst2;  // per-state unit counts, [cell][state]
  void init(std::size_t first1, std::size_t c1, std::size_t c2, std::size_t p1, std::size_t p2,
            int k) {
    const std::size_t K = static_cast<std::size_t>(k);
    lo1 = first1, cells1 = c1, cells2 = c2, pcells1 = p1, pcells2 = p2;
    w1.assign(K * c1 * kSlots, 0.0), n1.assign(K * c1 * kSlots, 0);
    w2.assign(K * c2 * kSlots, 0.0), n2.assign(K * c2 * kSlots, 0);
    pw1.assign(K * p1 * 2, 0.0), pn1.assign(K * p1 * 2, 0);
    pw2.assign(K * p2 * 2, 0.0), pn2.assign(K * p2 * 2, 0);
    st1.assign(c1 * kStateCount, 0), st2.assign(c2 * kStateCount, 0);
    pst1.assign(p1 * kStateCount, 0), pst2.assign(p2 * kStateCount, 0);
  }
};

struct WideBlock {
  std::vector<WideSegment> segs;
  std::vector<std::uint64_t> bits;  // per 8-row step: byte j = mask j, bit r = the step's row r
  std::vector<WideRow> own, prev_own;
  std::vector<WidePair> pair;
  std::vector<const double*> x, y;  // the columns of both periods
  WideBlock(const Cube& cur, const Cube* prev) {
    for (int k = 0; k < cur.indicators(); ++k) {
      x.push_back(cur.column(k).data());
      y.push_back(prev ? prev->column(k).data() : nullptr);
    }
  }
  void reset(std::uint32_t rows) {
    segs.clear(), own.clear(), prev_own.clear(), pair.clear();
    if (bits.size() < rows) bits.resize(rows);  // a segment of n rows takes at most n words
  }
};

// 8 x 8 bit transpose: bit 8r + j (row r's code bit j) to bit 8j + r (mask j's bit for row r).
std::uint64_t transpose8(std::uint64_t x) {
  std::uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
  return x ^ t ^ (t << 28);
}

// Per-state counts of a segment in two registers, 16 bits per state (a segment has fewer than
// 65,536 rows, see kMaxSegment): counting into memory row by row makes a store-to-load chain
// when rows share a state.
struct StateCounts {
  std::uint64_t lo = 0, hi = 0;
  void add(unsigned s) {
    const std::uint64_t inc = std::uint64_t{1} << (16 * (s & 3));
    lo += inc & (0 - std::uint64_t{s < 4});
    hi += inc & (0 - std::uint64_t{s >= 4});
  }
  void flush(std::uint32_t* a) const {
    for (int s = 0; s < kStateCount; ++s)
      a[s] += static_cast<std::uint32_t>(((s < 4 ? lo : hi) >> (16 * (s & 3))) & 0xFFFF);
  }
};
static_assert(kMaxSegment < 65536 && kMaxSegment % kWide == 0, "16-bit state counts");

// The zero-masked forms of the shuffles: the plain ones start from _mm512_undefined_pd(), which
// g++ 12 flags as maybe-uninitialized (-Werror). With a full mask they compile to the same code.
#define shuf(a, b, imm) _mm512_maskz_shuffle_f64x2(0xFF, a, b, imm)
// 8 vectors of 8 partial sums to one vector of 8 totals, in the slot order above.
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d reduce8(__m512d a0, __m512d a1,
                                                                      __m512d c0, __m512d c1,
                                                                      __m512d d0, __m512d d1,
                                                                      __m512d e0, __m512d e1) {
  // Pairs: [A 0..3 + A 4..7 | B 0..3 + B 4..7].
  const __m512d p0 = _mm512_add_pd(shuf(a0, a1, 0x44), shuf(a0, a1, 0xEE));
  const __m512d p1 = _mm512_add_pd(shuf(c0, c1, 0x44), shuf(c0, c1, 0xEE));
  const __m512d p2 = _mm512_add_pd(shuf(d0, d1, 0x44), shuf(d0, d1, 0xEE));
  const __m512d p3 = _mm512_add_pd(shuf(e0, e1, 0x44), shuf(e0, e1, 0xEE));
  // Quads: two partials per quantity, a0 a1 c0 c1 and d0 d1 e0 e1.
  const __m512d q0 = _mm512_add_pd(shuf(p0, p1, 0x88), shuf(p0, p1, 0xDD));
  const __m512d q1 = _mm512_add_pd(shuf(p2, p3, 0x88), shuf(p2, p3, 0xDD));
  // [a0 d0 a1 d1 c0 e0 c1 e1].
  return _mm512_add_pd(_mm512_maskz_unpacklo_pd(0xFF, q0, q1),
                       _mm512_maskz_unpackhi_pd(0xFF, q0, q1));
}
#undef shuf

// One cell's 8 sums and 8 counts added into a partial.
[[gnu::target("avx512f,popcnt"), gnu::always_inline]] inline void add_slots(double* w,
                                                                            std::uint32_t* n,
                                                                            __m512d z, __m256i c) {
  _mm512_storeu_pd(w, _mm512_add_pd(_mm512_loadu_pd(w), z));
  auto* nv = reinterpret_cast<__m256i*>(n);
  _mm256_storeu_si256(nv, _mm256_add_epi32(_mm256_loadu_si256(nv), c));
}

// Every indicator over one block, column by column; see the section's comment.
template <bool kCmp, bool kPrev>
[[gnu::target("avx512f,popcnt")]] void sum_block_wide(const WideBlock& b, WidePartial& p,
                                                      std::uint32_t K) {
  const std::size_t S1 = p.cells1 * kSlots, S2 = p.cells2 * kSlots;
  const std::size_t P1 = p.pcells1 * 2, P2 = p.pcells2 * 2;
  for (std::uint32_t k = 0; k < K; ++k) {
    const double* x = b.x[k];
    const double* y = b.y[k];
    double* pw1 = kPrev ? p.pw1.data() + k * P1 : nullptr;
    double* pw2 = kPrev ? p.pw2.data() + k * P2 : nullptr;
    std::uint32_t* pn1 = kPrev ? p.pn1.data() + k * P1 : nullptr;
    std::uint32_t* pn2 = kPrev ? p.pn2.data() + k * P2 : nullptr;
    double* w1 = p.w1.data() + k * S1;
    double* w2 = p.w2.data() + k * S2;
    std::uint32_t* n1 = p.n1.data() + k * S1;
    std::uint32_t* n2 = p.n2.data() + k * S2;
    // The open cds cell's results: consecutive segments share one after Cube::cluster.
    std::uint32_t open = kNone;
    __m512d oz = _mm512_setzero_pd();
    __m256i on = _mm256_setzero_si256();
    for (const WideSegment& g : b.segs) {
      const std::uint64_t* m = b.bits.data() + g.group;
      const double* xs = x + g.row;
      const double* ys = kCmp ? y + g.row : nullptr;
      __m512d a0 = _mm512_setzero_pd(), a1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0, e0 = a0,
              e1 = a0;
      std::uint32_t u0 = 0, u1 = 0, v0 = 0, v1 = 0, j0 = 0, j1 = 0;
      // Band 1's masked adds run as v * 1 + acc on the FMA pipes: the product is exact, so the one
      // rounding gives the same sum as an add, and the eight adds of a step share four pipes
      // instead of the two add pipes (Zen 4: about 8 % less per step in a micro-benchmark).
      const __m512d one = _mm512_set1_pd(1.0);
      for (std::uint32_t i = 0; i < g.groups; ++i) {
        // Still worth it with long streams: without it, about 10 ms more CPU per recompute.
        _mm_prefetch(reinterpret_cast<const char*>(xs + i * kWide + kWideAhead), _MM_HINT_T0);
        const std::uint64_t w = m[i];
        const __m512d v = _mm512_loadu_pd(xs + i * kWide);
        const unsigned ok = _mm512_cmp_pd_mask(v, v, _CMP_ORD_Q);
        const unsigned t0 = static_cast<unsigned>(w) & ok, t1 = static_cast<unsigned>(w >> 8) & ok;
        a0 = _mm512_mask_add_pd(a0, static_cast<__mmask8>(t0), a0, v);
        a1 = _mm512_mask3_fmadd_pd(v, one, a1, static_cast<__mmask8>(t1));
        u0 += __builtin_popcount(t0 & 0xFF), u1 += __builtin_popcount(t1 & 0xFF);
        if constexpr (kCmp) {
          _mm_prefetch(reinterpret_cast<const char*>(ys + i * kWide + kWideAhead), _MM_HINT_T0);
          const __m512d u = _mm512_loadu_pd(ys + i * kWide);
          const unsigned wok = _mm512_cmp_pd_mask(u, u, _CMP_ORD_Q);
          const unsigned both = ok & wok;
          const unsigned r0 = static_cast<unsigned>(w >> 16) & both;
          const unsigned r1 = static_cast<unsigned>(w >> 24) & both;
          c0 = _mm512_mask_add_pd(c0, static_cast<__mmask8>(r0), c0, v);
          c1 = _mm512_mask3_fmadd_pd(v, one, c1, static_cast<__mmask8>(r1));
          d0 = _mm512_mask_add_pd(d0, static_cast<__mmask8>(r0), d0, u);
          d1 = _mm512_mask3_fmadd_pd(u, one, d1, static_cast<__mmask8>(r1));
          v0 += __builtin_popcount(r0 & 0xFF), v1 += __builtin_popcount(r1 & 0xFF);
          if constexpr (kPrev) {
            const unsigned h0 = static_cast<unsigned>(w >> 32) & wok;
            const unsigned h1 = static_cast<unsigned>(w >> 40) & wok;
            e0 = _mm512_mask_add_pd(e0, static_cast<__mmask8>(h0), e0, u);
            e1 = _mm512_mask3_fmadd_pd(u, one, e1, static_cast<__mmask8>(h1));
            j0 += __builtin_popcount(h0 & 0xFF), j1 += __builtin_popcount(h1 & 0xFF);
          }
        }
      }
      const __m512d z = reduce8(a0, a1, c0, c1, d0, d1, e0, e1);
      const __m256i n =
          _mm256_setr_epi32(static_cast<int>(u0), static_cast<int>(u1), static_cast<int>(v0),
                            static_cast<int>(v1), static_cast<int>(j0), static_cast<int>(j1), 0, 0);
      if (g.c1 != open) {
        if (open != kNone) add_slots(w1 + open * kSlots, n1 + open * kSlots, oz, on);
        open = g.c1, oz = z, on = n;
      } else {
        oz = _mm512_add_pd(oz, z), on = _mm256_add_epi32(on, n);
      }
      add_slots(w2 + g.c2 * kSlots, n2 + g.c2 * kSlots, z, n);
    }
    if (open != kNone) add_slots(w1 + open * kSlots, n1 + open * kSlots, oz, on);
    // Rows summed one by one. Their loads missed cache and stalled this loop (perf put a fifth of
    // the kernel on it), hence the prefetch of the previous period's rows, the most numerous.
    // Adding them right after their own segment instead, while the lines are in L1, was slower
    // (168 against 122 ms of CPU for the sweep, 64K-row blocks).
    for (const WideRow& o : b.own) {
      const double v = x[o.row];
      if (v != v) continue;
      w1[o.c1 * kSlots + 2 * o.band] += v, n1[o.c1 * kSlots + o.band] += 1;
      w2[o.c2 * kSlots + 2 * o.band] += v, n2[o.c2 * kSlots + o.band] += 1;
    }
    if constexpr (kCmp) {
      for (const WidePair& o : b.pair) {
        const double v = x[o.row], u = y[o.partner];
        if (v != v || u != u) continue;
        for (auto [w, n, c] : {std::tuple{w1, n1, o.c1}, std::tuple{w2, n2, o.c2}}) {
          w[c * kSlots + 4 + 2 * o.band] += v, w[c * kSlots + 1 + 2 * o.band] += u;
          n[c * kSlots + 2 + o.band] += 1;
        }
      }
    }
    if constexpr (kPrev) {
      const std::size_t nq = b.prev_own.size();
      for (std::size_t i = 0; i < nq; ++i) {
        if (i + kRowAhead < nq)
          _mm_prefetch(reinterpret_cast<const char*>(y + b.prev_own[i + kRowAhead].row),
                       _MM_HINT_T0);
        const WideRow& o = b.prev_own[i];
        const double u = y[o.row];
        if (u != u) continue;
        pw1[o.c1 * 2 + o.band] += u, pn1[o.c1 * 2 + o.band] += 1;
        pw2[o.c2 * 2 + o.band] += u, pn2[o.c2 * 2 + o.band] += 1;
      }
    }
  }
  // g++ 12 does not end this function with a vzeroupper of its own; without one, the SSE code
  // that runs next on this thread (the scan, rollups, the caller) paid a state transition per
  // instruction: the bare sum of the benchmark ran 3.5x slower after a recompute.
  _mm256_zeroupper();
}

void sum_wide(const WideBlock& b, WidePartial& p, std::uint32_t K, bool cmp, bool fused) {
  if (fused)
    sum_block_wide<true, true>(b, p, K);
  else if (cmp)
    sum_block_wide<true, false>(b, p, K);
  else
    sum_block_wide<false, false>(b, p, K);
}

// The set-up of one vector segment, rows [r, e) of `cur` (r + 8 * steps within both periods'
// rows), 8 rows a step: the lane masks come straight from compares of the state bytes, ids and
// cell numbers, already in the transposed layout of `bits` (byte j = mask j), and the per-state
// counts from one byte compare per step. It writes the same words as the scalar set-up. Rows that
// leave the vector path go to the same lists, in row order: the previous period's row in other
// cells than (pc1, pc2) to prev_row(i) (with `fused`), a current row in band 0 or 1 whose partner
// is not the previous period's row i to pair_row(i, band) (with `cmp`).
struct SegmentStates {
  std::uint32_t own[kStateCount] = {}, prev[kStateCount] = {};  // prev: rows matched in the cells
  bool matched = false;
};
template <class PrevRow, class PairRow>
[[gnu::target("avx512f,avx512bw,avx512vl,popcnt")]] SegmentStates setup_segment_wide(
    const Cube& cur, const Cube* prev, std::uint32_t r, std::uint32_t e, bool cmp, bool fused,
    bool prev_cells, std::uint32_t pc1, std::uint32_t pc2, std::uint64_t* bits, PrevRow prev_row,
    PairRow pair_row) {
  const std::uint8_t* cs = cur.states_data();
  const UnitId* cid = cur.ids_data();
  const std::uint8_t* ps = cmp ? prev->states_data() : nullptr;
  const UnitId* pid = cmp ? prev->ids_data() : nullptr;
  const std::uint32_t* pcds = cmp ? prev->cds_data() : nullptr;
  const std::uint32_t* pts = cmp ? prev->ts_data() : nullptr;
  const __m128i band_of = _mm_setr_epi8(2, 2, 1, 2, 1, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2);
  static_assert(sizeof(kBandOf) == 8 && kBandOf[6] == 0 && kBandOf[2] == 1);
  const __m128i zero8 = _mm_setzero_si128(), one8 = _mm_set1_epi8(1);
  // Qword s of `pattern` has all bytes s: a broadcast step of 8 states compared with it marks, in
  // byte s, the rows in state s; the sum of that byte's bits is the step's count of state s.
  const __m512i pattern = _mm512_setr_epi64(
      0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303, 0x0404040404040404,
      0x0505050505050505, 0x0606060606060606, 0x0707070707070707);
  const __m512i zero = _mm512_setzero_si512();
  __m512i own_n = zero, prev_n = zero;
  const __m256i c1v = _mm256_set1_epi32(static_cast<int>(pc1));
  const __m256i c2v = _mm256_set1_epi32(static_cast<int>(pc2));
  unsigned any_matched = 0;
  const std::uint32_t steps = (e - r + kWide - 1) / kWide;
  for (std::uint32_t j = 0; j < steps; ++j) {
    const std::uint32_t i0 = r + j * kWide;
    const unsigned lanes = e - i0 >= kWide ? 0xFFu : (1u << (e - i0)) - 1;
    const std::uint64_t rep = 0x0101010101010101ull * lanes;  // `lanes` in every byte
    std::uint64_t s8;
    std::memcpy(&s8, cs + i0, 8);
    const __m128i band = _mm_shuffle_epi8(band_of, _mm_cvtsi64_si128(static_cast<long long>(s8)));
    const unsigned b0 = _mm_cmpeq_epi8_mask(band, zero8) & lanes;
    const unsigned b1 = _mm_cmpeq_epi8_mask(band, one8) & lanes;
    own_n = _mm512_add_epi64(
        own_n, _mm512_sad_epu8(_mm512_maskz_set1_epi8(
                                   _mm512_cmpeq_epi8_mask(
                                       _mm512_set1_epi64(static_cast<long long>(s8)), pattern) &
                                       rep,
                                   1),
                               zero));
    std::uint64_t word = b0 | b1 << 8;
    if (cmp) {
      std::uint64_t t8;
      std::memcpy(&t8, ps + i0, 8);
      const __m128i pband =
          _mm_shuffle_epi8(band_of, _mm_cvtsi64_si128(static_cast<long long>(t8)));
      const unsigned q0 = _mm_cmpeq_epi8_mask(pband, zero8), q1 = _mm_cmpeq_epi8_mask(pband, one8);
      const unsigned same =
          _mm512_cmpeq_epi64_mask(_mm512_loadu_si512(cid + i0), _mm512_loadu_si512(pid + i0)) &
          lanes;
      const unsigned p0 = b0 & q0 & same;
      const unsigned p1 = (b0 | b1) & (q0 | q1) & same & ~p0;
      word |= std::uint64_t{p0} << 16 | std::uint64_t{p1} << 24;
      for (unsigned f = (b0 | b1) & ~same & 0xFF; f != 0; f &= f - 1) {
        const unsigned l = static_cast<unsigned>(__builtin_ctz(f));
        pair_row(i0 + l, static_cast<std::uint8_t>((b1 >> l) & 1));
      }
      if (fused) {
        const unsigned here =
            prev_cells
                ? _mm256_mask_cmpeq_epi32_mask(
                      _mm256_cmpeq_epi32_mask(
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pcds + i0)), c1v),
                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pts + i0)), c2v) &
                      lanes
                : 0u;
        any_matched |= here;
        word |= std::uint64_t{here & q0} << 32 | std::uint64_t{here & q1} << 40;
        prev_n = _mm512_add_epi64(
            prev_n,
            _mm512_sad_epu8(
                _mm512_maskz_set1_epi8(
                    _mm512_cmpeq_epi8_mask(_mm512_set1_epi64(static_cast<long long>(t8)), pattern) &
                        (0x0101010101010101ull * here),
                    1),
                zero));
        for (unsigned f = lanes & ~here; f != 0; f &= f - 1)
          prev_row(i0 + static_cast<unsigned>(__builtin_ctz(f)));
      }
    }
    bits[j] = word;
  }
  SegmentStates out;
  alignas(64) std::uint64_t n[8];
  _mm512_store_si512(n, own_n);
  for (int s = 0; s < kStateCount; ++s) out.own[s] = static_cast<std::uint32_t>(n[s]);
  _mm512_store_si512(n, prev_n);
  for (int s = 0; s < kStateCount; ++s) out.prev[s] = static_cast<std::uint32_t>(n[s]);
  out.matched = any_matched != 0;
  _mm256_zeroupper();  // see sum_block_wide
  return out;
}

// The end of the run of rows from r on that share r's cells, at most `stop`: 16 rows a compare.
[[gnu::target("avx512f")]] std::uint32_t run_end(const Cube& cur, std::uint32_t r,
                                                 std::uint32_t stop) {
  const std::uint32_t* cds = cur.cds_data();
  const std::uint32_t* ts = cur.ts_data();
  const __m512i c1 = _mm512_set1_epi32(static_cast<int>(cds[r]));
  const __m512i c2 = _mm512_set1_epi32(static_cast<int>(ts[r]));
  std::uint32_t e = r + 1;
  for (; e + 16 <= stop; e += 16) {
    const unsigned other = _mm512_cmpneq_epi32_mask(_mm512_loadu_si512(cds + e), c1) |
                           _mm512_cmpneq_epi32_mask(_mm512_loadu_si512(ts + e), c2);
    if (other != 0) {
      _mm256_zeroupper();  // see sum_block_wide
      return e + static_cast<std::uint32_t>(__builtin_ctz(other));
    }
  }
  _mm256_zeroupper();
  while (e < stop && cds[e] == cds[r] && ts[e] == ts[r]) ++e;
  return e;
}

// scan() for the wide kernel: the same segments and fallbacks, codes packed 8 rows to a word. With
// `fused` (and `map`), the previous period's own cells too, for its rows [begin, end) and
// [prev_begin, prev_end).
void scan_wide(const Cube& cur, const Cube* prev, std::uint32_t begin, std::uint32_t end,
               WidePartial& p, bool fused, const CellMap* map, std::uint32_t prev_begin,
               std::uint32_t prev_end) {
  const bool cmp = prev != nullptr && prev->units() > 0;
  if (!cmp) fused = false;
  const std::uint32_t K = static_cast<std::uint32_t>(cur.indicators());
  const std::uint32_t n_prev = cmp ? static_cast<std::uint32_t>(prev->units()) : 0;
  const std::uint32_t n_cur = static_cast<std::uint32_t>(cur.units());
  const std::uint32_t limit = cmp ? std::min(n_cur, n_prev) : n_cur;
  const std::uint32_t lo1 = static_cast<std::uint32_t>(p.lo1);
  WideBlock b(cur, cmp ? prev : nullptr);
  auto prev_row = [&](std::uint32_t i) {
    const unsigned s = static_cast<unsigned>(prev->row_state(i));
    const std::uint32_t c1 = prev->row_cds(i), c2 = prev->row_ts(i);
    p.pst1[c1 * kStateCount + s]++;
    p.pst2[c2 * kStateCount + s]++;
    const std::uint8_t band = kBandOf[s];
    if (band < 2) b.prev_own.push_back({i, c1, c2, band});
  };
  std::uint32_t cursor = 0;  // where the next partner is looked for first
  for (std::uint32_t bb = begin; bb < end; bb += kWideBlock) {
    const std::uint32_t be = std::min(end, bb + kWideBlock);
    b.reset(be - bb);
    std::uint32_t groups = 0;
    for (std::uint32_t r = bb; r < be;) {
      const std::uint32_t c1 = cur.row_cds(r), c2 = cur.row_ts(r);
      // A segment has fewer than kMaxSegment rows (its state counts are 16 bits wide); a longer
      // run of one cell is cut, and the pieces add to the same cells.
      const std::uint32_t e = run_end(cur, r, std::min(be, r + kMaxSegment));
      const std::uint32_t steps = (e - r + kWide - 1) / kWide;
      const bool vec = std::uint64_t{r} + steps * kWide <= limit;
      const std::uint32_t pc1 = fused ? map->cds(c1) : kNone, pc2 = fused ? map->ts(c2) : kNone;
      const bool prev_cells = pc1 != kNone && pc2 != kNone;
      if (vec) {
        // The partner of a row whose previous-period row i is another unit: the row after the last
        // partner found, else the id index.
        auto pair_row = [&](std::uint32_t i, std::uint8_t band) {
          const UnitId id = cur.row_id(i);
          std::optional<std::uint32_t> q;
          if (cursor < n_prev && prev->row_id(cursor) == id)
            q = cursor;
          else
            q = prev->find(id);
          if (!q) return;
          cursor = *q + 1;
          const int pb = pair_band(band, kBandOf[static_cast<unsigned>(prev->row_state(*q))]);
          if (pb < 2) b.pair.push_back({i, *q, c1 - lo1, c2, static_cast<std::uint8_t>(pb)});
        };
        const SegmentStates st =
            setup_segment_wide(cur, cmp ? prev : nullptr, r, e, cmp, fused, prev_cells, pc1, pc2,
                               b.bits.data() + groups, prev_row, pair_row);
        for (int s = 0; s < kStateCount; ++s) {
          p.st1[(c1 - lo1) * kStateCount + s] += st.own[s];
          p.st2[c2 * kStateCount + s] += st.own[s];
        }
        if (st.matched)
          for (int s = 0; s < kStateCount; ++s) {
            p.pst1[pc1 * kStateCount + s] += st.prev[s];
            p.pst2[pc2 * kStateCount + s] += st.prev[s];
          }
        b.segs.push_back({r, groups, steps, c1 - lo1, c2});
        groups += steps;
        r = e;
        continue;
      }
      // Rows that can't take the vector path, one by one.
      StateCounts own_states, prev_states;
      bool matched = false;
      std::uint64_t word = 0;
      for (std::uint32_t i = r; i < e; ++i) {
        const unsigned s = static_cast<unsigned>(cur.row_state(i));
        const std::uint8_t band = kBandOf[s];
        own_states.add(s);
        unsigned code = 0;
        if (band < 2) {
          if (vec)
            code |= kM0 << band;
          else
            b.own.push_back({i, c1 - lo1, c2, band});
        }
        if (fused && i < n_prev) {
          if (vec && prev_cells && prev->row_cds(i) == pc1 && prev->row_ts(i) == pc2) {
            const unsigned ps = static_cast<unsigned>(prev->row_state(i));
            prev_states.add(ps);
            matched = true;
            if (kBandOf[ps] < 2) code |= kQ0 << kBandOf[ps];
          } else {
            prev_row(i);
          }
        }
        if (cmp && band < 2) {
          // The partner: the same row after align_to, else the row after the last partner
          // found, else the id index.
          std::optional<std::uint32_t> q;
          const UnitId id = cur.row_id(i);
          if (i < n_prev && prev->row_id(i) == id)
            q = i;
          else if (cursor < n_prev && prev->row_id(cursor) == id)
            q = cursor;
          else
            q = prev->find(id);
          if (q) {
            cursor = *q + 1;
            const int pb = pair_band(band, kBandOf[static_cast<unsigned>(prev->row_state(*q))]);
            if (pb < 2) {
              if (vec && *q == i)
                code |= kP0 << pb;
              else
                b.pair.push_back({i, *q, c1 - lo1, c2, static_cast<std::uint8_t>(pb)});
            }
          }
        }
        if (vec) {
          const std::uint32_t lane = (i - r) % kWide;
          word |= std::uint64_t{code} << (8 * lane);
          if (lane == kWide - 1 || i + 1 == e) {
            b.bits[groups + (i - r) / kWide] = transpose8(word);
            word = 0;
          }
        }
      }
      own_states.flush(&p.st1[(c1 - lo1) * kStateCount]);
      own_states.flush(&p.st2[c2 * kStateCount]);
      if (matched) {
        prev_states.flush(&p.pst1[pc1 * kStateCount]);
        prev_states.flush(&p.pst2[pc2 * kStateCount]);
      }
      if (vec) {
        b.segs.push_back({r, groups, steps, c1 - lo1, c2});
        groups += steps;
      }
      r = e;
    }
    sum_wide(b, p, K, cmp, fused);
  }
  // The previous period's rows past the end of the current one.
  for (std::uint32_t bb = prev_begin; fused && bb < prev_end; bb += kWideBlock) {
    b.reset(0);
    for (std::uint32_t i = bb; i < std::min(prev_end, bb + kWideBlock); ++i) prev_row(i);
    sum_wide(b, p, K, cmp, fused);
  }
}

// The cds cells [lo, hi) that rows [b, e) of `c` fall in.
std::pair<std::size_t, std::size_t> cds_range(const Cube& c, std::uint32_t b, std::uint32_t e) {
  std::size_t lo = ~std::size_t{0}, hi = 0;
  for (std::uint32_t r = b; r < e; ++r) {
    lo = std::min<std::size_t>(lo, c.row_cds(r));
    hi = std::max<std::size_t>(hi, c.row_cds(r) + 1);
  }
  return lo >= hi ? std::pair<std::size_t, std::size_t>{0, 0} : std::pair{lo, hi};
}

// Runs fn(t) for t = 0 .. threads - 1, t = 0 on this thread.
template <class F>
void on_threads(int threads, F fn) {
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(fn, t);
  fn(0);
  for (auto& th : pool) th.join();
}

struct WideResult {
  Cells current, previous;
  ComparableCells comparable;
};

// The wide kernel's recompute: each thread scans its share of the current rows into its own
// WidePartial (STYLE.md: no shared writes); then every thread adds the partials for a range of
// cells and writes them into the grids' layout. `cmp`: comparable cells with `prev`; `fused`: also
// `prev`'s own cells; `own`: the current period's own cells.
WideResult run_wide(const Cube& cur, const Cube* prev, int threads, bool fused, bool own) {
  const Dictionaries& dict = cur.dictionaries();
  const std::size_t cells1 = dict.counties() * kDivisions * kSizes;
  const std::size_t cells2 = dict.townships() * kSizes;
  const std::uint32_t K = static_cast<std::uint32_t>(cur.indicators());
  const std::size_t KB = std::size_t{K} * kBands;
  threads = std::max(1, threads);
  const bool cmp = prev != nullptr && prev->units() > 0;
  if (!cmp) fused = false;
  std::optional<CellMap> map;
  std::size_t pcells1 = 0, pcells2 = 0;
  if (fused) {
    map.emplace(dict, prev->dictionaries());
    pcells1 = prev->dictionaries().counties() * kDivisions * kSizes;
    pcells2 = prev->dictionaries().townships() * kSizes;
  }
  std::vector<WidePartial> parts(static_cast<std::size_t>(threads));
  const std::uint32_t n = static_cast<std::uint32_t>(cur.units());
  const std::uint32_t n_prev = cmp ? static_cast<std::uint32_t>(prev->units()) : 0;
  on_threads(threads, [&](int t) {
    const std::uint32_t b = static_cast<std::uint32_t>(std::uint64_t{n} * t / threads);
    const std::uint32_t e = static_cast<std::uint32_t>(std::uint64_t{n} * (t + 1) / threads);
    const auto [lo, hi] = cds_range(cur, b, e);
    parts[t].init(lo, hi - lo, cells2, pcells1, pcells2, static_cast<int>(K));
    // The last thread also takes the previous period's rows past the end of the current one.
    const std::uint32_t pb = t + 1 == threads ? n : 0;
    const std::uint32_t pe = t + 1 == threads ? std::max(n, n_prev) : 0;
    scan_wide(cur, cmp ? prev : nullptr, b, e, parts[t], fused, map ? &*map : nullptr, pb, pe);
  });

  WideResult out;
  const bool prev_own = fused && prev->units() > 0;
  // The result grids, allocated (and so zeroed) by different threads.
  on_threads(std::min(threads, 3), [&](int t) {
    for (int job = t; job < 3; job += std::min(threads, 3)) {
      if (job == 0 && own) {
        out.current.init(static_cast<int>(K));
        out.current.fit(dict);
      } else if (job == 1 && cmp) {
        out.comparable.init(static_cast<int>(K));
        out.comparable.fit(dict);
      } else if (job == 2 && prev_own) {
        out.previous.init(static_cast<int>(K));
        out.previous.fit(prev->dictionaries());
      }
    }
  });
  // The partials are indicator-major and the grids cell-major: both are walked a tile of cells at
  // a time, so that each indicator's reads are one run per partial and the tile's grid rows stay
  // in cache (cell by cell with all indicators read 50 lines far apart per cell: 12.5 ms of CPU
  // against 11 tiled, in one run each).
  constexpr std::size_t kTile = 32;
  // Cells [c0, c1) of the current period's grids (ts or cds): the partials' slots added.
  // With `pg`, the previous period's sums of rows matched in a current cell (slots 5 and 7) go to
  // the previous period's cell `map` gives for it (one to one, so no two threads write one cell);
  // reading them here rather than in previous_tile reads each partial once.
  auto current_tile = [&](bool ts, std::size_t c0, std::size_t c1, Grid* g, Grid* cg,
                          std::uint32_t* states, Grid* pg) {
    std::uint32_t pcell[kTile];
    if (pg)
      for (std::size_t c = c0; c < c1; ++c) {
        const auto cc = static_cast<std::uint32_t>(c);
        pcell[c - c0] = ts ? map->ts(cc) : map->cds(cc);
      }
    alignas(64) double z[kTile][kSlots];
    alignas(32) std::uint32_t m[kTile][kSlots];
    for (std::uint32_t k = 0; k < K; ++k) {
      std::fill(&z[0][0], &z[0][0] + kTile * kSlots, 0.0);
      std::fill(&m[0][0], &m[0][0] + kTile * kSlots, 0u);
      for (const WidePartial& p : parts) {
        const std::size_t lo = ts ? 0 : p.lo1, n = ts ? p.cells2 : p.cells1;
        const std::size_t a = std::max(c0, lo), e = std::min(c1, lo + n);
        if (a >= e) continue;
        const std::size_t at = (k * n + (a - lo)) * kSlots;
        const double* w = (ts ? p.w2 : p.w1).data() + at;
        const std::uint32_t* nn = (ts ? p.n2 : p.n1).data() + at;
        for (std::size_t c = a; c < e; ++c, w += kSlots, nn += kSlots)
          for (std::uint32_t j = 0; j < kSlots; ++j) z[c - c0][j] += w[j], m[c - c0][j] += nn[j];
      }
      for (std::size_t c = c0; c < c1; ++c)
        for (std::size_t b = 0; b < 2; ++b) {
          const std::size_t at = c * KB + b * K + k;
          const double* zc = z[c - c0];
          const std::uint32_t* mc = m[c - c0];
          if (g) g->sum[at] = zc[2 * b], g->count[at] = mc[b];
          if (cg)
            cg->sum[at] = zc[4 + 2 * b], cg->second[at] = zc[1 + 2 * b], cg->count[at] = mc[2 + b];
          if (pg && pcell[c - c0] != kNone) {
            const std::size_t pat = pcell[c - c0] * KB + b * K + k;
            pg->sum[pat] = zc[5 + 2 * b], pg->count[pat] = mc[4 + b];
          }
        }
    }
    if (states)
      for (const WidePartial& p : parts) {
        const std::size_t lo = ts ? 0 : p.lo1, n = ts ? p.cells2 : p.cells1;
        const std::size_t a = std::max(c0, lo), e = std::min(c1, lo + n);
        for (std::size_t c = a; c < e; ++c) {
          const std::uint32_t* st = &(ts ? p.st2 : p.st1)[(c - lo) * kStateCount];
          for (int s = 0; s < kStateCount; ++s) states[c * kStateCount + s] += st[s];
        }
      }
  };
  // Cells [c0, c1) of the previous period's grids: its rows summed one by one, added to what
  // current_tile wrote there (the rows summed in the segments of the current cell each
  // corresponds to), so it runs after every current_tile.
  auto previous_tile = [&](bool ts, std::size_t c0, std::size_t c1, Grid& g,
                           std::uint32_t* states) {
    double z[kTile][2];
    std::uint32_t m[kTile][2];
    for (std::uint32_t k = 0; k < K; ++k) {
      std::fill(&z[0][0], &z[0][0] + kTile * 2, 0.0);
      std::fill(&m[0][0], &m[0][0] + kTile * 2, 0u);
      for (const WidePartial& p : parts) {
        const std::size_t pn = ts ? p.pcells2 : p.pcells1;
        const double* w = (ts ? p.pw2 : p.pw1).data() + k * pn * 2;
        const std::uint32_t* nn = (ts ? p.pn2 : p.pn1).data() + k * pn * 2;
        for (std::size_t pc = c0; pc < c1; ++pc) {
          double* zc = z[pc - c0];
          std::uint32_t* mc = m[pc - c0];
          zc[0] += w[pc * 2], zc[1] += w[pc * 2 + 1], mc[0] += nn[pc * 2], mc[1] += nn[pc * 2 + 1];
        }
      }
      for (std::size_t pc = c0; pc < c1; ++pc)
        for (std::size_t b = 0; b < 2; ++b) {
          const std::size_t at = pc * KB + b * K + k;
          g.sum[at] += z[pc - c0][b], g.count[at] += m[pc - c0][b];
        }
    }
    for (const WidePartial& p : parts)
      for (std::size_t pc = c0; pc < c1; ++pc) {
        const std::uint32_t* st = &(ts ? p.pst2 : p.pst1)[pc * kStateCount];
        for (int s = 0; s < kStateCount; ++s) states[pc * kStateCount + s] += st[s];
      }
  };
  auto tiles = [&](int t, std::size_t total, auto&& f) {
    const std::size_t a = total * t / threads, e = total * (t + 1) / threads;
    for (std::size_t c = a; c < e; c += kTile) f(c, std::min(e, c + kTile));
  };
  on_threads(threads, [&](int t) {
    Grid* g1 = own ? &out.current.cds : nullptr;
    Grid* g2 = own ? &out.current.ts : nullptr;
    Grid* cg1 = cmp ? &out.comparable.cds : nullptr;
    Grid* cg2 = cmp ? &out.comparable.ts : nullptr;
    std::uint32_t* s1 = own ? out.current.cds_states.data() : nullptr;
    std::uint32_t* s2 = own ? out.current.ts_states.data() : nullptr;
    Grid* pg1 = prev_own ? &out.previous.cds : nullptr;
    Grid* pg2 = prev_own ? &out.previous.ts : nullptr;
    tiles(t, cells1,
          [&](std::size_t a, std::size_t e) { current_tile(false, a, e, g1, cg1, s1, pg1); });
    tiles(t, cells2,
          [&](std::size_t a, std::size_t e) { current_tile(true, a, e, g2, cg2, s2, pg2); });
  });
  if (!prev_own) return out;
  on_threads(threads, [&](int t) {
    tiles(t, pcells1, [&](std::size_t a, std::size_t e) {
      previous_tile(false, a, e, out.previous.cds, out.previous.cds_states.data());
    });
    tiles(t, pcells2, [&](std::size_t a, std::size_t e) {
      previous_tile(true, a, e, out.previous.ts, out.previous.ts_states.data());
    });
  });
  return out;
}

// Each thread scans its own rows into its own Partial (STYLE.md: no shared writes); then combine.
// With `fused`, `prev`'s own cells come out of the same pass into `*fused`.
Partial run(const Cube& cur, const Cube* prev, int threads, Partial* fused = nullptr) {
  const std::size_t cells1 = cur.dictionaries().counties() * kDivisions * kSizes;
  const std::size_t cells2 = cur.dictionaries().townships() * kSizes;
  const int K = cur.indicators();
  threads = std::max(1, threads);
  if (prev == nullptr || prev->units() == 0) fused = nullptr;
  std::optional<CellMap> map;
  std::size_t prev_cells1 = 0, prev_cells2 = 0;
  if (fused) {
    map.emplace(cur.dictionaries(), prev->dictionaries());
    prev_cells1 = prev->dictionaries().counties() * kDivisions * kSizes;
    prev_cells2 = prev->dictionaries().townships() * kSizes;
  }
  std::vector<Partial> parts(static_cast<std::size_t>(threads));
  std::vector<Partial> prev_parts(fused ? static_cast<std::size_t>(threads) : 0);
  const std::uint32_t n = static_cast<std::uint32_t>(cur.units());
  const std::uint32_t n_prev = prev ? static_cast<std::uint32_t>(prev->units()) : 0;
  auto work = [&](int t) {
    const std::uint32_t b = static_cast<std::uint32_t>(std::uint64_t{n} * t / threads);
    const std::uint32_t e = static_cast<std::uint32_t>(std::uint64_t{n} * (t + 1) / threads);
    // Thread 0's partial becomes the result, so it covers every cell; the others only theirs.
    auto [lo, hi] = t == 0 ? std::pair<std::size_t, std::size_t>{0, cells1} : cds_range(cur, b, e);
    parts[t].init(lo, hi - lo, cells2, K, prev != nullptr);
    if (!fused) return scan(cur, prev, b, e, parts[t]);
    // The previous period's rows [b, e), and for the last thread those past the current's end.
    const std::uint32_t pb = t + 1 == threads ? n : 0;
    const std::uint32_t pe = t + 1 == threads ? n_prev : 0;
    std::size_t plo = 0, phi = prev_cells1;
    if (t > 0) {
      auto [l1, h1] = cds_range(*prev, std::min(b, n_prev), std::min(e, n_prev));
      auto [l2, h2] = cds_range(*prev, pb, pe);
      plo = h1 > l1 ? l1 : l2, phi = h1 > l1 ? h1 : h2;
      if (h1 > l1 && h2 > l2) plo = std::min(l1, l2), phi = std::max(h1, h2);
    }
    prev_parts[t].init(plo, phi - plo, prev_cells2, K, false);
    scan(cur, prev, b, e, parts[t], &prev_parts[t], &*map, pb, pe);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (int t = 1; t < threads; ++t) parts[0].add(parts[t], K);
  if (fused) {
    for (int t = 1; t < threads; ++t) prev_parts[0].add(prev_parts[t], K);
    *fused = std::move(prev_parts[0]);
  }
  return std::move(parts[0]);
}

Cells cells_from(Partial& p, const Cube& cube) {
  Cells c;
  c.init(cube.indicators());
  c.cds.sum = std::move(p.s1), c.cds.count = std::move(p.n1c);
  c.ts.sum = std::move(p.s2), c.ts.count = std::move(p.n2c);
  c.cds_states = std::move(p.st1);
  c.ts_states = std::move(p.st2);
  c.fit(cube.dictionaries());
  return c;
}

ComparableCells comparable_from(Partial& p, const Cube& cube) {
  ComparableCells c;
  c.init(cube.indicators());
  c.cds.sum = std::move(p.cs1), c.cds.second = std::move(p.cp1), c.cds.count = std::move(p.cn1);
  c.ts.sum = std::move(p.cs2), c.ts.second = std::move(p.cp2), c.ts.count = std::move(p.cn2);
  c.fit(cube.dictionaries());
  return c;
}

}  // namespace

Cells recompute_cells(const Cube& cube, int threads) {
  if (kernel() == Kernel::avx512)
    return std::move(run_wide(cube, nullptr, threads, false, true).current);
  Partial p = run(cube, nullptr, threads);
  return cells_from(p, cube);
}

ComparableCells recompute_comparable(const Cube& current, const Cube& previous, int threads) {
  if (kernel() == Kernel::avx512) {
    if (previous.units() > 0)
      return std::move(run_wide(current, &previous, threads, false, false).comparable);
    ComparableCells none;  // no comparable units: empty cells of the right size
    none.init(current.indicators());
    none.fit(current.dictionaries());
    return none;
  }
  Partial p = run(current, &previous, threads);
  return comparable_from(p, current);
}

PairCells recompute_pair(const Cube& current, const Cube& previous, int threads) {
  // One pass over both periods' rows: the current period's cells, the comparable cells and the
  // previous period's own cells.
  if (kernel() == Kernel::avx512 && previous.units() > 0) {
    WideResult r = run_wide(current, &previous, threads, true, true);
    return {std::move(r.current), std::move(r.previous), std::move(r.comparable)};
  }
  Partial q;
  Partial p = run(current, &previous, threads, &q);
  PairCells out;
  out.current = cells_from(p, current);
  out.comparable = comparable_from(p, current);
  out.previous = previous.units() > 0 && current.units() > 0 ? cells_from(q, previous)
                                                             : recompute_cells(previous, threads);
  return out;
}

std::vector<PairTables> pair_rollups(const PairCells& cells, const Dictionaries& current,
                                     const Dictionaries& previous, std::span<const Rollup> by,
                                     std::span<const StateGroup> groups, int threads) {
  // Three jobs, each one pass over one period's grids for every group: the growth tables (the
  // comparable grids, three arrays), the current and the previous period's (two arrays each).
  std::vector<std::vector<std::vector<GrowthRow>>> growth;
  std::vector<std::vector<std::vector<RollupRow>>> own[2];
  std::atomic<int> next{0};
  auto work = [&](int) {
    for (int job; (job = next.fetch_add(1)) < 3;) {
      if (job == 0)
        growth = grouped_growth_rollups(cells.comparable, current, by, groups);
      else if (job == 1)
        own[0] = grouped_rollups(cells.current, current, by, groups);
      else
        own[1] = grouped_rollups(cells.previous, previous, by, groups);
    }
  };
  on_threads(std::clamp(threads, 1, 3), work);
  std::vector<PairTables> out(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g)
    out[g] = {groups[g], std::move(own[0][g]), std::move(own[1][g]), std::move(growth[g])};
  return out;
}

const char* recompute_kernel() {
  switch (kernel()) {
    case Kernel::avx512:
      return "AVX-512";
    case Kernel::avx2:
      return "AVX2";
    case Kernel::base:
      break;
  }
  return "baseline x86-64 (SSE2)";
}

void Cube::recompute(int threads) { cells_ = recompute_cells(*this, threads); }

// --- CubePair -----------------------------------------------------------------------------------

CubePair::CubePair(Cube& current, Cube& previous) : cur_(&current), prev_(&previous) {
  // Two periods of one form have the same indicators; a mismatch is a wiring bug, not input.
  assert(current.indicators() == previous.indicators());
  cmp_ = recompute_comparable(current, previous, 1);
}

void CubePair::contribute(UnitId id, double sign) {
  auto r = cur_->find(id);
  auto q = prev_->find(id);
  if (!r || !q) return;
  const int pb = pair_band(band_of(cur_->row_state(*r)), band_of(prev_->row_state(*q)));
  if (pb == 2) return;
  cmp_.fit(cur_->dictionaries());
  const std::uint32_t step = sign > 0 ? 1u : static_cast<std::uint32_t>(-1);
  const std::size_t a1 = cmp_.cds.at(cur_->row_cds(*r), pb);
  const std::size_t a2 = cmp_.ts.at(cur_->row_ts(*r), pb);
  for (int k = 0; k < cur_->indicators(); ++k) {
    const double v = cur_->value(*r, k);
    const double w = prev_->value(*q, k);
    if (std::isnan(v) || std::isnan(w)) continue;
    for (auto [g, a] : {std::pair<Grid*, std::size_t>{&cmp_.cds, a1}, {&cmp_.ts, a2}}) {
      g->sum[a + k] += sign * v;
      g->second[a + k] += sign * w;
      g->count[a + k] += step;
      if (g->count[a + k] == 0) g->sum[a + k] = g->second[a + k] = 0.0;
    }
  }
}

RowError CubePair::apply_current(const UnitRow& row) {
  contribute(row.id, -1.0);
  const RowError e = cur_->apply(row);
  contribute(row.id, 1.0);  // the new row, or the old one again if the row was refused
  return e;
}

RowError CubePair::apply_previous(const UnitRow& row) {
  // Both cubes have the same K (checked at construction), so a row fits one iff it fits the other.
  contribute(row.id, -1.0);
  const RowError e = prev_->apply(row);
  contribute(row.id, 1.0);
  return e;
}

Status CubePair::upsert_current(const UnitRow& row) { return to_status(apply_current(row)); }
Status CubePair::upsert_previous(const UnitRow& row) { return to_status(apply_previous(row)); }

Status CubePair::remove_current(UnitId id) {
  contribute(id, -1.0);
  return cur_->remove(id);
}

Status CubePair::remove_previous(UnitId id) {
  contribute(id, -1.0);
  return prev_->remove(id);
}

std::vector<GrowthRow> CubePair::growth(Rollup by, StateGroup group) const {
  return growth_rollup(cmp_, cur_->dictionaries(), by, group);
}

// --- YTD ----------------------------------------------------------------------------------------

Result<Cube> derive_ytd(std::span<const Cube* const> months) {
  if (months.empty())
    return make_error(ErrorKind::invalid, "CUBE_NO_MONTHS", "没有月度数据",
                      "no monthly cubes to sum");
  const int K = months[0]->indicators();
  for (const Cube* m : months)
    if (m->indicators() != K)
      return make_error(ErrorKind::invalid, "CUBE_MONTHS_DIFFER", "各月指标个数不同",
                        "the monthly cubes have different indicators");
  Cube ytd(K);
  std::unordered_map<UnitId, bool> seen;
  std::vector<double> values(static_cast<std::size_t>(K));
  // Latest month first, so each unit is classified by its latest report.
  for (auto it = months.rbegin(); it != months.rend(); ++it) {
    const Cube& m = **it;
    for (std::uint32_t r = 0; r < m.units(); ++r) {
      const UnitId id = m.row_id(r);
      if (!seen.emplace(id, true).second) continue;
      std::fill(values.begin(), values.end(), kNaN);
      for (const Cube* month : months) {
        auto q = month->find(id);
        if (!q) continue;
        for (int k = 0; k < K; ++k) {
          const double v = month->value(*q, k);
          if (std::isnan(v)) continue;
          values[k] = std::isnan(values[k]) ? v : values[k] + v;
        }
      }
      SG_TRY(ytd.upsert(UnitRow{id, m.row_dims(r), values, m.row_state(r)}));
    }
  }
  return ytd;
}

}  // namespace statgov::cube
