#include "services/reporting.hpp"
#include "services/reporting_detail.hpp"
#include "services/signatures.hpp"

#include "base/crypto.hpp"
#include "base/json_writer.hpp"
#include "base/text.hpp"
#include "base/xlsx.hpp"
#include "domain/submission.hpp"
#include "security/policy.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>

namespace statgov::services {

using domain::Period;
using domain::SubmissionState;


namespace {

constexpr const char* kTemplateMarker = "statgov-template";
constexpr const char* kMetaSheet = "_statgov";

Error unknown_field(const std::string& key) {
  return make_error(ErrorKind::invalid, "UNKNOWN_FIELD", "请求中有未知字段：" + key, "Unknown field in request: " + key,
                    json::array({{{"field", key}}}));
}

}  // namespace

Status check_body(const json& body, std::initializer_list<const char*> allowed, const char* required) {
  if (!body.is_object()) {
    return make_error(ErrorKind::invalid, "BAD_JSON", "请求体应为 JSON 对象", "The request body must be a JSON object");
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool ok = false;
    for (const char* k : allowed) ok = ok || it.key() == k;
    if (!ok) return unknown_field(it.key());
  }
  if (required && !body.contains(required)) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", std::string("缺少字段：") + required,
                      std::string("Missing field: ") + required, json::array({{{"field", required}}}));
  }
  return Ok{};
}

namespace {

rules::ValueMap to_value_map(const json& values) {
  rules::ValueMap m;
  if (!values.is_object()) return m;
  for (auto it = values.begin(); it != values.end(); ++it) {
    if (it.value().is_number()) m.emplace(it.key(), it.value().get<double>());
  }
  return m;
}

// Only states the enterprise has actually sent count as reference data for prev. and ly.
bool is_sent(const store::SubmissionRow& r) {
  auto s = domain::parse_state(r.state).value_or(SubmissionState::draft);
  return s != SubmissionState::draft && s != SubmissionState::not_started;
}

json result_json(const rules::RuleResult& r) {
  return {{"rule", r.name},
          {"severity", r.severity == rules::Severity::error ? "error" : "warning"},
          {"message", r.message},
          {"message_en", r.message_en},
          {"indicators", r.indicators}};
}

std::string trimmed(const json& v) { return v.is_string() ? trim(v.get<std::string>()) : std::string(); }

}  // namespace

Period ReportingService::current_period(domain::Frequency f) const {
  auto d = local_date(clock_.now());
  return Period::containing(f, d.year, d.month);
}

Result<ReportingService::Target> ReportingService::resolve(const Actor& a, std::int64_t unit_id,
                                                           const std::string& form, const std::string& period_text,
                                                           bool for_write) {
  return store_.read_snapshot([&](store::Conn& c) { return resolve(c, a, unit_id, form, period_text, for_write); });
}

Result<ReportingService::Target> ReportingService::resolve(store::Conn& c, const Actor& a, std::int64_t unit_id,
                                                           const std::string& form, const std::string& period_text,
                                                           bool for_write) {
  if (a.user.role != domain::Role::enterprise) {
    SG_TRY(security::authorize(a.user, for_write ? security::Action::report : security::Action::view_submissions));
  }
  Target t;
  SG_ASSIGN_OR_RETURN(t.period, Period::parse(period_text));
  auto scope = domain::Scope::of(a.user);
  // The unit, the form's latest version and the rows of this period, the previous one and the
  // same one last year, in one statement (issue #6: it was five round trips on PostgreSQL).
  const std::string now_p = t.period.str(), prev_p = t.period.previous().str(), ly_p = t.period.same_last_year().str();
  SG_ASSIGN_OR_RETURN(auto found, store::find_unit_submissions(c, scope, unit_id, form, {now_p, prev_p, ly_p}));
  if (!found.unit) {
    return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "没有该单位或不在您的权限范围内",
                      "No such unit, or it is outside your scope");
  }
  t.unit = std::move(*found.unit);
  // Each period's row, taken out of `found` (each period is asked for once).
  auto row_for = [&](const std::string& p) {
    std::optional<store::SubmissionRow> r;
    for (auto& s : found.submissions) {
      if (s.period == p) r = std::move(s);
    }
    return r;
  };
  t.current = row_for(now_p);
  // Version 0 (the latest, asked of the database again) only when the form does not exist: its
  // FORM_NOT_FOUND error comes from one place.
  const int version = t.current ? t.current->form_version : found.latest_form_version.value_or(0);
  SG_ASSIGN_OR_RETURN(t.form, forms_.get(c, form, version));
  const auto& def = t.form->def;
  if (t.period.frequency() != def.frequency) {
    return make_error(ErrorKind::invalid, "PERIOD_FREQUENCY",
                      fmt::format("表式 {} 的报告期应为{}报", def.code,
                                  def.frequency == domain::Frequency::month ? "月" : def.frequency == domain::Frequency::quarter ? "季" : "年"),
                      fmt::format("Form {} is reported per {}", def.code, domain::frequency_name(def.frequency)));
  }
  if (t.period > current_period(def.frequency)) {
    return make_error(ErrorKind::unprocessable, "PERIOD_NOT_OPEN", "报告期 " + t.period.str() + " 尚未开始填报",
                      "Period " + t.period.str() + " is not open yet");
  }
  auto ind = catalog_.industry(t.unit.industry);
  t.section = ind ? ind->section : "";
  if (!domain::form_applies(def, t.unit.industry, t.section, t.unit.size, t.unit.uscc)) {
    return make_error(ErrorKind::unprocessable, "NOT_OWED", "该单位无需填报表式 " + def.code,
                      "This unit does not report form " + def.code);
  }
  auto sent = [&](const std::string& p) {
    auto r = row_for(p);
    if (r && !is_sent(*r)) r.reset();
    return r;
  };
  t.prev = sent(prev_p);
  // An annual form's previous period is also its period last year (its row was taken above).
  t.ly = ly_p == prev_p ? t.prev : sent(ly_p);
  return t;
}

// The row a unit's action leads to: the current row (or a new one) moved by the state machine and
// stamped with the form version and the unit's region of today.
Result<store::SubmissionRow> next_row(const ReportingService::Target& t, const std::optional<store::SubmissionRow>& cur,
                                      domain::SubmissionAction action) {
  auto from = cur ? domain::parse_state(cur->state).value_or(SubmissionState::draft) : SubmissionState::not_started;
  SG_ASSIGN_OR_RETURN(auto to, domain::transition(from, action));
  store::SubmissionRow r = cur ? *cur : store::SubmissionRow{};
  r.unit_id = t.unit.id;
  r.form_code = t.form->def.code;
  r.form_version = t.form->def.version;
  r.period = t.period.str();
  r.region = t.unit.region;
  r.state = std::string(domain::state_name(to));
  return r;
}

Result<json> ReportingService::evaluate(const Target& t, const json& values, std::vector<rules::RuleResult>* all) {
  return store_.read_snapshot([&](store::Conn& c) { return evaluate(c, t, values, all); });
}

Result<json> ReportingService::evaluate(store::Conn& c, const Target& t, const json& values,
                                        std::vector<rules::RuleResult>* all) {
  rules::ValueMap cur = to_value_map(values);
  rules::ValueMap prev, ly;
  rules::EvalInput in;
  in.current = &cur;
  if (t.prev) {
    prev = to_value_map(t.prev->values);
    in.prev = &prev;
  }
  if (t.ly) {
    ly = to_value_map(t.ly->values);
    in.ly = &ly;
  }
  in.unit_text = {{"industry", t.unit.industry}, {"region", t.unit.region}, {"section", t.section}};
  in.unit_num = {{"size", static_cast<double>(t.unit.size)}};
  in.period = {t.period.year_number(), t.period.month_number(), t.period.quarter_number()};
  // Other forms of the same unit and period that the rules reference.
  // The caller was already checked against this unit in resolve(); read only that unit.
  domain::Scope scope;
  scope.unit_id = t.unit.id;
  for (const auto& code : t.form->rules.referenced_forms()) {
    SG_ASSIGN_OR_RETURN(auto other, store::find_submission(c, scope, t.unit.id, code, t.period.str()));
    if (other) in.other_forms.emplace(code, to_value_map(other->values));
  }
  auto results = t.form->rules.evaluate(in, /*only_failed=*/all == nullptr);
  json failed = json::array();
  for (const auto& r : results) {
    if (r.outcome == rules::Outcome::failed) failed.push_back(result_json(r));
  }
  if (all) *all = std::move(results);
  return failed;
}

std::string ReportingService::submission_text(const Target& t, const store::SubmissionRow* row,
                                              bool with_events, const json& signature,
                                              const store::DocumentTexts* texts) {
  if (texts && !texts->ready) texts = nullptr;
  const auto& def = t.form->def;
  auto state = domain::parse_state(row ? row->state : "not_started").value_or(SubmissionState::not_started);
  auto neighbour = [](JsonWriter& w, const std::optional<store::SubmissionRow>& r) {
    if (!r) {
      w.null();
      return;
    }
    w.begin_object().key("period").string(r->period).key("values").value(r->values).end_object();
  };
  // NOTE: every object's keys in sorted order (see JsonWriter).
  JsonWriter w;
  w.begin_object();
  w.key("deadline").string(format_local(t.period.deadline(def.deadline_day, def.deadline_hour)));
  w.key("editable").boolean(domain::editable_by_unit(state));
  if (with_events) {
    w.key("events").begin_array();
    if (row) {
      auto ev = store_.read([&](store::Conn& c) { return store::list_events(c, row->id); });
      if (ev.ok()) {
        for (const auto& e : *ev) {
          w.begin_object()
              .key("action")
              .string(e.action)
              .key("actor")
              .string(e.actor)
              .key("at")
              .string(e.at);
          w.key("from")
              .string(e.from_state)
              .key("reason")
              .string(e.reason)
              .key("to")
              .string(e.to_state);
          w.end_object();
        }
      }
    }
    w.end_array();
  }
  // A document: the printed text when given, else the row's, else empty.
  auto document = [&](std::string store::DocumentTexts::*text, json store::SubmissionRow::*value,
                      const json& empty) {
    if (texts)
      w.raw(texts->*text);
    else
      w.value(row ? row->*value : empty);
  };
  w.key("explanations");
  document(&store::DocumentTexts::explanations, &store::SubmissionRow::explanations,
           json::object());
  w.key("form_code").string(def.code);
  w.key("form_name").string(def.name);
  w.key("form_version").integer(row ? row->form_version : def.version);
  w.key("id");
  row && row->id ? w.integer(row->id) : w.null();
  w.key("ly");
  neighbour(w, t.ly);
  w.key("period").string(t.period.str());
  w.key("prev");
  neighbour(w, t.prev);
  w.key("results");
  document(&store::DocumentTexts::results, &store::SubmissionRow::results, json::array());
  if (!signature.is_null()) w.key("signature").value(signature);
  w.key("state").string(row ? row->state : "not_started");
  w.key("unit_id").integer(t.unit.id);
  w.key("unit_name").string(t.unit.name);
  w.key("updated_at");
  row ? w.string(row->updated_at) : w.null();
  w.key("uscc").string(t.unit.uscc);
  w.key("values");
  document(&store::DocumentTexts::values, &store::SubmissionRow::values, json::object());
  w.key("version").integer(row ? row->version : 0);
  w.end_object();
  return w.take();
}

json ReportingService::submission_json(const Target& t, bool with_events) {
  return json::parse(submission_text(t, t.current ? &*t.current : nullptr, with_events));
}

Result<json> ReportingService::tasks(const Actor& a, std::optional<std::int64_t> unit_id) {
  if (a.user.role == domain::Role::enterprise) {
    unit_id = a.user.unit_id;
  } else {
    SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  }
  if (!unit_id) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", "请指定单位（unit 参数）", "Give the unit (parameter unit)");
  }
  auto scope = domain::Scope::of(a.user);
  SG_ASSIGN_OR_RETURN(auto unit, store_.read([&](store::Conn& c) { return store::find_unit(c, scope, *unit_id); }));
  if (!unit) {
    return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "没有该单位或不在您的权限范围内",
                      "No such unit, or it is outside your scope");
  }
  SG_ASSIGN_OR_RETURN(auto forms, forms_.latest());
  auto ind = catalog_.industry(unit->industry);
  std::string section = ind ? ind->section : "";
  auto now = clock_.now();
  json items = json::array();
  for (const auto& f : forms) {
    const auto& def = f->def;
    if (!domain::form_applies(def, unit->industry, section, unit->size, unit->uscc)) continue;
    Period p = current_period(def.frequency);
    for (int i = 0; i < 3; ++i, p = p.previous()) {
      SG_ASSIGN_OR_RETURN(auto row, store_.read([&](store::Conn& c) {
        return store::find_submission(c, scope, unit->id, def.code, p.str());
      }));
      auto deadline = p.deadline(def.deadline_day, def.deadline_hour);
      std::string state = row ? row->state : "not_started";
      auto st = domain::parse_state(state).value_or(SubmissionState::not_started);
      items.push_back({{"unit_id", unit->id},
                       {"unit_name", unit->name},
                       {"form_code", def.code},
                       {"form_name", def.name},
                       {"form_name_en", def.name_en},
                       {"form_version", row ? row->form_version : def.version},
                       {"frequency", domain::frequency_name(def.frequency)},
                       {"period", p.str()},
                       {"deadline", format_local(deadline)},
                       {"state", state},
                       {"overdue", domain::editable_by_unit(st) && now > deadline}});
    }
  }
  return json{{"items", items}};
}

Result<json> ReportingService::get(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period) {
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, false));
  if (a.user.role != domain::Role::enterprise && t.current) {
    // Staff reading an enterprise's microdata leaves a trace in the audit chain.
    auto now = format_utc(clock_.now());
    SG_TRY(store_.write([&](store::Conn& c) {
      return store::append_audit(c, now, a.user.login, "read",
                                 fmt::format("submission:{}/{}/{}", t.unit.id, form, t.period.str()),
                                 {{"version", t.current->version}, {"ip", a.ip}});
    }));
  }
  return submission_json(t, true);
}

Result<json> ReportingService::validate(const Actor& a, std::int64_t unit, const std::string& form,
                                        const std::string& period, const json& body) {
  SG_TRY(check_body(body, {"values"}, "values"));
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, false));
  SG_TRY(domain::check_values(t.form->def, body["values"], false));
  SG_ASSIGN_OR_RETURN(auto results, evaluate(t, body["values"]));
  return json{{"results", results}};
}

Result<json> ReportingService::save_draft(const Actor& a, std::int64_t unit, const std::string& form,
                                          const std::string& period, const json& body) {
  SG_TRY(check_body(body, {"values", "explanations"}, "values"));
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, true));
  const json& values = body["values"];
  SG_TRY(domain::check_values(t.form->def, values, false));
  json explanations = body.value("explanations", json::object());
  if (!explanations.is_object()) {
    return make_error(ErrorKind::invalid, "WRONG_TYPE", "explanations 应为对象", "explanations must be an object");
  }
  SG_ASSIGN_OR_RETURN(auto results, evaluate(t, values));
  auto now = format_utc(clock_.now());
  auto scope = domain::Scope::of(a.user);
  SG_ASSIGN_OR_RETURN(auto row, store_.write([&](store::Conn& c) -> Result<store::SubmissionRow> {
    SG_ASSIGN_OR_RETURN(auto cur, store::find_submission(c, scope, t.unit.id, t.form->def.code, t.period.str()));
    SG_ASSIGN_OR_RETURN(auto r, next_row(t, cur, domain::SubmissionAction::save_draft));
    r.values = values;
    r.explanations = explanations;
    r.results = results;
    r.updated_at = now;
    SG_TRY(store::save_submission(c, r));
    if (!cur) {
      SG_TRY(store::add_event(c, r.id, {now, a.user.login, "save_draft", "not_started", r.state, ""}));
    }
    return r;
  }));
  t.current = std::move(row);
  changed();
  return submission_json(t, false);
}

// Everything a submit's write needs, owned: the write runs later on the writer thread, after the
// request's handler has returned.
struct ReportingService::SubmitPlan {
  Actor actor;
  Target t;
  json values;                 // as checked (the signature covers them)
  store::DocumentTexts texts;  // the values, kept explanations and failed rules, printed once
  std::optional<SignatureClaim> claim;
  std::optional<IdempotencyKey> idem;
  std::string now;
  domain::Scope scope;
};

Result<std::string> ReportingService::plan_submit(const Actor& a, std::int64_t unit,
                                                  const std::string& form,
                                                  const std::string& period, const json& body,
                                                  const std::optional<IdempotencyKey>& idem,
                                                  std::shared_ptr<SubmitPlan>& plan) {
  // Every read of the checks in one snapshot (issue #6): the key, the unit, the current row, the
  // form version, prev., ly. and any other form the rules reference.
  return store_.read_snapshot(
      [&](store::Conn& c) { return plan_submit_on(c, a, unit, form, period, body, idem, plan); });
}

Result<std::string> ReportingService::plan_submit_on(store::Conn& c, const Actor& a,
                                                     std::int64_t unit, const std::string& form,
                                                     const std::string& period, const json& body,
                                                     const std::optional<IdempotencyKey>& idem,
                                                     std::shared_ptr<SubmitPlan>& plan) {
  plan.reset();
  SG_TRY(check_body(body, {"values", "explanations", "signature", "key_id"}, "values"));
  SG_ASSIGN_OR_RETURN(auto claim, signature_claim(body));
  if (idem) {
    SG_ASSIGN_OR_RETURN(auto prior, store::find_idempotency(c, a.user.id, idem->key));
    if (prior) {
      if (prior->request_hash != idem->request_hash) {
        return make_error(ErrorKind::unprocessable, "IDEMPOTENCY_KEY_REUSED",
                          "该幂等键已用于另一个请求", "This Idempotency-Key was used for a different request");
      }
      return prior->response;
    }
  }
  SG_ASSIGN_OR_RETURN(auto t, resolve(c, a, unit, form, period, true));
  const json& values = body["values"];
  SG_TRY(domain::check_values(t.form->def, values, true));
  json explanations = body.value("explanations", json::object());
  if (!explanations.is_object()) {
    return make_error(ErrorKind::invalid, "WRONG_TYPE", "explanations 应为对象（规则名→说明）",
                      "explanations must be an object (rule name -> text)");
  }
  for (auto it = explanations.begin(); it != explanations.end(); ++it) {
    if (!it.value().is_string() || it.value().get<std::string>().size() > 2000) {
      return make_error(ErrorKind::invalid, "WRONG_TYPE", "说明应为不超过2000字节的文本",
                        "An explanation is text of at most 2000 bytes", json::array({{{"rule", it.key()}}}));
    }
  }
  SG_ASSIGN_OR_RETURN(auto results, evaluate(c, t, values));
  json errors = json::array(), unexplained = json::array(), kept = json::object();
  for (const auto& r : results) {
    if (r["severity"] == "error") {
      errors.push_back(r);
    } else {
      std::string text = trimmed(explanations.value(r["rule"].get<std::string>(), json()));
      if (text.size() < 2) unexplained.push_back(r);
      else kept[r["rule"].get<std::string>()] = text;
    }
  }
  if (!errors.empty()) {
    return make_error(ErrorKind::unprocessable, "RULE_FAILED",
                      fmt::format("有 {} 条审核错误，请修改后再上报", errors.size()),
                      fmt::format("{} edit check(s) failed; correct the data before submitting", errors.size()), results);
  }
  if (!unexplained.empty()) {
    return make_error(ErrorKind::unprocessable, "EXPLANATION_REQUIRED",
                      fmt::format("有 {} 条审核提示需要填写说明后才能上报", unexplained.size()),
                      fmt::format("{} warning(s) need a written explanation before submitting", unexplained.size()),
                      unexplained);
  }
  auto p = std::make_shared<SubmitPlan>();
  p->actor = a;
  p->t = std::move(t);
  p->values = values;
  p->texts = {values.dump(), kept.dump(), results.dump(), true};
  p->claim = std::move(claim);
  p->idem = idem;
  p->now = format_utc(clock_.now());
  p->scope = domain::Scope::of(a.user);
  plan = std::move(p);
  return std::string();
}

struct ReportingService::SubmitWritten {
  store::SubmissionRow row;  // its JSON documents empty: `texts` stand for them
  store::DocumentTexts texts;
  json signature;                     // null, or {key_id, payload_sha256}
  std::optional<std::string> answer;  // set: the answer is already made (an Idempotency-Key)
};

std::string ReportingService::submit_answer(const Target& t, const SubmitWritten& w) {
  if (w.answer) return *w.answer;
  return submission_text(t, &w.row, false, w.signature, &w.texts);
}

Result<ReportingService::SubmitWritten> ReportingService::write_submit(store::Conn& c, const SubmitPlan& p) {
  const Actor& a = p.actor;
  const Target& t = p.t;
  const auto& idem = p.idem;
  const std::string& now = p.now;
  if (idem) {
    SG_ASSIGN_OR_RETURN(auto prior, store::find_idempotency(c, a.user.id, idem->key));
    if (prior) {
      if (prior->request_hash != idem->request_hash) {
        return make_error(ErrorKind::unprocessable, "IDEMPOTENCY_KEY_REUSED",
                          "该幂等键已用于另一个请求", "This Idempotency-Key was used for a different request");
      }
      SubmitWritten w;
      w.answer = prior->response;
      return w;
    }
  }
  // Without its JSON documents: the write replaces them all.
  SG_ASSIGN_OR_RETURN(auto cur, store::find_submission_head(c, p.scope, t.unit.id, t.form->def.code, t.period.str()));
  auto from = cur ? domain::parse_state(cur->state).value_or(SubmissionState::draft) : SubmissionState::not_started;
  SG_ASSIGN_OR_RETURN(auto r, next_row(t, cur, domain::SubmissionAction::submit));
  r.version = (cur ? cur->version : 0) + 1;
  if (r.first_submitted_at.empty()) r.first_submitted_at = now;
  // The row's JSON documents stay empty: the plan's texts (the same documents, printed once on the
  // io thread that checked them) are what is written and answered.
  store::DocumentTexts texts = p.texts;
  r.updated_at = now;
  std::optional<store::SignatureRow> signature;
  if (p.claim) {
    SG_ASSIGN_OR_RETURN(signature, check_submission_signature(c, *p.claim, t.unit, r.form_code, r.period, p.values,
                                                              r.version, now, a.user.login));
  }
  SG_TRY(store::save_submission(c, r, &texts));
  if (signature) {
    signature->submission_id = r.id;
    SG_TRY(store::insert_signature(c, *signature));
  }
  SG_TRY(store::add_version(c, r, texts, now, a.user.login));
  SG_TRY(store::add_event(c, r.id, {now, a.user.login, "submit", std::string(domain::state_name(from)), r.state, ""}));
  SG_TRY(store::append_audit(c, now, a.user.login, "submit",
                             fmt::format("submission:{}/{}/{}", t.unit.id, r.form_code, r.period),
                             {{"version", r.version}, {"ip", a.ip},
                              {"signed_with", signature ? json(signature->key_id) : json(nullptr)}}));
  SubmitWritten w;
  w.row = std::move(r);
  w.texts = std::move(texts);
  if (signature) w.signature = {{"key_id", signature->key_id}, {"payload_sha256", signature->payload_sha256}};
  if (idem) {
    std::string resp = submit_answer(t, w);
    SG_TRY(
        store::insert_idempotency(c, a.user.id, idem->key, {idem->request_hash, 200, resp}, now));
    SubmitWritten stored;
    stored.answer = std::move(resp);
    return stored;
  }
  return w;
}

void ReportingService::submit_async(const Actor& a, std::int64_t unit, const std::string& form,
                                    const std::string& period, const json& body,
                                    const std::optional<IdempotencyKey>& idem,
                                    std::function<void(SubmitAnswer)> done) {
  std::shared_ptr<SubmitPlan> plan;
  auto early =
      std::make_shared<Result<std::string>>(plan_submit(a, unit, form, period, body, idem, plan));
  if (!early->ok() || !plan) return done([early] { return std::move(*early); });
  store_.write_async([this, plan](store::Conn& c) { return write_submit(c, *plan); },
                     [this, plan, done = std::move(done)](Result<SubmitWritten> r) {
                       if (r.ok()) changed();
                       // On the store's completion or writer thread: only hand over what the
                       // answer is made from.
                       auto written = std::make_shared<Result<SubmitWritten>>(std::move(r));
                       // NOTE: called once (Response::finish), so it may take the plan and the
                       // row apart.
                       done([this, plan, written]() -> Result<std::string> {
                         if (!written->ok()) return written->error();
                         return submit_answer(plan->t, **written);
                       });
                     });
}

Result<json> ReportingService::recheck(const Actor& a, std::int64_t unit, const std::string& form,
                                       const std::string& period) {
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, false));
  if (!t.current) return json::array();
  SG_ASSIGN_OR_RETURN(t.form, forms_.get(form, 0));
  SG_ASSIGN_OR_RETURN(auto results, evaluate(t, t.current->values));
  if (results == t.current->results) return results;
  auto scope = domain::Scope::of(a.user);
  auto now = format_utc(clock_.now());
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto cur, store::find_submission(c, scope, t.unit.id, form, t.period.str()));
    if (!cur) return Ok{};
    cur->results = results;
    cur->updated_at = now;
    SG_TRY(store::save_submission(c, *cur));
    return Ok{};
  }));
  changed();
  return results;
}

Result<json> ReportingService::versions(const Actor& a, std::int64_t unit, const std::string& form,
                                        const std::string& period) {
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, false));
  json items = json::array();
  if (t.current) {
    SG_ASSIGN_OR_RETURN(auto vs, store_.read([&](store::Conn& c) { return store::list_versions(c, t.current->id); }));
    for (const auto& v : vs) {
      items.push_back({{"version", v.version}, {"state", v.state}, {"values", v.values},
                       {"explanations", v.explanations}, {"created_at", v.created_at}, {"actor", v.actor}});
    }
  }
  return json{{"items", items}};
}

Result<std::string> ReportingService::template_xlsx(const Actor& a, std::int64_t unit, const std::string& form,
                                                    const std::string& period) {
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, false));
  const auto& def = t.form->def;
  json values = t.current ? t.current->values : json::object();
  json ly = t.ly ? t.ly->values : json::object();
  XlsxWriter w;
  int s = w.add_sheet(def.code);
  int meta = w.add_sheet(kMetaSheet);
  w.write_string(s, 0, 0, def.name, CellStyle::bold);
  w.write_string(s, 1, 0, "表号 Form: " + def.code + "    报告期 Period: " + t.period.str());
  w.write_string(s, 2, 0, "统一社会信用代码 USCC: " + t.unit.uscc + "    单位名称 Unit: " + t.unit.name);
  w.write_string(meta, 0, 0, kTemplateMarker);
  w.write_string(meta, 1, 0, def.code);
  w.write_number(meta, 1, 1, def.version);
  w.write_string(meta, 2, 0, t.period.str());
  w.write_string(meta, 3, 0, t.unit.uscc);
  int meta_row = 5;
  auto input_cell = [&](int row, int col, const std::string& code) {
    if (values.contains(code) && values[code].is_number()) w.write_number(s, row, col, values[code].get<double>(), CellStyle::unlocked);
    else w.write_blank(s, row, col, CellStyle::unlocked);
    w.write_number(meta, meta_row, 0, row);
    w.write_number(meta, meta_row, 1, col);
    w.write_string(meta, meta_row, 2, code);
    ++meta_row;
  };
  const int header = 4;
  w.write_string(s, header, 0, "代码", CellStyle::header);
  w.write_string(s, header, 1, "指标名称", CellStyle::header);
  w.write_string(s, header, 2, "计量单位", CellStyle::header);
  w.set_column_width(s, 1, 36);
  w.set_column_width(s, 2, 12);
  std::set<std::string> placed;
  const json& cols = def.layout["columns"];
  for (std::size_t ci = 0; ci < cols.size(); ++ci) {
    w.write_string(s, header, 3 + static_cast<int>(ci), cols[ci].value("label", ""), CellStyle::header);
    w.set_column_width(s, 3 + static_cast<int>(ci), 16);
  }
  int row = header + 1;
  for (const auto& r : def.layout["rows"]) {
    w.write_string(s, row, 0, r.value("code", ""));
    w.write_string(s, row, 1, r.value("name", ""));
    w.write_string(s, row, 2, r.value("unit", ""));
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      int col = 3 + static_cast<int>(ci);
      std::string ref = cols[ci].value("reference", "");
      if (!ref.empty()) {
        // "ly:cur" shows last year's value of the indicator in column "cur" of this row.
        std::string src_col = ref.substr(ref.find(':') + 1);
        std::string code = r["cells"].value(src_col, "");
        if (ly.contains(code) && ly[code].is_number()) w.write_number(s, row, col, ly[code].get<double>());
        continue;
      }
      std::string code = r["cells"].value(cols[ci].value("key", ""), "");
      if (code.empty()) continue;
      input_cell(row, col, code);
      placed.insert(code);
    }
    ++row;
  }
  for (const auto& ind : def.indicators) {
    if (placed.count(ind.code) || ind.type == domain::IndicatorType::text) continue;
    w.write_string(s, row, 0, ind.code);
    w.write_string(s, row, 1, ind.name);
    w.write_string(s, row, 2, ind.unit);
    input_cell(row, 3, ind.code);
    ++row;
  }
  w.write_number(meta, 4, 0, meta_row - 5);
  w.hide_sheet(meta);
  w.protect_sheet(s);
  w.protect_sheet(meta);
  return w.finish();
}

Result<json> ReportingService::upload_xlsx(const Actor& a, std::int64_t unit, const std::string& form,
                                           const std::string& period, std::string_view bytes) {
  // Access first: nobody without write access to the unit makes the server unzip a file.
  SG_ASSIGN_OR_RETURN(auto t, resolve(a, unit, form, period, true));
  SG_ASSIGN_OR_RETURN(auto book, read_xlsx(bytes));
  const XlsxSheet* meta = book.find(kMetaSheet);
  auto not_template = make_error(ErrorKind::invalid, "NOT_TEMPLATE",
                                 "上传的文件不是本平台下载的报表模板，请先下载模板再填写",
                                 "The file is not a template downloaded from this platform; download the template first");
  if (!meta || !meta->at(1, 1) || meta->at(1, 1)->text != kTemplateMarker) return not_template;
  auto text_at = [&](const XlsxSheet* sh, int r, int c) -> std::string {
    const XlsxCell* cell = sh->at(r, c);
    return cell ? cell->text : std::string();
  };
  if (text_at(meta, 2, 1) != form || text_at(meta, 3, 1) != period || text_at(meta, 4, 1) != t.unit.uscc) {
    return make_error(ErrorKind::invalid, "TEMPLATE_MISMATCH",
                      "模板属于单位 " + text_at(meta, 4, 1) + " 表式 " + text_at(meta, 2, 1) + " 报告期 " +
                          text_at(meta, 3, 1) + "，与本次填报不符",
                      "The template is for unit " + text_at(meta, 4, 1) + ", form " + text_at(meta, 2, 1) + ", period " +
                          text_at(meta, 3, 1) + ", not this one");
  }
  const XlsxSheet* data = book.find(form);
  if (!data) return not_template;
  const XlsxCell* count_cell = meta->at(5, 1);
  int count = count_cell && count_cell->number ? static_cast<int>(*count_cell->number) : -1;
  if (count < 0 || count > 10000) return not_template;
  json values = json::object();
  json problems = json::array();
  for (int i = 0; i < count; ++i) {
    // The writer is 0-based, the reader 1-based.
    const XlsxCell* rc = meta->at(6 + i, 1);
    const XlsxCell* cc = meta->at(6 + i, 2);
    std::string code = text_at(meta, 6 + i, 3);
    if (!rc || !cc || !rc->number || !cc->number || code.empty()) return not_template;
    const XlsxCell* v = data->at(static_cast<int>(*rc->number) + 1, static_cast<int>(*cc->number) + 1);
    if (!v || (v->text.empty() && !v->number)) continue;
    if (v->number) {
      values[code] = *v->number;
    } else {
      std::string text = trim(v->text);
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (text.empty()) continue;
      if (end && *end == '\0' && std::isfinite(d)) {
        values[code] = d;
      } else {
        problems.push_back({{"indicator", code}, {"row", static_cast<int>(*rc->number) + 1},
                            {"column", static_cast<int>(*cc->number) + 1}, {"value", v->text}});
      }
    }
  }
  if (!problems.empty()) {
    return make_error(ErrorKind::invalid, "XLSX_VALUE",
                      fmt::format("第 {} 行的“{}”不是数值", problems[0]["row"].get<int>(), problems[0]["value"].get<std::string>()),
                      fmt::format("Row {}: '{}' is not a number", problems[0]["row"].get<int>(), problems[0]["value"].get<std::string>()),
                      problems);
  }
  SG_ASSIGN_OR_RETURN(auto saved, save_draft(a, unit, form, period, json{{"values", values}}));
  return json{{"values", saved["values"]}, {"results", saved["results"]}, {"state", saved["state"]}};
}

}  // namespace statgov::services
