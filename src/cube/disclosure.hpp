// Disclosure control for two-way tables that leave the internal zone: primary suppression (too few
// units, or one unit dominating) and secondary suppression so no suppressed cell can be recovered
// from its row and column totals. Pure functions; the cube helper builds the table from rows.
#pragma once

#include "cube/cube.hpp"

#include <utility>
#include <vector>

namespace statgov::cube {

struct TableCell {
  std::uint32_t units = 0;  // contributing units
  double total = 0;         // cell value (sum)
  double largest = 0;       // largest single unit's value
};

enum class Suppression : std::uint8_t { none, primary, secondary };

// An R x C table with its margins: cell(r, c) for r < R, c < C; row totals in column C, column
// totals in row R, the grand total at (R, C). Margins are published cells too, so they are tested
// and may be suppressed like any other.
class DisclosureTable {
 public:
  DisclosureTable(std::size_t rows, std::size_t cols);  // margins computed by with_margins()
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  TableCell& cell(std::size_t r, std::size_t c) { return cells_[r * (cols_ + 1) + c]; }
  const TableCell& cell(std::size_t r, std::size_t c) const { return cells_[r * (cols_ + 1) + c]; }
  Suppression& mark(std::size_t r, std::size_t c) { return marks_[r * (cols_ + 1) + c]; }
  Suppression mark(std::size_t r, std::size_t c) const { return marks_[r * (cols_ + 1) + c]; }
  // Fill row R and column C from the interior cells.
  void with_margins();

 private:
  std::size_t rows_, cols_;
  std::vector<TableCell> cells_;  // (rows+1) x (cols+1)
  std::vector<Suppression> marks_;
};

struct DisclosureParams {
  std::uint32_t min_units = 3;  // fewer units than this: primary
  double dominance = 0.85;      // largest unit over this share of the cell total: primary
};

bool is_primary(const TableCell& c, const DisclosureParams& p);

// Marks primary then secondary cells in place. Afterwards no row or column (margins included) holds
// exactly one suppressed cell. Complements are chosen greedily: in a line with one suppressed cell,
// the non-empty interior cell with the smallest total (then fewest units); the margin only if no
// interior cell is left. Empty cells are never complements: a published empty cell is a known zero.
// Then an audit (recoverable_cells) adds complements until no suppressed cell can be computed from
// the published cells through the table's row and column equations.
void suppress(DisclosureTable& table, const DisclosureParams& p = {});

// Suppressed cells whose value follows exactly from the published cells (margins included) by the
// table's additive equations: a linear audit by Gaussian elimination over the suppressed cells.
// Empty after suppress(). (Bounds such as non-negativity narrow the other cells to intervals; this
// audit does not compute those intervals.)
std::vector<std::pair<std::size_t, std::size_t>> recoverable_cells(const DisclosureTable& table);

// A county x section table of indicator k for `group` from the cube's rows (largest needs rows).
// Row and column order: counties and sections in code order, returned alongside.
struct CountySectionTable {
  std::vector<std::uint32_t> counties;
  std::vector<char> sections;
  DisclosureTable table{0, 0};
};
CountySectionTable county_section_table(const Cube& cube, int k, StateGroup group);

}  // namespace statgov::cube
