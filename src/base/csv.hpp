// RFC 4180 CSV reading and writing over UTF-8 text (run uploads through decode_text() first).
// Pure functions, no I/O; depends only on result.hpp.
#pragma once

#include "base/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace statgov {

struct CsvRow {
  std::size_t line = 0;  // 1-based physical line where the record starts (for error messages)
  std::vector<std::string> fields;
};

inline constexpr std::size_t kCsvMaxRows = 1'000'000;
inline constexpr std::size_t kCsvMaxFields = 10'000;

// Quoted fields with "" escapes and embedded line breaks; CRLF, LF (and a lone CR) end records;
// fully empty lines are skipped. Spaces between a closing quote and the next delimiter are
// tolerated. Errors: unterminated quote, a quote inside an unquoted field or text after a closing
// quote -> Error{invalid, "CSV_SYNTAX"} with details [{"line": N}]; more than kCsvMaxRows rows or
// kCsvMaxFields fields in a row -> Error{too_large, "TOO_LARGE"}.
// `delimiter` must not be '"', '\r' or '\n'.
Result<std::vector<CsvRow>> parse_csv(std::string_view utf8_text, char delimiter = ',');

// Quotes a field only when it contains , " CR or LF; ends every record with CRLF. A record made
// of one empty field is written as "" so that it does not read back as a skipped empty line.
// No BOM is added: prepend kUtf8Bom (text.hpp) for files meant for Excel.
std::string write_csv(const std::vector<std::vector<std::string>>& rows);

}  // namespace statgov
