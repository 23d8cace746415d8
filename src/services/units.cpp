#include "services/units.hpp"

#include "base/csv.hpp"
#include "base/text.hpp"
#include "base/xlsx.hpp"
#include "domain/codes.hpp"
#include "security/policy.hpp"

#include <fmt/format.h>

namespace statgov::services {

namespace {

// Accepted header names per field, Chinese first.
struct Column {
  const char* field;
  std::vector<std::string> names;
  bool required;
};
const std::vector<Column>& import_columns() {
  static const std::vector<Column> cols = {
      {"uscc", {"统一社会信用代码", "uscc"}, true},
      {"name", {"单位名称", "单位详细名称", "name"}, true},
      {"region", {"区划代码", "统计用区划代码", "region"}, true},
      {"industry", {"行业代码", "industry"}, true},
      {"size", {"规模", "企业规模", "size"}, true},
      {"status", {"状态", "status"}, false},
  };
  return cols;
}

Result<std::vector<std::vector<std::string>>> read_table(std::string_view bytes) {
  if (bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    SG_ASSIGN_OR_RETURN(auto book, read_xlsx(bytes));
    if (book.sheets.empty()) {
      return make_error(ErrorKind::invalid, "BAD_XLSX", "Excel 文件中没有工作表", "The workbook has no sheet");
    }
    const auto& s = book.sheets.front();
    std::vector<std::vector<std::string>> rows;
    for (int r = 1; r <= s.max_row; ++r) {
      std::vector<std::string> row;
      for (int c = 1; c <= s.max_col; ++c) {
        const XlsxCell* cell = s.at(r, c);
        row.push_back(cell ? cell->text : "");
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }
  SG_ASSIGN_OR_RETURN(std::string text, decode_text(bytes));
  SG_ASSIGN_OR_RETURN(auto csv, parse_csv(text));
  std::vector<std::vector<std::string>> rows;
  for (auto& r : csv) rows.push_back(std::move(r.fields));
  return rows;
}

json row_error(std::size_t row, const std::string& column, const std::string& code, const std::string& zh,
               const std::string& en) {
  return {{"row", row}, {"column", column}, {"code", code}, {"message", zh}, {"message_en", en}};
}

}  // namespace

json UnitService::unit_json(const store::UnitRow& u) const {
  auto region = catalog_.region(u.region);
  auto ind = catalog_.industry(u.industry);
  return {{"id", u.id},
          {"uscc", u.uscc},
          {"uscc_note", u.uscc_note},
          {"name", u.name},
          {"region", u.region},
          {"region_name", region ? region->name : ""},
          {"industry", u.industry},
          {"industry_name", ind ? ind->name : ""},
          {"section", ind ? ind->section : ""},
          {"size", u.size},
          {"size_name", std::string(domain::size_class_name(static_cast<domain::SizeClass>(u.size)))},
          {"status", u.status},
          {"attributes", u.attributes},
          {"updated_at", u.updated_at}};
}

Result<json> UnitService::import(const Actor& a, std::string_view bytes, ImportOptions opt) {
  SG_TRY(security::authorize(a.user, security::Action::edit_units));
  if (bytes.empty()) {
    return make_error(ErrorKind::invalid, "EMPTY_FILE", "上传的文件为空", "The uploaded file is empty");
  }
  SG_ASSIGN_OR_RETURN(auto rows, read_table(bytes));
  if (rows.empty()) {
    return make_error(ErrorKind::invalid, "EMPTY_FILE", "文件中没有数据", "The file has no rows");
  }
  // Map header names to column indexes.
  std::map<std::string, std::size_t> idx;
  json errors = json::array();
  for (const auto& col : import_columns()) {
    for (std::size_t i = 0; i < rows[0].size(); ++i) {
      std::string h = trim(rows[0][i]);
      for (const auto& n : col.names) {
        if (h == n) idx[col.field] = i;
      }
    }
    if (col.required && !idx.count(col.field)) {
      errors.push_back(row_error(1, col.names[0], "MISSING_COLUMN", std::string("缺少列：") + col.names[0],
                                 std::string("Missing column: ") + col.names[0] + " / " + col.names.back()));
    }
  }
  if (!errors.empty()) {
    return make_error(ErrorKind::invalid, "IMPORT_FAILED", "表头不完整，未导入任何单位",
                      "The header row is incomplete; nothing was imported", errors);
  }
  auto scope = domain::Scope::of(a.user);
  std::vector<std::pair<std::size_t, store::UnitRow>> good;
  std::set<std::string> seen;
  auto now = format_utc(clock_.now());
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r];
    std::size_t line = r + 1;
    auto cell = [&](const char* field) -> std::string {
      auto it = idx.find(field);
      return it != idx.end() && it->second < f.size() ? trim(f[it->second]) : std::string();
    };
    bool empty_row = true;
    for (const auto& x : f) empty_row = empty_row && trim(x).empty();
    if (empty_row) continue;
    std::size_t before = errors.size();
    store::UnitRow u;
    auto uscc = domain::Uscc::parse(cell("uscc"));
    if (!uscc.ok()) {
      errors.push_back(row_error(line, "统一社会信用代码", uscc.error().code, uscc.error().message, uscc.error().message_en));
    } else {
      u.uscc = uscc->str();
      if (uscc->check() == domain::UsccCheck::pilot_exception) {
        u.uscc_note = "试点期代码，校验位不符（已接受） / pilot-era code failing the check (accepted)";
      }
      if (!seen.insert(u.uscc).second) {
        errors.push_back(row_error(line, "统一社会信用代码", "DUPLICATE", "文件中重复出现：" + u.uscc,
                                   "Appears twice in the file: " + u.uscc));
      }
    }
    u.name = cell("name");
    if (u.name.empty() || u.name.size() > 300) {
      errors.push_back(row_error(line, "单位名称", "BAD_NAME", "单位名称不能为空且不超过100字",
                                 "The unit name must be 1 to 100 characters"));
    }
    auto region = domain::RegionCode::parse(cell("region"));
    if (!region.ok()) {
      errors.push_back(row_error(line, "区划代码", region.error().code, region.error().message, region.error().message_en));
    } else if (!catalog_.region(region->str())) {
      errors.push_back(row_error(line, "区划代码", "UNKNOWN_REGION", "区划代码不存在：" + cell("region"),
                                 "Unknown region code: " + cell("region")));
    } else if (!scope.covers_region(region->str())) {
      errors.push_back(row_error(line, "区划代码", "OUT_OF_SCOPE", "该区划不在您的管辖范围内",
                                 "This region is outside your scope"));
    } else {
      u.region = region->str();
    }
    auto ind = domain::IndustryCode::parse(cell("industry"));
    if (!ind.ok()) {
      errors.push_back(row_error(line, "行业代码", ind.error().code, ind.error().message, ind.error().message_en));
    } else if (ind->level() != domain::IndustryLevel::industry_class || !catalog_.industry(ind->str())) {
      errors.push_back(row_error(line, "行业代码", "UNKNOWN_INDUSTRY",
                                 "行业代码须为 GB/T 4754-2017 中存在的4位小类：" + cell("industry"),
                                 "The industry must be an existing 4-digit class of GB/T 4754-2017: " + cell("industry")));
    } else {
      u.industry = ind->str();
    }
    auto size = domain::parse_size_class(cell("size"));
    if (!size.ok()) {
      errors.push_back(row_error(line, "规模", size.error().code, size.error().message, size.error().message_en));
    } else {
      u.size = static_cast<int>(*size);
    }
    std::string status = cell("status");
    u.status = status.empty() ? "active" : status;
    if (u.status != "active" && u.status != "closed" && u.status != "suspended") {
      errors.push_back(row_error(line, "状态", "BAD_STATUS", "状态应为 active、suspended 或 closed",
                                 "Status must be active, suspended or closed"));
    }
    u.created_at = u.updated_at = now;
    if (errors.size() == before) good.emplace_back(line, std::move(u));
  }
  if (!errors.empty() && !opt.partial) {
    return make_error(ErrorKind::unprocessable, "IMPORT_FAILED",
                      fmt::format("有 {} 处错误，未导入任何单位", errors.size()),
                      fmt::format("{} problem(s) found; nothing was imported", errors.size()), errors);
  }
  return store_.write([&](store::Conn& c) -> Result<json> {
    int inserted = 0, updated = 0;
    for (auto& [line, u] : good) {
      SG_ASSIGN_OR_RETURN(auto existing, store::find_unit_by_uscc(c, u.uscc));
      if (!existing) {
        SG_TRY(store::insert_unit(c, u));
        ++inserted;
        continue;
      }
      if (!scope.covers_region(existing->region)) {
        errors.push_back(row_error(line, "统一社会信用代码", "OUT_OF_SCOPE", "该单位已登记在您管辖范围之外的地区",
                                   "The unit is registered outside your scope"));
        continue;
      }
      store::UnitRow nu = *existing;
      bool changed = false;
      auto field = [&](const char* name, std::string& cur, const std::string& nv) {
        if (cur == nv) return;
        (void)store::add_unit_history(c, existing->id, {now, a.user.login, name, cur, nv});
        cur = nv;
        changed = true;
      };
      field("name", nu.name, u.name);
      field("region", nu.region, u.region);
      field("industry", nu.industry, u.industry);
      std::string s_old = std::to_string(nu.size), s_new = std::to_string(u.size);
      field("size", s_old, s_new);
      nu.size = u.size;
      field("status", nu.status, u.status);
      if (changed) {
        nu.updated_at = now;
        SG_TRY(store::update_unit(c, nu));
        ++updated;
      }
    }
    if (!errors.empty() && !opt.partial) {
      return make_error(ErrorKind::unprocessable, "IMPORT_FAILED",
                        fmt::format("有 {} 处错误，未导入任何单位", errors.size()),
                        fmt::format("{} problem(s) found; nothing was imported", errors.size()), errors);
    }
    SG_TRY(store::append_audit(c, now, a.user.login, "unit_import", "units",
                               {{"inserted", inserted}, {"updated", updated}, {"rejected", errors.size()}}));
    return json{{"imported", inserted}, {"updated", updated}, {"rejected", errors}};
  });
}

Result<json> UnitService::list(const Actor& a, const store::UnitFilter& f) {
  SG_TRY(security::authorize(a.user, security::Action::view_units));
  store::UnitFilter q = f;
  q.limit = std::clamp(q.limit, 1, 500);
  auto scope = domain::Scope::of(a.user);
  SG_ASSIGN_OR_RETURN(auto rows, store_.read([&](store::Conn& c) {
    store::UnitFilter probe = q;
    probe.limit = q.limit + 1;  // one more tells whether there is a next page
    return store::list_units(c, scope, probe);
  }));
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < rows.size() && static_cast<int>(i) < q.limit; ++i) items.push_back(unit_json(rows[i]));
  if (static_cast<int>(rows.size()) > q.limit) next = std::to_string(rows[static_cast<std::size_t>(q.limit) - 1].id);
  return json{{"items", items}, {"next_cursor", next}};
}

Result<json> UnitService::get(const Actor& a, std::int64_t id) {
  if (!(a.user.role == domain::Role::enterprise && a.user.unit_id == id)) {
    SG_TRY(security::authorize(a.user, security::Action::view_units));
  }
  auto scope = domain::Scope::of(a.user);
  SG_ASSIGN_OR_RETURN(auto u, store_.read([&](store::Conn& c) { return store::find_unit(c, scope, id); }));
  if (!u) {
    return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "没有该单位或不在您的权限范围内",
                      "No such unit, or it is outside your scope");
  }
  SG_ASSIGN_OR_RETURN(auto hist, store_.read([&](store::Conn& c) { return store::unit_history(c, id); }));
  json j = unit_json(*u);
  json h = json::array();
  for (const auto& x : hist) {
    h.push_back({{"at", x.at}, {"actor", x.actor}, {"field", x.field}, {"old", x.old_value}, {"new", x.new_value}});
  }
  j["history"] = h;
  return j;
}

Result<json> UnitService::update(const Actor& a, std::int64_t id, const json& patch) {
  SG_TRY(security::authorize(a.user, security::Action::edit_units));
  if (!patch.is_object()) {
    return make_error(ErrorKind::invalid, "BAD_JSON", "请求体应为 JSON 对象", "The request body must be a JSON object");
  }
  auto scope = domain::Scope::of(a.user);
  auto now = format_utc(clock_.now());
  store::UnitRow next;
  {
    SG_ASSIGN_OR_RETURN(auto u, store_.read([&](store::Conn& c) { return store::find_unit(c, scope, id); }));
    if (!u) {
      return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "没有该单位或不在您的权限范围内",
                        "No such unit, or it is outside your scope");
    }
    next = *u;
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    auto need_string = [&]() -> Status {
      if (v.is_string()) return Ok{};
      return make_error(ErrorKind::invalid, "WRONG_TYPE", k + " 应为字符串", k + " must be a string");
    };
    if (k == "name") {
      SG_TRY(need_string());
      next.name = trim(v.get<std::string>());
      if (next.name.empty()) return make_error(ErrorKind::invalid, "BAD_NAME", "单位名称不能为空", "The name cannot be empty");
    } else if (k == "region") {
      SG_TRY(need_string());
      SG_ASSIGN_OR_RETURN(auto rc, domain::RegionCode::parse(v.get<std::string>()));
      if (!catalog_.region(rc.str())) {
        return make_error(ErrorKind::invalid, "UNKNOWN_REGION", "区划代码不存在", "Unknown region code");
      }
      if (!scope.covers_region(rc.str())) {
        return make_error(ErrorKind::forbidden, "OUT_OF_SCOPE", "该区划不在您的管辖范围内", "This region is outside your scope");
      }
      next.region = rc.str();
    } else if (k == "industry") {
      SG_TRY(need_string());
      auto ind = catalog_.industry(v.get<std::string>());
      if (!ind || ind->level != 4) {
        return make_error(ErrorKind::invalid, "UNKNOWN_INDUSTRY", "行业代码须为4位小类", "The industry must be a 4-digit class");
      }
      next.industry = ind->code;
    } else if (k == "size") {
      std::string s = v.is_number_integer() ? std::to_string(v.get<int>()) : v.is_string() ? v.get<std::string>() : "";
      SG_ASSIGN_OR_RETURN(auto sc, domain::parse_size_class(s));
      next.size = static_cast<int>(sc);
    } else if (k == "status") {
      SG_TRY(need_string());
      std::string s = v.get<std::string>();
      if (s != "active" && s != "closed" && s != "suspended") {
        return make_error(ErrorKind::invalid, "BAD_STATUS", "状态应为 active、suspended 或 closed",
                          "Status must be active, suspended or closed");
      }
      next.status = s;
    } else if (k == "attributes") {
      if (!v.is_object()) return make_error(ErrorKind::invalid, "WRONG_TYPE", "attributes 应为对象", "attributes must be an object");
      next.attributes = v;
    } else {
      return make_error(ErrorKind::invalid, "UNKNOWN_FIELD", "请求中有未知字段：" + k, "Unknown field in request: " + k);
    }
  }
  return store_.write([&](store::Conn& c) -> Result<json> {
    SG_ASSIGN_OR_RETURN(auto cur, store::find_unit(c, scope, id));
    if (!cur) return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "没有该单位", "No such unit");
    auto rec = [&](const char* f, const std::string& o, const std::string& n) -> Status {
      if (o == n) return Ok{};
      return store::add_unit_history(c, id, {now, a.user.login, f, o, n});
    };
    SG_TRY(rec("name", cur->name, next.name));
    SG_TRY(rec("region", cur->region, next.region));
    SG_TRY(rec("industry", cur->industry, next.industry));
    SG_TRY(rec("size", std::to_string(cur->size), std::to_string(next.size)));
    SG_TRY(rec("status", cur->status, next.status));
    SG_TRY(rec("attributes", cur->attributes.dump(), next.attributes.dump()));
    next.updated_at = now;
    SG_TRY(store::update_unit(c, next));
    SG_TRY(store::append_audit(c, now, a.user.login, "unit_update", "unit:" + std::to_string(id), patch));
    return unit_json(next);
  });
}

}  // namespace statgov::services
