// Long jobs with progress (bulk re-validation of a form and period), run on their own threads.
//
// Thread safety: start_* and get run on request threads; each job thread writes only its own job
// row. threads_ is guarded by mu_; the destructor joins every job thread.
#pragma once

#include "services/monitor.hpp"

#include <mutex>
#include <thread>
#include <vector>

namespace statgov::services {

class JobService {
 public:
  JobService(store::Store& store, MonitorService& monitor, ReportingService& reporting, const Clock& clock)
      : store_(store), monitor_(monitor), reporting_(reporting), clock_(clock) {}
  ~JobService();

  // body {"form","period"}: re-runs the form's current rules over every submission in scope.
  Result<json> start_revalidate(const Actor& a, const json& body);
  Result<json> get(const Actor& a, std::int64_t id);
  void wait_all();

 private:
  store::Store& store_;
  MonitorService& monitor_;
  ReportingService& reporting_;
  const Clock& clock_;
  std::mutex mu_;
  std::vector<std::thread> threads_;  // guarded by mu_
};

}  // namespace statgov::services
