#include "services/monitor.hpp"

#include "security/policy.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace statgov::services {

bool is_sent_state(std::string_view s) {
  return s == "submitted" || s == "reviewed" || s == "approved" || s == "accepted";
}

Result<MonitorService::Obligations> MonitorService::obligations(const Actor& a, const MonitorQuery& q) {
  SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  Obligations o;
  SG_ASSIGN_OR_RETURN(o.period, domain::Period::parse(q.period));
  SG_ASSIGN_OR_RETURN(o.form, forms_.get(q.form, 0));
  const auto& def = o.form->def;
  if (o.period.frequency() != def.frequency) {
    return make_error(ErrorKind::invalid, "PERIOD_FREQUENCY", "报告期与表式的报送频率不符",
                      "The period does not match the form's frequency");
  }
  auto scope = domain::Scope::of(a.user);
  std::string root_text = q.region.empty() ? a.user.region : q.region;
  SG_ASSIGN_OR_RETURN(o.root, domain::RegionCode::parse(root_text));
  if (!scope.covers_region(o.root.str())) {
    return make_error(ErrorKind::forbidden, "OUT_OF_SCOPE", "该区划不在您的管辖范围内", "This region is outside your scope");
  }
  o.deadline = o.period.deadline(def.deadline_day, def.deadline_hour);
  domain::Scope sub;
  sub.region_prefix = o.root.significant();
  // Who owed the form is decided by the directory as it stood at the end of the period, not today's:
  // a unit closed, moved to another county or reclassified since then still owed that period where
  // it was. Today's rows are turned back with the changes recorded after the period's end. A unit
  // with a submission is counted where the submission was written (its region snapshot).
  std::string period_end = format_utc(o.period.deadline(1, 0));
  SG_ASSIGN_OR_RETURN(auto states, store_.read([&](store::Conn& c) {
    return store::submission_states(c, sub, def.code, o.period.str());
  }));
  SG_ASSIGN_OR_RETURN(auto units, store_.read([&](store::Conn& c) -> Result<std::vector<store::UnitRow>> {
    SG_ASSIGN_OR_RETURN(auto rows, store::all_units(c, sub));
    SG_ASSIGN_OR_RETURN(auto changes, store::unit_changes_after(c, period_end));
    std::set<std::int64_t> have, more;
    for (const auto& u : rows) have.insert(u.id);
    for (const auto& ch : changes) {
      if (ch.field == "region" && sub.covers_region(ch.old_value) && !have.count(ch.unit_id)) more.insert(ch.unit_id);
    }
    for (const auto& st : states) {
      if (!have.count(st.unit_id)) more.insert(st.unit_id);
    }
    for (auto id : more) {
      SG_ASSIGN_OR_RETURN(auto u, store::find_unit(c, domain::Scope{}, id));
      if (u) rows.push_back(std::move(*u));
    }
    std::map<std::int64_t, store::UnitRow*> by_id;
    for (auto& u : rows) by_id[u.id] = &u;
    for (const auto& ch : changes) {  // newest first
      auto it = by_id.find(ch.unit_id);
      if (it == by_id.end()) continue;
      store::UnitRow& u = *it->second;
      if (ch.field == "region") u.region = ch.old_value;
      else if (ch.field == "industry") u.industry = ch.old_value;
      else if (ch.field == "status") u.status = ch.old_value;
      else if (ch.field == "size") {
        int size = 0;
        auto [end, ec] = std::from_chars(ch.old_value.data(), ch.old_value.data() + ch.old_value.size(), size);
        if (ec == std::errc() && end == ch.old_value.data() + ch.old_value.size()) u.size = size;
      }
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return rows;
  }));
  std::map<std::int64_t, const store::SubmissionState*> by_unit;
  for (const auto& s : states) by_unit[s.unit_id] = &s;
  for (auto& u : units) {
    auto it = by_unit.find(u.id);
    if (it == by_unit.end()) {
      // Not in the region then, or closed by the period's end: it owed nothing here.
      if (!sub.covers_region(u.region) || u.status != "active") continue;
    } else {
      u.region = it->second->region;
    }
    auto ind = catalog_.industry(u.industry);
    std::string section = ind ? ind->section : "";
    if (it == by_unit.end() && !domain::form_applies(def, u.industry, section, u.size, u.uscc)) continue;
    Obligation ob;
    ob.unit = std::move(u);
    ob.section = section;
    if (it != by_unit.end()) {
      ob.state = it->second->state;
      ob.first_submitted_at = it->second->first_submitted_at;
      ob.version = it->second->version;
      ob.errors = it->second->errors;
      ob.warnings = it->second->warnings;
      ob.updated_at = it->second->updated_at;
    }
    o.items.push_back(std::move(ob));
  }
  return o;
}

namespace {

struct Counts {
  int expected = 0, not_started = 0, draft = 0, submitted = 0, returned = 0, reviewed = 0, approved = 0,
      accepted = 0, overdue = 0, on_time = 0;
  void add(const Obligation& o, bool past_deadline, const std::string& deadline_utc) {
    ++expected;
    bool sent = is_sent_state(o.state);
    if (o.state == "not_started") ++not_started;
    else if (o.state == "draft") ++draft;
    else if (o.state == "returned") ++returned;
    if (sent) ++submitted;
    if (o.state == "reviewed") ++reviewed;
    if (o.state == "approved") ++approved;
    if (o.state == "accepted") ++accepted;
    // Approved "per level": a submission at a later level has passed the earlier ones.
    if (!sent && past_deadline) ++overdue;
    if (!o.first_submitted_at.empty() && o.first_submitted_at <= deadline_utc) ++on_time;
  }
  json to_json(const std::string& key, const std::string& name) const {
    return {{"key", key},           {"name", name},         {"expected", expected}, {"not_started", not_started},
            {"draft", draft},       {"submitted", submitted}, {"returned", returned}, {"reviewed", reviewed},
            {"approved", approved}, {"accepted", accepted},   {"overdue", overdue},   {"on_time", on_time},
            {"on_time_rate", expected ? static_cast<double>(on_time) / expected : 0.0},
            {"passed_township", reviewed + approved + accepted},
            {"passed_county", approved + accepted}};
  }
};

}  // namespace

Result<json> MonitorService::progress(const Actor& a, const MonitorQuery& q) {
  if (q.by != "region" && q.by != "section") {
    return make_error(ErrorKind::invalid, "BAD_PARAMETER", "by 应为 region 或 section", "by must be region or section");
  }
  SG_ASSIGN_OR_RETURN(auto o, obligations(a, q));
  bool past = clock_.now() > o.deadline;
  std::string deadline_utc = format_utc(o.deadline);
  std::map<std::string, Counts> rows;
  Counts total;
  auto level = o.root.level();
  for (const auto& ob : o.items) {
    std::string key;
    if (q.by == "section") {
      key = ob.section;
    } else {
      const std::string& r = ob.unit.region;
      if (level == domain::RegionLevel::province) key = r.substr(0, 4) + "00000000";
      else if (level == domain::RegionLevel::city) key = r.substr(0, 6) + "000000";
      else if (level == domain::RegionLevel::county) key = r.substr(0, 9) + "000";
      else key = r;
    }
    rows[key].add(ob, past, deadline_utc);
    total.add(ob, past, deadline_utc);
  }
  json out_rows = json::array();
  for (const auto& [key, c] : rows) {
    std::string name;
    if (q.by == "section") {
      auto ind = catalog_.industry(key);
      name = ind ? ind->name : key;
    } else {
      auto reg = catalog_.region(key);
      name = reg ? reg->name : key;
    }
    out_rows.push_back(c.to_json(key, name));
  }
  auto root = catalog_.region(o.root.str());
  return json{{"form", o.form->def.code},
              {"period", o.period.str()},
              {"deadline", format_local(o.deadline)},
              {"past_deadline", past},
              {"region", {{"code", o.root.str()}, {"name", root ? root->name : o.root.str()}, {"level", static_cast<int>(level)}}},
              {"by", q.by},
              {"rows", out_rows},
              {"total", total.to_json(o.root.str(), root ? root->name : "")}};
}

Result<json> MonitorService::missing(const Actor& a, const MonitorQuery& q) {
  SG_ASSIGN_OR_RETURN(auto o, obligations(a, q));
  bool past = clock_.now() > o.deadline;
  json items = json::array();
  for (const auto& ob : o.items) {
    if (is_sent_state(ob.state)) continue;
    auto reg = catalog_.region(ob.unit.region);
    const auto& at = ob.unit.attributes;
    items.push_back({{"unit_id", ob.unit.id},
                     {"uscc", ob.unit.uscc},
                     {"name", ob.unit.name},
                     {"region", ob.unit.region},
                     {"region_name", reg ? reg->name : ""},
                     {"contact", at.value("contact", "")},
                     {"phone", at.value("phone", "")},
                     {"email", at.value("email", "")},
                     {"state", ob.state},
                     {"overdue", past}});
  }
  return json{{"form", o.form->def.code}, {"period", o.period.str()}, {"deadline", format_local(o.deadline)}, {"items", items}};
}

}  // namespace statgov::services
