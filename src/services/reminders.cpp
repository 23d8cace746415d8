#include "services/reminders.hpp"

#include "base/text.hpp"
#include "security/policy.hpp"
#include "services/reporting_detail.hpp"
#include "store/repos.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace statgov::services {

Result<json> ReminderService::remind(const Actor& a, const json& body) {
  SG_TRY(check_body(body, {"form", "period", "region", "message"}, "form"));
  for (const char* k : {"form", "period"}) {
    if (!body.contains(k) || !body[k].is_string()) {
      return make_error(ErrorKind::invalid, "MISSING_FIELD", std::string("缺少字段：") + k, std::string("Missing field: ") + k);
    }
  }
  if (a.user.role == domain::Role::leader) {
    return make_error(ErrorKind::forbidden, "FORBIDDEN", "您的角色不能催报", "Your role cannot send reminders");
  }
  MonitorQuery q{body["form"], body["period"], body.value("region", ""), "region"};
  std::string extra = body.contains("message") && body["message"].is_string() ? trim(body["message"].get<std::string>()) : "";
  if (extra.size() > 1000) {
    return make_error(ErrorKind::invalid, "OUT_OF_RANGE", "附言不能超过1000字节", "The message is at most 1000 bytes");
  }
  SG_ASSIGN_OR_RETURN(auto o, monitor_.obligations(a, q));
  auto now = clock_.now();
  auto now_s = format_utc(now);
  std::string deadline = format_local(o.deadline).substr(0, 16);
  deadline[10] = ' ';
  std::string subject = fmt::format("【催报】{} {} 请于 {} 前报送", o.form->def.name, o.period.str(), deadline);
  std::string text = fmt::format(
      "贵单位尚未报送 {}（{}）{} 期报表，截止时间为 {}（北京时间）。请登录统计联网直报平台填报。{}\n"
      "Reminder: form {} for period {} is due {} (Beijing time) and has not been submitted yet.",
      o.form->def.name, o.form->def.code, o.period.str(), deadline, extra.empty() ? "" : "\n" + extra,
      o.form->def.code, o.period.str(), deadline);
  std::vector<const Obligation*> targets;
  for (const auto& ob : o.items) {
    if (!is_sent_state(ob.state)) targets.push_back(&ob);
  }
  SG_ASSIGN_OR_RETURN(auto id, store_.write([&](store::Conn& c) -> Result<std::int64_t> {
    SG_ASSIGN_OR_RETURN(auto rid, store::insert_reminder(c, {0, now_s, a.user.login, o.form->def.code, o.period.str(),
                                                             o.root.str(), extra, static_cast<int>(targets.size())}));
    for (const auto* ob : targets) {
      store::OutboxRow row;
      row.reminder_id = rid;
      row.unit_id = ob->unit.id;
      row.subject = subject;
      row.body = text;
      row.next_attempt_at = now_s;
      row.created_at = now_s;
      row.channel = "inapp";
      row.recipient = std::to_string(ob->unit.id);
      SG_TRY(store::insert_outbox(c, row));
      std::string email = ob->unit.attributes.value("email", "");
      if (config_.email && !email.empty()) {
        row.channel = "email";
        row.recipient = email;
        SG_TRY(store::insert_outbox(c, row));
      }
      std::string phone = ob->unit.attributes.value("phone", "");
      if (config_.sms && !phone.empty()) {
        row.channel = "sms";
        row.recipient = phone;
        SG_TRY(store::insert_outbox(c, row));
      }
    }
    SG_TRY(store::append_audit(c, now_s, a.user.login, "remind", "reminder:" + std::to_string(rid),
                               {{"form", o.form->def.code}, {"period", o.period.str()}, {"count", targets.size()}}));
    return rid;
  }));
  poke();
  json units = json::array();
  for (const auto* ob : targets) units.push_back(ob->unit.id);
  return json{{"id", id}, {"count", targets.size()}, {"units", units}};
}

Result<json> ReminderService::history(const Actor& a, const std::string& form, const std::string& period) {
  SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  auto scope = domain::Scope::of(a.user);
  SG_ASSIGN_OR_RETURN(auto rows, store_.read([&](store::Conn& c) { return store::list_reminders(c, scope, form, period); }));
  json items = json::array();
  for (const auto& r : rows) {
    SG_ASSIGN_OR_RETURN(auto out, store_.read([&](store::Conn& c) { return store::outbox_for_reminder(c, r.id); }));
    json deliveries = json::array();
    for (const auto& o : out) {
      deliveries.push_back({{"unit_id", o.unit_id}, {"channel", o.channel}, {"recipient", o.recipient}, {"status", o.status},
                            {"attempts", o.attempts}, {"last_error", o.last_error}, {"sent_at", o.sent_at}});
    }
    items.push_back({{"id", r.id}, {"at", r.at}, {"actor", r.actor}, {"form", r.form_code}, {"period", r.period},
                     {"region", r.region}, {"message", r.message}, {"count", r.count}, {"deliveries", deliveries}});
  }
  return json{{"items", items}};
}

Result<json> ReminderService::notices(const Actor& a) {
  if (!a.user.unit_id) return json{{"items", json::array()}};
  SG_ASSIGN_OR_RETURN(auto rows, store_.read([&](store::Conn& c) { return store::list_notices(c, *a.user.unit_id, 100); }));
  json items = json::array();
  for (const auto& n : rows) {
    items.push_back({{"id", n.id}, {"at", n.at}, {"kind", n.kind}, {"form", n.form_code}, {"period", n.period},
                     {"title", n.title}, {"body", n.body}, {"read", n.read}});
  }
  return json{{"items", items}};
}

Result<int> ReminderService::process_due() {
  auto now = clock_.now();
  auto now_s = format_utc(now);
  // Claim before sending: with several processes (or workers) on one database each row is sent by
  // the one that claimed it. The lease outlasts any send (SMTP and webhook time out well within
  // it); a process that dies mid-send leaves its rows due again when the lease ends.
  const auto lease = format_utc(now + kClaimLease);
  SG_ASSIGN_OR_RETURN(auto due, store_.write([&](store::Conn& c) { return store::claim_due_outbox(c, now_s, lease, 200); }));
  for (auto& o : due) {
    Status sent = Ok{};
    if (o.channel == "inapp") {
      sent = store_.write([&](store::Conn& c) -> Status {
        std::string form, period;
        if (o.reminder_id) {
          SG_ASSIGN_OR_RETURN(auto rem, store::find_reminder(c, *o.reminder_id));
          if (rem) {
            form = rem->form_code;
            period = rem->period;
          }
        }
        SG_TRY(store::insert_notice(c, {0, o.unit_id, now_s, "reminder", form, period, o.subject, o.body, false}));
        return Ok{};
      });
    } else {
      notify::MessageSender* sender = o.channel == "email" ? config_.email.get() : config_.sms.get();
      if (!sender) {
        sent = make_error(ErrorKind::internal, "NOT_CONFIGURED", "未配置发送通道", "channel not configured");
      } else {
        sent = sender->send({o.recipient, o.subject, o.body});
      }
    }
    ++o.attempts;
    if (sent.ok()) {
      o.status = "sent";
      o.sent_at = now_s;
      o.last_error.clear();
    } else {
      o.last_error = sent.error().message_en;
      if (o.attempts >= kMaxAttempts) {
        o.status = "failed";
      } else {
        o.next_attempt_at = format_utc(now + std::chrono::minutes(1 << (o.attempts - 1)));
      }
    }
    SG_TRY(store_.write([&](store::Conn& c) { return store::update_outbox_attempt(c, o, sent.ok(), now_s); }));
  }
  return static_cast<int>(due.size());
}

void ReminderService::start() {
  running_ = true;
  worker_ = std::thread([this] {
    while (running_) {
      auto r = process_due();
      if (!r.ok()) spdlog::warn("outbox: {}", r.error().message_en);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(5), [this] { return poked_ || !running_; });
      poked_ = false;
    }
  });
}

void ReminderService::stop() {
  if (!running_.exchange(false)) return;
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ReminderService::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

}  // namespace statgov::services
