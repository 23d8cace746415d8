// Ingest benchmark (issue #6): validated, durable submissions per second over HTTP against the real
// `statgov serve` on loopback at several client counts, with p50/p99 latency, beside the raw rate of
// inserting the same JSON documents straight into SQLite (synchronous=FULL, WAL) in the same run.
// Per level it also prints the CPU time per acknowledged submit of the server and of this driver
// (CPU per submit moves far less than submits/s on a shared machine). --driver-threads N runs the
// clients on N threads (default 1).
//
//   cmake --build build --target ingest_bench statgov
//   ./build/bench/ingest_bench --statgov ./build/statgov --data data --units 3000 --seconds 5 --levels 1,64,512
//
// With --pg URL (an empty PostgreSQL database, e.g. on a primary with a synchronous standby:
// bench/pg_ingest.sh), the demo is loaded there and serve runs on it instead of a SQLite file, and
// the raw rate is that of inserting the same documents into that database through libpq.
#include <utility>

#include "args.hpp"
#include "store/sqlite_memory.hpp"

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <csignal>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using statgov::bench::arg;

struct Conn {
  asio::io_context ioc;
  asio::ip::tcp::socket sock{ioc};
  boost::beast::flat_buffer buf;
  explicit Conn(unsigned short port) { sock.connect({asio::ip::make_address("127.0.0.1"), port}); }
  std::pair<int, std::string> request(const std::string& method, const std::string& target, const std::string& body,
                                      const std::string& token) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, "application/json");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(sock, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(sock, buf, res);
    return {static_cast<int>(res.result_int()), res.body()};
  }
};

// The same month's values for every unit: YTD = value x month, so the cumulative identity holds
// whatever order the periods arrive in.
json values_for(int month) {
  json v = {{"I01", 1000.0}, {"I03", 900.0}, {"I04", 0.0}, {"I05", 20.0}};
  for (const char* c : {"I01", "I03", "I04", "I05"}) v[std::string(c) + "_YTD"] = v[c].get<double>() * month;
  return v;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

double raw_sqlite_rate(const std::string& path, int per_tx, double seconds) {
  statgov::store::configure_sqlite();  // SQLite set up as the server sets it up
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS raw "
                   "(id INTEGER PRIMARY KEY, unit INTEGER, form TEXT, period TEXT, vals TEXT, UNIQUE(unit, form, period))",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO raw (unit, form, period, vals) VALUES (?, 'B204-1', ?, ?)", -1, &st, nullptr);
  std::string doc = values_for(5).dump();
  long n = 0;
  auto t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < per_tx; ++i, ++n) {
      sqlite3_bind_int64(st, 1, n);
      std::string period = "p" + std::to_string(per_tx);
      sqlite3_bind_text(st, 2, period.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, doc.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  sqlite3_finalize(st);
  sqlite3_close(db);
  return static_cast<double>(n) / secs;
}

// The same inserts into PostgreSQL through libpq on one connection: per_tx == 1 is one INSERT per
// (autocommit) transaction, otherwise BEGIN, per_tx INSERTs, COMMIT; synchronous_commit as the
// server is configured (with a synchronous standby, each COMMIT waits for it). -1 on error.
double raw_postgres_rate(const std::string& url, int per_tx, double seconds) {
  PGconn* c = PQconnectdb(url.c_str());
  auto ok = [&](PGresult* r) {
    const bool good = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!good) std::fprintf(stderr, "raw PostgreSQL: %s", PQerrorMessage(c));
    PQclear(r);
    return good;
  };
  if (PQstatus(c) != CONNECTION_OK ||
      !ok(PQexec(c, "CREATE TABLE IF NOT EXISTS raw_ingest (id BIGSERIAL PRIMARY KEY, unit BIGINT, form TEXT, "
                    "period TEXT, vals TEXT, UNIQUE (unit, form, period))")) ||
      !ok(PQprepare(c, "ins", "INSERT INTO raw_ingest (unit, form, period, vals) VALUES ($1::bigint, 'B204-1', $2, $3)", 3,
                    nullptr))) {
    std::fprintf(stderr, "raw PostgreSQL: %s", PQerrorMessage(c));
    PQfinish(c);
    return -1;
  }
  const std::string doc = values_for(5).dump();
  const std::string period = "p" + std::to_string(per_tx);
  long n = 0;
  bool good = true;
  auto t0 = Clock::now();
  while (good && std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    if (per_tx > 1) good = ok(PQexec(c, "BEGIN"));
    for (int i = 0; good && i < per_tx; ++i, ++n) {
      const std::string unit = std::to_string(n);
      const char* params[3] = {unit.c_str(), period.c_str(), doc.c_str()};
      good = ok(PQexecPrepared(c, "ins", 3, params, nullptr, nullptr, 0));
    }
    if (good && per_tx > 1) good = ok(PQexec(c, "COMMIT"));
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  (void)ok(PQexec(c, "DROP TABLE raw_ingest"));
  PQfinish(c);
  return good ? static_cast<double>(n) / secs : -1;
}

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat; -1 if unreadable.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // The command name (field 2) may hold spaces; the fields after it are plain numbers.
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Work: (unit, period) pairs no one has reported yet.
struct Item {
  std::int64_t unit;
  int year, month;
};

struct LevelStats {
  std::atomic<long> ok{0}, errors{0};
};

// What the clients of one level share: the work list and its cursor, the request bodies, the token.
struct Job {
  const std::vector<Item>& work;
  std::atomic<std::size_t>& next;
  const std::vector<std::string>& bodies;  // by month
  const std::string& token;
  LevelStats& stats;
};

// One keep-alive connection of the load. The driver is a closed loop: each client sends its next
// request only after reading the whole answer to the last one, and checks every status. All the
// clients of a level share one io_context (one thread by default), so the driver's own CPU per
// request stays small beside the server's instead of costing a thread switch per request.
struct Client {
  Client(asio::io_context& ioc, unsigned short port) : sock(ioc) {
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
  }
  asio::ip::tcp::socket sock;
  boost::beast::flat_buffer buf;
  std::string request;
  std::vector<double> latencies;  // ms, one per answered request
};

asio::awaitable<void> run_client(Client& c, Job& job, Clock::time_point deadline) {
  for (;;) {
    if (Clock::now() >= deadline) co_return;
    std::size_t i = job.next++;
    if (i >= job.work.size()) co_return;
    const Item& it = job.work[i];
    char period[16];
    std::snprintf(period, sizeof period, "%dM%02d", it.year, it.month);
    const std::string& body = job.bodies[static_cast<std::size_t>(it.month)];
    c.request.clear();
    c.request += "POST /api/v1/submissions/";
    c.request += std::to_string(it.unit);
    c.request += "/B204-1/";
    c.request += period;
    c.request += "/submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ";
    c.request += job.token;
    c.request += "\r\nContent-Length: ";
    c.request += std::to_string(body.size());
    c.request += "\r\n\r\n";
    c.request += body;
    auto s = Clock::now();
    boost::system::error_code ec;
    co_await asio::async_write(c.sock, asio::buffer(c.request), asio::redirect_error(asio::use_awaitable, ec));
    bhttp::response<bhttp::string_body> res;
    if (!ec) co_await bhttp::async_read(c.sock, c.buf, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (job.stats.errors++ < 3) std::fprintf(stderr, "transport error: %s\n", ec.message().c_str());
      co_return;
    }
    c.latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    if (res.result_int() == 200) {
      job.stats.ok++;
    } else if (job.stats.errors++ < 3) {
      std::fprintf(stderr, "HTTP %d %s\n", res.result_int(), res.body().substr(0, 200).c_str());
    }
    if (!res.keep_alive()) {
      job.stats.errors++;
      std::fprintf(stderr, "the server closed a keep-alive connection\n");
      co_return;
    }
  }
}

int main(int argc, char** argv) {
  std::string statgov = arg(argc, argv, "statgov", "./build/statgov");
  std::string data = arg(argc, argv, "data", "data");
  int units = std::stoi(arg(argc, argv, "units", "3000"));
  // The server's --threads (handler pool). Submits no longer wait for their commit on a handler
  // thread (they are answered from the writer), so this matters only for the other requests.
  std::string threads = arg(argc, argv, "threads", "64");
  // Threads running the clients' io_context.
  int driver_threads = std::max(1, std::stoi(arg(argc, argv, "driver-threads", "1")));
  double seconds = std::stod(arg(argc, argv, "seconds", "5"));
  std::vector<int> levels;
  {
    std::stringstream ss(arg(argc, argv, "levels", "1,64,512"));
    std::string x;
    while (std::getline(ss, x, ',')) levels.push_back(std::stoi(x));
  }
  auto dir = std::filesystem::temp_directory_path() / ("statgov-ingest-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string pg = arg(argc, argv, "pg", "");
  std::string db = pg.empty() ? (dir / "i.db").string() : pg;
  std::string cmd = statgov + " --db '" + db + "'" + " --data " + data + " demo --units " + std::to_string(units) + " > /dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::cerr << "demo failed\n";
    return 1;
  }
  std::string port_file = (dir / "port").string();
  pid_t pid = fork();
  if (pid == 0) {
    execl(statgov.c_str(), statgov.c_str(), "--db", db.c_str(), "--data", data.c_str(), "--log-level", "warn", "serve",
          "--listen", "127.0.0.1:0", "--web", "", "--port-file", port_file.c_str(), "--rate-limit", "0", "--threads",
          threads.c_str(), nullptr);
    _exit(127);
  }
  unsigned short port = 0;
  for (int i = 0; i < 200 && !port; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(port_file);
    int p = 0;
    if (in >> p) port = static_cast<unsigned short>(p);
  }
  if (!port) {
    std::cerr << "server did not start\n";
    return 1;
  }
  // A city account reports on behalf of units (代报) and uses a bearer token: no CSRF round trips.
  Conn login(port);
  std::string token;
  {
    boost::beast::flat_buffer buf;
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/v1/auth/login", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, "application/json");
    req.body() = json{{"login", "demo-shi"}, {"password", "Statgov@2026"}}.dump();
    req.prepare_payload();
    bhttp::write(login.sock, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(login.sock, buf, res);
    std::string cookie(res[bhttp::field::set_cookie]);
    token = cookie.substr(11, cookie.find(';') - 11);
  }
  std::vector<std::int64_t> industrial;
  std::string cursor;
  for (;;) {
    auto [st, body] = login.request("GET", "/api/v1/units?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor), "", token);
    auto j = json::parse(body);
    for (const auto& u : j["items"]) {
      std::string s = u["section"];
      if (s == "B" || s == "C" || s == "D") industrial.push_back(u["id"]);
    }
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"];
  }
  // Periods before the demo history, so each pair is a first submission.
  std::vector<Item> work;
  for (int y = 2025; y >= 2016; --y) {
    for (int m = (y == 2025 ? 9 : 12); m >= 1; --m) {
      for (auto u : industrial) work.push_back({u, y, m});
    }
  }
  std::shuffle(work.begin(), work.end(), std::mt19937(7));
  std::atomic<std::size_t> next{0};
  std::printf("ingest benchmark: %d units (%zu industrial), %.0f s per level, validated submits of B204-1 (8 values, %zu rules)\n",
              units, industrial.size(), seconds, std::size_t{16});
  std::printf("%8s %12s %10s %10s %8s %14s %14s %10s\n", "clients", "submits/s", "p50 ms", "p99 ms",
              "errors", "server us/sub", "driver us/sub", "submits");
  // Request bodies per month, built once: the driver's CPU counts against the machine's budget.
  std::vector<std::string> bodies(13);
  for (int m = 1; m <= 12; ++m) bodies[m] = json{{"values", values_for(m)}}.dump();
  std::vector<std::pair<int, double>> rates;
  for (int level : levels) {
    LevelStats st;
    asio::io_context ioc;
    std::vector<std::unique_ptr<Client>> clients;
    try {
      for (int c = 0; c < level; ++c) clients.push_back(std::make_unique<Client>(ioc, port));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cannot open %d connections: %s\n", level, e.what());
      return 1;
    }
    Job job{work, next, bodies, token, st};
    const double server_cpu0 = process_cpu_seconds(pid);
    const double driver_cpu0 = self_cpu_seconds();
    auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (auto& c : clients) asio::co_spawn(ioc, run_client(*c, job, deadline), asio::detached);
    std::vector<std::thread> extra;
    for (int i = 1; i < driver_threads; ++i) extra.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : extra) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double server_cpu = process_cpu_seconds(pid) - server_cpu0;
    const double driver_cpu = self_cpu_seconds() - driver_cpu0;
    const long ok = st.ok.load();
    double rate = static_cast<double>(ok) / secs;
    rates.emplace_back(level, rate);
    std::vector<double> lat;
    for (auto& c : clients) lat.insert(lat.end(), c->latencies.begin(), c->latencies.end());
    std::printf("%8d %12.0f %10.2f %10.2f %8ld %14.1f %14.1f %10ld\n", level, rate,
                percentile(lat, 0.5), percentile(lat, 0.99), st.errors.load(),
                ok ? server_cpu * 1e6 / static_cast<double>(ok) : 0.0,
                ok ? driver_cpu * 1e6 / static_cast<double>(ok) : 0.0, ok);
    std::fflush(stdout);
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::string raw = (dir / "raw.db").string();
  double raw1 = pg.empty() ? raw_sqlite_rate(raw, 1, seconds) : raw_postgres_rate(pg, 1, seconds);
  double raw100 = pg.empty() ? raw_sqlite_rate(raw, 100, seconds) : raw_postgres_rate(pg, 100, seconds);
  std::printf("raw %s inserts of the same documents (%s): %.0f/s one per transaction, %.0f/s 100 per transaction\n",
              pg.empty() ? "SQLite" : "PostgreSQL", pg.empty() ? "WAL, synchronous=FULL" : "libpq, one connection",
              raw1, raw100);
  for (auto [level, rate] : rates) {
    std::printf("ratio HTTP@%d / raw one-per-transaction: %.2f, / raw 100-per-transaction: %.3f\n", level, rate / raw1,
                rate / raw100);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
