// The cube (DESIGN.md section 5): one form x one period held in memory as columns, with aggregates
// kept per cell of two small dense grids so that every rollup is read from cells, never from rows.
// Lives here: UnitRow, Cube (rows + maintained cells), the rollup queries, contributing units.
// Depends on base/ only; the store, services and api feed it and read it, never the reverse.
#pragma once

#include "base/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace statgov::cube {

using UnitId = std::int64_t;

// Why a row was refused; none = applied.
enum class RowError : std::uint8_t {
  none,
  wrong_count,
  bad_township,
  bad_division,
  bad_size,
  bad_state
};
Status to_status(RowError e);

// The cube's own view of a submission's state; services map domain::SubmissionState onto it.
enum class State : std::uint8_t {
  not_started,
  draft,
  submitted,
  returned,
  reviewed,
  approved,
  accepted
};
inline constexpr int kStateCount = 7;

// Which states count in a figure: the issue lets a user choose between the last accepted report
// and every report that has been submitted (submitted, reviewed, approved, accepted; a returned
// report went back to the enterprise and does not count).
enum class StateGroup : std::uint8_t { accepted, submitted_or_later };

// The rollups a summary table offers.
enum class Rollup : std::uint8_t {
  city,
  county,
  township,
  section,
  division,
  size,
  county_by_section
};

// Classification of a unit as the cube needs it; the codes are the numeric forms of the domain
// codes.
struct UnitDims {
  std::uint32_t township = 0;  // 9-digit township code, e.g. 430202001; county = township / 1000
  std::uint8_t division = 0;   // 2-digit GB/T 4754 大类, 1..97; the 门类 letter derives from it
  std::uint8_t size = 0;       // size class 1..4 (大中小微)
  bool operator==(const UnitDims&) const = default;
};

struct UnitRow {
  UnitId id = 0;
  UnitDims dims;
  std::span<const double> values;  // K values, NaN = missing
  State state = State::not_started;
};

// The 门类 letter of a 大类 (GB/T 4754-2017), or 0 for a code outside 01..97.
char section_of_division(int division);
// 0..19 for A..T; -1 if not a section letter.
int section_index(char section);

// A rollup row's coordinates; 0 (or '\0') means "all" for that dimension.
struct CellKey {
  std::uint32_t county = 0;    // 6 digits
  std::uint32_t township = 0;  // 9 digits
  char section = 0;
  std::uint8_t division = 0;
  std::uint8_t size = 0;
  auto operator<=>(const CellKey&) const = default;
};
// The key of `dims` in rollup `by`.
CellKey key_of(Rollup by, const UnitDims& dims);

struct RollupRow {
  CellKey key;
  std::array<std::uint32_t, kStateCount> units{};  // units per state, whatever the group
  std::vector<double> sum;                         // per indicator, units in the group
  std::vector<std::uint32_t> count;                // non-missing values per indicator, in the group
};

struct GrowthRow {
  CellKey key;                  // in the current period's classification
  std::vector<double> current;  // per indicator, over comparable units only
  std::vector<double> previous;
  std::vector<std::uint32_t> units;  // comparable units per indicator
  std::vector<double> growth;        // current / previous - 1; NaN when previous is 0 or no units
};

// Dense grid storage: cells x bands x K sums and counts, cell-major so that a new county or
// township appends cells without moving the others, and an update touches K adjacent values.
// `second` is used only by comparable cells (the previous period's sums).
struct Grid {
  int k = 0;
  int bands = 0;
  std::vector<double> sum;
  std::vector<double> second;
  std::vector<std::uint32_t> count;

  std::size_t cells() const {
    return k == 0 ? 0 : count.size() / (static_cast<std::size_t>(bands) * k);
  }
  void resize_cells(std::size_t n, bool with_second);
  std::size_t at(std::size_t cell, int band) const {
    return (cell * bands + band) * static_cast<std::size_t>(k);
  }
};

// Band of a row: 0 accepted, 1 submitted/reviewed/approved, 2 everything else (counted in states
// only). "accepted" reads band 0; "submitted_or_later" reads bands 0 and 1. No figure reads band
// 2's sums: they stay zero in maintained cells and are scratch in a recompute.
inline constexpr int kBands = 3;
int band_of(State s);

// County and township dictionaries. Codes only ever get appended, so cell indexes stay valid.
class Dictionaries {
 public:
  // Index of the township (and its county), adding them if new.
  std::pair<std::uint32_t, std::uint32_t> intern(std::uint32_t township);
  std::optional<std::uint32_t> find_county(std::uint32_t county) const;
  std::optional<std::uint32_t> find_township(std::uint32_t township) const;
  std::uint32_t county_code(std::uint32_t i) const { return county_codes_[i]; }
  std::uint32_t township_code(std::uint32_t i) const { return township_codes_[i]; }
  std::size_t counties() const { return county_codes_.size(); }
  std::size_t townships() const { return township_codes_.size(); }
  std::size_t memory_bytes() const;

 private:
  std::vector<std::uint32_t> county_codes_;
  std::vector<std::uint32_t> township_codes_;
  std::unordered_map<std::uint32_t, std::uint32_t> county_index_;
  std::unordered_map<std::uint32_t, std::uint32_t> township_index_;
};

// Cells of one cube (or of a recompute): grid "cds" = county x division(100) x size(4);
// grid "ts" = township x size(4). Every rollup except township comes from cds; township from ts.
// The 门类 is not a grid dimension because it is a function of the 大类.
inline constexpr int kDivisions = 100;
inline constexpr int kSizes = 4;
struct Cells {
  Grid cds;
  Grid ts;
  std::vector<std::uint32_t> cds_states;  // [cell][state]
  std::vector<std::uint32_t> ts_states;
  void init(int k);
  void fit(const Dictionaries& dict);  // grow to the dictionaries' size
};

// Comparable-unit cells of a pair of periods, in the current period's classification.
// Bands: 0 both rows accepted; 1 both submitted or later but not both accepted; 2 otherwise.
struct ComparableCells {
  Grid cds;  // sum = current period, second = previous period, count = comparable units
  Grid ts;
  void init(int k);
  void fit(const Dictionaries& dict);
};

// Rollups from cells: rows with at least one unit (any state), ordered by key.
std::vector<RollupRow> rollup(const Cells& cells, const Dictionaries& dict, Rollup by,
                              StateGroup group);
// Growth rows: rows with at least one comparable unit for some indicator, ordered by key.
std::vector<GrowthRow> growth_rollup(const ComparableCells& cells, const Dictionaries& dict,
                                     Rollup by, StateGroup group);
// Several rollups of one state group at once, result i for by[i], equal to rollup() and
// growth_rollup() one by one but reading each grid once (a view showing several tables; all the
// tables of a pair of periods for several groups: pair_rollups).
std::vector<std::vector<RollupRow>> rollups(const Cells& cells, const Dictionaries& dict,
                                            std::span<const Rollup> by, StateGroup group);
std::vector<std::vector<GrowthRow>> growth_rollups(const ComparableCells& cells,
                                                   const Dictionaries& dict,
                                                   std::span<const Rollup> by, StateGroup group);

// Thread safety: a Cube is not synchronised. The service that owns it (one per form and period)
// keeps it with a std::shared_mutex: the event handler that applies submissions and reviews takes
// it exclusively for upsert/remove; readers (summary tables, drill-down) take it shared. The const
// members, including recompute(), only read and may run from several threads at once.
class Cube {
 public:
  explicit Cube(int indicators);

  int indicators() const { return k_; }
  std::size_t units() const { return ids_.size(); }

  // Room for n rows, so a loader's columns don't end up with doubling slack.
  void reserve(std::size_t n);

  // Insert or replace a unit's row and move its contribution between cells: O(K). Errors: wrong
  // number of values, bad dims (the row is then left as it was).
  Status upsert(const UnitRow& row);
  // The same without building a Status: allocation-free when the unit exists and its township is
  // known. (A Status itself allocates: base's Error default-constructs `details` as a JSON array.)
  RowError apply(const UnitRow& row);
  // Remove a unit (e.g. taken out of the form's scope). not_found if absent.
  Status remove(UnitId id);

  // Row access (for the pair, YTD and outliers).
  std::optional<std::uint32_t> find(UnitId id) const;
  UnitId row_id(std::uint32_t r) const { return ids_[r]; }
  UnitDims row_dims(std::uint32_t r) const;
  State row_state(std::uint32_t r) const { return static_cast<State>(state_[r]); }
  double value(std::uint32_t r, int k) const { return columns_[k][r]; }
  const std::vector<double>& column(int k) const { return columns_[k]; }
  std::uint32_t row_cds(std::uint32_t r) const { return cds_[r]; }
  std::uint32_t row_ts(std::uint32_t r) const { return ts_[r]; }
  // The same columns as arrays, for the full recompute's set-up pass (8 rows at a time).
  const UnitId* ids_data() const { return ids_.data(); }
  const std::uint32_t* cds_data() const { return cds_.data(); }
  const std::uint32_t* ts_data() const { return ts_.data(); }
  const std::uint8_t* states_data() const { return state_.data(); }

  const Dictionaries& dictionaries() const { return dict_; }
  const Cells& cells() const { return cells_; }

  std::vector<RollupRow> rollup(Rollup by, StateGroup group) const;

  // Units in the cell `key` (0 fields = all) whose state is in `group`; with `indicator`, only
  // those with a value for it. Ordered by unit id. O(N): a drill-down, not a table.
  std::vector<UnitId> contributing_units(const CellKey& key, StateGroup group,
                                         std::optional<int> indicator = std::nullopt) const;

  // Bytes held by rows, cells and indexes (capacities, with an estimate for hash nodes).
  std::size_t memory_bytes() const;

  // Reorder rows so that units also in `other` sit at the same row index as there, as far as
  // possible. Load-time only: it lets the comparable pass read both periods sequentially.
  void align_to(const Cube& other);

  // Sort rows by cell (county, 大类, size, then township) and state band. Load-time only: rows of
  // one cell then sit together, and the full recompute sums each run in registers instead of row by
  // row. Upserts keep working on any order; new units land at the end, so a cube drifts slowly from
  // clustered.
  void cluster();

  // Rebuild this cube's cells from its rows (after a load); the maintained cells are replaced.
  void recompute(int threads = 2);

 private:
  friend class CubePair;
  void reorder(const std::vector<std::uint32_t>& order);  // new row i = old row order[i]
  void add_contribution(std::uint32_t r, double sign);

  int k_;
  Dictionaries dict_;
  std::vector<UnitId> ids_;
  std::vector<std::vector<double>> columns_;  // [k][row]
  // A row's dims live only in its two cell numbers: township = ts / 4, division = cds / 4 % 100,
  // size = cds % 4 + 1. That keeps the per-row overhead at 17 bytes beside the K values.
  std::vector<std::uint32_t> cds_;  // cell in grid cds
  std::vector<std::uint32_t> ts_;   // cell in grid ts
  std::vector<std::uint8_t> state_;
  std::unordered_map<UnitId, std::uint32_t> row_of_;
  Cells cells_;
};

// Full recompute of a cube's cells from its rows, `threads` threads each filling its own partial
// cells, then combined.
Cells recompute_cells(const Cube& cube, int threads);
// Full recompute of comparable cells of (current, previous) from both cubes' rows.
ComparableCells recompute_comparable(const Cube& current, const Cube& previous, int threads);

// Everything a load (or the benchmark) recomputes for a pair of periods.
struct PairCells {
  Cells current;
  Cells previous;
  ComparableCells comparable;
};
PairCells recompute_pair(const Cube& current, const Cube& previous, int threads);

// The tables of a pair of periods for one state group: the rollups `by` of the current and the
// previous period's cells, and their growth on comparable units.
struct PairTables {
  StateGroup group = StateGroup::accepted;
  std::vector<std::vector<RollupRow>> current, previous;
  std::vector<std::vector<GrowthRow>> growth;
};
// PairTables for each of `groups`, each table the same as rollups() / growth_rollups() give: one
// pass over each of the three pairs of grids (current, previous, comparable) for all the groups,
// the passes shared among `threads` threads.
std::vector<PairTables> pair_rollups(const PairCells& cells, const Dictionaries& current,
                                     const Dictionaries& previous, std::span<const Rollup> by,
                                     std::span<const StateGroup> groups, int threads);
// Which build of the recompute kernel runs here: "AVX-512", "AVX2" or "baseline x86-64 (SSE2)",
// the best the CPU has (the environment variable STATGOV_CUBE_KERNEL=avx2 or =base asks for a
// lesser one; the tests check every build that way).
const char* recompute_kernel();

// Two cubes of the same form, the current period and its base (same period last year or the
// previous period), with comparable cells maintained as either side changes.
//
// Thread safety: none of its own; it holds pointers to both cubes, and while it exists every change
// to either cube must go through it (or its comparable cells go stale). The owning service locks
// both cubes exclusively for an update and shared for a growth query.
class CubePair {
 public:
  CubePair(Cube& current, Cube& previous);  // computes the comparable cells from the rows

  Status upsert_current(const UnitRow& row);
  Status upsert_previous(const UnitRow& row);
  // Allocation-free forms (see Cube::apply).
  RowError apply_current(const UnitRow& row);
  RowError apply_previous(const UnitRow& row);
  Status remove_current(UnitId id);
  Status remove_previous(UnitId id);

  const ComparableCells& comparable() const { return cmp_; }
  std::vector<GrowthRow> growth(Rollup by, StateGroup group) const;

  const Cube& current() const { return *cur_; }
  const Cube& previous() const { return *prev_; }

 private:
  void contribute(UnitId id, double sign);

  Cube* cur_;
  Cube* prev_;
  ComparableCells cmp_;
};

// 1-本月 from monthly cubes (January first, all of one form and year). Per unit and indicator the
// YTD value is the sum of the months that carry a value (NaN if none); dims and state are those of
// the unit's latest month, since the YTD table is classified and filtered as of the latest report.
Result<Cube> derive_ytd(std::span<const Cube* const> months);

}  // namespace statgov::cube
