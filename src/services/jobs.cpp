#include "services/jobs.hpp"

#include "services/reporting_detail.hpp"
#include "store/repos.hpp"

#include <spdlog/spdlog.h>

namespace statgov::services {

JobService::~JobService() { wait_all(); }

void JobService::wait_all() {
  std::vector<std::thread> ts;
  {
    std::lock_guard lock(mu_);
    ts.swap(threads_);
  }
  for (auto& t : ts) {
    if (t.joinable()) t.join();
  }
}

Result<json> JobService::start_revalidate(const Actor& a, const json& body) {
  SG_TRY(check_body(body, {"form", "period"}, "form"));
  if (!body.contains("period") || !body["period"].is_string() || !body["form"].is_string()) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", "缺少字段：period", "Missing field: period");
  }
  if (a.user.role == domain::Role::leader || a.user.role == domain::Role::enterprise) {
    return make_error(ErrorKind::forbidden, "FORBIDDEN", "您的角色不能发起重新审核", "Your role cannot start a re-validation");
  }
  std::string form = body["form"], period = body["period"];
  SG_ASSIGN_OR_RETURN(auto o, monitor_.obligations(a, {form, period, "", "region"}));
  std::vector<std::int64_t> units;
  for (const auto& ob : o.items) {
    if (ob.state != "not_started") units.push_back(ob.unit.id);
  }
  auto now = format_utc(clock_.now());
  store::JobRow job{0, "revalidate", "running", 0, static_cast<int>(units.size()),
                    {{"form", form}, {"period", period}}, a.user.login, now, now};
  SG_ASSIGN_OR_RETURN(job.id, store_.write([&](store::Conn& c) { return store::insert_job(c, job); }));
  std::lock_guard lock(mu_);
  threads_.emplace_back([this, a, job, units, form, period]() mutable {
    int failing = 0;
    for (std::size_t i = 0; i < units.size(); ++i) {
      auto r = reporting_.recheck(a, units[i], form, period);
      if (r.ok() && !r->empty()) ++failing;
      job.done = static_cast<int>(i + 1);
      if (job.done % 50 == 0 || job.done == job.total) {
        job.updated_at = format_utc(clock_.now());
        job.result["with_failed_checks"] = failing;
        (void)store_.write([&](store::Conn& c) { return store::update_job(c, job); });
      }
    }
    job.state = "done";
    job.result["with_failed_checks"] = failing;
    job.updated_at = format_utc(clock_.now());
    auto st = store_.write([&](store::Conn& c) { return store::update_job(c, job); });
    if (!st.ok()) spdlog::error("job {}: {}", job.id, st.error().message_en);
  });
  return json{{"id", job.id}, {"total", job.total}};
}

Result<json> JobService::get(const Actor& a, std::int64_t id) {
  SG_ASSIGN_OR_RETURN(auto job, store_.read([&](store::Conn& c) { return store::find_job(c, id); }));
  if (!job || (job->actor != a.user.login && a.user.role != domain::Role::admin)) {
    return make_error(ErrorKind::not_found, "JOB_NOT_FOUND", "没有该任务", "No such job");
  }
  return json{{"id", job->id}, {"kind", job->kind}, {"state", job->state}, {"done", job->done},
              {"total", job->total}, {"result", job->result}, {"updated_at", job->updated_at}};
}

}  // namespace statgov::services
