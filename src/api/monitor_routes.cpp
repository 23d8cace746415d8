// Handlers for monitoring, review, reminders, notices, jobs and the live event stream (issue #3).
#include "api/common.hpp"
#include "security/policy.hpp"

#include <fmt/format.h>

namespace statgov::api {

namespace {


Result<services::MonitorQuery> monitor_query(const http::Request& req) {
  services::MonitorQuery q;
  for (const auto& [k, v] : req.query) {
    if (k == "form") q.form = v;
    else if (k == "period") q.period = v;
    else if (k == "region") q.region = v;
    else if (k == "by") q.by = v;
    else return make_error(ErrorKind::invalid, "UNKNOWN_PARAMETER", "未知参数：" + k, "Unknown parameter: " + k);
  }
  if (q.form.empty() || q.period.empty()) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", "请指定表式 form 和报告期 period", "Give form and period");
  }
  return q;
}

// Streams the submission changes inside one viewer's scope.
class ScopedChanges final : public http::EventStream {
 public:
  // from: the last sequence number the client saw (its Last-Event-ID), or this process's latest.
  ScopedChanges(services::ChangeFeed& feed, domain::Scope scope, std::int64_t from)
      : feed_(feed), scope_(std::move(scope)), seq_(from) {}
  std::string poll() override {
    bool complete = true;
    auto changes = feed_.after(seq_, complete);
    std::string out;
    if (!complete) out += "event: reset\ndata: {}\n\n";
    for (const auto& c : changes) {
      seq_ = c.seq;
      if (!scope_.covers_region(c.region)) continue;
      if (scope_.unit_id && *scope_.unit_id != c.unit_id) continue;
      json d = {{"seq", c.seq}, {"unit_id", c.unit_id}, {"form", c.form}, {"period", c.period},
                {"region", c.region}, {"state", c.state}};
      out += fmt::format("id: {}\nevent: submission\ndata: {}\n\n", c.seq, d.dump());
    }
    return out;
  }

 private:
  services::ChangeFeed& feed_;
  domain::Scope scope_;
  std::int64_t seq_;
};

Result<services::SummaryQuery> summary_query(const http::Request& req) {
  services::SummaryQuery q;
  for (const auto& [k, v] : req.query) {
    if (k == "form") q.form = v;
    else if (k == "period") q.period = v;
    else if (k == "by") q.by = v;
    else if (k == "states") q.states = v;
    else if (k == "compare") q.compare = v;
    else if (k == "key") q.key = v;
    else if (k == "indicator") q.indicator = v;
    else return make_error(ErrorKind::invalid, "UNKNOWN_PARAMETER", "未知参数：" + k, "Unknown parameter: " + k);
  }
  if (q.form.empty() || q.period.empty()) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", "请指定表式 form 和报告期 period", "Give form and period");
  }
  return q;
}

}  // namespace

void monitor_routes(http::Router& r, ApiContext& ctx) {
  r.add("GET", "/api/v1/monitor/progress", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = monitor_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.monitor.progress(a, *q));
  }));
  r.add("GET", "/api/v1/monitor/missing", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = monitor_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.monitor.missing(a, *q));
  }));
  r.add("GET", "/api/v1/events", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    // Staff who may see submissions only: the stream names units, regions and states.
    if (auto allowed = security::authorize(a.user, security::Action::view_submissions); !allowed.ok()) {
      return error_response(allowed.error());
    }
    // A reconnecting EventSource sends the id of the last event it got. Sequence numbers are the
    // database's, the same in every process, so a stream that broke with its process resumes on
    // another one without a gap (older than the feed keeps: a "reset" event, refetch).
    std::int64_t from = ctx.feed.latest();
    if (std::string last = req.header("Last-Event-ID"); !last.empty()) {
      auto id = parse_id(last, "Last-Event-ID");
      if (!id.ok()) return error_response(id.error());
      from = *id;
    }
    http::Response resp;
    resp.stream = std::make_shared<ScopedChanges>(ctx.feed, domain::Scope::of(a.user), from);
    return resp;
  }));
  r.add("GET", "/api/v1/summary", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = summary_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.summary.summary(a, *q));
  }));
  r.add("GET", "/api/v1/summary.xlsx", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = summary_query(req);
    if (!q.ok()) return error_response(q.error());
    auto bytes = ctx.summary.summary_xlsx(a, *q);
    if (!bytes.ok()) return error_response(bytes.error());
    http::Response resp;
    resp.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    resp.body = std::move(*bytes);
    resp.headers.emplace_back("Content-Disposition",
                              fmt::format("attachment; filename=\"summary_{}_{}_{}.xlsx\"", q->form, q->period, q->by));
    return resp;
  }));
  r.add("GET", "/api/v1/summary/units", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = summary_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.summary.units(a, *q));
  }));
  r.add("GET", "/api/v1/summary/outliers", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = summary_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.summary.outliers(a, *q));
  }));
  r.add("GET", "/api/v1/review/queue", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = monitor_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.review_queue.queue(a, q->form, q->period));
  }));
  r.add("POST", "/api/v1/review/bulk", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.review_queue.bulk_approve(a, *body));
  }));
  const std::string base = "/api/v1/submissions/{unit}/{form}/{period}";
  r.add("POST", base + "/review", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto unit = parse_id(req.params.at("unit"), "unit");
    if (!unit.ok()) return error_response(unit.error());
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.reporting.review(a, *unit, req.params.at("form"), req.params.at("period"), *body));
  }));
  r.add("POST", base + "/revise", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto unit = parse_id(req.params.at("unit"), "unit");
    if (!unit.ok()) return error_response(unit.error());
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.reporting.revise(a, *unit, req.params.at("form"), req.params.at("period"), *body));
  }));
  r.add("POST", "/api/v1/reminders", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.reminders.remind(a, *body));
  }));
  r.add("GET", "/api/v1/reminders", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto q = monitor_query(req);
    if (!q.ok()) return error_response(q.error());
    return ok_json(ctx.reminders.history(a, q->form, q->period));
  }));
  r.add("GET", "/api/v1/notices", with_actor(ctx, [&ctx](http::Request&, const services::Actor& a) {
    return ok_json(ctx.reminders.notices(a));
  }));
  r.add("POST", "/api/v1/jobs/revalidate", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.jobs.start_revalidate(a, *body), 202);
  }));
  r.add("GET", "/api/v1/jobs/{id}", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto id = parse_id(req.params.at("id"), "id");
    if (!id.ok()) return error_response(id.error());
    return ok_json(ctx.jobs.get(a, *id));
  }));
}

}  // namespace statgov::api
