// Issue #6, fault test 1: kill -9 the real `statgov serve` while many clients submit, restart it on
// the same database file, and account for every submission whose 2xx reached a client.
//
// Shared by tests/kill9_test.cpp (small and bounded, in the suite) and bench/kill9_bench.cpp (full
// size, prints the counts). Header-only and free of gtest so both can use it.
//
// Each client has its own idempotency keys and its own (unit, period) targets, so every target is
// submitted under exactly one key. A client whose request fails at the transport level (the server
// died under it) keeps the same key and retries once the server is back, as a real client would:
// that request was never acknowledged, and the retry must not make a second submission.
//
// Threads: the client threads share only `port_` (0 while the server is down) and the stop flag;
// each client fills its own Outcome, read by the caller after join.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace statgov::kill9 {

using json = nlohmann::json;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// One blocking keep-alive HTTP connection.
class Conn {
 public:
  explicit Conn(unsigned short port) { sock_.connect({asio::ip::make_address("127.0.0.1"), port}); }
  // Throws on any transport error (refused, reset, EOF): the outcome of the request is unknown.
  std::pair<int, std::string> request(const std::string& method, const std::string& target, const std::string& body,
                                      const std::string& token, const std::string& idem_key = "") {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, "application/json");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!idem_key.empty()) req.set("Idempotency-Key", idem_key);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(sock_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(sock_, buf_, res);
    return {static_cast<int>(res.result_int()), res.body()};
  }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket sock_{ioc_};
  boost::beast::flat_buffer buf_;
};

// `statgov serve` as a child process on a fixed port (so clients find it again after a restart).
class ServeProcess {
 public:
  ServeProcess(std::string binary, std::string db, std::string data, std::filesystem::path dir)
      : binary_(std::move(binary)), db_(std::move(db)), data_(std::move(data)), dir_(std::move(dir)) {}
  ~ServeProcess() { kill9(); }

  // Starts the server and waits until it answers /healthz; returns its port, 0 on failure.
  unsigned short start() {
    const std::string port_file = (dir_ / "port").string();
    std::filesystem::remove(port_file);
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      execl(binary_.c_str(), binary_.c_str(), "--db", db_.c_str(), "--data", data_.c_str(), "--log-level", "warn",
            "serve", "--listen", listen.c_str(), "--web", "", "--port-file", port_file.c_str(), "--rate-limit", "0",
            nullptr);
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      std::ifstream in(port_file);
      int p = 0;
      if (in >> p && p > 0) {
        port_ = static_cast<unsigned short>(p);
        return port_;
      }
    }
    return 0;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void terminate() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string binary_, db_, data_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

struct Target {
  std::int64_t unit;
  int year, month;
  std::string period() const {
    char p[16];
    std::snprintf(p, sizeof p, "%dM%02d", year, month);
    return p;
  }
  std::string path() const { return "/api/v1/submissions/" + std::to_string(unit) + "/B204-1/" + period() + "/submit"; }
};

// Values that pass every edit rule of B204-1 whatever order the months arrive in: one monthly value
// per unit (so YTD = value x month matches the previous month's YTD, and last year's value is equal).
inline json values_for(std::int64_t unit, int month) {
  const double v = 1000.0 + static_cast<double>(unit % 97);
  json j = {{"I01", v}, {"I03", v - 100.0}, {"I04", 0.0}, {"I05", 20.0 + static_cast<double>(unit % 5)}};
  for (const char* c : {"I01", "I03", "I04", "I05"}) j[std::string(c) + "_YTD"] = j[c].get<double>() * month;
  return j;
}

struct Sent {
  std::string key;
  Target target;
  std::string body;
  bool acked = false;        // a 2xx reached the client
  bool unknown = false;      // the transport failed and no answer came after: committed or not, the client can't tell
  bool interrupted = false;  // a transport failure (the server died under it) before the answer
  std::int64_t id = 0;   // from the acknowledgement
  int version = 0;
};

struct Counts {
  long acknowledged = 0;   // 2xx received during the run
  long unknown = 0;        // unanswered when the run ended (retried with the same key afterwards)
  long interrupted = 0;    // in flight when the server died, retried with the same key
  long rejected = 0;       // non-2xx answers (should be none)
  long found = 0;          // acknowledged and present exactly once with the exact values sent
  long lost = 0;           // acknowledged and missing
  long duplicated = 0;     // more than one submission, version, event, audit entry or key row
  long wrong_values = 0;   // present with other values than those sent
  long retry_differs = 0;  // a retry after restart answered another submission (or not 2xx)
  long half_written = 0;   // any submission without its version, event and audit rows
  long kills = 0;
  std::string integrity = "not checked";
  bool ok() const {
    return lost == 0 && duplicated == 0 && wrong_values == 0 && retry_differs == 0 && half_written == 0 &&
           rejected == 0 && integrity == "ok" && acknowledged > 0;
  }
};

// A bearer token for `login` (the session cookie's value): no CSRF round trips.
inline std::string login_token(unsigned short port, const std::string& login, const std::string& password) {
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/v1/auth/login", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = json{{"login", login}, {"password", password}}.dump();
  req.prepare_payload();
  bhttp::write(sock, req);
  boost::beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(sock, buf, res);
  if (res.result_int() != 200) return "";
  std::string cookie(res[bhttp::field::set_cookie]);
  auto eq = cookie.find('=');
  auto semi = cookie.find(';');
  if (eq == std::string::npos || semi == std::string::npos) return "";
  return cookie.substr(eq + 1, semi - eq - 1);
}

// One integer from a query on the database file (-1 on error).
inline std::int64_t query_int(const std::string& db, const char* sql) {
  sqlite3* h = nullptr;
  std::int64_t v = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return v;
}

// Units that owe form B204-1 (industrial sections B, C, D), read straight from the database file.
inline std::vector<std::int64_t> industrial_units(const std::string& db) {
  std::vector<std::int64_t> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h,
                       "SELECT u.id FROM units u JOIN industries i ON i.code = u.industry "
                       "WHERE i.section IN ('B','C','D') ORDER BY u.id",
                       -1, &st, nullptr);
    while (st && sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

struct Options {
  std::string statgov;    // the binary
  std::string data;       // the data folder
  std::string db;         // a database with the demo loaded
  std::filesystem::path dir;
  int clients = 200;
  double seconds = 2.0;   // total submitting time
  int kills = 1;          // kill -9 this many times, at random moments spread over the run
  unsigned seed = 1;
  std::string key_prefix = "k";
};

// Runs the clients, kills and restarts the server `kills` times, retries every key after the last
// restart, stops the server and checks the database file. `log` gets progress lines.
template <typename Log>
Counts run(const Options& o, Log&& log) {
  Counts n;
  // Submissions made before the run (the demo's history) are not this test's business.
  const std::int64_t first_new_id = query_int(o.db, "SELECT COALESCE(MAX(id), 0) + 1 FROM submissions");
  ServeProcess server(o.statgov, o.db, o.data, o.dir);
  std::atomic<unsigned short> port{server.start()};
  if (!port) {
    n.integrity = "server did not start";
    return n;
  }
  const std::string token = login_token(port, "demo-shi", "Statgov@2026");
  if (token.empty()) {
    n.integrity = "login failed";
    return n;
  }
  // Periods no one has reported (the demo history starts later), shuffled, dealt to the clients.
  std::vector<Target> targets;
  for (auto u : industrial_units(o.db)) {
    for (int y = 2025; y >= 2010; --y) {
      for (int m = 1; m <= (y == 2025 ? 9 : 12); ++m) targets.push_back({u, y, m});
    }
  }
  std::mt19937 rng(o.seed);
  std::shuffle(targets.begin(), targets.end(), rng);
  std::vector<std::vector<Sent>> sent(static_cast<std::size_t>(o.clients));
  std::atomic<bool> stop{false};
  std::atomic<long> rejected{0};

  // One request with its retries across restarts; true once answered (any status).
  auto send_until_answered = [&](Sent& s, std::optional<Conn>& conn, const std::atomic<bool>& give_up) {
    for (;;) {
      if (give_up) return false;
      try {
        unsigned short p = port.load();
        if (!p) throw std::runtime_error("server down");
        if (!conn) conn.emplace(p);
        auto [status, body] = conn->request("POST", s.target.path(), s.body, token, s.key);
        if (status == 200) {
          s.acked = true;
          auto j = json::parse(body, nullptr, false);
          if (j.is_object()) {
            s.id = j.value("id", std::int64_t{0});
            s.version = j.value("version", 0);
          }
        } else {
          ++rejected;
          if (rejected < 5) log("HTTP " + std::to_string(status) + " " + body.substr(0, 200));
        }
        return true;
      } catch (const std::exception&) {
        conn.reset();
        s.interrupted = true;
        s.unknown = true;  // whatever happened stays unknown until a later answer
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  };

  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      std::optional<Conn> conn;
      auto& mine = sent[static_cast<std::size_t>(c)];
      for (std::size_t i = static_cast<std::size_t>(c); i < targets.size() && !stop; i += static_cast<std::size_t>(o.clients)) {
        const Target& t = targets[i];
        mine.push_back({o.key_prefix + "-" + std::to_string(c) + "-" + std::to_string(mine.size()), t,
                        json{{"values", values_for(t.unit, t.month)}}.dump()});
        Sent& s = mine.back();
        if (!send_until_answered(s, conn, stop)) break;
        if (s.acked) s.unknown = false;  // a later answer resolves an earlier transport failure
      }
    });
  }
  // Kill at random moments: each kill falls in its own slice of the run, away from the slice's ends.
  const double slice = o.seconds / (o.kills + 1);
  auto t0 = std::chrono::steady_clock::now();
  std::uniform_real_distribution<double> where(0.3, 0.9);
  for (int k = 0; k < o.kills; ++k) {
    const double at = slice * (k + where(rng));
    std::this_thread::sleep_until(t0 + std::chrono::duration<double>(at));
    port = 0;
    server.kill9();
    ++n.kills;
    log("kill -9 at " + std::to_string(at) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    unsigned short p = server.start();
    if (!p) {
      stop = true;
      for (auto& t : threads) t.join();
      n.integrity = "server did not restart";
      return n;
    }
    port = p;
  }
  std::this_thread::sleep_until(t0 + std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();

  for (auto& mine : sent) {
    for (auto& s : mine) {
      if (s.acked) ++n.acknowledged;
      else if (s.unknown) ++n.unknown;
      if (s.interrupted) ++n.interrupted;
    }
  }
  n.rejected = rejected;

  // Before any retry: every acknowledged submission must be in the file as acknowledged. (A retry
  // would re-create a lost one under its key and hide the loss.)
  {
    sqlite3* db = nullptr;
    sqlite3_open_v2(o.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM submissions WHERE unit_id = ?1 AND form_code = 'B204-1' AND period = ?2", -1, &st,
                       nullptr);
    for (const auto& mine : sent) {
      for (const auto& s : mine) {
        if (!s.acked) continue;
        const std::string period = s.target.period();
        sqlite3_bind_int64(st, 1, s.target.unit);
        sqlite3_bind_text(st, 2, period.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != s.id) ++n.lost;
        sqlite3_reset(st);
      }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (n.lost) log(std::to_string(n.lost) + " acknowledged submissions missing after the restart, before any retry");
  }

  // After the last restart: retry every key, acknowledged or not. An acknowledged one must answer
  // the same submission; an unknown one must end up there exactly once too.
  threads.clear();
  std::atomic<long> retry_differs{0};
  std::atomic<bool> never{false};
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      std::optional<Conn> conn;
      for (auto& s : sent[static_cast<std::size_t>(c)]) {
        if (!s.acked && !s.unknown) continue;
        Sent again = s;
        again.acked = false;
        if (!send_until_answered(again, conn, never) || !again.acked) {
          ++retry_differs;
          continue;
        }
        if (s.acked && (again.id != s.id || again.version != s.version)) ++retry_differs;
        if (!s.acked) {
          s.acked = true;  // now resolved: it is there (exactly once, checked below)
          s.id = again.id;
          s.version = again.version;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  n.retry_differs = retry_differs;
  server.terminate();

  // The database file itself.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(o.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    n.integrity = "cannot open the database";
    return n;
  }
  auto prepare = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    return st;
  };
  sqlite3_stmt* sub = prepare("SELECT id, vals, version FROM submissions WHERE unit_id = ?1 AND form_code = 'B204-1' AND period = ?2");
  sqlite3_stmt* versions = prepare("SELECT count(*) FROM submission_versions WHERE submission_id = ?1");
  sqlite3_stmt* events = prepare("SELECT count(*) FROM submission_events WHERE submission_id = ?1 AND action = 'submit'");
  // audit_log has no index on object: count the submit entries per object in one scan.
  std::map<std::string, long> audit_count;
  {
    sqlite3_stmt* all = prepare("SELECT object FROM audit_log WHERE action = 'submit'");
    while (sqlite3_step(all) == SQLITE_ROW) ++audit_count[reinterpret_cast<const char*>(sqlite3_column_text(all, 0))];
    sqlite3_finalize(all);
  }
  std::map<std::string, long> key_count;  // the key table's index starts with the user: one scan
  {
    sqlite3_stmt* all = prepare("SELECT key FROM idempotency");
    while (sqlite3_step(all) == SQLITE_ROW) ++key_count[reinterpret_cast<const char*>(sqlite3_column_text(all, 0))];
    sqlite3_finalize(all);
  }
  auto count = [](sqlite3_stmt* st) {
    long c = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return c;
  };
  for (const auto& mine : sent) {
    for (const auto& s : mine) {
      if (!s.acked) continue;
      const std::string period = s.target.period();
      sqlite3_bind_int64(sub, 1, s.target.unit);
      sqlite3_bind_text(sub, 2, period.c_str(), -1, SQLITE_TRANSIENT);
      int rows = 0;
      std::int64_t id = 0;
      int version = 0;
      json vals;
      while (sqlite3_step(sub) == SQLITE_ROW) {
        ++rows;
        id = sqlite3_column_int64(sub, 0);
        vals = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(sub, 1)), nullptr, false);
        version = sqlite3_column_int(sub, 2);
      }
      sqlite3_reset(sub);
      if (rows == 0) {
        ++n.lost;
        continue;
      }
      sqlite3_bind_int64(versions, 1, id);
      sqlite3_bind_int64(events, 1, id);
      const std::string object = "submission:" + std::to_string(s.target.unit) + "/B204-1/" + period;
      const long nv = count(versions), ne = count(events);
      const long nk = key_count.count(s.key) ? key_count[s.key] : 0;
      const long na = audit_count.count(object) ? audit_count[object] : 0;
      if (rows > 1 || version != 1 || nv != 1 || ne != 1 || na != 1 || nk != 1 || id != s.id) {
        ++n.duplicated;
        if (n.duplicated < 5) {
          log("not exactly once: " + s.key + " rows " + std::to_string(rows) + " version " + std::to_string(version) +
              " versions " + std::to_string(nv) + " events " + std::to_string(ne) + " audit " + std::to_string(na) +
              " keys " + std::to_string(nk));
        }
        continue;
      }
      if (vals != json::parse(s.body)["values"]) {
        ++n.wrong_values;
        continue;
      }
      ++n.found;
    }
  }
  for (auto* st : {sub, versions, events}) sqlite3_finalize(st);
  // Nothing half-written: every submission made during the run has its version, submit event and
  // audit entry, and every idempotency row's response names an existing submission.
  sqlite3_stmt* half = prepare(
      "SELECT 'submission:' || s.unit_id || '/' || s.form_code || '/' || s.period, "
      " EXISTS (SELECT 1 FROM submission_versions v WHERE v.submission_id = s.id AND v.version = s.version)"
      " AND EXISTS (SELECT 1 FROM submission_events e WHERE e.submission_id = s.id)"
      " FROM submissions s WHERE s.id >= ?1");
  sqlite3_bind_int64(half, 1, first_new_id);
  while (sqlite3_step(half) == SQLITE_ROW) {
    const bool has_rows = sqlite3_column_int(half, 1) != 0;
    if (!has_rows || !audit_count.count(reinterpret_cast<const char*>(sqlite3_column_text(half, 0)))) ++n.half_written;
  }
  sqlite3_finalize(half);
  sqlite3_stmt* orphan_keys = prepare(
      "SELECT count(*) FROM idempotency k WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = json_extract(k.response, '$.id'))");
  n.half_written += count(orphan_keys);
  sqlite3_finalize(orphan_keys);
  sqlite3_stmt* check = prepare("PRAGMA integrity_check");
  n.integrity = sqlite3_step(check) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(check, 0)) : "failed";
  sqlite3_finalize(check);
  sqlite3_close(db);
  return n;
}

}  // namespace statgov::kill9
