// Test harness: a real statgov server (the same wiring as `statgov serve`) on port 0 over a
// temporary SQLite file (or, with STATGOV_TEST_PG set, a fresh PostgreSQL database; see
// store/test_database.hpp) with a small demo, and a blocking HTTP client for it.
#pragma once

#include "api/api.hpp"
#include "http_client.hpp"
#include "services/demo.hpp"
#include "store/repos.hpp"
#include "store/test_database.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statgov::testing {

using nlohmann::json;

// A logged-in browser-like client: keeps the session cookie and sends the CSRF token.
class Client {
 public:
  explicit Client(unsigned short port) : port_(port) {}
  HttpResult login(const std::string& login, const std::string& password);
  HttpResult get(const std::string& target);
  HttpResult send(const std::string& method, const std::string& target, const std::string& body,
                  std::map<std::string, std::string> headers = {});
  HttpResult post_json(const std::string& target, const json& body, std::map<std::string, std::string> headers = {}) {
    return send("POST", target, body.dump(), std::move(headers));
  }
  const std::string& csrf() const { return csrf_; }
  const std::string& cookie() const { return cookie_; }
  void set_csrf(std::string c) { csrf_ = std::move(c); }

 private:
  unsigned short port_;
  std::string cookie_, csrf_;
};

// A TestServer that terminates TLS itself (tls_test.cpp).
struct TestTls {
  http::TlsOptions tls;
  services::StaffAuth staff_auth = services::StaffAuth::password;
};

class TestServer {
 public:
  // units: size of the demo; 0 = reference data and forms only, no demo.
  explicit TestServer(int units = 60, services::NotifyConfig notify = {}, std::optional<TestTls> tls = std::nullopt);
  ~TestServer();
  unsigned short port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // What `statgov --db` takes: the SQLite file or the PostgreSQL URL.
  std::string db_path() const { return db_->target(); }
  store::Store& store() { return *store_; }
  ManualClock& clock() { return clock_; }
  services::AuthService& auth() { return *auth_; }
  services::FormService& forms() { return *forms_; }
  services::ReminderService& reminders() { return *reminders_; }
  services::MonitorService& monitor() { return *monitor_; }
  services::JobService& jobs() { return *jobs_; }
  services::ReleaseService& releases() { return *releases_; }
  std::int64_t demo_unit() const { return demo_unit_; }
  const http::Router& router() const { return router_; }
  // The audit log's entries with this action, oldest first (all entries when empty).
  std::vector<store::AuditRow> audit(const std::string& action = "");

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::TestDatabase> db_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  services::Catalog catalog_;
  std::unique_ptr<services::FormService> forms_;
  std::unique_ptr<services::AuthService> auth_;
  std::unique_ptr<services::UnitService> units_;
  std::unique_ptr<services::ReportingService> reporting_;
  std::unique_ptr<services::MonitorService> monitor_;
  std::unique_ptr<services::ReviewQueue> review_queue_;
  std::unique_ptr<services::ReminderService> reminders_;
  std::unique_ptr<services::JobService> jobs_;
  std::unique_ptr<services::ChangeFeed> feed_;
  std::unique_ptr<services::SummaryService> summary_;
  std::unique_ptr<services::ReleaseService> releases_;
  std::unique_ptr<api::ApiContext> ctx_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  unsigned short port_ = 0;
  std::int64_t demo_unit_ = 0;
};

inline const char* kDemoPassword = "Statgov@2026";

// The statgov binary run with `args` (standard output and error together), `input` (one line) on
// its standard input.
struct CliRun {
  int code = -1;
  std::string out;
};
CliRun run_statgov(const std::string& args, const std::string& input = "");

}  // namespace statgov::testing
