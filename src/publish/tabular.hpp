// Downloads for people: CSV (UTF-8 with BOM, for Excel) and XLSX with title, unit and source
// rows. Values are rounded to the dataset's decimals here (and only here); the open-data formats
// (SDMX, JSON-stat) keep full precision. Pure functions over a Dataset; no I/O.
#pragma once

#include "publish/dataset.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace statgov::publish {

// One row per selected observation. Columns: for each dimension "<name> code" and "<name>"
// (code id and label) in `lang`, then value, unit and status (C / M or empty). CRLF line ends.
std::string write_csv(const Dataset& d, const std::vector<std::size_t>& sel, std::string_view lang);

// One sheet: title, unit, source rows, a blank row, the header row and the table (the same
// columns as write_csv), then footnotes. Suppressed cells show "C", missing ones "…", each
// explained by a footnote. Returns empty bytes only if libxlsxwriter fails (never for valid
// input).
std::string write_xlsx(const Dataset& d, const std::vector<std::size_t>& sel,
                       std::string_view lang);

// The value as shown in CSV/XLSX: rounded half away from zero to `decimals`, fixed notation.
std::string format_rounded(double v, int decimals);

}  // namespace statgov::publish
