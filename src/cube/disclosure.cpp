// Primary and secondary cell suppression.
#include "cube/disclosure.hpp"

#include <algorithm>
#include <cmath>
#include <map>

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

void suppress(DisclosureTable& t, const DisclosureParams& p) {
  const std::size_t R = t.rows(), C = t.cols();
  for (std::size_t r = 0; r <= R; ++r)
    for (std::size_t c = 0; c <= C; ++c)
      if (is_primary(t.cell(r, c), p)) t.mark(r, c) = Suppression::primary;
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
