// Issue #6, fault tests 1 and 2: while many clients submit through the real `statgov serve`, inject
// a fault (by default kill -9 of serve and a restart on the same database; or any other fault, such
// as kill -9 of the PostgreSQL primary and the promotion of its standby), and account for every
// submission whose 2xx reached a client.
//
// Shared by tests/kill9_test.cpp and tests/failover_test.cpp (small and bounded, in the suite) and
// bench/kill9_bench.cpp (full size, prints the counts). Header-only and free of gtest so all can use
// it. The database is read through store::Conn, so the checks run on a SQLite file and on
// PostgreSQL alike.
//
// Each client has its own idempotency keys and its own (unit, period) targets, so every target is
// submitted under exactly one key. A client whose request fails at the transport level (the server
// died under it) keeps the same key and retries once the server is back, as a real client would:
// that request was never acknowledged, and the retry must not make a second submission. A 503 answer
// (the storage is unavailable: the database connection broke, or no primary accepts writes yet) is
// "not saved, try again" (docs/api.md): the client retries it with the same key too.
//
// Threads: the client threads share only `port_` (0 while the server is down) and the stop flag;
// each client fills its own Outcome, read by the caller after join.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "store/conn.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
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
  bool after_fault = false;  // acknowledged after the last fault had been injected
  std::int64_t id = 0;   // from the acknowledgement
  int version = 0;
  std::chrono::steady_clock::time_point acked_at{};  // when the 2xx arrived (acked only)
};

// Counts::integrity on PostgreSQL.
inline constexpr const char* kIntegrityNotApplicable = "not applicable (PostgreSQL)";

struct Counts {
  long acknowledged = 0;   // 2xx received during the run
  long acknowledged_after = 0;  // of which after the last fault (the server works again)
  long unknown = 0;        // unanswered when the run ended (retried with the same key afterwards)
  long interrupted = 0;    // in flight when the server died, retried with the same key
  long rejected = 0;       // non-2xx answers other than 503 (should be none)
  long unavailable = 0;    // 503 answers (storage unavailable: not saved), retried with the same key
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
           rejected == 0 && (integrity == "ok" || integrity == kIntegrityNotApplicable) && acknowledged > 0;
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

// One integer from a query on the database (-1 on error).
inline std::int64_t query_int(const std::string& db, const char* sql) {
  auto c = store::Conn::open(db, true);
  if (!c) return -1;
  auto st = c.value().prepare(sql);
  if (!st) return -1;
  auto row = st.value().step();
  return row.ok() && row.value() ? st.value().int64(0) : -1;
}

// Units that owe form B204-1 (industrial sections B, C, D), read straight from the database.
inline std::vector<std::int64_t> industrial_units(const std::string& db) {
  std::vector<std::int64_t> out;
  auto c = store::Conn::open(db, true);
  if (!c) return out;
  auto st = c.value().prepare(
      "SELECT u.id FROM units u JOIN industries i ON i.code = u.industry "
      "WHERE i.section IN ('B','C','D') ORDER BY u.id");
  if (!st) return out;
  for (auto row = st.value().step(); row.ok() && row.value(); row = st.value().step()) out.push_back(st.value().int64(0));
  return out;
}

struct Options {
  std::string statgov;    // the binary
  std::string data;       // the data folder
  std::string db;         // a database with the demo loaded: a SQLite file or a PostgreSQL URL
  std::filesystem::path dir;
  int clients = 200;
  double seconds = 2.0;   // total submitting time
  int kills = 1;          // kill -9 this many times, at random moments spread over the run
  unsigned seed = 1;
  std::string key_prefix = "k";
  // When set, the fault injected instead of kill -9 of serve (which then runs on, never restarted):
  // e.g. SIGKILL of the PostgreSQL primary and promotion of its standby. Returns "" once the
  // database is usable again, or what went wrong.
  std::function<std::string()> fault;
  // When set, called once the run and its checks are done with every request sent (per client);
  // returns how many acknowledged submissions it finds missing somewhere it looks (counted as
  // lost), e.g. in a backup taken during the run.
  std::function<long(const std::vector<std::vector<Sent>>&)> check_sent;
};

// Runs the clients, kills and restarts the server (or injects o.fault) `kills` times, retries every
// key after the last one, stops the server and checks the database. `log` gets progress lines.
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
  std::atomic<long> unavailable{0};
  std::atomic<int> faults_done{0};

  // One request with its retries across restarts; true once answered (any status).
  auto send_until_answered = [&](Sent& s, std::optional<Conn>& conn, const std::atomic<bool>& give_up) {
    for (;;) {
      if (give_up) return false;
      try {
        unsigned short p = port.load();
        if (!p) throw std::runtime_error("server down");
        if (!conn) conn.emplace(p);
        auto [status, body] = conn->request("POST", s.target.path(), s.body, token, s.key);
        if (status == 503) {
          // Not saved, or not known to be: the same key again after a pause.
          ++unavailable;
          s.unknown = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        if (status == 200) {
          s.acked = true;
          s.acked_at = std::chrono::steady_clock::now();
          s.after_fault = faults_done == o.kills;
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
    if (o.fault) {
      log("fault at " + std::to_string(at) + " s");
      const std::string why = o.fault();
      ++n.kills;
      ++faults_done;
      if (!why.empty()) {
        stop = true;
        for (auto& t : threads) t.join();
        n.integrity = "fault: " + why;
        return n;
      }
      log("database usable again after " +
          std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - at) + " s");
      continue;
    }
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
    ++faults_done;
    port = p;
  }
  std::this_thread::sleep_until(t0 + std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();

  for (auto& mine : sent) {
    for (auto& s : mine) {
      if (s.acked) ++n.acknowledged;
      if (s.acked && s.after_fault) ++n.acknowledged_after;
      else if (s.unknown) ++n.unknown;
      if (s.interrupted) ++n.interrupted;
    }
  }
  n.rejected = rejected;
  n.unavailable = unavailable;

  // Before any retry: every acknowledged submission must be in the database as acknowledged. (A
  // retry would re-create a lost one under its key and hide the loss.)
  {
    auto c = store::Conn::open(o.db, true);
    if (!c) {
      n.integrity = "cannot open the database: " + c.error().message_en;
      return n;
    }
    for (const auto& mine : sent) {
      for (const auto& s : mine) {
        if (!s.acked) continue;
        auto st = c.value().prepare("SELECT id FROM submissions WHERE unit_id = ?1 AND form_code = 'B204-1' AND period = ?2");
        if (!st) {
          n.integrity = "query failed: " + st.error().message_en;
          return n;
        }
        st.value().bind(1, s.target.unit).bind(2, s.target.period());
        auto row = st.value().step();
        if (!row.ok() || !row.value() || st.value().int64(0) != s.id) ++n.lost;
      }
    }
    if (n.lost) log(std::to_string(n.lost) + " acknowledged submissions missing after the fault, before any retry");
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
          s.acked_at = again.acked_at;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  n.retry_differs = retry_differs;
  server.terminate();

  // The database itself.
  auto opened = store::Conn::open(o.db, true);
  if (!opened) {
    n.integrity = "cannot open the database: " + opened.error().message_en;
    return n;
  }
  store::Conn& db = opened.value();
  bool query_failed = false;
  // Runs `sql` with `bind` applied, calls `row` per row; a failed query fails the whole check.
  auto query = [&](const char* sql, auto&& bind, auto&& row) {
    auto st = db.prepare(sql);
    if (!st) {
      query_failed = true;
      log(std::string("query failed: ") + st.error().message_en);
      return;
    }
    bind(st.value());
    for (auto r = st.value().step();; r = st.value().step()) {
      if (!r.ok()) {
        query_failed = true;
        log(std::string("query failed: ") + r.error().message_en);
        return;
      }
      if (!r.value()) return;
      row(st.value());
    }
  };
  auto no_bind = [](store::Stmt&) {};
  auto count = [&](const char* sql, std::int64_t id) {
    long c = -1;
    query(sql, [&](store::Stmt& st) { st.bind(1, id); }, [&](store::Stmt& st) { c = st.int64(0); });
    return c;
  };
  // audit_log has no index on object: count the submit entries per object in one scan.
  std::map<std::string, long> audit_count;
  query("SELECT object FROM audit_log WHERE action = 'submit'", no_bind,
        [&](store::Stmt& st) { ++audit_count[st.text(0)]; });
  std::map<std::string, long> key_count;  // the key table's index starts with the user: one scan
  query("SELECT key FROM idempotency", no_bind, [&](store::Stmt& st) { ++key_count[st.text(0)]; });
  for (const auto& mine : sent) {
    for (const auto& s : mine) {
      if (!s.acked) continue;
      const std::string period = s.target.period();
      int rows = 0;
      std::int64_t id = 0;
      int version = 0;
      json vals;
      query(
          "SELECT id, vals, version FROM submissions WHERE unit_id = ?1 AND form_code = 'B204-1' AND period = ?2",
          [&](store::Stmt& st) { st.bind(1, s.target.unit).bind(2, period); },
          [&](store::Stmt& st) {
            ++rows;
            id = st.int64(0);
            vals = json::parse(st.text(1), nullptr, false);
            version = st.int32(2);
          });
      if (rows == 0) {
        ++n.lost;
        continue;
      }
      const std::string object = "submission:" + std::to_string(s.target.unit) + "/B204-1/" + period;
      const long nv = count("SELECT count(*) FROM submission_versions WHERE submission_id = ?1", id);
      const long ne = count("SELECT count(*) FROM submission_events WHERE submission_id = ?1 AND action = 'submit'", id);
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
  // Nothing half-written: every submission made during the run has its version, submit event and
  // audit entry, and every idempotency row's response names an existing submission.
  query(
      "SELECT 'submission:' || s.unit_id || '/' || s.form_code || '/' || s.period, "
      " EXISTS (SELECT 1 FROM submission_versions v WHERE v.submission_id = s.id AND v.version = s.version)"
      " AND EXISTS (SELECT 1 FROM submission_events e WHERE e.submission_id = s.id)"
      " FROM submissions s WHERE s.id >= ?1",
      [&](store::Stmt& st) { st.bind(1, first_new_id); },
      [&](store::Stmt& st) {
        if (st.int64(1) == 0 || !audit_count.count(st.text(0))) ++n.half_written;
      });
  const bool pg = db.dialect() == store::Dialect::postgres;
  query(pg ? "SELECT count(*) FROM idempotency k WHERE NOT EXISTS "
             "(SELECT 1 FROM submissions s WHERE s.id = (k.response::json->>'id')::bigint)"
           : "SELECT count(*) FROM idempotency k WHERE NOT EXISTS "
             "(SELECT 1 FROM submissions s WHERE s.id = json_extract(k.response, '$.id'))",
        no_bind, [&](store::Stmt& st) { n.half_written += st.int64(0); });
  if (pg) {
    // PostgreSQL has no integrity_check of a whole database (amcheck is an extension, not
    // installed by default): the checks above are what there is.
    n.integrity = kIntegrityNotApplicable;
  } else {
    query("PRAGMA integrity_check", no_bind, [&](store::Stmt& st) { n.integrity = st.text(0); });
  }
  if (query_failed) n.integrity = "a check query failed";
  if (o.check_sent) n.lost += o.check_sent(sent);
  return n;
}

}  // namespace statgov::kill9
