// JSON-stat 2.0 writer (see jsonstat.hpp).
#include "publish/jsonstat.hpp"

#include <cstdint>
#include <map>
#include <set>

namespace statgov::publish {
namespace {

bool digits_at(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return false;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// JSON-stat's "updated" must be an RFC 3339 date-time: "YYYY-MM-DDThh:mm:ssZ" is kept,
// "YYYY-MM-DDThh:mmZ" gets ":00", anything else is left out ("").
std::string rfc3339(std::string_view t) {
  const bool date_time = digits_at(t, 0, 4) && t.size() > 16 && t[4] == '-' && digits_at(t, 5, 2) &&
                         t[7] == '-' && digits_at(t, 8, 2) && (t[10] == 'T' || t[10] == 't') &&
                         digits_at(t, 11, 2) && t[13] == ':' && digits_at(t, 14, 2);
  if (!date_time) return "";
  if (t.size() == 17 && (t[16] == 'Z' || t[16] == 'z')) {
    return std::string(t.substr(0, 16)) + ":00Z";
  }
  if (t.size() == 20 && t[16] == ':' && digits_at(t, 17, 2) && (t[19] == 'Z' || t[19] == 'z')) {
    return std::string(t);
  }
  return "";
}

}  // namespace

nlohmann::json write_jsonstat(const Dataset& d, const std::vector<std::size_t>& sel,
                              std::string_view lang) {
  using nlohmann::json;
  const bool en = is_english(lang);
  const std::size_t nd = d.dimensions.size();

  // Well-formed selected observations only (hand-built datasets must not crash us).
  std::vector<const Observation*> obs;
  for (std::size_t i : sel) {
    if (i >= d.observations.size()) continue;
    const Observation& o = d.observations[i];
    bool ok = o.key.size() == nd;
    for (std::size_t k = 0; ok && k < nd; ++k) ok = o.key[k] < d.dimensions[k].codes.size();
    if (ok) obs.push_back(&o);
  }

  // Categories per dimension: the codes the selection uses, in code-list order.
  std::vector<std::vector<std::uint32_t>> cats(nd);
  std::vector<std::map<std::uint32_t, std::size_t>> pos(nd);
  for (std::size_t k = 0; k < nd; ++k) {
    std::set<std::uint32_t> used;
    for (const Observation* o : obs) used.insert(o->key[k]);
    if (obs.empty()) {
      for (std::uint32_t c = 0; c < d.dimensions[k].codes.size(); ++c) used.insert(c);
    }
    cats[k].assign(used.begin(), used.end());
    for (std::size_t j = 0; j < cats[k].size(); ++j) pos[k][cats[k][j]] = j;
  }

  json ids = json::array(), size = json::array(), dims = json::object();
  json role = json::object();
  const int metric = dimension_with_role(d, "metric");
  std::size_t total = 1;
  for (std::size_t k = 0; k < nd; ++k) {
    const Dimension& dim = d.dimensions[k];
    ids.push_back(dim.id);
    size.push_back(cats[k].size());
    // Saturating: only compared with kMaxDenseCells below.
    total = cats[k].size() != 0 && total > SIZE_MAX / cats[k].size() ? SIZE_MAX
                                                                     : total * cats[k].size();
    json index = json::array(), labels = json::object(), child = json::object();
    std::set<std::string> present;
    for (std::uint32_t c : cats[k]) present.insert(dim.codes[c].id);
    for (std::uint32_t c : cats[k]) {
      const Code& code = dim.codes[c];
      index.push_back(code.id);
      labels[code.id] = code_name(code, lang);
      if (!code.parent.empty() && present.count(code.parent)) {
        child[code.parent].push_back(code.id);
      }
    }
    json category = {{"index", std::move(index)}, {"label", std::move(labels)}};
    if (!child.empty()) category["child"] = std::move(child);
    if (static_cast<int>(k) == metric) {
      json unit = json::object();
      for (std::uint32_t c : cats[k]) {
        const Code& code = dim.codes[c];
        unit[code.id] = {{"label", code_unit(d, code, lang)}, {"decimals", d.decimals}};
      }
      category["unit"] = std::move(unit);
    }
    dims[dim.id] = {{"label", dimension_name(dim, lang)}, {"category", std::move(category)}};
    if (dim.role == "time" || dim.role == "geo" || dim.role == "metric") {
      role[dim.role].push_back(dim.id);
    }
  }

  // Row-major strides: the last dimension varies fastest.
  std::vector<std::size_t> stride(nd, 1);
  for (std::size_t k = nd; k-- > 1;) stride[k - 1] = stride[k] * cats[k].size();
  // Dense as JSON-stat readers expect; a sparse selection over huge categories would make a
  // dense array explode, so past kMaxDenseCells `value` takes the object form {"index": v}.
  const bool dense = total <= kMaxDenseCells;
  json value = dense ? json::array() : json::object();
  if (dense) {
    for (std::size_t i = 0; i < total; ++i) value.push_back(nullptr);
  }
  json status = json::object();
  bool any_c = false, any_m = false;
  for (const Observation* o : obs) {
    std::size_t at = 0;
    for (std::size_t k = 0; k < nd; ++k) at += pos[k].at(o->key[k]) * stride[k];
    if (o->value) {
      if (dense) {
        value[at] = *o->value;
      } else {
        value[std::to_string(at)] = *o->value;
      }
    }
    if (o->status != 0) {
      status[std::to_string(at)] = std::string(1, o->status);
      any_c = any_c || o->status == 'C';
      any_m = any_m || o->status == 'M';
    }
  }

  const std::string& title = en ? (d.title_en.empty() ? d.title_zh : d.title_en)
                                : (d.title_zh.empty() ? d.title_en : d.title_zh);
  const std::string& unit = en ? (d.unit_en.empty() ? d.unit_zh : d.unit_en)
                               : (d.unit_zh.empty() ? d.unit_en : d.unit_zh);
  const std::string& source = en ? (d.source_en.empty() ? d.source_zh : d.source_en)
                                 : (d.source_zh.empty() ? d.source_en : d.source_zh);
  json note = json::array();
  if (!unit.empty()) note.push_back((en ? "Unit: " : "单位：") + unit);
  if (any_c) {
    note.push_back(en ? "Status C: confidential, suppressed to protect respondents."
                      : "状态 C：涉及调查对象保密，数据不予公布。");
  }
  if (any_m) note.push_back(en ? "Status M: missing." : "状态 M：数据缺失。");

  json out = {{"version", "2.0"},
              {"class", "dataset"},
              {"label", title.empty() ? d.id : title},
              {"id", std::move(ids)},
              {"size", std::move(size)},
              {"dimension", std::move(dims)},
              {"value", std::move(value)},
              {"extension",
               {{"dataset", d.id},
                {"agency", d.agency},
                {"version", d.version},
                {"unit", {{"label", unit}, {"decimals", d.decimals}}}}}};
  if (!source.empty()) out["source"] = source;
  if (auto updated = rfc3339(d.updated); !updated.empty()) out["updated"] = updated;
  if (!role.empty()) out["role"] = std::move(role);
  if (!status.empty()) out["status"] = std::move(status);
  if (!note.empty()) out["note"] = std::move(note);
  return out;
}

}  // namespace statgov::publish
