// Test harness for the public portal: a Portal over a temporary data folder and inbox, served by
// a real http::Server on port 0, with a ManualClock and a test release key pair; helpers to
// build and drop packages and a blocking HTTP GET.
#pragma once

#include "base/clock.hpp"
#include "http_client.hpp"
#include "http/http.hpp"
#include "portal/portal.hpp"
#include "publish/package.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace statgov::portal_testing {

using nlohmann::json;

using testing::HttpResult;

inline HttpResult http_get(unsigned short port, const std::string& target,
                           const std::map<std::string, std::string>& headers = {}) {
  return testing::http_request(port, "GET", target, "", headers);
}

// A dataset in the form of docs/publication.md section 3: REGION (430200, 430202, 430203) x
// INDICATOR (I01) x TIME_PERIOD (2026-10, 2026-11); 6 observations, (430203, I01, 2026-11)
// suppressed. Values are base + index.
json dataset_json(const std::string& id, const std::string& updated, double base = 100);

class TestPortal {
 public:
  // 2026-12-15 09:00 Beijing time = 01:00Z.
  explicit TestPortal(portal::PortalOptions tweak = {});
  ~TestPortal();

  // Stop and start again over the same folders (a restart of the process).
  void restart();

  unsigned short port() const { return port_; }
  ManualClock& clock() { return clock_; }
  portal::Portal& portal() { return *portal_; }
  const publish::KeyPair& keys() const { return keys_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path inbox() const { return dir_ / "inbox"; }
  std::filesystem::path data() const { return dir_ / "data"; }

  HttpResult get(const std::string& target,
                 const std::map<std::string, std::string>& headers = {}) {
    return http_get(port_, target, headers);
  }

  // Build a package with the test key (or another secret key).
  std::string package(std::uint64_t sequence, const std::string& release_id,
                      const std::string& release_at, const publish::PackageFiles& files,
                      const std::string& secret_key = "");
  // A release package with one release.json and the given datasets.
  std::string release_package(std::uint64_t sequence, const std::string& release_id,
                              const std::string& release_at, const std::vector<json>& datasets);

  // Write NAME.tmp and rename to NAME in the inbox (the documented way), then take the inbox.
  int drop(const std::string& name, const std::string& bytes);
  bool refused(const std::string& name) const;
  std::string reason(const std::string& name) const;

 private:
  void start();
  void stop();

  std::filesystem::path dir_;
  ManualClock clock_;
  publish::KeyPair keys_;
  portal::PortalOptions options_;
  std::unique_ptr<portal::Portal> portal_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  unsigned short port_ = 0;
};

}  // namespace statgov::portal_testing
