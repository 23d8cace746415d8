// Cube rows, maintained cells, rollups from cells, the comparable-unit pair and the full recompute.
#include "cube/cube.hpp"

#include <emmintrin.h>  // SSE2, part of x86-64: the recompute's inner loop

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <thread>

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

std::vector<RollupRow> rollup(const Cells& cells, const Dictionaries& dict, Rollup by,
                              StateGroup group) {
  const bool township = by == Rollup::township;
  const Grid& g = township ? cells.ts : cells.cds;
  const std::vector<std::uint32_t>& states = township ? cells.ts_states : cells.cds_states;
  const std::size_t k = static_cast<std::size_t>(g.k);
  Slotter slotter{by, dict};
  const std::size_t n_slots = slotter.slots();
  std::vector<RollupRow> out(n_slots);
  std::vector<bool> used(n_slots, false);
  const std::size_t n_cells = std::min(g.cells(), states.size() / kStateCount);
  for (std::size_t c = 0; c < n_cells; ++c) {
    const std::uint32_t* st = &states[c * kStateCount];
    std::uint32_t units = 0;
    for (int s = 0; s < kStateCount; ++s) units += st[s];
    if (units == 0) continue;  // most (county, division, size) cells are empty
    CellKey key;
    std::size_t slot = township ? slotter.township_slot(c, key) : slotter.slot(c, key);
    RollupRow& row = out[slot];
    if (!used[slot]) {
      used[slot] = true;
      row.key = key;
      row.sum.assign(k, 0.0);
      row.count.assign(k, 0);
    }
    for (int s = 0; s < kStateCount; ++s) row.units[s] += st[s];
    for (int b : bands_of(group)) {
      const double* sum = &g.sum[g.at(c, b)];
      const std::uint32_t* cnt = &g.count[g.at(c, b)];
      for (std::size_t i = 0; i < k; ++i) {
        row.sum[i] += sum[i];
        row.count[i] += cnt[i];
      }
    }
  }
  std::vector<RollupRow> rows;
  for (std::size_t s = 0; s < n_slots; ++s)
    if (used[s]) rows.push_back(std::move(out[s]));
  std::sort(rows.begin(), rows.end(),
            [](const RollupRow& a, const RollupRow& b) { return a.key < b.key; });
  return rows;
}

std::vector<GrowthRow> growth_rollup(const ComparableCells& cells, const Dictionaries& dict,
                                     Rollup by, StateGroup group) {
  const bool township = by == Rollup::township;
  const Grid& g = township ? cells.ts : cells.cds;
  const std::size_t k = static_cast<std::size_t>(g.k);
  Slotter slotter{by, dict};
  const std::size_t n_slots = slotter.slots();
  std::vector<GrowthRow> out(n_slots);
  std::vector<bool> used(n_slots, false);
  const std::size_t n_cells = g.cells();
  for (std::size_t c = 0; c < n_cells; ++c) {
    bool any = false;
    for (int b : bands_of(group)) {
      const std::uint32_t* cnt = &g.count[g.at(c, b)];
      for (std::size_t i = 0; i < k && !any; ++i) any = cnt[i] != 0;
    }
    if (!any) continue;
    CellKey key;
    std::size_t slot = township ? slotter.township_slot(c, key) : slotter.slot(c, key);
    GrowthRow& row = out[slot];
    if (!used[slot]) {
      used[slot] = true;
      row.key = key;
      row.current.assign(k, 0.0);
      row.previous.assign(k, 0.0);
      row.units.assign(k, 0);
    }
    for (int b : bands_of(group)) {
      std::size_t at = g.at(c, b);
      for (std::size_t i = 0; i < k; ++i) {
        row.current[i] += g.sum[at + i];
        row.previous[i] += g.second[at + i];
        row.units[i] += g.count[at + i];
      }
    }
  }
  std::vector<GrowthRow> rows;
  for (std::size_t s = 0; s < n_slots; ++s) {
    if (!used[s]) continue;
    GrowthRow& r = out[s];
    r.growth.resize(k);
    for (std::size_t i = 0; i < k; ++i)
      r.growth[i] =
          (r.units[i] == 0 || r.previous[i] == 0.0) ? kNaN : r.current[i] / r.previous[i] - 1.0;
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(),
            [](const GrowthRow& a, const GrowthRow& b) { return a.key < b.key; });
  return rows;
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

// One thread's partial state, k-major ([k][cell*bands+band]) so that the slice one indicator
// touches (a few hundred KB) stays in L2 while the rows stream past; transposed to the cell-major
// Cells once at the end.
struct Partial {
  std::size_t n1 = 0, n2 = 0;  // cells*bands of grid cds and ts
  std::vector<double> s1, s2, cs1, cp1, cs2, cp2;
  std::vector<std::uint32_t> n1c, n2c, cn1, cn2;
  std::vector<std::uint32_t> st1, st2;

  void init(std::size_t cells1, std::size_t cells2, int k, bool comparable) {
    n1 = cells1 * kBands;
    n2 = cells2 * kBands;
    s1.assign(n1 * k, 0.0);
    n1c.assign(n1 * k, 0);
    s2.assign(n2 * k, 0.0);
    n2c.assign(n2 * k, 0);
    st1.assign(cells1 * kStateCount, 0);
    st2.assign(cells2 * kStateCount, 0);
    if (comparable) {
      cs1.assign(n1 * k, 0.0);
      cp1.assign(n1 * k, 0.0);
      cn1.assign(n1 * k, 0);
      cs2.assign(n2 * k, 0.0);
      cp2.assign(n2 * k, 0.0);
      cn2.assign(n2 * k, 0);
    }
  }
  void add(const Partial& o) {
    auto acc = [](auto& a, const auto& b) {
      for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    };
    acc(s1, o.s1), acc(n1c, o.n1c), acc(s2, o.s2), acc(n2c, o.n2c), acc(st1, o.st1),
        acc(st2, o.st2);
    acc(cs1, o.cs1), acc(cp1, o.cp1), acc(cn1, o.cn1), acc(cs2, o.cs2), acc(cp2, o.cp2),
        acc(cn2, o.cn2);
  }
};

// Column by column over the thread's whole range, so that one indicator's slice of the partial
// cells (a few hundred KB) stays in L2 while its column streams past. The per-row cell numbers are
// computed once (14 bytes a row, re-read per indicator, mostly from L3).
void scan(const Cube& cur, const Cube* prev, std::uint32_t begin, std::uint32_t end, Partial& p) {
  const int K = cur.indicators();
  const std::uint32_t n = end - begin;
  const bool cmp = prev != nullptr && prev->units() > 0;
  std::vector<std::uint32_t> base1(n), base2(n), pr(cmp ? n : 0);
  std::vector<std::uint8_t> band(n), pband(cmp ? n : 0);
  std::vector<std::uint32_t> runs;  // first row (relative) of each run sharing both cells and band
  // After Cube::align_to the previous period's rows follow the current order, so a cursor finds
  // most partners; a hash lookup serves the rest (and the cursor's start in this range).
  std::uint32_t cursor = 0;
  bool cursor_known = false;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t r = begin + i;
    const State s = cur.row_state(r);
    band[i] = static_cast<std::uint8_t>(band_of(s));
    base1[i] = cur.row_cds(r) * kBands;
    base2[i] = cur.row_ts(r) * kBands;
    if (i == 0 || base1[i] != base1[i - 1] || base2[i] != base2[i - 1] || band[i] != band[i - 1])
      runs.push_back(i);
    p.st1[cur.row_cds(r) * kStateCount + static_cast<int>(s)]++;
    p.st2[cur.row_ts(r) * kStateCount + static_cast<int>(s)]++;
    if (!cmp) continue;
    std::optional<std::uint32_t> q;
    if (cursor_known && cursor < prev->units() && prev->row_id(cursor) == cur.row_id(r)) {
      q = cursor;
    } else {
      q = prev->find(cur.row_id(r));
      if (q) cursor_known = true;
    }
    if (q) cursor = *q + 1;
    pband[i] = static_cast<std::uint8_t>(q ? pair_band(band[i], band_of(prev->row_state(*q))) : 2);
    // Pair band 2 is never read, so a unit without a partner may point anywhere valid: the row
    // after its predecessor's partner keeps the run a plain slice of the previous period.
    pr[i] = q ? *q
              : std::min<std::uint32_t>(i == 0 ? 0 : pr[i - 1] + 1,
                                        static_cast<std::uint32_t>(prev->units() - 1));
  }
  // A run whose partners are consecutive rows of the previous period (the usual case after
  // align_to) reads them as a plain slice, which lets the compiler vectorise the loop.
  std::vector<std::uint8_t> contiguous(cmp ? runs.size() : 0, 0);
  for (std::size_t j = 0; cmp && j < runs.size(); ++j) {
    const std::uint32_t rs = runs[j], re = j + 1 < runs.size() ? runs[j + 1] : n;
    bool ok = true;
    for (std::uint32_t i = rs + 1; i < re && ok; ++i) ok = pr[i] == pr[i - 1] + 1;
    contiguous[j] = ok;
  }
  if (runs.size() * 4 > n) {  // unclustered rows: scatter row by row
    for (int k = 0; k < K; ++k) {
      const double* x = cur.column(k).data() + begin;
      double* s1 = p.s1.data() + k * p.n1;
      double* s2 = p.s2.data() + k * p.n2;
      std::uint32_t* n1 = p.n1c.data() + k * p.n1;
      std::uint32_t* n2 = p.n2c.data() + k * p.n2;
      if (!cmp) {
        for (std::uint32_t i = 0; i < n; ++i) {
          const double v = x[i];
          const bool ok = v == v;
          const double vv = ok ? v : 0.0;
          const std::uint32_t a = base1[i] + band[i], b = base2[i] + band[i];
          s1[a] += vv;
          n1[a] += ok;
          s2[b] += vv;
          n2[b] += ok;
        }
        continue;
      }
      const double* y = prev->column(k).data();
      double* cs1 = p.cs1.data() + k * p.n1;
      double* cp1 = p.cp1.data() + k * p.n1;
      std::uint32_t* cn1 = p.cn1.data() + k * p.n1;
      double* cs2 = p.cs2.data() + k * p.n2;
      double* cp2 = p.cp2.data() + k * p.n2;
      std::uint32_t* cn2 = p.cn2.data() + k * p.n2;
      for (std::uint32_t i = 0; i < n; ++i) {
        const double v = x[i];
        const bool ok = v == v;
        const double vv = ok ? v : 0.0;
        const std::uint32_t a = base1[i] + band[i], b = base2[i] + band[i];
        s1[a] += vv;
        n1[a] += ok;
        s2[b] += vv;
        n2[b] += ok;
        const double w = y[pr[i]];
        const bool both = ok && w == w;
        const double bv = both ? v : 0.0;
        const double bw = both ? w : 0.0;
        const std::uint32_t pa = base1[i] + pband[i], pb = base2[i] + pband[i];
        cs1[pa] += bv;
        cp1[pa] += bw;
        cn1[pa] += both;
        cs2[pb] += bv;
        cp2[pb] += bw;
        cn2[pb] += both;
      }
    }
    return;
  }
  // Clustered rows (Cube::cluster): a run shares its cells, so the sums build up in registers and
  // reach the cells once per run. Band 2 (and pair band 2) is read by no figure and not summed
  // here.
  runs.push_back(n);
  // Groups of runs of about 4096 rows: their cell numbers stay in L1 while every indicator passes
  // over them, and clustered rows touch neighbouring cells, so the cells' slices stay warm too.
  for (std::size_t jb = 0; jb + 1 < runs.size();) {
    std::size_t jend = jb + 1;
    while (jend + 1 < runs.size() && runs[jend] - runs[jb] < 4096) ++jend;
    for (int k = 0; k < K; ++k) {
      const double* x = cur.column(k).data() + begin;
      const double* y = cmp ? prev->column(k).data() : nullptr;
      double* s1 = p.s1.data() + k * p.n1;
      double* s2 = p.s2.data() + k * p.n2;
      std::uint32_t* n1 = p.n1c.data() + k * p.n1;
      std::uint32_t* n2 = p.n2c.data() + k * p.n2;
      // Instantiations: without a previous period; with one, partners gathered or a plain slice.
      auto pass = [&](auto with_previous) {
        constexpr int kCmp = decltype(with_previous)::value;  // 0 none, 1 gather, 2 slice
        for (std::size_t j = jb; j < jend; ++j) {
          const std::uint32_t rs = runs[j], re = runs[j + 1];
          if constexpr (kCmp == 2) {
            if (!contiguous[j]) continue;
          } else if constexpr (kCmp == 1) {
            if (contiguous[j]) continue;
          }
          const double* ys = kCmp == 2 ? y + pr[rs] - rs : nullptr;
          // Branch-free, two rows per step with SSE2: a missing value or a row outside the pair
          // band is masked to +0.0 (NaN * 0 would still be NaN, and branches on 5 % missing values
          // and mixed states mispredict; g++ does not vectorise this on its own). A run has one
          // state band, so only the pair band needs a mask. Counts are summed as doubles.
          const int bd = band[rs];
          if (bd == 2)
            continue;  // rows not submitted: in the state counts only, and never comparable
          const __m128d one = _mm_set1_pd(1.0);
          __m128d a = _mm_setzero_pd(), m = a, c0 = a, c1 = a, q0 = a, q1 = a, u0 = a, u1 = a;
          // Lane masks for pair bands 0 and 1 of two rows, looked up by (band of row i) + 3 x
          // (band of row i + 1): one load instead of two compares and a shuffle.
          alignas(16) static constexpr std::uint64_t kAll = ~std::uint64_t{0};
          alignas(16) static constexpr std::uint64_t kBand0[9][2] = {
              {kAll, kAll}, {0, kAll}, {0, kAll}, {kAll, 0}, {0, 0},
              {0, 0},       {kAll, 0}, {0, 0},    {0, 0}};
          alignas(16) static constexpr std::uint64_t kBand1[9][2] = {
              {0, 0},    {kAll, 0}, {0, 0},    {0, kAll}, {kAll, kAll},
              {0, kAll}, {0, 0},    {kAll, 0}, {0, 0}};
          for (std::uint32_t i = rs; i < re; i += 2) {
            const bool two = i + 1 < re;
            const __m128d v = two ? _mm_loadu_pd(x + i) : _mm_load_sd(x + i);
            const __m128d ok = _mm_cmpord_pd(v, v);
            // A single loaded lane's empty upper half is 0.0, which is ordered: it adds 0 to the
            // sum but 1 to the count, so the count takes the lane mask too.
            const __m128d lanes = two ? _mm_castsi128_pd(_mm_set1_epi32(-1))
                                      : _mm_castsi128_pd(_mm_set_epi64x(0, -1));
            a = _mm_add_pd(a, _mm_and_pd(v, ok));
            m = _mm_add_pd(m, _mm_and_pd(_mm_and_pd(ok, lanes), one));
            if constexpr (kCmp != 0) {
              __m128d w;
              if constexpr (kCmp == 2)
                w = two ? _mm_loadu_pd(ys + i) : _mm_load_sd(ys + i);
              else
                w = _mm_set_pd(two ? y[pr[i + 1]] : 0.0, y[pr[i]]);
              const __m128d both = _mm_and_pd(ok, _mm_cmpord_pd(w, w));
              const int pair = pband[i] + 3 * (two ? pband[i + 1] : 2);
              const __m128d p0 =
                  _mm_and_pd(both, _mm_load_pd(reinterpret_cast<const double*>(kBand0[pair])));
              const __m128d p1 =
                  _mm_and_pd(both, _mm_load_pd(reinterpret_cast<const double*>(kBand1[pair])));
              c0 = _mm_add_pd(c0, _mm_and_pd(v, p0));
              q0 = _mm_add_pd(q0, _mm_and_pd(w, p0));
              u0 = _mm_add_pd(u0, _mm_and_pd(p0, one));
              c1 = _mm_add_pd(c1, _mm_and_pd(v, p1));
              q1 = _mm_add_pd(q1, _mm_and_pd(w, p1));
              u1 = _mm_add_pd(u1, _mm_and_pd(p1, one));
            }
          }
          auto hsum = [](__m128d a) {
            return _mm_cvtsd_f64(a) + _mm_cvtsd_f64(_mm_unpackhi_pd(a, a));
          };
          auto hcount = [&](__m128d a) { return static_cast<std::uint32_t>(hsum(a)); };
          const std::uint32_t b1 = base1[rs], b2 = base2[rs];
          const double sa = hsum(a);
          const std::uint32_t na = hcount(m);
          s1[b1 + bd] += sa, n1[b1 + bd] += na;
          s2[b2 + bd] += sa, n2[b2 + bd] += na;
          if constexpr (kCmp == 0) continue;
          double* cs1 = p.cs1.data() + k * p.n1 + b1;
          double* cp1 = p.cp1.data() + k * p.n1 + b1;
          std::uint32_t* cn1 = p.cn1.data() + k * p.n1 + b1;
          double* cs2 = p.cs2.data() + k * p.n2 + b2;
          double* cp2 = p.cp2.data() + k * p.n2 + b2;
          std::uint32_t* cn2 = p.cn2.data() + k * p.n2 + b2;
          const std::uint32_t v0 = hcount(u0), v1 = hcount(u1);
          const double sc0 = hsum(c0), sc1 = hsum(c1), sq0 = hsum(q0), sq1 = hsum(q1);
          cs1[0] += sc0, cs1[1] += sc1, cp1[0] += sq0, cp1[1] += sq1, cn1[0] += v0, cn1[1] += v1;
          cs2[0] += sc0, cs2[1] += sc1, cp2[0] += sq0, cp2[1] += sq1, cn2[0] += v0, cn2[1] += v1;
        }
      };
      if (cmp) {
        pass(std::integral_constant<int, 1>{});
        pass(std::integral_constant<int, 2>{});
      } else {
        pass(std::integral_constant<int, 0>{});
      }
    }
    jb = jend;
  }
}

// Each thread scans its own rows into its own Partial; then combine; then finalise (transpose).
Partial run(const Cube& cur, const Cube* prev, int threads) {
  const std::size_t cells1 = cur.dictionaries().counties() * kDivisions * kSizes;
  const std::size_t cells2 = cur.dictionaries().townships() * kSizes;
  const int K = cur.indicators();
  threads = std::max(1, threads);
  std::vector<Partial> parts(static_cast<std::size_t>(threads));
  const std::uint32_t n = static_cast<std::uint32_t>(cur.units());
  auto work = [&](int t) {
    parts[t].init(cells1, cells2, K, prev != nullptr);
    const std::uint32_t b = static_cast<std::uint32_t>(std::uint64_t{n} * t / threads);
    const std::uint32_t e = static_cast<std::uint32_t>(std::uint64_t{n} * (t + 1) / threads);
    scan(cur, prev, b, e, parts[t]);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (int t = 1; t < threads; ++t) parts[0].add(parts[t]);
  return std::move(parts[0]);
}

// k-major partial -> cell-major grid.
void transpose(const std::vector<double>& s, const std::vector<double>* s2,
               const std::vector<std::uint32_t>& n, std::size_t cells_bands, Grid& g) {
  const std::size_t K = static_cast<std::size_t>(g.k);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t cb = 0; cb < cells_bands; ++cb) {
      g.sum[cb * K + k] = s[k * cells_bands + cb];
      g.count[cb * K + k] = n[k * cells_bands + cb];
      if (s2) g.second[cb * K + k] = (*s2)[k * cells_bands + cb];
    }
}

Cells cells_from(const Partial& p, const Cube& cube) {
  Cells c;
  c.init(cube.indicators());
  c.fit(cube.dictionaries());
  transpose(p.s1, nullptr, p.n1c, p.n1, c.cds);
  transpose(p.s2, nullptr, p.n2c, p.n2, c.ts);
  c.cds_states = p.st1;
  c.ts_states = p.st2;
  return c;
}

ComparableCells comparable_from(const Partial& p, const Cube& cube) {
  ComparableCells c;
  c.init(cube.indicators());
  c.fit(cube.dictionaries());
  transpose(p.cs1, &p.cp1, p.cn1, p.n1, c.cds);
  transpose(p.cs2, &p.cp2, p.cn2, p.n2, c.ts);
  return c;
}

}  // namespace

Cells recompute_cells(const Cube& cube, int threads) {
  return cells_from(run(cube, nullptr, threads), cube);
}

ComparableCells recompute_comparable(const Cube& current, const Cube& previous, int threads) {
  return comparable_from(run(current, &previous, threads), current);
}

PairCells recompute_pair(const Cube& current, const Cube& previous, int threads) {
  // The current rows are read once for both their own cells and the comparable cells.
  Partial p = run(current, &previous, threads);
  PairCells out;
  out.current = cells_from(p, current);
  out.comparable = comparable_from(p, current);
  out.previous = recompute_cells(previous, threads);
  return out;
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
