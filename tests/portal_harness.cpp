#include "portal_harness.hpp"

#include "base/crypto.hpp"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fstream>
#include <random>

namespace statgov::portal_testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
namespace fs = std::filesystem;

json dataset_json(const std::string& id, const std::string& updated, double base) {
  json regions = json::array({
      {{"id", "430200"}, {"name_zh", "株洲市"}, {"name_en", "Zhuzhou"}, {"parent", ""}},
      {{"id", "430202"},
       {"name_zh", "荷塘区"},
       {"name_en", "Hetang District"},
       {"parent", "430200"}},
      {{"id", "430203"},
       {"name_zh", "芦淞区"},
       {"name_en", "Lusong District"},
       {"parent", "430200"}},
  });
  json indicators = json::array(
      {{{"id", "I01"}, {"name_zh", "营业收入"}, {"name_en", "Operating revenue"}, {"parent", ""}}});
  json periods = json::array({
      {{"id", "2026-10"}, {"name_zh", "2026年10月"}, {"name_en", "Oct 2026"}, {"parent", ""}},
      {{"id", "2026-11"}, {"name_zh", "2026年11月"}, {"name_en", "Nov 2026"}, {"parent", ""}},
  });
  json obs = json::array();
  for (int r = 0; r < 3; ++r) {
    for (int t = 0; t < 2; ++t) {
      if (r == 2 && t == 1) {
        obs.push_back({{"key", {r, 0, t}}, {"value", nullptr}, {"status", "C"}});
      } else {
        obs.push_back({{"key", {r, 0, t}}, {"value", base + r * 2 + t}});
      }
    }
  }
  return {{"id", id},
          {"agency", "CN_430200"},
          {"version", "1.0"},
          {"title_zh", "营业收入 " + id},
          {"title_en", "Operating revenue " + id},
          {"description_zh", "测试"},
          {"description_en", "Test"},
          {"unit_zh", "万元"},
          {"unit_en", "10,000 yuan"},
          {"decimals", 1},
          {"source_zh", "统计局"},
          {"source_en", "Bureau of Statistics"},
          {"updated", updated},
          {"dimensions", json::array({{{"id", "REGION"},
                                       {"name_zh", "地区"},
                                       {"name_en", "Region"},
                                       {"role", "geo"},
                                       {"codes", regions}},
                                      {{"id", "INDICATOR"},
                                       {"name_zh", "指标"},
                                       {"name_en", "Indicator"},
                                       {"role", "metric"},
                                       {"codes", indicators}},
                                      {{"id", "TIME_PERIOD"},
                                       {"name_zh", "时间"},
                                       {"name_en", "Time"},
                                       {"role", "time"},
                                       {"codes", periods}}})},
          {"observations", obs}};
}

TestPortal::TestPortal(portal::PortalOptions tweak)
    : clock_(from_local(2026, 12, 15, 9, 0)), options_(std::move(tweak)) {
  crypto_init();
  keys_ = publish::generate_keypair();
  std::random_device rd;
  dir_ = fs::temp_directory_path() /
         ("statgov-portal-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(dir_);
  options_.inbox = inbox();
  options_.data = data();
  options_.public_key = keys_.public_key;
  start();
}

TestPortal::~TestPortal() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void TestPortal::start() {
  portal_ = std::make_unique<portal::Portal>(options_, clock_);
  auto st = portal_->open();
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message_en);
  router_ = std::make_unique<http::Router>();
  portal_->register_routes(*router_);
  http::ServerOptions opt;
  opt.port = 0;
  opt.threads = 2;
  opt.rate_per_second = 0;
  opt.api_prefix = "/";
  server_ = std::make_unique<http::Server>(*router_, opt);
  auto err = server_->start();
  EXPECT_FALSE(err) << *err;
  port_ = server_->port();
  // No background thread: tests take the inbox and run the integrity check themselves.
}

void TestPortal::stop() {
  if (server_) {
    server_->stop();
    server_->wait();
  }
  server_.reset();
  router_.reset();
  portal_.reset();
}

void TestPortal::restart() {
  stop();
  start();
}

std::string TestPortal::package(std::uint64_t sequence, const std::string& release_id,
                                const std::string& release_at, const publish::PackageFiles& files,
                                const std::string& secret_key) {
  publish::Manifest m;
  m.agency = "CN_430200";
  m.sequence = sequence;
  m.package_id = random_uuid();
  m.created_at = "2026-12-01T00:00:00Z";
  m.release_id = release_id;
  m.release_at = release_at;
  auto r = publish::build_package(m, files, secret_key.empty() ? keys_.secret_key : secret_key);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message_en);
  return r.ok() ? *r : std::string();
}

std::string TestPortal::release_package(std::uint64_t sequence, const std::string& release_id,
                                        const std::string& release_at,
                                        const std::vector<json>& datasets) {
  publish::PackageFiles files;
  json ids = json::array();
  for (const auto& d : datasets) {
    files["datasets/" + d["id"].get<std::string>() + ".json"] = d.dump(2);
    ids.push_back(d["id"]);
  }
  files["release.json"] = json{
      {"id", release_id},
      {"title_zh", "发布 " + release_id},
      {"title_en", "Release " + release_id},
      {"release_at", release_at},
      {"datasets", ids},
      {"notes_zh", ""},
      {"notes_en", ""},
      {"revises",
       json::array()}}.dump(2);
  return package(sequence, release_id, release_at, files);
}

int TestPortal::drop(const std::string& name, const std::string& bytes) {
  const fs::path tmp = inbox() / (name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary);
    out << bytes;
  }
  fs::rename(tmp, inbox() / name);
  // A file renamed in whole is taken once its size is seen stable: two polls.
  int n = portal_->poll_inbox();
  n += portal_->poll_inbox();
  return n;
}

bool TestPortal::refused(const std::string& name) const {
  return fs::exists(inbox() / "refused" / name) &&
         fs::exists(inbox() / "refused" / (name + ".reason.txt")) && !fs::exists(inbox() / name);
}

std::string TestPortal::reason(const std::string& name) const {
  std::ifstream in(inbox() / "refused" / (name + ".reason.txt"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace statgov::portal_testing
