// HTTP handlers: parse the request, call a service, write the response. The only place that maps
// errors to HTTP status codes (STYLE.md "Errors").
#pragma once

#include "base/clock.hpp"
#include "http/http.hpp"
#include "services/auth.hpp"
#include "services/catalog.hpp"
#include "services/change_feed.hpp"
#include "services/jobs.hpp"
#include "services/reminders.hpp"
#include "services/review_queue.hpp"
#include "services/releases.hpp"
#include "services/summary.hpp"
#include "services/forms.hpp"
#include "services/reporting.hpp"
#include "services/units.hpp"
#include "store/store.hpp"

#include <string>

namespace statgov::api {

struct ApiContext {
  store::Store& store;
  services::Catalog& catalog;
  services::AuthService& auth;
  services::FormService& forms;
  services::UnitService& units;
  services::ReportingService& reporting;
  services::MonitorService& monitor;
  services::ReviewQueue& review_queue;
  services::ReminderService& reminders;
  services::JobService& jobs;
  services::ChangeFeed& feed;
  services::SummaryService& summary;
  const Clock& clock;
  std::string openapi_path;     // the OpenAPI document served at /api/v1/openapi.json
  bool secure_cookies = false;  // set the Secure attribute (behind TLS)
  services::ReleaseService* releases = nullptr;  // null: the release routes answer 503
};

void register_routes(http::Router& router, ApiContext& ctx);

// The API's error answer: http::Response::from_error.
http::Response error_response(const Error& e);

}  // namespace statgov::api
