#include "base/csv.hpp"

#include <cassert>

namespace statgov {
namespace {

Error syntax_error(std::size_t line, std::string_view zh_reason, std::string_view en_reason) {
  return make_error(ErrorKind::invalid, "CSV_SYNTAX",
                    "CSV 格式错误（第 " + std::to_string(line) + " 行）：" + std::string(zh_reason),
                    "CSV syntax error (line " + std::to_string(line) + "): " +
                        std::string(en_reason),
                    nlohmann::json::array({{{"line", line}}}));
}

Error too_large(std::size_t line, bool fields) {
  const std::string limit = std::to_string(fields ? kCsvMaxFields : kCsvMaxRows);
  return make_error(
      ErrorKind::too_large, "TOO_LARGE",
      fields ? "CSV 单行字段数超过上限 " + limit : "CSV 行数超过上限 " + limit,
      fields ? "A CSV row has more than " + limit + " fields"
             : "The CSV file has more than " + limit + " rows",
      nlohmann::json::array({{{"line", line}}}));
}

}  // namespace

Result<std::vector<CsvRow>> parse_csv(std::string_view text, char delimiter) {
  // A delimiter that is also a quote or line break makes the grammar ambiguous; callers pass
  // a constant, so this is a programming error, not input.
  assert(delimiter != '"' && delimiter != '\r' && delimiter != '\n');

  std::vector<CsvRow> rows;
  const std::size_t n = text.size();
  std::size_t i = 0;
  std::size_t line = 1;

  // Consumes one line break at i (CRLF, LF or CR); returns false when there is none.
  auto eat_newline = [&](std::size_t& pos) {
    if (pos >= n) return false;
    if (text[pos] == '\n') {
      ++pos;
    } else if (text[pos] == '\r') {
      ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
    } else {
      return false;
    }
    return true;
  };

  while (i < n) {
    if (eat_newline(i)) {  // a fully empty line
      ++line;
      continue;
    }
    if (rows.size() >= kCsvMaxRows) return too_large(line, false);
    CsvRow row;
    row.line = line;
    // One iteration per field; the loop ends at a line break or end of input.
    while (true) {
      if (row.fields.size() >= kCsvMaxFields) return too_large(row.line, true);
      std::string field;
      if (i < n && text[i] == '"') {
        const std::size_t open_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n' || (c == '\r' && (i + 1 >= n || text[i + 1] != '\n'))) ++line;
          field.push_back(c);
          ++i;
        }
        if (!closed) {
          return syntax_error(open_line, "引号未闭合", "unterminated quoted field");
        }
        while (i < n && text[i] == ' ' && delimiter != ' ') ++i;
        if (i < n && text[i] != delimiter && text[i] != '\r' && text[i] != '\n') {
          return syntax_error(line, "右引号后出现多余字符", "unexpected text after a closing quote");
        }
      } else {
        const std::size_t start = i;
        while (i < n && text[i] != delimiter && text[i] != '\r' && text[i] != '\n') {
          if (text[i] == '"') {
            return syntax_error(line, "未加引号的字段中出现引号",
                                "a quote inside an unquoted field");
          }
          ++i;
        }
        field.assign(text.substr(start, i - start));
      }
      row.fields.push_back(std::move(field));
      if (i < n && text[i] == delimiter) {
        ++i;
        continue;  // a delimiter at end of line/input still opens one more (empty) field
      }
      if (eat_newline(i)) ++line;
      break;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string write_csv(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t f = 0; f < row.size(); ++f) {
      if (f > 0) out.push_back(',');
      const std::string& field = row[f];
      const bool quote = field.find_first_of(",\"\r\n") != std::string::npos ||
                         (row.size() == 1 && field.empty());
      if (!quote) {
        out += field;
        continue;
      }
      out.push_back('"');
      for (const char c : field) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
      }
      out.push_back('"');
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace statgov
