// Issue #6, fault test 2: a PostgreSQL 15 primary and its synchronous standby on loopback ports
// (deploy/pg_standby.sh) in a temporary folder, for tests/failover_test.cpp and
// bench/failover_bench.cpp. Header-only and free of gtest. Needs root (the servers run as the
// postgres user) or the postgres user.
#pragma once

#include "store/conn.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <utility>

namespace statgov::kill9 {

// A primary and its synchronous standby in a temporary folder, stopped and removed at the end.
class StandbyPair {
 public:
  StandbyPair(std::string script_path, const std::filesystem::path& dir) : script_(std::move(script_path)), dir_(dir) {
    std::filesystem::create_directories(dir_);
    // The servers run as the postgres user: it must reach dir_/pg.
    std::filesystem::permissions(dir_, std::filesystem::perms(0755));
    started_ = run("start") == 0;
    if (!started_) return;
    std::ifstream(dir_ / "pg" / "primary.port") >> primary_port_;
    std::ifstream(dir_ / "pg" / "standby.port") >> standby_port_;
  }
  ~StandbyPair() {
    run("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  StandbyPair(const StandbyPair&) = delete;
  StandbyPair& operator=(const StandbyPair&) = delete;

  bool started() const { return started_ && primary_port_ > 0 && standby_port_ > 0; }
  // deploy/pg_standby.sh CMD DIR/pg; its output goes to DIR/script.log.
  int run(const std::string& cmd) const {
    const std::string line = script_ + " " + cmd + " " +
                             (dir_ / "pg").string() + " >>" + (dir_ / "script.log").string() + " 2>&1";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string log() const {
    std::ifstream in(dir_ / "script.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string server_url(int port, const std::string& db) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/" + db;
  }
  // Both servers; libpq takes the first that accepts writes.
  std::string multi_host_url(const std::string& db) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(primary_port_) + ",127.0.0.1:" +
           std::to_string(standby_port_) + "/" + db + "?target_session_attrs=read-write";
  }
  int primary_port() const { return primary_port_; }
  int standby_port() const { return standby_port_; }

 private:
  std::string script_;
  std::filesystem::path dir_;
  bool started_ = false;
  int primary_port_ = 0, standby_port_ = 0;
};

// One text value from a query (empty on any error).
inline std::string query_text(const std::string& url, const char* sql) {
  auto c = store::Conn::open(url, false);
  if (!c) return "";
  auto st = c.value().prepare(sql);
  if (!st) return "";
  auto row = st.value().step();
  return row.ok() && row.value() ? st.value().text(0) : "";
}

}  // namespace statgov::kill9
