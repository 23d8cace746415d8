#include "services/releases.hpp"
#include <iterator>

#include "base/crypto.hpp"
#include "publish/dataset.hpp"
#include "publish/package.hpp"
#include "security/password.hpp"
#include "security/policy.hpp"
#include "store/repos.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

namespace statgov::services {

namespace {

// Every regular file under `dir` as site/<relative path>.
Status add_site_files(const std::string& dir, publish::PackageFiles& files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(ErrorKind::internal, "NO_SITE", "门户网页目录不存在：" + dir,
                      "The portal site folder does not exist: " + dir);
  }
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return make_error(ErrorKind::internal, "NO_SITE", "读取门户网页文件失败", "Could not read a portal site file");
    }
    files["site/" + fs::relative(it->path(), dir).generic_string()] = std::move(bytes);
  }
  if (ec) {
    return make_error(ErrorKind::internal, "NO_SITE", "读取门户网页目录失败：" + ec.message(),
                      "Could not read the portal site folder: " + ec.message());
  }
  return Ok{};
}


using publish::Code;
using publish::Dataset;
using publish::Dimension;
using publish::Observation;

Error bad(std::string code, std::string zh, std::string en) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(zh), std::move(en));
}

Error release_not_found(const std::string& id) {
  return make_error(ErrorKind::not_found, "RELEASE_NOT_FOUND", "没有该发布：" + id,
                    "No such release: " + id);
}

Error document_not_found(const std::string& no) {
  return make_error(ErrorKind::not_found, "DOCUMENT_NOT_FOUND", "没有该公开文件：" + no,
                    "No such document: " + no);
}

// ---- time ------------------------------------------------------------------------------------

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string minute_utc(TimePoint t) { return format_utc(t).substr(0, 16) + ":00Z"; }

// "...T01:30:00Z" -> TimePoint (only our own stored form).
TimePoint parse_stored_minute(const std::string& s) {
  using namespace std::chrono;
  int y = std::stoi(s.substr(0, 4)), mo = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  int h = std::stoi(s.substr(11, 2)), mi = std::stoi(s.substr(14, 2));
  return sys_days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}} +
         hours{h} + minutes{mi};
}

std::string local_minute(const std::string& utc) {
  return format_local(parse_stored_minute(utc)).substr(0, 16) + "+08:00";
}

// ---- names the catalog lacks -------------------------------------------------------------------

// GB/T 4754-2017 门类 in the English of the NBS's published translation.
const char* section_name_en(char s) {
  static const std::map<char, const char*> names = {
      {'A', "Agriculture, Forestry, Animal Husbandry and Fishery"},
      {'B', "Mining"},
      {'C', "Manufacturing"},
      {'D', "Production and Supply of Electricity, Heat, Gas and Water"},
      {'E', "Construction"},
      {'F', "Wholesale and Retail Trades"},
      {'G', "Transport, Storage and Post"},
      {'H', "Hotels and Catering Services"},
      {'I', "Information Transmission, Software and Information Technology Services"},
      {'J', "Financial Intermediation"},
      {'K', "Real Estate"},
      {'L', "Leasing and Business Services"},
      {'M', "Scientific Research and Technical Services"},
      {'N', "Management of Water Conservancy, Environment and Public Facilities"},
      {'O', "Resident Services, Repair and Other Services"},
      {'P', "Education"},
      {'Q', "Health and Social Work"},
      {'R', "Culture, Sports and Entertainment"},
      {'S', "Public Management, Social Security and Social Organization"},
      {'T', "International Organizations"}};
  auto it = names.find(s);
  return it == names.end() ? "" : it->second;
}

std::string unit_en(const std::string& zh) {
  static const std::map<std::string, std::string> m = {{"元", "yuan"},
                                                       {"千元", "1,000 yuan"},
                                                       {"万元", "10,000 yuan"},
                                                       {"亿元", "100 million yuan"},
                                                       {"人", "persons"},
                                                       {"个", "units"},
                                                       {"家", "enterprises"},
                                                       {"吨", "tonnes"},
                                                       {"万吨", "10,000 tonnes"},
                                                       {"千瓦时", "kWh"},
                                                       {"万千瓦时", "10,000 kWh"},
                                                       {"万千瓦小时", "10,000 kWh"},
                                                       {"%", "percent"},
                                                       {"平方米", "square metres"},
                                                       {"万平方米", "10,000 square metres"}};
  auto it = m.find(zh);
  return it == m.end() ? zh : it->second;
}

// ---- datasets ----------------------------------------------------------------------------------

std::string dataset_id(const std::string& form, const std::string& by, domain::Frequency f) {
  std::string id;
  for (char c : form) {
    if (c >= 'a' && c <= 'z')
      id += static_cast<char>(c - 'a' + 'A');
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
      id += c;
    else
      id += '_';
  }
  std::string b = by;
  for (auto& c : b) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const char* freq = f == domain::Frequency::month     ? "MONTHLY"
                     : f == domain::Frequency::quarter ? "QUARTERLY"
                                                       : "ANNUAL";
  if (id.empty() || !(id[0] >= 'A' && id[0] <= 'Z'))
    id = "F" + id;  // an SDMX id starts with a letter
  id += "_" + b + "_" + freq;
  if (id.size() > 50) id = id.substr(0, 50);
  return id;
}

double round_to(double v, int decimals) {
  double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

// One indicator's table with its margins, the disclosure marks, and comparable-unit sums per cell
// (for growth), all (R+1) x (C+1).
struct Grid {
  cube::DisclosureTable table{0, 0};
  std::vector<double> cmp_cur, cmp_prev;
  std::vector<std::uint32_t> cmp_units;
  std::size_t at(std::size_t r, std::size_t c) const { return r * (table.cols() + 1) + c; }
};

template <typename RowOf, typename ColOf>
Grid build_grid(const std::vector<const PublicationRow*>& rows, std::size_t k, std::size_t R,
                std::size_t C, RowOf row_of, ColOf col_of, const cube::DisclosureParams& p) {
  Grid g;
  g.table = cube::DisclosureTable(R, C);
  const std::size_t n = (R + 1) * (C + 1);
  g.cmp_cur.assign(n, 0);
  g.cmp_prev.assign(n, 0);
  g.cmp_units.assign(n, 0);
  for (const auto* u : rows) {
    double v = u->current[k];
    if (std::isnan(v)) continue;
    std::size_t r = row_of(*u), c = col_of(*u);
    auto& cell = g.table.cell(r, c);
    cell.units++;
    cell.total += v;
    cell.largest = std::max(cell.largest, v);
    if (!u->previous.empty() && !std::isnan(u->previous[k])) {
      for (auto [rr, cc] : {std::pair{r, c}, {r, C}, {R, c}, {R, C}}) {
        g.cmp_cur[g.at(rr, cc)] += v;
        g.cmp_prev[g.at(rr, cc)] += u->previous[k];
        g.cmp_units[g.at(rr, cc)]++;
      }
    }
  }
  g.table.with_margins();
  cube::suppress(g.table, p);
  return g;
}

// Level and growth observations of one grid cell. key_prefix: the indexes of the dimensions
// before INDICATOR; level_ind / growth_ind: INDICATOR code indexes; time: TIME_PERIOD index.
void add_cell(Dataset& d, const Grid& g, std::size_t r, std::size_t c,
              std::vector<std::uint32_t> key_prefix, std::uint32_t level_ind,
              std::uint32_t growth_ind, int decimals, const cube::DisclosureParams& p,
              int& suppressed) {
  const auto& cell = g.table.cell(r, c);
  if (cell.units == 0)
    return;  // no unit: no figure (the portal shows nothing rather than a made-up zero)
  bool hidden = g.table.mark(r, c) != cube::Suppression::none;
  auto key = [&](std::uint32_t ind) {
    auto k = key_prefix;
    k.push_back(ind);
    k.push_back(0);
    return k;
  };
  Observation level{key(level_ind), std::nullopt, 0};
  if (hidden) {
    level.status = 'C';
    ++suppressed;
  } else {
    level.value = round_to(cell.total, decimals);
  }
  d.observations.push_back(std::move(level));
  Observation growth{key(growth_ind), std::nullopt, 0};
  const std::size_t i = g.at(r, c);
  // Growth over fewer comparable units than a publishable cell would reveal them too; with none
  // at all (no report in the base period) there is simply no figure: missing, not confidential.
  if (hidden || (g.cmp_units[i] > 0 && g.cmp_units[i] < p.min_units)) {
    growth.status = 'C';
  } else if (g.cmp_units[i] == 0 || g.cmp_prev[i] == 0) {
    growth.status = 'M';
  } else {
    growth.value = round_to((g.cmp_cur[i] / g.cmp_prev[i] - 1) * 100, 1);
  }
  d.observations.push_back(std::move(growth));
}

Code region_code(const Catalog& cat, const std::string& code6, const std::string& parent) {
  auto r = cat.region(code6 + "000000");
  std::string name = r ? r->name : code6;
  return Code{code6, name, name, parent, "", ""};
}

}  // namespace

std::string sdmx_period(const std::string& period) {
  auto p = domain::Period::parse(period);
  if (!p.ok()) return period;
  switch (p->frequency()) {
    case domain::Frequency::month:
      return fmt::format("{}-{:02}", p->year_number(), p->sub());
    case domain::Frequency::quarter:
      return fmt::format("{}-Q{}", p->year_number(), p->sub());
    case domain::Frequency::year:
      return fmt::format("{}", p->year_number());
  }
  return period;
}

Result<std::string> parse_release_minute(std::string_view t) {
  auto fail = [&] {
    return bad(
        "BAD_RELEASE_AT",
        "发布时间应为带时区的 ISO 8601 时间，精确到分钟，例如 2026-12-15T09:30+08:00",
        "release_at must be ISO 8601 with an offset, to the minute, e.g. 2026-12-15T09:30+08:00");
  };
  // YYYY-MM-DDTHH:MM[:00][Z|+HH:MM|-HH:MM]
  if (t.size() < 17 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') || t[13] != ':')
    return fail();
  for (auto [pos, len] : {std::pair{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}}) {
    if (!all_digits(t.substr(static_cast<std::size_t>(pos), static_cast<std::size_t>(len))))
      return fail();
  }
  std::size_t pos = 16;
  if (t[pos] == ':') {
    if (t.size() < 19 || t.substr(17, 2) != "00") return fail();  // to the minute: seconds are 00
    pos = 19;
  }
  int offset = 0;
  std::string_view rest = t.substr(pos);
  if (rest == "Z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             all_digits(rest.substr(1, 2)) && all_digits(rest.substr(4, 2))) {
    int oh = std::stoi(std::string(rest.substr(1, 2))),
        om = std::stoi(std::string(rest.substr(4, 2)));
    if (oh > 14 || om > 59) return fail();
    offset = (oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
  } else {
    return fail();
  }
  using namespace std::chrono;
  int y = std::stoi(std::string(t.substr(0, 4))), mo = std::stoi(std::string(t.substr(5, 2)));
  int d = std::stoi(std::string(t.substr(8, 2))), h = std::stoi(std::string(t.substr(11, 2)));
  int mi = std::stoi(std::string(t.substr(14, 2)));
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || y < 2000) return fail();
  TimePoint tp = sys_days{ymd} + hours{h} + minutes{mi} - minutes{offset};
  return minute_utc(tp);
}

Result<std::vector<Dataset>> build_release_datasets(const PublicationRows& pr,
                                                    const Catalog& catalog,
                                                    const std::string& city12, const json& tables,
                                                    const std::string& updated,
                                                    const cube::DisclosureParams& params) {
  const auto& def = pr.form->def;
  const std::string city6 = city12.substr(0, 6);
  const std::uint32_t city4 = static_cast<std::uint32_t>(std::stoul(city12.substr(0, 4)));
  auto city_info = catalog.region(city12);
  const std::string city_name = city_info ? city_info->name : city6;
  const std::string agency = "CN_" + city6;
  std::vector<const PublicationRow*> rows;
  std::set<std::uint32_t> counties;
  std::set<char> sections;
  std::set<std::uint8_t> sizes;
  for (const auto& r : pr.rows) {
    if (r.dims.township / 100000 != city4) continue;  // the city's units only
    rows.push_back(&r);
    counties.insert(r.dims.township / 1000);
    sections.insert(cube::section_of_division(r.dims.division));
    sizes.insert(r.dims.size);
  }
  std::vector<std::uint32_t> county_list(counties.begin(), counties.end());
  std::vector<char> section_list(sections.begin(), sections.end());
  std::vector<std::uint8_t> size_list(sizes.begin(), sizes.end());
  auto index_of = [](const auto& list, auto v) {
    return static_cast<std::size_t>(std::lower_bound(list.begin(), list.end(), v) - list.begin());
  };

  auto period = domain::Period::parse(pr.period);
  if (!period.ok()) return period.error();
  Code time{sdmx_period(pr.period), "", "", "", "", ""};
  switch (period->frequency()) {
    case domain::Frequency::month:
      time.name_zh = fmt::format("{}年{}月", period->year_number(), period->sub());
      time.name_en = fmt::format("{}-{:02}", period->year_number(), period->sub());
      break;
    case domain::Frequency::quarter:
      time.name_zh = fmt::format("{}年第{}季度", period->year_number(), period->sub());
      time.name_en = fmt::format("{} Q{}", period->year_number(), period->sub());
      break;
    case domain::Frequency::year:
      time.name_zh = fmt::format("{}年", period->year_number());
      time.name_en = time.id;
      break;
  }

  std::vector<Dataset> out;
  std::set<std::string> ids;
  for (const auto& t : tables) {
    const std::string by = t.value("by", "");
    std::vector<std::size_t> ks;
    std::vector<const domain::Indicator*> inds;
    for (const auto& c : t.value("indicators", json::array())) {
      std::string code = c.is_string() ? c.get<std::string>() : "";
      auto it = std::find(pr.codes.begin(), pr.codes.end(), code);
      if (it == pr.codes.end()) {
        return bad("UNKNOWN_INDICATOR", "表中没有该数值指标：" + code,
                   "The form has no numeric indicator " + code);
      }
      ks.push_back(static_cast<std::size_t>(it - pr.codes.begin()));
      inds.push_back(def.find(code));
    }
    if (ks.empty())
      return bad("BAD_TABLES", "每张表至少要有一个指标",
                 "Every table needs at least one indicator");
    Dataset d;
    d.id = dataset_id(def.code, by, period->frequency());
    if (!ids.insert(d.id).second) {
      return bad("BAD_TABLES", "同一发布中两张表的分组相同：" + by,
                 "Two tables of a release have the same grouping: " + by);
    }
    d.agency = agency;
    d.unit_zh = inds.front()->unit;
    d.unit_en = unit_en(d.unit_zh);
    d.decimals = 1;
    for (const auto* ind : inds) d.decimals = std::max(d.decimals, ind->decimals);
    d.updated = updated;
    d.source_zh = city_name + "统计局：" + def.name + "（" + def.code + "）已验收报表";
    d.source_en = "Statistics bureau of " + city_name + ": accepted reports of form " + def.code;
    const char* by_zh = by == "county"    ? "分区县"
                        : by == "section" ? "分区县、分行业门类"
                                          : "分规模";
    const char* by_en = by == "county"    ? "by county"
                        : by == "section" ? "by county and industry section"
                                          : "by size class";
    d.title_zh = city_name + def.name + "（" + by_zh + "）";
    d.title_en = def.name_en + " (" + by_en + "), " + city_name;
    d.description_zh = "按已验收报表汇总；增速按可比单位计算（%）。C 表示依统计保密规定不予公布。";
    d.description_en =
        "Totals of accepted reports; growth rates are on comparable units (percent). C: "
        "confidential, "
        "withheld by disclosure control.";

    Dimension region{"REGION", "地区", "Region", "geo", {}};
    region.codes.push_back(Code{city6, city_name, city_name, "", "", ""});
    if (by != "size") {
      for (auto cty : county_list)
        region.codes.push_back(region_code(catalog, std::to_string(cty), city6));
    }
    Dimension second;
    if (by == "section") {
      second = Dimension{"SECTION", "行业门类", "Industry section", "", {}};
      second.codes.push_back(Code{"_T", "合计", "Total", "", "", ""});
      for (char s : section_list) {
        auto info = catalog.industry(std::string(1, s));
        second.codes.push_back(Code{std::string(1, s), info ? info->name : std::string(1, s),
                                    section_name_en(s), "_T", "", ""});
      }
    } else if (by == "size") {
      second = Dimension{"SIZE", "企业规模", "Size class", "", {}};
      second.codes.push_back(Code{"_T", "合计", "Total", "", "", ""});
      static const char* size_en[] = {"", "Large", "Medium", "Small", "Micro"};
      for (auto s : size_list) {
        second.codes.push_back(
            Code{std::to_string(s),
                 std::string(domain::size_class_name(static_cast<domain::SizeClass>(s))),
                 s >= 1 && s <= 4 ? size_en[s] : std::to_string(s), "_T", "", ""});
      }
    } else if (by != "county") {
      return bad("BAD_TABLES", "表的分组 by 应为 county、section 或 size",
                 "A table's by must be county, section or size");
    }
    Dimension indicator{"INDICATOR", "指标", "Indicator", "metric", {}};
    for (const auto* ind : inds) {
      Code lc{ind->code, ind->name, ind->name_en, "", "", ""};
      if (ind->unit != d.unit_zh) {
        lc.unit_zh = ind->unit;
        lc.unit_en = unit_en(ind->unit);
      }
      indicator.codes.push_back(lc);
      indicator.codes.push_back(Code{ind->code + "_YOY", ind->name + "同比增长",
                                     ind->name_en + ", year-on-year growth", ind->code, "%",
                                     "percent"});
    }
    Dimension time_dim{"TIME_PERIOD", "时间", "Time", "time", {time}};
    d.dimensions.push_back(region);
    if (!second.id.empty()) d.dimensions.push_back(second);
    d.dimensions.push_back(indicator);
    d.dimensions.push_back(time_dim);

    int suppressed = 0;
    for (std::size_t n = 0; n < ks.size(); ++n) {
      const std::size_t k = ks[n];
      const auto li = static_cast<std::uint32_t>(2 * n), gi = static_cast<std::uint32_t>(2 * n + 1);
      const int dec = inds[n]->decimals;
      if (by == "size") {
        // Sizes x the city: a one-column table (its row margins repeat the cells).
        const std::size_t R = size_list.size();
        Grid g = build_grid(
            rows, k, R, 1,
            [&](const PublicationRow& u) { return index_of(size_list, u.dims.size); },
            [](const PublicationRow&) { return std::size_t{0}; }, params);
        add_cell(d, g, R, 1, {0, 0}, li, gi, dec, params, suppressed);
        for (std::size_t r = 0; r < R; ++r) {
          add_cell(d, g, r, 1, {0, static_cast<std::uint32_t>(r + 1)}, li, gi, dec, params,
                   suppressed);
        }
        continue;
      }
      // County x section with margins: the county totals are the row margins, the city the corner,
      // so a figure appears the same (and equally suppressed) in every dataset of the release.
      const std::size_t R = county_list.size(), C = section_list.size();
      Grid g = build_grid(
          rows, k, R, C,
          [&](const PublicationRow& u) { return index_of(county_list, u.dims.township / 1000); },
          [&](const PublicationRow& u) {
            return index_of(section_list, cube::section_of_division(u.dims.division));
          },
          params);
      for (std::size_t r = 0; r <= R; ++r) {
        // REGION index: 0 = the city (row R), county r = r + 1.
        const auto ri = static_cast<std::uint32_t>(r == R ? 0 : r + 1);
        if (by == "county") {
          add_cell(d, g, r, C, {ri}, li, gi, dec, params, suppressed);
          continue;
        }
        for (std::size_t c = 0; c <= C; ++c) {
          const auto si = static_cast<std::uint32_t>(c == C ? 0 : c + 1);
          add_cell(d, g, r, c, {ri, si}, li, gi, dec, params, suppressed);
        }
      }
    }
    out.push_back(std::move(d));
  }
  if (out.empty())
    return bad("BAD_TABLES", "发布至少要有一张表", "A release needs at least one table");
  return out;
}

// ---- the service
// ---------------------------------------------------------------------------------

namespace {

const std::regex& code_re() {
  static const std::regex re("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
  return re;
}
const std::regex& index_no_re() {
  static const std::regex re("^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$");
  return re;
}

Result<std::string> text_field(const json& b, const char* name, std::size_t max, bool required) {
  if (!b.contains(name)) {
    if (required)
      return bad("MISSING_FIELD", std::string("缺少字段：") + name,
                 std::string("Missing field: ") + name);
    return std::string();
  }
  if (!b[name].is_string())
    return bad("BAD_FIELD", std::string(name) + " 应为字符串",
               std::string(name) + " must be a string");
  std::string s = b[name];
  if ((required && s.empty()) || s.size() > max) {
    return bad("BAD_FIELD", std::string(name) + " 为空或过长",
               std::string(name) + " is empty or too long");
  }
  return s;
}

Status only_keys(const json& b, std::initializer_list<const char*> keys) {
  if (!b.is_object())
    return bad("BAD_REQUEST", "请求体应为 JSON 对象", "The body must be a JSON object");
  for (auto it = b.begin(); it != b.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) return bad("UNKNOWN_FIELD", "未知字段：" + it.key(), "Unknown field: " + it.key());
  }
  return Ok{};
}

bool passed(const store::ReleaseRow& r, TimePoint now) {
  return now >= parse_stored_minute(r.release_at);
}

std::string public_state(const store::ReleaseRow& r, TimePoint now) {
  return r.state == "signed" && passed(r, now) ? "published" : r.state;
}

Status write_atomically(const std::filesystem::path& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      return make_error(ErrorKind::internal, "EXPORT_FAILED", "无法写入导出目录：" + tmp.string(),
                        "Cannot write to the export folder: " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error(ErrorKind::internal, "EXPORT_FAILED", "无法写入导出目录：" + path.string(),
                      "Cannot write to the export folder: " + path.string());
  }
  return Ok{};
}

std::string package_name(const std::string& agency, std::int64_t seq) {
  return fmt::format("{}-{}.sgpkg", agency, seq);
}

}  // namespace

// Checks and normalizes a release body (create: all fields; update: the given ones).
namespace {

struct ReleaseInput {
  store::ReleaseRow row;
  bool has_prerelease = false;
  std::vector<std::int64_t> prerelease;
};

Status read_release_fields(const json& b, bool create, ReleaseInput& in, FormService& forms,
                           store::Store& store, TimePoint now) {
  SG_TRY(only_keys(b, {"code", "title_zh", "title_en", "release_at", "form", "period", "tables",
                       "prerelease", "notes_zh", "notes_en", "state"}));
  auto& r = in.row;
  if (create) {
    SG_ASSIGN_OR_RETURN(r.id, text_field(b, "code", 64, true));
    if (!std::regex_match(r.id, code_re())) {
      return bad("BAD_CODE", "发布代码只能含字母、数字、'-'、'_'、'.'，最长 64 位",
                 "The release code may hold letters, digits, '-', '_' and '.', at most 64");
    }
  } else if (b.contains("code") && b["code"] != r.id) {
    return bad("BAD_FIELD", "发布代码不能修改", "The release code cannot be changed");
  }
  for (auto [name, field] : {std::pair{"title_zh", &r.title_zh}, {"title_en", &r.title_en}}) {
    if (create || b.contains(name)) {
      SG_ASSIGN_OR_RETURN(*field, text_field(b, name, 300, true));
    }
  }
  for (auto [name, field] : {std::pair{"notes_zh", &r.notes_zh}, {"notes_en", &r.notes_en}}) {
    if (b.contains(name)) {
      SG_ASSIGN_OR_RETURN(*field, text_field(b, name, 20000, false));
    }
  }
  if (create || b.contains("release_at")) {
    SG_ASSIGN_OR_RETURN(auto at, text_field(b, "release_at", 40, true));
    SG_ASSIGN_OR_RETURN(r.release_at, parse_release_minute(at));
    if (r.release_at <= minute_utc(now)) {
      return bad("BAD_RELEASE_AT", "发布时间必须在将来", "release_at must be in the future");
    }
  }
  if (create || b.contains("form")) {
    SG_ASSIGN_OR_RETURN(r.form_code, text_field(b, "form", 40, true));
  }
  if (create || b.contains("period")) {
    SG_ASSIGN_OR_RETURN(r.period, text_field(b, "period", 20, true));
  }
  if (create || b.contains("tables")) {
    if (!b.contains("tables") || !b["tables"].is_array() || b["tables"].empty() ||
        b["tables"].size() > 3) {
      return bad("BAD_TABLES", "tables 应为 1 到 3 张表 [{by, indicators}]",
                 "tables must be 1 to 3 tables [{by, indicators}]");
    }
    r.tables = b["tables"];
  }
  // The form, period and tables are checked together (any of them may have changed).
  auto form = forms.get(r.form_code, 0);
  if (!form.ok())
    return bad("UNKNOWN_FORM", "没有该表式：" + r.form_code, "No such form: " + r.form_code);
  auto period = domain::Period::parse(r.period);
  if (!period.ok()) return period.error();
  if (period->frequency() != (*form)->def.frequency) {
    return bad("PERIOD_FREQUENCY", "报告期与表式的报送频率不符",
               "The period does not match the form's frequency");
  }
  r.period = period->str();
  std::set<std::string> bys;
  json tables = json::array();
  for (const auto& t : r.tables) {
    if (!t.is_object() || !t.contains("by") || !t["by"].is_string() || !t.contains("indicators") ||
        !t["indicators"].is_array() || t["indicators"].empty() || t.size() != 2) {
      return bad("BAD_TABLES", "每张表应为 {by, indicators: [...]}",
                 "Each table must be {by, indicators: [...]}");
    }
    std::string by = t["by"];
    if (by != "county" && by != "section" && by != "size") {
      return bad("BAD_TABLES", "表的分组 by 应为 county、section 或 size",
                 "A table's by must be county, section or size");
    }
    if (!bys.insert(by).second) {
      return bad("BAD_TABLES", "同一发布中两张表的分组相同：" + by,
                 "Two tables of a release have the same grouping: " + by);
    }
    for (const auto& c : t["indicators"]) {
      const auto* ind = c.is_string() ? (*form)->def.find(c.get<std::string>()) : nullptr;
      if (!ind || ind->type == domain::IndicatorType::text) {
        return bad("UNKNOWN_INDICATOR", "表中没有该数值指标：" + c.dump(),
                   "The form has no numeric indicator " + c.dump());
      }
    }
    tables.push_back(t);
  }
  r.tables = tables;
  if (b.contains("prerelease")) {
    if (!b["prerelease"].is_array() || b["prerelease"].size() > 200) {
      return bad("BAD_PRERELEASE", "prerelease 应为用户名数组",
                 "prerelease must be an array of user names");
    }
    in.has_prerelease = true;
    for (const auto& l : b["prerelease"]) {
      if (!l.is_string())
        return bad("BAD_PRERELEASE", "prerelease 应为用户名数组",
                   "prerelease must be an array of user names");
      std::string login = l;
      SG_ASSIGN_OR_RETURN(auto u, store.read([&](store::Conn& c) {
        return store::find_user_by_login(c, login);
      }));
      if (!u || !domain::is_staff(u->user.role)) {
        return bad("UNKNOWN_USER", "预发布名单中的用户不存在或不是统计工作人员：" + login,
                   "Not a staff account, or no such user, on the pre-release list: " + login);
      }
      in.prerelease.push_back(u->user.id);
    }
  }
  if (b.contains("state")) {
    if (create || b["state"] != "cancelled") {
      return bad("BAD_FIELD", "state 只能改为 cancelled", "state can only be set to cancelled");
    }
  }
  return Ok{};
}

// release.json "revises": for each dataset of this release, every earlier signed release whose
// version of the same dataset it changes (values already published that differ now), with the
// count, the periods and a reason in both languages.
Result<json> revisions_of(store::Conn& c, const store::ReleaseRow& r,
                          const std::vector<store::ReleaseDatasetRow>& ds,
                          const std::vector<store::ReleaseRow>& all) {
  std::vector<const store::ReleaseRow*> earlier;
  for (const auto& x : all) {
    if (x.id != r.id && x.state == "signed" && x.package_sequence) earlier.push_back(&x);
  }
  std::sort(earlier.begin(), earlier.end(),
            [](const auto* a, const auto* b) { return *a->package_sequence < *b->package_sequence; });
  json out = json::array();
  for (const auto& d : ds) {
    SG_ASSIGN_OR_RETURN(auto now, publish::dataset_from_json(d.body));
    for (const auto* x : earlier) {
      SG_ASSIGN_OR_RETURN(auto theirs, store::release_datasets(c, x->id));
      for (const auto& t : theirs) {
        if (t.dataset_id != d.dataset_id) continue;
        SG_ASSIGN_OR_RETURN(auto before, publish::dataset_from_json(t.body));
        const publish::Revision rev = publish::compare_versions(before, now);
        if (rev.changed == 0) continue;
        std::string periods;
        for (const auto& p : rev.periods) periods += (periods.empty() ? "" : ", ") + p;
        out.push_back({{"dataset", d.dataset_id},
                       {"release", x->id},
                       {"changed", rev.changed},
                       {"periods", rev.periods},
                       {"reason_zh", fmt::format("更正已发布数值 {} 个（{}）", rev.changed, periods)},
                       {"reason_en", fmt::format("Corrects {} published value{} ({})", rev.changed,
                                                 rev.changed == 1 ? "" : "s", periods)}});
      }
    }
  }
  return out;
}

}  // namespace

Result<json> ReleaseService::release_json(const store::ReleaseRow& r) {
  SG_ASSIGN_OR_RETURN(auto ids, store_.read([&](store::Conn& c) {
    return store::prerelease_users(c, r.id);
  }));
  json pre = json::array();
  for (auto id : ids) {
    SG_ASSIGN_OR_RETURN(auto u,
                        store_.read([&](store::Conn& c) { return store::find_user(c, id); }));
    if (u) pre.push_back(u->user.login);
  }
  SG_ASSIGN_OR_RETURN(
      auto ds, store_.read([&](store::Conn& c) { return store::release_datasets(c, r.id); }));
  json dsids = json::array();
  for (const auto& d : ds) dsids.push_back(d.dataset_id);
  json pkg = nullptr;
  if (r.package_sequence) pkg = {{"sequence", *r.package_sequence}, {"name", r.package_name}};
  return json{{"id", r.id},
              {"code", r.id},
              {"title_zh", r.title_zh},
              {"title_en", r.title_en},
              {"release_at", r.release_at},
              {"release_at_local", local_minute(r.release_at)},
              {"form", r.form_code},
              {"period", r.period},
              {"tables", r.tables},
              {"notes_zh", r.notes_zh},
              {"notes_en", r.notes_en},
              {"agency", "CN_" + r.city.substr(0, 6)},
              {"state", public_state(r, clock_.now())},
              {"prerelease", pre},
              {"datasets", dsids},
              {"created_at", r.created_at},
              {"created_by", r.created_by},
              {"updated_at", r.updated_at},
              {"prepared_at", r.prepared_at.empty() ? json(nullptr) : json(r.prepared_at)},
              {"signed_at", r.signed_at.empty() ? json(nullptr) : json(r.signed_at)},
              {"signed_by", r.signed_by.empty() ? json(nullptr) : json(r.signed_by)},
              {"package", pkg}};
}

// The figures of a release: the publishing roles and the pre-release list at any time; every other
// staff account once the signed release's minute has passed.
Status ReleaseService::check_figures_visible(const Actor& a, const store::ReleaseRow& r) {
  if (a.user.disabled) return security::authorize(a.user, security::Action::view_releases);
  if (security::authorize(a.user, security::Action::view_releases).ok()) return Ok{};
  SG_ASSIGN_OR_RETURN(auto ids, store_.read([&](store::Conn& c) {
    return store::prerelease_users(c, r.id);
  }));
  if (std::find(ids.begin(), ids.end(), a.user.id) != ids.end()) return Ok{};
  if (r.state == "signed" && passed(r, clock_.now()) && domain::is_staff(a.user.role)) return Ok{};
  return make_error(
      ErrorKind::forbidden, "EMBARGOED", "发布时间未到，您不在该发布的预发布名单中",
      "Embargoed: the release minute has not passed and you are not on its pre-release list");
}

Result<json> ReleaseService::list(const Actor& a) {
  SG_ASSIGN_OR_RETURN(auto rows,
                      store_.read([](store::Conn& c) { return store::list_releases(c); }));
  json items = json::array();
  for (const auto& r : rows) {
    if (!check_figures_visible(a, r).ok()) continue;
    SG_ASSIGN_OR_RETURN(auto j, release_json(r));
    items.push_back(std::move(j));
  }
  return json{{"items", items}};
}

Result<json> ReleaseService::create(const Actor& a, const json& body) {
  SG_TRY(security::authorize(a.user, security::Action::publish));
  // The city that publishes: the account's scope at city level (a province-wide admin can't).
  if (a.user.region.size() != 12 || a.user.region.substr(0, 4).substr(2) == "00") {
    return bad("NO_CITY", "您的账号范围不是一个市，不能安排发布",
               "Your account's scope is not a city");
  }
  ReleaseInput in;
  auto now = clock_.now();
  SG_TRY(read_release_fields(body, true, in, forms_, store_, now));
  auto& r = in.row;
  r.city = a.user.region.substr(0, 4) + "00000000";
  r.state = "planned";
  r.created_at = r.updated_at = format_utc(now);
  r.created_by = a.user.login;
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto existing, store::find_release(c, r.id));
    if (existing) {
      return make_error(ErrorKind::conflict, "RELEASE_EXISTS", "发布代码已存在：" + r.id,
                        "The release code exists: " + r.id);
    }
    SG_TRY(store::insert_release(c, r));
    SG_TRY(store::set_prerelease(c, r.id, in.prerelease));
    return store::append_audit(c, r.created_at, a.user.login, "release_create", "release:" + r.id,
                               {{"release_at", r.release_at},
                                {"form", r.form_code},
                                {"period", r.period},
                                {"tables", r.tables},
                                {"prerelease", body.value("prerelease", json::array())}});
  }));
  return release_json(r);
}

Result<json> ReleaseService::get(const Actor& a, const std::string& id) {
  SG_ASSIGN_OR_RETURN(
      auto r, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!r) {
    // Roles that may not read releases learn nothing about which codes exist.
    SG_TRY(security::authorize(a.user, security::Action::view_releases));
    return release_not_found(id);
  }
  SG_TRY(check_figures_visible(a, *r));
  return release_json(*r);
}

Result<json> ReleaseService::update(const Actor& a, const std::string& id, const json& body) {
  SG_TRY(security::authorize(a.user, security::Action::publish));
  SG_ASSIGN_OR_RETURN(
      auto cur, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!cur) return release_not_found(id);
  auto conflict_state = [](const std::string& state) -> Status {
    if (state == "signed") {
      return make_error(ErrorKind::conflict, "RELEASE_SIGNED",
                        "已签发的发布不能修改，请另建修订发布",
                        "A signed release cannot be changed; plan a revision release instead");
    }
    if (state == "cancelled") {
      return make_error(ErrorKind::conflict, "RELEASE_CANCELLED", "发布已取消",
                        "The release is cancelled");
    }
    return Ok{};
  };
  SG_TRY(conflict_state(cur->state));
  ReleaseInput in;
  in.row = *cur;
  auto now = clock_.now();
  SG_TRY(read_release_fields(body, false, in, forms_, store_, now));
  auto& r = in.row;
  const bool cancel = body.contains("state");
  const bool was_prepared = cur->state == "prepared";
  r.state = cancel ? "cancelled" : "planned";
  r.prepared_at.clear();
  r.updated_at = format_utc(now);
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto again, store::find_release(c, id));
    if (!again) return release_not_found(id);
    SG_TRY(conflict_state(again->state));
    SG_TRY(store::update_release(c, r));
    if (in.has_prerelease) SG_TRY(store::set_prerelease(c, r.id, in.prerelease));
    // Edited figures must be prepared again: what the preview showed is no longer what will go.
    SG_TRY(store::replace_release_datasets(c, r.id, {}));
    json changed = json::object();
    for (auto it = body.begin(); it != body.end(); ++it) changed[it.key()] = it.value();
    return store::append_audit(c, r.updated_at, a.user.login,
                               cancel ? "release_cancel" : "release_update", "release:" + r.id,
                               {{"changes", changed}, {"was_prepared", was_prepared}});
  }));
  return release_json(r);
}

Result<json> ReleaseService::prepare(const Actor& a, const std::string& id) {
  SG_TRY(security::authorize(a.user, security::Action::publish));
  return prepare_by(a.user.login, id);
}

Result<json> ReleaseService::prepare_by(const std::string& actor, const std::string& id) {
  SG_ASSIGN_OR_RETURN(
      auto r, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!r) return release_not_found(id);
  if (r->state != "planned" && r->state != "prepared") {
    return make_error(ErrorKind::conflict, "RELEASE_STATE",
                      "只有计划中或已准备的发布可以（重新）准备",
                      "Only a planned or prepared release can be prepared");
  }
  SG_ASSIGN_OR_RETURN(auto rows, summary_.accepted_rows(r->form_code, r->period));
  SG_ASSIGN_OR_RETURN(auto datasets, build_release_datasets(rows, catalog_, r->city, r->tables,
                                                            r->release_at, config_.disclosure));
  std::vector<store::ReleaseDatasetRow> stored;
  json summary = json::array();
  for (const auto& d : datasets) {
    int c = 0;
    for (const auto& o : d.observations) c += o.status == 'C';
    stored.push_back({d.id, publish::dataset_to_json(d)});
    summary.push_back({{"id", d.id}, {"observations", d.observations.size()}, {"suppressed", c}});
  }
  const std::string seen_updated_at = r->updated_at;
  auto now = format_utc(clock_.now());
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto again, store::find_release(c, id));
    if (!again || again->updated_at != seen_updated_at ||
        (again->state != "planned" && again->state != "prepared")) {
      return make_error(ErrorKind::conflict, "RELEASE_CHANGED", "发布在准备期间被修改，请重试",
                        "The release changed while it was being prepared; try again");
    }
    r->state = "prepared";
    r->prepared_at = now;
    r->updated_at = now;
    SG_TRY(store::update_release(c, *r));
    SG_TRY(store::replace_release_datasets(c, r->id, stored));
    return store::append_audit(c, now, actor, "release_prepare", "release:" + r->id,
                               {{"datasets", summary}, {"accepted_units", rows.rows.size()}});
  }));
  SG_ASSIGN_OR_RETURN(auto j, release_json(*r));
  j["prepared"] = summary;
  return j;
}

Result<json> ReleaseService::preview(const Actor& a, const std::string& id) {
  SG_ASSIGN_OR_RETURN(
      auto r, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!r) {
    SG_TRY(security::authorize(a.user, security::Action::view_releases));
    return release_not_found(id);
  }
  SG_TRY(check_figures_visible(a, *r));
  if (r->state != "prepared" && r->state != "signed") {
    return make_error(ErrorKind::conflict, "NOT_PREPARED", "发布尚未准备数据",
                      "The release has not been prepared");
  }
  SG_ASSIGN_OR_RETURN(auto ds, store_.read([&](store::Conn& c) {
    return store::release_datasets(c, r->id);
  }));
  json out = json::array();
  for (auto& d : ds) out.push_back(std::move(d.body));
  SG_ASSIGN_OR_RETURN(auto j, release_json(*r));
  return json{{"release", j}, {"datasets", out}};
}

Result<json> ReleaseService::signoff(const Actor& a, const std::string& id, const json& body) {
  // The publisher alone signs: the administrator runs the system but does not release figures.
  if (a.user.role != domain::Role::publisher || a.user.disabled) {
    return make_error(ErrorKind::forbidden, "FORBIDDEN", "只有数据发布员可以签发",
                      "Only a publisher can sign off a release");
  }
  SG_TRY(only_keys(body, {"password"}));
  if (!body.contains("password") || !body["password"].is_string()) {
    return bad("MISSING_FIELD", "请输入密码以确认签发",
               "Give your password to confirm the sign-off");
  }
  const auto now_tp = clock_.now();
  const std::string now = format_utc(now_tp);
  // Re-check the password, throttled like logins (the same failure counter).
  const auto& cfg = auth_.config();
  const std::string since = format_utc(now_tp - cfg.failure_window);
  SG_ASSIGN_OR_RETURN(int failures, store_.read([&](store::Conn& c) {
    return store::count_login_failures(c, a.user.login, since);
  }));
  if (failures >= cfg.max_failures) {
    return make_error(ErrorKind::throttled, "TOO_MANY_ATTEMPTS", "密码错误次数过多，请稍后再试",
                      "Too many wrong passwords; try again later");
  }
  SG_ASSIGN_OR_RETURN(
      auto user, store_.read([&](store::Conn& c) { return store::find_user(c, a.user.id); }));
  if (!user ||
      !security::verify_password(user->password_hash, body["password"].get<std::string>())) {
    SG_TRY(store_.write([&](store::Conn& c) -> Status {
      SG_TRY(store::record_login_failure(c, a.user.login, now));
      return store::append_audit(c, now, a.user.login, "release_signoff_failed", "release:" + id,
                                 {{"reason", "wrong password"}});
    }));
    return make_error(ErrorKind::forbidden, "WRONG_PASSWORD", "密码错误，未签发",
                      "Wrong password; nothing was signed");
  }
  if (config_.secret_key.empty()) {
    return make_error(ErrorKind::conflict, "NO_RELEASE_KEY",
                      "服务未配置发布签名密钥：请用 statgov release keygen --out DIR "
                      "生成密钥，并以 statgov serve "
                      "--release-key DIR/release.key --export-dir DIR 启动",
                      "No release signing key is configured: make one with `statgov release keygen "
                      "--out DIR` and "
                      "start `statgov serve --release-key DIR/release.key --export-dir DIR`");
  }
  return sign_by(a.user.login, id);
}

Result<json> ReleaseService::sign_by(const std::string& actor, const std::string& id) {
  if (config_.secret_key.empty()) {
    return make_error(ErrorKind::conflict, "NO_RELEASE_KEY", "服务未配置发布签名密钥",
                      "No release signing key is configured");
  }
  const auto now_tp = clock_.now();
  const std::string now = format_utc(now_tp);
  std::filesystem::path written;
  json result;
  auto st = store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto r, store::find_release(c, id));
    if (!r) return release_not_found(id);
    if (r->state != "prepared") {
      return make_error(ErrorKind::conflict, "NOT_PREPARED",
                        "只有已准备的发布可以签发（当前：" + r->state + "）",
                        "Only a prepared release can be signed off (now: " + r->state + ")");
    }
    SG_ASSIGN_OR_RETURN(auto ds, store::release_datasets(c, r->id));
    const std::string agency = "CN_" + r->city.substr(0, 6);
    SG_ASSIGN_OR_RETURN(auto seq, store::next_package_sequence(c, agency));
    publish::PackageFiles files;
    json ids = json::array();
    for (const auto& d : ds) {
      ids.push_back(d.dataset_id);
      files["datasets/" + d.dataset_id + ".json"] = d.body.dump(2);
    }
    SG_ASSIGN_OR_RETURN(auto all, store::list_releases(c));
    SG_ASSIGN_OR_RETURN(json revises, revisions_of(c, *r, ds, all));
    files["release.json"] = json{
        {"id", r->id},
        {"title_zh", r->title_zh},
        {"title_en", r->title_en},
        {"release_at", r->release_at},
        {"datasets", ids},
        {"notes_zh", r->notes_zh},
        {"notes_en", r->notes_en},
        {"revises", revises}}.dump(2);
    json cal = json::array();
    for (const auto& x : all) {
      if (x.state == "cancelled") continue;
      std::string status = x.state == "signed" && passed(x, now_tp) ? "published" : "scheduled";
      cal.push_back({{"id", x.id},
                     {"title_zh", x.title_zh},
                     {"title_en", x.title_en},
                     {"release_at", x.release_at},
                     {"status", status}});
    }
    files["calendar.json"] = cal.dump(2);
    if (!config_.site_dir.empty()) SG_TRY(add_site_files(config_.site_dir, files));
    SG_ASSIGN_OR_RETURN(auto docs, store::unpublished_documents(c));
    json doc_ids = json::array();
    for (const auto& d : docs) {
      SG_ASSIGN_OR_RETURN(auto fs, store::document_files(c, d.index_no));
      json atts = json::array();
      for (auto& f : fs) {
        std::string path = "documents/files/" + d.index_no + "/" + f.name;
        atts.push_back({{"name", f.name}, {"path", path}});
        files[path] = std::move(f.data);
      }
      files["documents/" + d.index_no + ".json"] = json{
          {"index_no", d.index_no},   {"title", d.title}, {"category", d.category},
          {"publisher", d.publisher}, {"date", d.date},   {"body", d.body},
          {"attachments", atts}}.dump(2);
      SG_TRY(store::mark_document_published(c, d.index_no, seq));
      doc_ids.push_back(d.index_no);
    }
    publish::Manifest m;
    m.agency = agency;
    m.sequence = static_cast<std::uint64_t>(seq);
    m.package_id = random_uuid();
    m.created_at = now;
    m.release_id = r->id;
    m.release_at = r->release_at;
    SG_ASSIGN_OR_RETURN(auto bytes, publish::build_package(m, files, config_.secret_key));
    const std::string name = package_name(agency, seq);
    if (!config_.export_dir.empty()) {
      auto path = std::filesystem::path(config_.export_dir) / name;
      SG_TRY(write_atomically(path, bytes));
      written = path;
    }
    r->state = "signed";
    r->signed_at = now;
    r->signed_by = actor;
    r->package_sequence = seq;
    r->package_name = name;
    r->updated_at = now;
    SG_TRY(store::update_release(c, *r));
    SG_TRY(store::set_release_package(c, r->id, bytes));
    result = {{"sequence", seq},
              {"package_id", m.package_id},
              {"name", name},
              {"sha256", sha256_hex(bytes)},
              {"size", bytes.size()},
              {"documents", doc_ids},
              {"exported_to", written.empty() ? json(nullptr) : json(written.string())}};
    return store::append_audit(c, now, actor, "release_signoff", "release:" + r->id, result);
  });
  if (!st.ok()) {
    // Nothing was committed: a file already written must not be carried to the portal.
    if (!written.empty()) {
      std::error_code ec;
      std::filesystem::remove(written, ec);
    }
    return std::move(st).error();
  }
  SG_ASSIGN_OR_RETURN(
      auto r, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!r) return release_not_found(id);
  SG_ASSIGN_OR_RETURN(auto j, release_json(*r));
  j["signed"] = result;
  return j;
}

Result<ReleaseService::PackageFile> ReleaseService::package(const Actor& a, const std::string& id) {
  SG_TRY(security::authorize(a.user, security::Action::publish));
  SG_ASSIGN_OR_RETURN(
      auto r, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!r) return release_not_found(id);
  SG_ASSIGN_OR_RETURN(
      auto bytes, store_.read([&](store::Conn& c) { return store::release_package(c, id); }));
  if (!bytes) {
    return make_error(ErrorKind::conflict, "NOT_SIGNED", "发布尚未签发，没有发布包",
                      "The release is not signed; there is no package");
  }
  return PackageFile{r->package_name, std::move(*bytes)};
}

Result<std::string> ReleaseService::export_package(const std::string& id, const std::string& dir) {
  SG_ASSIGN_OR_RETURN(
      auto r, store_.read([&](store::Conn& c) { return store::find_release(c, id); }));
  if (!r) return release_not_found(id);
  SG_ASSIGN_OR_RETURN(
      auto bytes, store_.read([&](store::Conn& c) { return store::release_package(c, id); }));
  if (!bytes) {
    return make_error(ErrorKind::conflict, "NOT_SIGNED", "发布尚未签发，没有发布包",
                      "The release is not signed; there is no package");
  }
  auto path = std::filesystem::path(dir) / r->package_name;
  SG_TRY(write_atomically(path, *bytes));
  return path.string();
}

// ---- 政务公开 documents
// --------------------------------------------------------------------------

namespace {

Result<std::string> decode_base64(const std::string& text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), " \r\n", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return bad("BAD_ATTACHMENT", "附件内容不是有效的 base64",
               "An attachment's content is not valid base64");
  }
  out.resize(len);
  return out;
}

bool safe_file_name(const std::string& n) {
  if (n.empty() || n.size() > 120 || n[0] == '.' || n == "..") return false;
  for (unsigned char ch : n) {
    if (ch < 0x20 || ch == '/' || ch == '\\' || ch == ':' || ch == '*' || ch == '?' || ch == '"' ||
        ch == '<' || ch == '>' || ch == '|' || ch == 0x7f) {
      return false;
    }
  }
  return true;
}

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s.substr(0, 4)) ||
      !all_digits(s.substr(5, 2)) || !all_digits(s.substr(8, 2))) {
    return false;
  }
  using namespace std::chrono;
  year_month_day ymd{year{std::stoi(s.substr(0, 4))},
                     month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                     day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
  return ymd.ok();
}

struct DocumentInput {
  store::DocumentRow row;
  bool has_files = false;
  std::vector<store::DocumentFileRow> files;
};

Status read_document_fields(const json& b, bool create, DocumentInput& in) {
  SG_TRY(
      only_keys(b, {"index_no", "title", "category", "publisher", "date", "body", "attachments"}));
  auto& d = in.row;
  if (create) {
    SG_ASSIGN_OR_RETURN(d.index_no, text_field(b, "index_no", 64, true));
    if (!std::regex_match(d.index_no, index_no_re())) {
      return bad("BAD_INDEX_NO", "索引号只能由字母、数字和单个 '-' 组成，例如 430200-2026-000123",
                 "An index number holds letters, digits and single '-', e.g. 430200-2026-000123");
    }
  } else if (b.contains("index_no") && b["index_no"] != d.index_no) {
    return bad("BAD_FIELD", "索引号不能修改", "The index number cannot be changed");
  }
  for (auto [name, field, max] : {std::tuple{"title", &d.title, std::size_t{500}},
                                  {"category", &d.category, std::size_t{100}},
                                  {"publisher", &d.publisher, std::size_t{200}},
                                  {"date", &d.date, std::size_t{10}},
                                  {"body", &d.body, std::size_t{2 * 1024 * 1024}}}) {
    if (create || b.contains(name)) {
      SG_ASSIGN_OR_RETURN(*field, text_field(b, name, max, std::string(name) != "body"));
    }
  }
  if (!valid_date(d.date)) return bad("BAD_DATE", "日期应为 YYYY-MM-DD", "date must be YYYY-MM-DD");
  if (b.contains("attachments")) {
    const auto& at = b["attachments"];
    if (!at.is_array() || at.size() > 20) {
      return bad("BAD_ATTACHMENT", "attachments 应为至多 20 个 {name, content_base64}",
                 "attachments must be at most 20 {name, content_base64}");
    }
    in.has_files = true;
    std::set<std::string> names;
    for (const auto& f : at) {
      if (!f.is_object() || f.size() != 2 || !f.contains("name") || !f["name"].is_string() ||
          !f.contains("content_base64") || !f["content_base64"].is_string()) {
        return bad("BAD_ATTACHMENT", "每个附件应为 {name, content_base64}",
                   "Each attachment must be {name, content_base64}");
      }
      std::string name = f["name"];
      if (!safe_file_name(name) ||
          !publish::safe_package_path("documents/files/" + d.index_no + "/" + name) ||
          !names.insert(name).second) {
        return bad("BAD_ATTACHMENT", "附件名称不合规或重复：" + name,
                   "Bad or duplicate attachment name: " + name);
      }
      SG_ASSIGN_OR_RETURN(auto bytes, decode_base64(f["content_base64"].get<std::string>()));
      if (bytes.size() > 16 * 1024 * 1024) {
        return make_error(ErrorKind::too_large, "ATTACHMENT_TOO_LARGE", "附件超过 16 MiB：" + name,
                          "Attachment over 16 MiB: " + name);
      }
      in.files.push_back({name, std::move(bytes)});
    }
  }
  return Ok{};
}

json document_json(const store::DocumentRow& d, const std::vector<store::DocumentFileRow>& files) {
  json atts = json::array();
  for (const auto& f : files) atts.push_back({{"name", f.name}, {"size", f.data.size()}});
  return {
      {"index_no", d.index_no},
      {"title", d.title},
      {"category", d.category},
      {"publisher", d.publisher},
      {"date", d.date},
      {"body", d.body},
      {"attachments", atts},
      {"created_at", d.created_at},
      {"created_by", d.created_by},
      {"updated_at", d.updated_at},
      {"updated_by", d.updated_by},
      {"published_sequence", d.published_sequence ? json(*d.published_sequence) : json(nullptr)}};
}

}  // namespace

Result<json> ReleaseService::list_documents(const Actor& a, const std::string& q,
                                            const std::string& category) {
  SG_TRY(security::authorize(a.user, security::Action::view_releases));
  if (q.size() > 200 || category.size() > 100)
    return bad("BAD_PARAMETER", "查询条件过长", "Query too long");
  SG_ASSIGN_OR_RETURN(auto rows, store_.read([&](store::Conn& c) {
    return store::list_documents(c, q, category);
  }));
  json items = json::array();
  for (const auto& d : rows) {
    json j = document_json(d, {});
    j.erase("body");
    j.erase("attachments");
    items.push_back(std::move(j));
  }
  return json{{"items", items}};
}

Result<json> ReleaseService::get_document(const Actor& a, const std::string& index_no) {
  SG_TRY(security::authorize(a.user, security::Action::view_releases));
  SG_ASSIGN_OR_RETURN(
      auto d, store_.read([&](store::Conn& c) { return store::find_document(c, index_no); }));
  if (!d) return document_not_found(index_no);
  SG_ASSIGN_OR_RETURN(auto files, store_.read([&](store::Conn& c) {
    return store::document_files(c, index_no);
  }));
  return document_json(*d, files);
}

Result<json> ReleaseService::create_document(const Actor& a, const json& body) {
  SG_TRY(security::authorize(a.user, security::Action::publish));
  DocumentInput in;
  SG_TRY(read_document_fields(body, true, in));
  auto& d = in.row;
  d.created_at = d.updated_at = format_utc(clock_.now());
  d.created_by = d.updated_by = a.user.login;
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto existing, store::find_document(c, d.index_no));
    if (existing) {
      return make_error(ErrorKind::conflict, "DUPLICATE_INDEX_NO", "索引号已存在：" + d.index_no,
                        "The index number exists: " + d.index_no);
    }
    SG_TRY(store::insert_document(c, d));
    SG_TRY(store::replace_document_files(c, d.index_no, in.files));
    json names = json::array();
    for (const auto& f : in.files)
      names.push_back({{"name", f.name}, {"sha256", sha256_hex(f.data)}});
    return store::append_audit(c, d.created_at, a.user.login, "document_create",
                               "document:" + d.index_no,
                               {{"title", d.title}, {"attachments", names}});
  }));
  return document_json(d, in.files);
}

Result<json> ReleaseService::update_document(const Actor& a, const std::string& index_no,
                                             const json& body) {
  SG_TRY(security::authorize(a.user, security::Action::publish));
  SG_ASSIGN_OR_RETURN(auto cur, store_.read([&](store::Conn& c) {
    return store::find_document(c, index_no);
  }));
  if (!cur) return document_not_found(index_no);
  DocumentInput in;
  in.row = *cur;
  SG_TRY(read_document_fields(body, false, in));
  auto& d = in.row;
  d.updated_at = format_utc(clock_.now());
  d.updated_by = a.user.login;
  d.published_sequence.reset();
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto again, store::find_document(c, index_no));
    if (!again) return document_not_found(index_no);
    SG_TRY(store::update_document(c, d));
    if (in.has_files) SG_TRY(store::replace_document_files(c, d.index_no, in.files));
    json changed = json::array();
    for (auto it = body.begin(); it != body.end(); ++it) changed.push_back(it.key());
    return store::append_audit(c, d.updated_at, a.user.login, "document_update",
                               "document:" + d.index_no, {{"fields", changed}});
  }));
  return get_document(a, index_no);
}

}  // namespace statgov::services
