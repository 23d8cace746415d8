// The reviewer's queue and bulk approval of clean submissions.
//
// Thread safety: stateless over the services it is given; callable from any thread.
#pragma once

#include "services/monitor.hpp"
#include "services/summary.hpp"

namespace statgov::services {

class ReviewQueue {
 public:
  ReviewQueue(MonitorService& monitor, ReportingService& reporting, Catalog& catalog, SummaryService& summary)
      : monitor_(monitor), reporting_(reporting), catalog_(catalog), summary_(summary) {}

  // Submissions waiting for the caller's level: explained warnings first, then outliers (HB on the
  // change against last year or MAD on the level of the form's first numeric indicator).
  Result<json> queue(const Actor& a, const std::string& form, const std::string& period);
  // Approves, at the caller's level, the listed units whose submission has no failed rule at all.
  Result<json> bulk_approve(const Actor& a, const json& body);

 private:
  MonitorService& monitor_;
  ReportingService& reporting_;
  Catalog& catalog_;
  SummaryService& summary_;
};

}  // namespace statgov::services
