// Primary and secondary cell suppression.
#include "cube/disclosure.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace statgov::cube {

DisclosureTable::DisclosureTable(std::size_t rows, std::size_t cols)
    : rows_(rows),
      cols_(cols),
      cells_((rows + 1) * (cols + 1)),
      marks_((rows + 1) * (cols + 1), Suppression::none) {}

void DisclosureTable::with_margins() {
  for (std::size_t r = 0; r <= rows_; ++r) cell(r, cols_) = {};
  for (std::size_t c = 0; c < cols_; ++c) cell(rows_, c) = {};
  for (std::size_t r = 0; r < rows_; ++r)
    for (std::size_t c = 0; c < cols_; ++c) {
      const TableCell& x = cell(r, c);
      for (TableCell* m : {&cell(r, cols_), &cell(rows_, c), &cell(rows_, cols_)}) {
        m->units += x.units;
        m->total += x.total;
        m->largest = std::max(m->largest, x.largest);
      }
    }
}

bool is_primary(const TableCell& c, const DisclosureParams& p) {
  if (c.units == 0) return false;  // an empty cell reveals no unit
  if (c.units < p.min_units) return true;
  return c.total > 0 && c.largest > p.dominance * c.total;
}

namespace {

// Greedy line closing: while some row or column (margins included) holds exactly one suppressed
// cell, suppress a complement in it (the smallest non-empty interior cell, the margin last).
void close_lines(DisclosureTable& t) {
  const std::size_t R = t.rows(), C = t.cols();
  // Lines: rows 0..R (each over columns 0..C), then columns 0..C (each over rows 0..R).
  auto count_line = [&](bool is_row, std::size_t i) {
    int n = 0;
    const std::size_t len = is_row ? C : R;
    for (std::size_t j = 0; j <= len; ++j)
      n += (is_row ? t.mark(i, j) : t.mark(j, i)) != Suppression::none;
    return n;
  };
  bool changed = true;
  while (changed) {  // each pass suppresses at least one more cell, so this ends
    changed = false;
    for (int is_row = 1; is_row >= 0; --is_row) {
      const std::size_t lines = is_row ? R : C;
      for (std::size_t i = 0; i <= lines; ++i) {
        if (count_line(is_row, i) != 1) continue;
        const std::size_t len = is_row ? C : R;
        std::size_t best = len + 1;
        for (std::size_t j = 0; j <= len; ++j) {
          const std::size_t r = is_row ? i : j, c = is_row ? j : i;
          if (t.mark(r, c) != Suppression::none || t.cell(r, c).units == 0) continue;
          if (j == len && best <= len) continue;  // the margin only as a last resort
          if (best > len || j == len) {
            best = j;
            continue;
          }
          const TableCell& a = t.cell(r, c);
          const TableCell& b = is_row ? t.cell(i, best) : t.cell(best, i);
          if (std::fabs(a.total) < std::fabs(b.total) || (a.total == b.total && a.units < b.units))
            best = j;
        }
        if (best > len) {
          // No non-empty cell left in the line. It can't happen while totals add up (the line's
          // margin is non-empty whenever one of its cells is), but if it did, suppressing the
          // line's margin is the safe choice.
          const std::size_t r = is_row ? i : R, c = is_row ? C : i;
          if (t.mark(r, c) == Suppression::none) {
            t.mark(r, c) = Suppression::secondary;
            changed = true;
          }
          continue;
        }
        t.mark(is_row ? i : best, is_row ? best : i) = Suppression::secondary;
        changed = true;
      }
    }
  }
}

// The smallest non-empty published cell of row r (or column c when by_row is false), interior
// cells before the margin; nullopt if there is none.
std::optional<std::pair<std::size_t, std::size_t>> complement_in(const DisclosureTable& t,
                                                                 bool by_row, std::size_t i) {
  const std::size_t len = by_row ? t.cols() : t.rows();
  std::optional<std::pair<std::size_t, std::size_t>> best;
  for (std::size_t j = 0; j <= len; ++j) {
    const std::size_t r = by_row ? i : j, c = by_row ? j : i;
    if (t.mark(r, c) != Suppression::none || t.cell(r, c).units == 0) continue;
    if (j == len && best) break;  // the margin only as a last resort
    if (!best || std::fabs(t.cell(r, c).total) < std::fabs(t.cell(best->first, best->second).total))
      best = {r, c};
  }
  return best;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> recoverable_cells(const DisclosureTable& t) {
  const std::size_t R = t.rows(), C = t.cols();
  std::vector<std::pair<std::size_t, std::size_t>> unknown;
  std::vector<std::ptrdiff_t> index((R + 1) * (C + 1), -1);
  for (std::size_t r = 0; r <= R; ++r)
    for (std::size_t c = 0; c <= C; ++c)
      if (t.mark(r, c) != Suppression::none) {
        index[r * (C + 1) + c] = static_cast<std::ptrdiff_t>(unknown.size());
        unknown.emplace_back(r, c);
      }
  const std::size_t n = unknown.size();
  if (n == 0) return {};
  // The table's equations over the suppressed cells (published cells move to the right-hand
  // side, which does not matter for which unknowns are determined): row r: its interior cells
  // minus its margin = 0, for r = 0..R; column c likewise, for c = 0..C.
  std::vector<std::vector<double>> a;
  for (std::size_t r = 0; r <= R; ++r) {
    std::vector<double> eq(n, 0.0);
    for (std::size_t c = 0; c <= C; ++c)
      if (auto k = index[r * (C + 1) + c]; k >= 0) eq[k] = c == C ? -1.0 : 1.0;
    a.push_back(std::move(eq));
  }
  for (std::size_t c = 0; c <= C; ++c) {
    std::vector<double> eq(n, 0.0);
    for (std::size_t r = 0; r <= R; ++r)
      if (auto k = index[r * (C + 1) + c]; k >= 0) eq[k] = r == R ? -1.0 : 1.0;
    a.push_back(std::move(eq));
  }
  // Reduced row echelon form (partial pivoting; the entries stay small rationals).
  constexpr double kTol = 1e-9;
  std::vector<std::ptrdiff_t> pivot_row_of(n, -1);
  std::size_t row = 0;
  for (std::size_t col = 0; col < n && row < a.size(); ++col) {
    std::size_t best = row;
    for (std::size_t i = row + 1; i < a.size(); ++i)
      if (std::fabs(a[i][col]) > std::fabs(a[best][col])) best = i;
    if (std::fabs(a[best][col]) < kTol) continue;
    std::swap(a[row], a[best]);
    const double inv = 1.0 / a[row][col];
    for (double& v : a[row]) v *= inv;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i == row || std::fabs(a[i][col]) < kTol) continue;
      const double f = a[i][col];
      for (std::size_t j = 0; j < n; ++j) a[i][j] -= f * a[row][j];
    }
    pivot_row_of[col] = static_cast<std::ptrdiff_t>(row);
    ++row;
  }
  // A pivot unknown is determined when its row involves no free unknown; a free one never is.
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t col = 0; col < n; ++col) {
    if (pivot_row_of[col] < 0) continue;
    const auto& eq = a[static_cast<std::size_t>(pivot_row_of[col])];
    bool alone = true;
    for (std::size_t j = 0; j < n && alone; ++j)
      if (j != col && pivot_row_of[j] < 0 && std::fabs(eq[j]) > kTol) alone = false;
    if (alone) out.push_back(unknown[col]);
  }
  return out;
}

void suppress(DisclosureTable& t, const DisclosureParams& p) {
  const std::size_t R = t.rows(), C = t.cols();
  for (std::size_t r = 0; r <= R; ++r)
    for (std::size_t c = 0; c <= C; ++c)
      if (is_primary(t.cell(r, c), p)) t.mark(r, c) = Suppression::primary;
  close_lines(t);
  // Lines with two or more suppressed cells can still give one away (a suppressed cell that joins
  // two otherwise separate groups is fixed by the equations). Audit and add complements until no
  // suppressed cell is determined by the published ones; each round suppresses one more cell.
  for (;;) {
    const auto exposed = recoverable_cells(t);
    if (exposed.empty()) break;
    const auto [r, c] = exposed.front();
    auto more = complement_in(t, true, r);
    if (!more) more = complement_in(t, false, c);
    if (!more) {
      // Nothing published left in its row or column: take the smallest published cell anywhere.
      for (std::size_t i = 0; i <= R && !more; ++i) more = complement_in(t, true, i);
    }
    if (!more) break;  // everything non-empty is suppressed already
    t.mark(more->first, more->second) = Suppression::secondary;
    close_lines(t);
  }
}

CountySectionTable county_section_table(const Cube& cube, int k, StateGroup group) {
  const int max_band = group == StateGroup::accepted ? 0 : 1;
  std::map<std::pair<std::uint32_t, char>, TableCell> cells;
  std::map<std::uint32_t, int> counties;
  std::map<char, int> sections;
  for (std::uint32_t r = 0; r < cube.units(); ++r) {
    if (band_of(cube.row_state(r)) > max_band) continue;
    const double v = cube.value(r, k);
    if (std::isnan(v)) continue;
    const UnitDims d = cube.row_dims(r);
    const std::uint32_t county = d.township / 1000;
    const char sec = section_of_division(d.division);
    TableCell& c = cells[{county, sec}];
    c.units++;
    c.total += v;
    c.largest = std::max(c.largest, v);
    counties[county] = 0;
    sections[sec] = 0;
  }
  CountySectionTable out;
  for (auto& [code, i] : counties) {
    i = static_cast<int>(out.counties.size());
    out.counties.push_back(code);
  }
  for (auto& [code, i] : sections) {
    i = static_cast<int>(out.sections.size());
    out.sections.push_back(code);
  }
  out.table = DisclosureTable(out.counties.size(), out.sections.size());
  for (const auto& [key, c] : cells) out.table.cell(counties[key.first], sections[key.second]) = c;
  out.table.with_margins();
  return out;
}

}  // namespace statgov::cube
