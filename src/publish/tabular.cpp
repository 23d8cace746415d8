// CSV and XLSX downloads (see tabular.hpp).
#include "publish/tabular.hpp"

#include "base/csv.hpp"
#include "base/text.hpp"
#include "base/xlsx.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace statgov::publish {
namespace {

struct Labels {
  const char* code_suffix;
  const char* value;
  const char* unit;
  const char* status;
  const char* unit_row;
  const char* source_row;
  const char* updated_row;
  const char* note_c;
  const char* note_m;
  const char* sheet;
};

const Labels& labels(std::string_view lang) {
  static const Labels zh = {"代码",
                            "数值",
                            "单位",
                            "状态",
                            "单位：",
                            "资料来源：",
                            "更新时间：",
                            "注：C 表示涉及调查对象保密，数据不予公布。",
                            "注：… 表示数据缺失。",
                            "数据"};
  static const Labels en = {" code",
                            "Value",
                            "Unit",
                            "Status",
                            "Unit: ",
                            "Source: ",
                            "Updated: ",
                            "Note: C = confidential, suppressed to protect respondents.",
                            "Note: … = not available.",
                            "Data"};
  return is_english(lang) ? en : zh;
}

const std::string& pick(std::string_view lang, const std::string& zh, const std::string& en) {
  if (is_english(lang)) return en.empty() ? zh : en;
  return zh.empty() ? en : zh;
}

bool well_formed(const Dataset& d, std::size_t i) {
  if (i >= d.observations.size()) return false;
  const Observation& o = d.observations[i];
  if (o.key.size() != d.dimensions.size()) return false;
  for (std::size_t k = 0; k < o.key.size(); ++k) {
    if (o.key[k] >= d.dimensions[k].codes.size()) return false;
  }
  return true;
}

std::vector<std::string> header_row(const Dataset& d, std::string_view lang) {
  const Labels& l = labels(lang);
  std::vector<std::string> h;
  for (const Dimension& dim : d.dimensions) {
    h.push_back(dimension_name(dim, lang) + l.code_suffix);
    h.push_back(dimension_name(dim, lang));
  }
  h.emplace_back(l.value);
  h.emplace_back(l.unit);
  h.emplace_back(l.status);
  return h;
}

// The unit of an observation: its metric code's own unit, else the dataset's.
const std::string& obs_unit(const Dataset& d, const Observation& o, std::string_view lang) {
  const int metric = dimension_with_role(d, "metric");
  if (metric >= 0) {
    return code_unit(d, d.dimensions[metric].codes[o.key[metric]], lang);
  }
  return pick(lang, d.unit_zh, d.unit_en);
}

}  // namespace

std::string format_rounded(double v, int decimals) {
  if (!std::isfinite(v)) return "";
  if (decimals < 0) decimals = 0;
  if (decimals > 15) decimals = 15;
  // Round the shortest decimal form, so 2.675 shows as 2.68 (half up, as printed statistics do)
  // although the double is slightly below 2.675.
  char buf[400];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::fixed);
  if (ec != std::errc()) return "";
  std::string s(buf, ptr);
  std::string int_part = s, frac;
  if (auto dot = s.find('.'); dot != std::string::npos) {
    int_part = s.substr(0, dot);
    frac = s.substr(dot + 1);
  }
  bool round_up = frac.size() > static_cast<std::size_t>(decimals) && frac[decimals] >= '5';
  frac.resize(decimals, '0');
  std::string digits = int_part + frac;
  if (round_up) {
    std::size_t i = digits.size();
    for (;;) {
      if (i == 0) {
        digits.insert(digits.begin(), '1');
        break;
      }
      --i;
      if (digits[i] == '9') {
        digits[i] = '0';
      } else {
        ++digits[i];
        break;
      }
    }
  }
  std::string out = digits.substr(0, digits.size() - decimals);
  if (decimals > 0) out += "." + digits.substr(digits.size() - decimals);
  const bool zero = digits.find_first_not_of('0') == std::string::npos;
  if (v < 0 && !zero) out.insert(out.begin(), '-');
  return out;
}

std::string write_csv(const Dataset& d, const std::vector<std::size_t>& sel,
                      std::string_view lang) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(header_row(d, lang));
  for (std::size_t i : sel) {
    if (!well_formed(d, i)) continue;
    const Observation& o = d.observations[i];
    std::vector<std::string> row;
    for (std::size_t k = 0; k < d.dimensions.size(); ++k) {
      const Code& c = d.dimensions[k].codes[o.key[k]];
      row.push_back(c.id);
      row.push_back(code_name(c, lang));
    }
    row.push_back(o.value ? format_rounded(*o.value, d.decimals) : "");
    row.push_back(obs_unit(d, o, lang));
    row.push_back(o.status ? std::string(1, o.status) : "");
    rows.push_back(std::move(row));
  }
  return std::string(kUtf8Bom) + ::statgov::write_csv(rows);
}

std::string write_xlsx(const Dataset& d, const std::vector<std::size_t>& sel,
                       std::string_view lang) {
  const Labels& l = labels(lang);
  XlsxWriter w;
  const int sh = w.add_sheet(l.sheet);
  int row = 0;
  const std::string& title = pick(lang, d.title_zh, d.title_en);
  w.write_string(sh, row++, 0, title.empty() ? d.id : title, CellStyle::bold);
  const std::string& unit = pick(lang, d.unit_zh, d.unit_en);
  if (!unit.empty()) w.write_string(sh, row++, 0, l.unit_row + unit);
  const std::string& source = pick(lang, d.source_zh, d.source_en);
  if (!source.empty()) w.write_string(sh, row++, 0, l.source_row + source);
  if (!d.updated.empty()) w.write_string(sh, row++, 0, l.updated_row + d.updated);
  ++row;  // blank line before the table
  const std::vector<std::string> header = header_row(d, lang);
  for (std::size_t c = 0; c < header.size(); ++c) {
    w.write_string(sh, row, static_cast<int>(c), header[c], CellStyle::header);
    w.set_column_width(sh, static_cast<int>(c), c % 2 == 0 && c + 3 < header.size() ? 12 : 18);
  }
  ++row;
  const int value_col = static_cast<int>(2 * d.dimensions.size());
  bool any_c = false, any_m = false;
  for (std::size_t i : sel) {
    if (!well_formed(d, i)) continue;
    const Observation& o = d.observations[i];
    int col = 0;
    for (std::size_t k = 0; k < d.dimensions.size(); ++k) {
      const Code& c = d.dimensions[k].codes[o.key[k]];
      w.write_string(sh, row, col++, c.id);
      w.write_string(sh, row, col++, code_name(c, lang));
    }
    if (o.value) {
      const std::string shown = format_rounded(*o.value, d.decimals);
      w.write_number(sh, row, value_col, std::strtod(shown.c_str(), nullptr));
    } else if (o.status == 'C') {
      w.write_string(sh, row, value_col, "C");
      any_c = true;
    } else {
      w.write_string(sh, row, value_col, "…");
      any_m = true;
    }
    w.write_string(sh, row, value_col + 1, obs_unit(d, o, lang));
    if (o.status != 0) w.write_string(sh, row, value_col + 2, std::string(1, o.status));
    ++row;
  }
  if (any_c || any_m) ++row;
  if (any_c) w.write_string(sh, row++, 0, l.note_c);
  if (any_m) w.write_string(sh, row++, 0, l.note_m);
  auto bytes = w.finish();
  if (!bytes.ok()) return std::string();
  return std::move(bytes).value();
}

}  // namespace statgov::publish
