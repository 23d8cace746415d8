#include <utility>

#include "harness.hpp"

#include "base/crypto.hpp"
#include "publish/package.hpp"
#include "store/repos.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <random>
#include <stdexcept>

namespace statgov::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

HttpResult Client::login(const std::string& login, const std::string& password) {
  auto r = http_request(port_, "POST", "/api/v1/auth/login", json{{"login", login}, {"password", password}}.dump());
  if (r.status == 200) {
    auto sc = r.headers["set-cookie"];
    auto start = sc.find("sg_session=");
    auto end = sc.find(';', start);
    cookie_ = sc.substr(start, end - start);
    csrf_ = r.json_body()["csrf_token"];
  }
  return r;
}

HttpResult Client::get(const std::string& target) {
  return http_request(port_, "GET", target, "", {{"Cookie", cookie_}});
}

HttpResult Client::send(const std::string& method, const std::string& target, const std::string& body,
                        std::map<std::string, std::string> headers) {
  headers.emplace("Cookie", cookie_);
  headers.emplace("X-CSRF-Token", csrf_);
  return http_request(port_, method, target, body, headers);
}

TestServer::TestServer(int units, services::NotifyConfig notify, std::optional<TestTls> tls)
    : clock_(from_local(2026, 11, 26, 10, 0)) {
  crypto_init();
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / ("statgov-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir_);
  db_ = std::make_unique<store::TestDatabase>(dir_ / "t.db");
  auto st = store::Store::open(db_path());
  if (!st.ok()) throw std::runtime_error(st.error().message_en);
  store_ = std::move(st).value();
  services::AuthConfig cfg;
  cfg.hash_cost = security::HashCost::test();
  if (tls) cfg.staff_auth = tls->staff_auth;
  forms_ = std::make_unique<services::FormService>(*store_, clock_);
  auth_ = std::make_unique<services::AuthService>(*store_, clock_, cfg);
  units_ = std::make_unique<services::UnitService>(*store_, catalog_, clock_);
  reporting_ = std::make_unique<services::ReportingService>(*store_, *forms_, catalog_, clock_);
  monitor_ = std::make_unique<services::MonitorService>(*store_, *forms_, catalog_, clock_);
  reminders_ = std::make_unique<services::ReminderService>(*store_, *monitor_, clock_, std::move(notify));
  jobs_ = std::make_unique<services::JobService>(*store_, *monitor_, *reporting_, clock_);
  feed_ = std::make_unique<services::ChangeFeed>(*store_);
  summary_ = std::make_unique<services::SummaryService>(*store_, *forms_, catalog_, *feed_);
  review_queue_ = std::make_unique<services::ReviewQueue>(*monitor_, *reporting_, catalog_, *summary_);
  // Releases sign with a fresh key and export into the test folder (release_api_test reads both).
  services::ReleaseConfig release_cfg;
  release_cfg.secret_key = publish::generate_keypair().secret_key;
  release_cfg.export_dir = (dir_ / "export").string();
  releases_ = std::make_unique<services::ReleaseService>(*store_, *forms_, catalog_, *summary_, *auth_, clock_,
                                                         release_cfg);
  reporting_->on_change([f = feed_.get()] { f->poke(); });
  std::string data = std::string(STATGOV_SOURCE_DIR) + "/data";
  if (units > 0) {
    services::DemoOptions opt;
    opt.data_dir = data;
    opt.units = units;
    opt.hash_cost = security::HashCost::test();
    auto rep = services::build_demo(*store_, catalog_, *forms_, clock_, opt);
    if (!rep.ok()) throw std::runtime_error(rep.error().message_en);
    auto u = store_->read([](store::Conn& c) { return store::find_user_by_login(c, "demo-qiye"); });
    demo_unit_ = *u.value()->user.unit_id;
  } else {
    if (!services::load_reference_data(*store_, data).ok()) throw std::runtime_error("refdata");
    if (!catalog_.reload(*store_).ok()) throw std::runtime_error("catalog");
    if (!services::import_shipped_forms(*forms_, data, "test").ok()) throw std::runtime_error("forms");
  }
  if (!feed_->start().ok()) throw std::runtime_error("feed");
  ctx_ = std::make_unique<api::ApiContext>(api::ApiContext{*store_, catalog_, *auth_, *forms_, *units_, *reporting_,
                                                           *monitor_, *review_queue_, *reminders_, *jobs_, *feed_,
                                                           *summary_, clock_, data + "/openapi.json",
                                                           /*secure_cookies=*/tls.has_value()});
  ctx_->releases = releases_.get();
  api::register_routes(router_, *ctx_);
  http::ServerOptions opt;
  opt.port = 0;
  opt.threads = 8;
  // Every test client shares 127.0.0.1; the limiter has its own test in src/http.
  opt.rate_per_second = 0;
  if (tls) opt.tls = tls->tls;
  server_ = std::make_unique<http::Server>(router_, opt);
  if (auto err = server_->start()) throw std::runtime_error(*err);
  port_ = server_->port();
}

TestServer::~TestServer() {
  server_->stop();
  server_->wait();
  server_.reset();
  jobs_->wait_all();
  feed_->stop();
  store_.reset();
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CliRun run_statgov(const std::string& args, const std::string& input) {
  std::string cmd = std::string(STATGOV_BINARY) + " " + args + " 2>&1";
  if (!input.empty()) cmd = "printf '%s\\n' '" + input + "' | " + cmd;
  FILE* p = popen(cmd.c_str(), "r");
  CliRun r;
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) r.out += buf;
  const int status = p ? pclose(p) : -1;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<store::AuditRow> TestServer::audit(const std::string& action) {
  auto rows = store().read([](store::Conn& c) { return store::list_audit(c); });
  if (!rows.ok()) throw std::runtime_error("audit log: " + rows.error().message_en);
  std::erase_if(*rows, [&](const store::AuditRow& r) { return !action.empty() && r.action != action; });
  return std::move(*rows);
}

}  // namespace statgov::testing
