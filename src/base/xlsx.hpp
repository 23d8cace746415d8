// Excel (.xlsx) reading (libzip + pugixml, from memory) and writing (libxlsxwriter).
// The reader takes untrusted uploads: it bounds input, decompressed and cell sizes, and turns
// every libzip/pugixml failure into an Error; it never throws. Depends only on result.hpp.
#pragma once

#include "base/result.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;

namespace statgov {

struct XlsxCell {
  // What Excel would show without number formats: strings as stored, numbers in shortest
  // round-trip form with no trailing ".0" when integral, booleans "TRUE"/"FALSE", errors
  // such as "#DIV/0!" as is.
  std::string text;
  std::optional<double> number;  // set only for numeric cells
};

struct XlsxSheet {
  std::string name;
  std::map<std::pair<int, int>, XlsxCell> cells;  // (row, col), both 1-based
  int max_row = 0;                                 // largest row/col holding a cell; 0 if none
  int max_col = 0;
  const XlsxCell* at(int row, int col) const;      // nullptr for an empty cell
};

struct XlsxWorkbook {
  std::vector<XlsxSheet> sheets;  // in workbook (tab) order
  const XlsxSheet* find(std::string_view name) const;
};

inline constexpr std::size_t kXlsxMaxInputBytes = 32u << 20;
inline constexpr std::size_t kXlsxMaxEntryBytes = 64u << 20;
inline constexpr std::size_t kXlsxMaxTotalBytes = 256u << 20;
inline constexpr std::size_t kXlsxMaxCells = 2'000'000;

// Reads every worksheet (chart sheets are skipped). Not a zip, missing parts, bad XML or bad
// cell references -> Error{invalid, "BAD_XLSX"}; input > kXlsxMaxInputBytes, an entry inflating
// beyond kXlsxMaxEntryBytes, all entries beyond kXlsxMaxTotalBytes, or more than kXlsxMaxCells
// cells -> Error{too_large, "XLSX_TOO_LARGE"}.
Result<XlsxWorkbook> read_xlsx(std::string_view bytes);

enum class CellStyle {
  plain,          // default: locked once the sheet is protected
  bold,
  header,         // bold on a grey fill with a thin border, for column headings
  locked,         // same as plain; spelled out where a template means it
  unlocked,       // an input cell: editable on a protected sheet
  unlocked_text,  // input cell with the "@" text format, so codes like "0101" keep zeros
};

// Builds an .xlsx in memory. Rows and columns are 0-based. Calls never fail on the spot: the
// first libxlsxwriter error (bad sheet name, out-of-range cell, string too long, non-finite
// number, ...) is remembered and returned by finish() as Error{internal, "XLSX_WRITE"}.
// Not thread safe: one writer belongs to one request.
class XlsxWriter {
 public:
  XlsxWriter();
  ~XlsxWriter();
  XlsxWriter(const XlsxWriter&) = delete;
  XlsxWriter& operator=(const XlsxWriter&) = delete;

  // Returns the sheet index used by the other calls. Names: at most 31 characters, unique
  // (case-insensitive), none of []:*?/\ .
  int add_sheet(std::string_view name);
  void write_string(int sheet, int row, int col, std::string_view text,
                    CellStyle style = CellStyle::plain);
  void write_string(int sheet, int row, int col, std::string_view text, bool bold) {
    write_string(sheet, row, col, text, bold ? CellStyle::bold : CellStyle::plain);
  }
  void write_number(int sheet, int row, int col, double value, CellStyle style = CellStyle::plain);
  // An empty cell carrying a style: how a template marks a blank input cell unlocked.
  void write_blank(int sheet, int row, int col, CellStyle style);
  void set_column_width(int sheet, int col, double width);
  // Default style of a whole column (e.g. unlocked_text for an input column).
  void set_column_style(int sheet, int col, CellStyle style);
  void hide_column(int sheet, int col);
  void hide_row(int sheet, int row);
  void hide_sheet(int sheet);  // e.g. a lookup sheet; the first sheet cannot be hidden
  // Locks every cell not styled unlocked/unlocked_text. No password: this guards against
  // slips, not against a determined user.
  void protect_sheet(int sheet);

  // Writes the workbook and returns the .xlsx bytes. Call at most once.
  Result<std::string> finish();

 private:
  struct ColumnProps {
    double width = -1;  // < 0: default width
    CellStyle style = CellStyle::plain;
    bool hidden = false;
  };
  struct SheetState {
    lxw_worksheet* ws = nullptr;
    std::map<int, ColumnProps> columns;
    std::vector<int> hidden_rows;
  };

  lxw_worksheet* sheet_at(int sheet, std::string_view what);
  lxw_format* format_for(CellStyle style);
  void fail(std::string what);

  lxw_workbook* wb_ = nullptr;
  std::string path_;  // temp file libxlsxwriter writes to (1.1.x has no in-memory output)
  std::vector<SheetState> sheets_;
  std::map<CellStyle, lxw_format*> formats_;
  std::optional<std::string> error_;  // first failure, English detail for the log
  bool finished_ = false;
};

}  // namespace statgov
