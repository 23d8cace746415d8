#include "services/review_queue.hpp"

#include "services/reporting_detail.hpp"

#include <algorithm>
#include <set>

namespace statgov::services {

namespace {
Result<std::string> awaited_for(const domain::User& u) {
  switch (u.role) {
    case domain::Role::township: return std::string("submitted");
    case domain::Role::county: return std::string("reviewed");
    case domain::Role::city:
    case domain::Role::admin: return std::string("approved");
    default:
      return make_error(ErrorKind::forbidden, "FORBIDDEN", "您的角色不能审核报表", "Your role cannot review submissions");
  }
}
}  // namespace

Result<json> ReviewQueue::queue(const Actor& a, const std::string& form, const std::string& period) {
  SG_ASSIGN_OR_RETURN(auto awaited, awaited_for(a.user));
  SG_ASSIGN_OR_RETURN(auto o, monitor_.obligations(a, {form, period, "", "region"}));
  std::vector<const Obligation*> items;
  for (const auto& ob : o.items) {
    if (ob.state == awaited) items.push_back(&ob);
  }
  std::set<std::int64_t> outliers;
  for (const auto& ind : o.form->def.indicators) {
    if (ind.type == domain::IndicatorType::text) continue;
    auto scored = summary_.outliers(a, {form, period, "county", "submitted", "ly", "", ind.code});
    if (scored.ok()) {
      for (const auto& it : (*scored)["items"]) {
        if (it["hb_outlier"].get<bool>() || it["mad_outlier"].get<bool>()) outliers.insert(it["unit_id"].get<std::int64_t>());
      }
    }
    break;  // the form's first numeric indicator (e.g. 工业总产值) carries the screening
  }
  // Confirmed soft edits first (they need a look), then outliers, then the oldest.
  std::stable_sort(items.begin(), items.end(), [&](const Obligation* x, const Obligation* y) {
    if ((x->warnings > 0) != (y->warnings > 0)) return x->warnings > 0;
    bool ox = outliers.count(x->unit.id) > 0, oy = outliers.count(y->unit.id) > 0;
    if (ox != oy) return ox;
    return x->updated_at < y->updated_at;
  });
  json out = json::array();
  for (const auto* ob : items) {
    auto reg = catalog_.region(ob->unit.region);
    out.push_back({{"unit_id", ob->unit.id},
                   {"unit_name", ob->unit.name},
                   {"region", ob->unit.region},
                   {"region_name", reg ? reg->name : ""},
                   {"state", ob->state},
                   {"version", ob->version},
                   {"warnings", ob->warnings},
                   {"errors", ob->errors},
                   {"outlier", outliers.count(ob->unit.id) > 0},
                   {"updated_at", ob->updated_at}});
  }
  return json{{"form", o.form->def.code}, {"period", o.period.str()}, {"awaiting", awaited}, {"items", out}};
}

Result<json> ReviewQueue::bulk_approve(const Actor& a, const json& body) {
  SG_TRY(check_body(body, {"form", "period", "units"}, "units"));
  if (!body.contains("form") || !body["form"].is_string() || !body.contains("period") || !body["period"].is_string() ||
      !body["units"].is_array() || body["units"].size() > 10000) {
    return make_error(ErrorKind::invalid, "BAD_REQUEST", "请求应为 {form, period, units:[单位ID]}（最多10000个）",
                      "The body must be {form, period, units: [unit ids]} (at most 10000)");
  }
  std::string form = body["form"], period = body["period"];
  SG_ASSIGN_OR_RETURN(auto awaited, awaited_for(a.user));
  SG_ASSIGN_OR_RETURN(auto o, monitor_.obligations(a, {form, period, "", "region"}));
  std::map<std::int64_t, const Obligation*> by_unit;
  for (const auto& ob : o.items) by_unit[ob.unit.id] = &ob;
  json approved = json::array(), skipped = json::array();
  auto skip = [&](std::int64_t id, const char* code, const std::string& zh, const std::string& en) {
    skipped.push_back({{"unit_id", id}, {"code", code}, {"message", zh}, {"message_en", en}});
  };
  for (const auto& u : body["units"]) {
    if (!u.is_number_integer()) {
      return make_error(ErrorKind::invalid, "BAD_ID", "units 中应为单位ID（整数）", "units must hold unit ids (integers)");
    }
    std::int64_t id = u.get<std::int64_t>();
    auto it = by_unit.find(id);
    if (it == by_unit.end()) {
      skip(id, "UNIT_NOT_FOUND", "没有该单位或不在您的权限范围内", "No such unit, or outside your scope");
      continue;
    }
    const Obligation& ob = *it->second;
    if (ob.state != awaited) {
      skip(id, "STATE_CONFLICT", "状态为 " + ob.state + "，不在本级待审", "State is " + ob.state + ", not waiting for your level");
      continue;
    }
    if (ob.errors > 0 || ob.warnings > 0) {
      skip(id, "NOT_CLEAN", "有审核提示，需逐一审核", "Has failed checks; review it one by one");
      continue;
    }
    auto r = reporting_.review(a, id, form, period, {{"action", "approve"}, {"version", ob.version}});
    if (!r.ok()) {
      skip(id, r.error().code.c_str(), r.error().message, r.error().message_en);
      continue;
    }
    approved.push_back(id);
  }
  return json{{"approved", approved}, {"skipped", skipped}};
}

}  // namespace statgov::services
