// Dataset JSON (docs/publication.md section 3): parsing with every check a writer relies on, the
// reverse mapping, and SDMX period arithmetic. Writers assume a Dataset that passed
// dataset_from_json(); they stay defensive (no crash) for hand-built ones.
#include "publish/dataset.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <set>

namespace statgov::publish {
namespace {

Error bad(std::string zh, std::string en) {
  return make_error(ErrorKind::invalid, "BAD_DATASET", "数据集无效：" + std::move(zh),
                    "Invalid dataset: " + std::move(en));
}

bool is_upper_id(std::string_view s, std::size_t max_len, bool letter_first) {
  if (s.empty() || s.size() > max_len) return false;
  if (letter_first && !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// SDMX IDType: [A-Za-z0-9_@$-]+ (no '.', '+' or ':', which the key grammar and URNs use).
bool is_code_id(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '@' || c == '$' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// SDMX NCNameIDType for agencies: a letter first, then [A-Za-z0-9_-].
bool is_agency_id(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_version(std::string_view s) {
  if (s.empty() || s.size() > 20 || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

// Reads an optional string member; a present non-string is an error.
Result<std::string> opt_string(const json& j, const char* key, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return bad(std::string(where) + " 的 " + key + " 必须是字符串",
               std::string(where) + "." + key + " must be a string");
  }
  return it->get<std::string>();
}

// Dimension ids that would collide with the measure, attribute or CSV columns.
bool reserved_dimension_id(std::string_view id) {
  return id == "OBS_VALUE" || id == "OBS_STATUS" || id == "OBS_CONF" || id == "DATAFLOW" ||
         id == "STRUCTURE" || id == "STRUCTURE_ID" || id == "ACTION";
}

std::int64_t days(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year_month_day(year(y), month(m), day(d))).time_since_epoch().count();
}

std::int64_t last_day_of_month(int y, unsigned m) {
  using namespace std::chrono;
  const year_month_day_last ymdl{year(y), month_day_last{month(m)}};
  return sys_days(ymdl).time_since_epoch().count();
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Only for the short digit runs of a period (at most 4 digits; callers check the length first).
int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Span of months [m1, m2] of year y.
PeriodSpan months(int y, unsigned m1, unsigned m2) {
  return PeriodSpan{days(y, m1, 1), last_day_of_month(y, m2)};
}

}  // namespace

bool is_english(std::string_view lang) {
  return lang.size() >= 2 && (lang[0] == 'e' || lang[0] == 'E') &&
         (lang[1] == 'n' || lang[1] == 'N');
}

const std::string& code_name(const Code& c, std::string_view lang) {
  const std::string& first = is_english(lang) ? c.name_en : c.name_zh;
  const std::string& second = is_english(lang) ? c.name_zh : c.name_en;
  if (!first.empty()) return first;
  if (!second.empty()) return second;
  return c.id;
}

const std::string& dimension_name(const Dimension& d, std::string_view lang) {
  const std::string& first = is_english(lang) ? d.name_en : d.name_zh;
  const std::string& second = is_english(lang) ? d.name_zh : d.name_en;
  if (!first.empty()) return first;
  if (!second.empty()) return second;
  return d.id;
}

const std::string& code_unit(const Dataset& d, const Code& c, std::string_view lang) {
  const bool en = is_english(lang);
  // A code's own unit (in either language) overrides the dataset's.
  for (const std::string* s : {en ? &c.unit_en : &c.unit_zh, en ? &c.unit_zh : &c.unit_en,
                               en ? &d.unit_en : &d.unit_zh, en ? &d.unit_zh : &d.unit_en}) {
    if (!s->empty()) return *s;
  }
  return d.unit_zh;  // all empty
}

int dimension_with_role(const Dataset& d, std::string_view role) {
  for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
    if (d.dimensions[i].role == role) return static_cast<int>(i);
  }
  return -1;
}

std::optional<PeriodSpan> parse_period(std::string_view p) {
  if (p.size() < 4 || !all_digits(p.substr(0, 4))) return std::nullopt;
  const int y = to_int(p.substr(0, 4));
  if (y < 1) return std::nullopt;
  std::string_view rest = p.substr(4);
  if (rest.empty()) return months(y, 1, 12);
  if (rest[0] == '-') rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  const char kind = rest[0];
  const std::string_view num = rest.substr(1);
  if (kind >= '0' && kind <= '9') {
    // MM or MM-DD (or MMDD without separators is not SDMX: refuse)
    if (rest.size() == 2 && all_digits(rest)) {
      const int m = to_int(rest);
      if (m < 1 || m > 12) return std::nullopt;
      return months(y, m, m);
    }
    if (rest.size() == 5 && all_digits(rest.substr(0, 2)) && rest[2] == '-' &&
        all_digits(rest.substr(3))) {
      const int m = to_int(rest.substr(0, 2));
      const int dd = to_int(rest.substr(3));
      if (m < 1 || m > 12 || dd < 1) return std::nullopt;
      const std::int64_t first = days(y, m, 1);
      const std::int64_t day = first + dd - 1;
      if (day > last_day_of_month(y, m)) return std::nullopt;
      return PeriodSpan{day, day};
    }
    return std::nullopt;
  }
  // Every period number below has at most 3 digits; a longer run is refused before it is converted
  // (a fuzzed "2023-Q999...9" overflowed int here).
  if (num.size() > 3 || !all_digits(num)) return std::nullopt;
  const int n = to_int(num);
  switch (kind) {
    case 'A':
      if (num != "1") return std::nullopt;
      return months(y, 1, 12);
    case 'S':
      if (num.size() != 1 || n < 1 || n > 2) return std::nullopt;
      return months(y, 6 * (n - 1) + 1, 6 * n);
    case 'T':
      if (num.size() != 1 || n < 1 || n > 3) return std::nullopt;
      return months(y, 4 * (n - 1) + 1, 4 * n);
    case 'Q':
      if (num.size() != 1 || n < 1 || n > 4) return std::nullopt;
      return months(y, 3 * (n - 1) + 1, 3 * n);
    case 'M':
      if (num.size() != 2 || n < 1 || n > 12) return std::nullopt;
      return months(y, n, n);
    case 'W': {
      if (num.size() != 2 || n < 1 || n > 53) return std::nullopt;
      // ISO 8601: week 1 holds January 4th; weeks start on Monday.
      using namespace std::chrono;
      const sys_days jan4 = sys_days(year_month_day(year(y), January, day(4)));
      const unsigned iso_wd = weekday(jan4).iso_encoding();  // 1 = Monday
      const std::int64_t monday1 = jan4.time_since_epoch().count() - (iso_wd - 1);
      const std::int64_t first = monday1 + 7 * (n - 1);
      // Week 53 exists only when its Thursday still falls in year y.
      if (n == 53 && first + 3 > days(y, 12, 31)) return std::nullopt;
      return PeriodSpan{first, first + 6};
    }
    case 'D': {
      if (num.size() != 3 || n < 1) return std::nullopt;
      const std::int64_t day = days(y, 1, 1) + n - 1;
      if (day > days(y, 12, 31)) return std::nullopt;
      return PeriodSpan{day, day};
    }
    default:
      return std::nullopt;
  }
}

Result<Dataset> dataset_from_json(const json& j) {
  if (!j.is_object()) return bad("顶层必须是对象", "the top level must be an object");
  Dataset d;
  SG_ASSIGN_OR_RETURN(d.id, opt_string(j, "id", "dataset"));
  if (!is_upper_id(d.id, 50, false)) {
    return bad("id 必须是 1 到 50 个大写字母、数字或下划线：" + d.id,
               "id must be 1 to 50 of [A-Z0-9_]: " + d.id);
  }
  SG_ASSIGN_OR_RETURN(d.agency, opt_string(j, "agency", "dataset"));
  if (!is_agency_id(d.agency)) {
    return bad("agency 无效：" + d.agency, "bad agency: " + d.agency);
  }
  SG_ASSIGN_OR_RETURN(std::string version, opt_string(j, "version", "dataset"));
  if (!version.empty()) d.version = version;
  if (!is_version(d.version)) return bad("version 无效：" + d.version, "bad version: " + d.version);
  SG_ASSIGN_OR_RETURN(d.title_zh, opt_string(j, "title_zh", "dataset"));
  SG_ASSIGN_OR_RETURN(d.title_en, opt_string(j, "title_en", "dataset"));
  SG_ASSIGN_OR_RETURN(d.description_zh, opt_string(j, "description_zh", "dataset"));
  SG_ASSIGN_OR_RETURN(d.description_en, opt_string(j, "description_en", "dataset"));
  SG_ASSIGN_OR_RETURN(d.unit_zh, opt_string(j, "unit_zh", "dataset"));
  SG_ASSIGN_OR_RETURN(d.unit_en, opt_string(j, "unit_en", "dataset"));
  SG_ASSIGN_OR_RETURN(d.source_zh, opt_string(j, "source_zh", "dataset"));
  SG_ASSIGN_OR_RETURN(d.source_en, opt_string(j, "source_en", "dataset"));
  SG_ASSIGN_OR_RETURN(d.updated, opt_string(j, "updated", "dataset"));
  if (auto it = j.find("decimals"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 10) {
      return bad("decimals 必须是 0 到 10 的整数", "decimals must be an integer from 0 to 10");
    }
    d.decimals = it->get<int>();
  }

  auto dims = j.find("dimensions");
  if (dims == j.end() || !dims->is_array() || dims->empty()) {
    return bad("dimensions 必须是非空数组", "dimensions must be a non-empty array");
  }
  if (dims->size() > 20) return bad("维度过多（最多 20 个）", "too many dimensions (at most 20)");
  std::set<std::string> dim_ids;
  for (const json& jd : *dims) {
    if (!jd.is_object()) return bad("维度必须是对象", "a dimension must be an object");
    Dimension dim;
    SG_ASSIGN_OR_RETURN(dim.id, opt_string(jd, "id", "dimension"));
    if (!is_upper_id(dim.id, 50, true) || reserved_dimension_id(dim.id)) {
      return bad("维度 id 无效：" + dim.id, "bad dimension id: " + dim.id);
    }
    if (!dim_ids.insert(dim.id).second) {
      return bad("维度 id 重复：" + dim.id, "duplicate dimension id: " + dim.id);
    }
    SG_ASSIGN_OR_RETURN(dim.name_zh, opt_string(jd, "name_zh", dim.id));
    SG_ASSIGN_OR_RETURN(dim.name_en, opt_string(jd, "name_en", dim.id));
    SG_ASSIGN_OR_RETURN(dim.role, opt_string(jd, "role", dim.id));
    if (!(dim.role.empty() || dim.role == "geo" || dim.role == "metric" || dim.role == "time")) {
      return bad("维度 " + dim.id + " 的 role 无效：" + dim.role,
                 "dimension " + dim.id + " has a bad role: " + dim.role);
    }
    auto codes = jd.find("codes");
    if (codes == jd.end() || !codes->is_array() || codes->empty()) {
      return bad("维度 " + dim.id + " 的 codes 必须是非空数组",
                 "dimension " + dim.id + ": codes must be a non-empty array");
    }
    std::set<std::string> code_ids;
    for (const json& jc : *codes) {
      if (!jc.is_object()) return bad("代码必须是对象", "a code must be an object");
      Code c;
      SG_ASSIGN_OR_RETURN(c.id, opt_string(jc, "id", dim.id));
      if (!is_code_id(c.id)) {
        return bad("维度 " + dim.id + " 的代码无效：" + c.id,
                   "dimension " + dim.id + " has a bad code: " + c.id);
      }
      if (!code_ids.insert(c.id).second) {
        return bad("维度 " + dim.id + " 的代码重复：" + c.id,
                   "dimension " + dim.id + " has a duplicate code: " + c.id);
      }
      SG_ASSIGN_OR_RETURN(c.name_zh, opt_string(jc, "name_zh", c.id));
      SG_ASSIGN_OR_RETURN(c.name_en, opt_string(jc, "name_en", c.id));
      SG_ASSIGN_OR_RETURN(c.parent, opt_string(jc, "parent", c.id));
      SG_ASSIGN_OR_RETURN(c.unit_zh, opt_string(jc, "unit_zh", c.id));
      SG_ASSIGN_OR_RETURN(c.unit_en, opt_string(jc, "unit_en", c.id));
      dim.codes.push_back(std::move(c));
    }
    for (const Code& c : dim.codes) {
      if (!c.parent.empty() && (c.parent == c.id || !code_ids.count(c.parent))) {
        return bad("维度 " + dim.id + " 的代码 " + c.id + " 的上级不存在：" + c.parent,
                   "dimension " + dim.id + ": code " + c.id + " has an unknown parent " + c.parent);
      }
    }
    d.dimensions.push_back(std::move(dim));
  }
  for (std::size_t i = 0; i + 1 < d.dimensions.size(); ++i) {
    if (d.dimensions[i].id == "TIME_PERIOD" || d.dimensions[i].role == "time") {
      return bad("TIME_PERIOD 必须是最后一个维度", "TIME_PERIOD must be the last dimension");
    }
  }
  Dimension& time = d.dimensions.back();
  if (time.id != "TIME_PERIOD") {
    return bad("最后一个维度必须是 TIME_PERIOD", "the last dimension must be TIME_PERIOD");
  }
  if (time.role.empty()) time.role = "time";
  for (const Code& c : time.codes) {
    if (!parse_period(c.id)) {
      return bad("TIME_PERIOD 的代码不是 SDMX 时期：" + c.id,
                 "TIME_PERIOD code is not an SDMX period: " + c.id);
    }
  }

  auto obs = j.find("observations");
  if (obs == j.end() || !obs->is_array()) {
    return bad("observations 必须是数组", "observations must be an array");
  }
  const std::size_t arity = d.dimensions.size();
  std::set<std::vector<std::uint32_t>> seen;
  d.observations.reserve(obs->size());
  std::size_t n = 0;
  for (const json& jo : *obs) {
    const std::string where = "observations[" + std::to_string(n++) + "]";
    if (!jo.is_object()) return bad(where + " 必须是对象", where + " must be an object");
    auto key = jo.find("key");
    if (key == jo.end() || !key->is_array() || key->size() != arity) {
      return bad(where + " 的 key 必须有 " + std::to_string(arity) + " 个下标",
                 where + ": key must hold " + std::to_string(arity) + " indexes");
    }
    Observation o;
    for (std::size_t i = 0; i < arity; ++i) {
      const json& k = (*key)[i];
      if (!k.is_number_integer() || k.get<std::int64_t>() < 0 ||
          k.get<std::int64_t>() >= static_cast<std::int64_t>(d.dimensions[i].codes.size())) {
        return bad(where + " 的 key 下标超出范围（维度 " + d.dimensions[i].id + "）",
                   where + ": key index out of range for " + d.dimensions[i].id);
      }
      o.key.push_back(static_cast<std::uint32_t>(k.get<std::int64_t>()));
    }
    if (!seen.insert(o.key).second) return bad(where + " 的 key 重复", where + ": duplicate key");
    SG_ASSIGN_OR_RETURN(std::string status, opt_string(jo, "status", where));
    if (status == "C" || status == "M") {
      o.status = status[0];
    } else if (!status.empty()) {
      return bad(where + " 的 status 只能是 C 或 M", where + ": status must be C or M");
    }
    auto v = jo.find("value");
    if (v != jo.end() && !v->is_null()) {
      if (!v->is_number() || !std::isfinite(v->get<double>())) {
        return bad(where + " 的 value 必须是有限数值", where + ": value must be a finite number");
      }
      if (o.status != 0) {
        return bad(where + " 有 status 时 value 必须为 null",
                   where + ": value must be null when status is set");
      }
      o.value = v->get<double>();
    } else if (o.status == 0) {
      return bad(where + " 缺少 value（无值须标 status C 或 M）",
                 where + ": value missing (a null value needs status C or M)");
    }
    d.observations.push_back(std::move(o));
  }
  return d;
}

Result<std::vector<std::size_t>> select_by_filter(
    const Dataset& d, const std::map<std::string, std::string>& params) {
  // allowed[dim]: empty = no filter on that dimension.
  std::vector<std::vector<bool>> allowed(d.dimensions.size());
  for (std::size_t k = 0; k < d.dimensions.size(); ++k) {
    const Dimension& dim = d.dimensions[k];
    auto it = params.find(dim.id);
    if (it == params.end() || it->second.empty()) continue;
    if (it->second.size() > 4000) {
      return make_error(ErrorKind::invalid, "BAD_QUERY", "筛选条件过长：" + dim.id,
                        "filter too long: " + dim.id);
    }
    std::set<std::string> wanted;
    std::string_view rest = it->second;
    for (;;) {
      const std::size_t comma = rest.find(',');
      const std::string_view code = rest.substr(0, comma);
      if (!is_code_id(code)) {
        return make_error(ErrorKind::invalid, "BAD_QUERY",
                          "筛选条件 " + dim.id + " 中的代码无效：" + std::string(code),
                          "bad code in filter " + dim.id + ": " + std::string(code));
      }
      wanted.emplace(code);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    allowed[k].assign(dim.codes.size(), false);
    for (std::size_t c = 0; c < dim.codes.size(); ++c) {
      allowed[k][c] = wanted.count(dim.codes[c].id) > 0;
    }
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < d.observations.size(); ++i) {
    const Observation& o = d.observations[i];
    if (o.key.size() != d.dimensions.size()) continue;
    bool keep = true;
    for (std::size_t k = 0; k < o.key.size() && keep; ++k) {
      if (o.key[k] >= d.dimensions[k].codes.size())
        keep = false;
      else if (!allowed[k].empty() && !allowed[k][o.key[k]])
        keep = false;
    }
    if (keep) out.push_back(i);
  }
  return out;
}

json dataset_to_json(const Dataset& d) {
  json j = {{"id", d.id},
            {"agency", d.agency},
            {"version", d.version},
            {"title_zh", d.title_zh},
            {"title_en", d.title_en},
            {"description_zh", d.description_zh},
            {"description_en", d.description_en},
            {"unit_zh", d.unit_zh},
            {"unit_en", d.unit_en},
            {"decimals", d.decimals},
            {"source_zh", d.source_zh},
            {"source_en", d.source_en},
            {"updated", d.updated}};
  json dims = json::array();
  for (const Dimension& dim : d.dimensions) {
    json codes = json::array();
    for (const Code& c : dim.codes) {
      json jc = {
          {"id", c.id}, {"name_zh", c.name_zh}, {"name_en", c.name_en}, {"parent", c.parent}};
      if (!c.unit_zh.empty()) jc["unit_zh"] = c.unit_zh;
      if (!c.unit_en.empty()) jc["unit_en"] = c.unit_en;
      codes.push_back(std::move(jc));
    }
    dims.push_back({{"id", dim.id},
                    {"name_zh", dim.name_zh},
                    {"name_en", dim.name_en},
                    {"role", dim.role},
                    {"codes", std::move(codes)}});
  }
  j["dimensions"] = std::move(dims);
  json obs = json::array();
  for (const Observation& o : d.observations) {
    json jo = {{"key", o.key}};
    jo["value"] = o.value ? json(*o.value) : json(nullptr);
    if (o.status != 0) jo["status"] = std::string(1, o.status);
    obs.push_back(std::move(jo));
  }
  j["observations"] = std::move(obs);
  return j;
}

namespace {

// An observation's key as its codes, one per dimension, joined by '\x1f'.
std::string code_key(const Dataset& d, const Observation& o) {
  std::string k;
  for (std::size_t i = 0; i < o.key.size(); ++i) {
    if (i) k += '\x1f';
    k += d.dimensions[i].codes[o.key[i]].id;
  }
  return k;
}

}  // namespace

Revision compare_versions(const Dataset& earlier, const Dataset& later) {
  Revision r;
  if (earlier.dimensions.size() != later.dimensions.size()) return r;
  for (std::size_t i = 0; i < earlier.dimensions.size(); ++i) {
    if (earlier.dimensions[i].id != later.dimensions[i].id) return r;
  }
  std::map<std::string, const Observation*> before;
  for (const auto& o : earlier.observations) before.emplace(code_key(earlier, o), &o);
  std::set<std::string> periods;
  const std::size_t time = later.dimensions.size() - 1;  // TIME_PERIOD is last
  for (const auto& o : later.observations) {
    auto it = before.find(code_key(later, o));
    if (it == before.end()) {
      ++r.added;
      continue;
    }
    const Observation& e = *it->second;
    if (e.status == o.status && e.value == o.value) continue;
    ++r.changed;
    periods.insert(later.dimensions[time].codes[o.key[time]].id);
  }
  r.periods.assign(periods.begin(), periods.end());
  return r;
}

}  // namespace statgov::publish
