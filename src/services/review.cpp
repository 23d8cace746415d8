// Review workflow (审核): township review, county approval, city acceptance (lock), returns with a
// reason, revisions after lock. Members of ReportingService; see reporting.hpp.
#include "base/text.hpp"
#include "security/policy.hpp"
#include "services/reporting_detail.hpp"

#include <fmt/format.h>

namespace statgov::services {

using domain::SubmissionAction;
using domain::SubmissionState;

namespace {

// The approval step that belongs to the caller's level.
Result<SubmissionAction> level_action(const domain::User& u) {
  switch (u.role) {
    case domain::Role::township: return SubmissionAction::review;
    case domain::Role::county: return SubmissionAction::approve;
    case domain::Role::city:
    case domain::Role::admin: return SubmissionAction::accept;
    default:
      return make_error(ErrorKind::forbidden, "FORBIDDEN", "您的角色不能审核报表", "Your role cannot review submissions");
  }
}

// The state a submission must be in for the caller's level to act on it.
std::string_view awaited_state(SubmissionAction a) {
  switch (a) {
    case SubmissionAction::review: return "submitted";
    case SubmissionAction::approve: return "reviewed";
    case SubmissionAction::accept: return "approved";
    default: return "";
  }
}

Error level_conflict(std::string_view state, SubmissionAction a) {
  return make_error(ErrorKind::conflict, "STATE_CONFLICT",
                    fmt::format("该报表当前状态为 {}，您这一级只能处理状态为 {} 的报表（不能越级审批）", state, awaited_state(a)),
                    fmt::format("The submission is {}; your level acts on {} submissions only (no skipping levels)",
                                state, awaited_state(a)),
                    json::array({{{"state", state}, {"awaited", awaited_state(a)}}}));
}

Result<int> expected_version(const json& body) {
  if (!body.contains("version") || !body["version"].is_number_integer()) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", "请提供您看到的版本号 version",
                      "Give the version you reviewed (version)", json::array({{{"field", "version"}}}));
  }
  return body["version"].get<int>();
}

Error stale(int seen, int now) {
  return make_error(ErrorKind::conflict, "STALE_VERSION",
                    fmt::format("报表已更新（您看到的是第 {} 版，当前为第 {} 版），请刷新后再审核", seen, now),
                    fmt::format("The submission changed since you opened it (you saw version {}, it is now {}); reload it",
                                seen, now));
}

}  // namespace

Result<json> ReportingService::review(const Actor& a, std::int64_t unit, const std::string& form,
                                      const std::string& period, const json& body) {
  SG_TRY(check_body(body, {"action", "reason", "version"}, "action"));
  std::string action = body["action"].is_string() ? body["action"].get<std::string>() : "";
  if (action != "approve" && action != "return") {
    return make_error(ErrorKind::invalid, "BAD_ACTION", "action 应为 approve 或 return", "action must be approve or return");
  }
  SG_ASSIGN_OR_RETURN(int seen, expected_version(body));
  std::string reason = body.contains("reason") && body["reason"].is_string() ? trim(body["reason"].get<std::string>()) : "";
  if (action == "return" && reason.size() < 2) {
    return make_error(ErrorKind::invalid, "REASON_REQUIRED", "退回必须填写原因", "A return needs a reason");
  }
  if (reason.size() > 2000) {
    return make_error(ErrorKind::invalid, "OUT_OF_RANGE", "原因不能超过2000字节", "The reason is at most 2000 bytes");
  }
  SG_ASSIGN_OR_RETURN(auto mine, level_action(a.user));
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, false));
  auto now = format_utc(clock_.now());
  auto scope = domain::Scope::of(a.user);
  auto result = store_.write([&](store::Conn& c) -> Result<store::SubmissionRow> {
    SG_ASSIGN_OR_RETURN(auto cur, store::find_submission(c, scope, t.unit.id, t.form->def.code, t.period.str()));
    if (!cur) {
      return make_error(ErrorKind::conflict, "STATE_CONFLICT", "该单位尚未上报", "The unit has not submitted yet");
    }
    if (cur->version != seen) return stale(seen, cur->version);
    auto from = domain::parse_state(cur->state).value_or(SubmissionState::draft);
    SubmissionAction act = action == "return" ? SubmissionAction::return_to_unit : mine;
    if (action == "approve" && cur->state != awaited_state(mine)) return level_conflict(cur->state, mine);
    if (action == "return" && mine != SubmissionAction::accept) {
      // A level returns only what has reached it and not passed beyond it.
      bool reached = (mine == SubmissionAction::review && cur->state == "submitted") ||
                     (mine == SubmissionAction::approve && (cur->state == "submitted" || cur->state == "reviewed"));
      if (!reached) return level_conflict(cur->state, mine);
    }
    SG_ASSIGN_OR_RETURN(auto to, domain::transition(from, act));
    store::SubmissionRow r = *cur;
    r.state = std::string(domain::state_name(to));
    r.updated_at = now;
    SG_TRY(store::save_submission(c, r));
    SG_TRY(store::add_event(c, r.id, {now, a.user.login, std::string(domain::action_name(act)), cur->state, r.state, reason}));
    if (act == SubmissionAction::return_to_unit) {
      SG_TRY(store::insert_notice(c, {0, r.unit_id, now, "return", r.form_code, r.period,
                                      fmt::format("{} {} 被退回 / returned", r.form_code, r.period), reason, false}));
    }
    SG_TRY(store::append_audit(c, now, a.user.login, std::string(domain::action_name(act)),
                               fmt::format("submission:{}/{}/{}", r.unit_id, r.form_code, r.period),
                               {{"version", r.version}, {"from", cur->state}, {"to", r.state}, {"reason", reason}}));
    return r;
  });
  if (!result.ok()) return std::move(result).error();
  changed();
  t.current = std::move(*result);
  return submission_json(t, true);
}

Result<json> ReportingService::revise(const Actor& a, std::int64_t unit, const std::string& form,
                                      const std::string& period, const json& body) {
  SG_TRY(check_body(body, {"values", "reason", "version", "explanations"}, "values"));
  if (a.user.role != domain::Role::city && a.user.role != domain::Role::admin) {
    return make_error(ErrorKind::forbidden, "FORBIDDEN", "只有市级统计人员可以修订已验收的数据",
                      "Only city staff may revise accepted data");
  }
  SG_ASSIGN_OR_RETURN(int seen, expected_version(body));
  std::string reason = body.contains("reason") && body["reason"].is_string() ? trim(body["reason"].get<std::string>()) : "";
  if (reason.size() < 2) {
    return make_error(ErrorKind::invalid, "REASON_REQUIRED", "修订必须填写原因", "A revision needs a reason");
  }
  if (body.contains("explanations") && !body["explanations"].is_object()) {
    return make_error(ErrorKind::invalid, "WRONG_TYPE", "explanations 应为对象", "explanations must be an object");
  }
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, true));
  const json& values = body["values"];
  SG_TRY(domain::check_values(t.form->def, values, true));
  SG_ASSIGN_OR_RETURN(auto results, evaluate(t, values));
  json errors = json::array();
  for (const auto& r : results) {
    if (r["severity"] == "error") errors.push_back(r);
  }
  if (!errors.empty()) {
    return make_error(ErrorKind::unprocessable, "RULE_FAILED",
                      fmt::format("有 {} 条审核错误，修订未保存", errors.size()),
                      fmt::format("{} edit check(s) failed; the revision was not saved", errors.size()), results);
  }
  auto now = format_utc(clock_.now());
  auto scope = domain::Scope::of(a.user);
  auto result = store_.write([&](store::Conn& c) -> Result<store::SubmissionRow> {
    SG_ASSIGN_OR_RETURN(auto cur, store::find_submission(c, scope, t.unit.id, t.form->def.code, t.period.str()));
    if (!cur || cur->state != "accepted") {
      return make_error(ErrorKind::conflict, "STATE_CONFLICT", "只有已验收（锁定）的报表才需要修订",
                        "Only accepted (locked) submissions are revised");
    }
    if (cur->version != seen) return stale(seen, cur->version);
    store::SubmissionRow r = *cur;
    r.version = cur->version + 1;
    r.values = values;
    r.results = results;
    r.explanations = body.value("explanations", cur->explanations);
    r.updated_at = now;
    store::DocumentTexts texts;  // written twice (row and version), dumped once
    SG_TRY(store::save_submission(c, r, &texts));
    SG_TRY(store::add_version(c, r, texts, now, a.user.login));
    SG_TRY(store::add_event(c, r.id, {now, a.user.login, "revise", "accepted", "accepted", reason}));
    SG_TRY(store::append_audit(c, now, a.user.login, "revise",
                               fmt::format("submission:{}/{}/{}", r.unit_id, r.form_code, r.period),
                               {{"version", r.version}, {"reason", reason}}));
    return r;
  });
  if (!result.ok()) return std::move(result).error();
  changed();
  t.current = std::move(*result);
  return submission_json(t, true);
}

}  // namespace statgov::services
