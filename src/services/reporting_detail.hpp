// Internals of ReportingService shared by reporting.cpp and review.cpp. Not for other modules.
#pragma once

#include "domain/submission.hpp"
#include "services/reporting.hpp"

namespace statgov::services {

struct ReportingService::Target {
  store::UnitRow unit;
  FormPtr form;
  domain::Period period = domain::Period::year(2000);
  std::string section;
  std::optional<store::SubmissionRow> current, prev, ly;
};

// Rejects a body that is not an object, has a key outside `allowed` (UNKNOWN_FIELD) or lacks
// `required` (MISSING_FIELD; nullptr = none).
Status check_body(const json& body, std::initializer_list<const char*> allowed, const char* required);

}  // namespace statgov::services
