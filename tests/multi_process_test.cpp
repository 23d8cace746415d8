// Several `statgov serve` processes on one PostgreSQL database (issue #6, DESIGN.md section 9):
// a submission made through process A shows in process B's summary, monitoring progress and live
// event stream within a second; also after B was killed (-9) and restarted, and with nothing
// telling B (the processes never talk to each other: B's change feed follows the database's
// committed sequence by itself). Both processes are the real binary (STATGOV_BINARY) on a fresh
// database (store::TestDatabase); the test needs PostgreSQL and skips on SQLite.
#include "harness.hpp"

#include "base/clock.hpp"
#include "domain/period.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <random>
#include <thread>

namespace statgov::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kWithin = std::chrono::milliseconds(1000);

double round1(double v) { return std::round(v * 10) / 10; }

// One `statgov serve` child on a free loopback port. Stopped (SIGTERM, then SIGKILL) when destroyed.
class ServeProcess {
 public:
  ServeProcess(std::string db, std::filesystem::path dir, std::string name)
      : db_(std::move(db)), dir_(std::move(dir)), name_(std::move(name)) {}
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts the process and waits until it listens. Returns false (with the log) if it did not.
  ::testing::AssertionResult start() {
    const std::string port_file = (dir_ / (name_ + ".port")).string();
    const std::string log = (dir_ / (name_ + ".log")).string();
    std::filesystem::remove(port_file);
    const std::string data = std::string(STATGOV_SOURCE_DIR) + "/data";
    pid_ = fork();
    if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed";
    if (pid_ == 0) {
      if (FILE* f = std::freopen(log.c_str(), "a", stdout)) (void)f;
      dup2(fileno(stdout), STDERR_FILENO);
      execl(STATGOV_BINARY, STATGOV_BINARY, "--db", db_.c_str(), "--data", data.c_str(), "--log-level", "warn",
            "serve", "--listen", "127.0.0.1:0", "--web", "", "--rate-limit", "0", "--port-file", port_file.c_str(),
            nullptr);
      _exit(127);
    }
    port_ = 0;
    for (int i = 0; i < 300 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(port_file);
      int p = 0;
      if (in >> p) port_ = static_cast<unsigned short>(p);
    }
    if (port_ == 0) {
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return ::testing::AssertionFailure() << name_ << " did not start: " << text;
    }
    return ::testing::AssertionSuccess();
  }
  void kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill9();
  }
  unsigned short port() const { return port_; }

 private:
  std::string db_;
  std::filesystem::path dir_;
  std::string name_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// A server-sent event stream read from a plain socket, with a deadline per read.
class EventReader {
 public:
  // last_event_id: sent as Last-Event-ID (a reconnecting EventSource), 0 = none.
  EventReader(unsigned short port, const std::string& cookie, std::int64_t last_event_id = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    std::string req = "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: " +
                      cookie + "\r\n" +
                      (last_event_id ? "Last-Event-ID: " + std::to_string(last_event_id) + "\r\n" : "") + "\r\n";
    connected_ = send(fd_, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  }
  ~EventReader() {
    if (fd_ >= 0) close(fd_);
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // True once the response head and the ": connected" comment arrived: the stream follows the
  // feed from here on.
  bool open(std::chrono::milliseconds wait) {
    if (!connected_) return false;
    auto until = SteadyClock::now() + wait;
    while (buf_.find(": connected\n\n") == std::string::npos) {
      if (!fill(until)) return false;
    }
    if (buf_.rfind("HTTP/1.1 200", 0) != 0) return false;
    buf_.erase(0, buf_.find(": connected\n\n") + 13);
    return true;
  }
  // The data of the next `submission` event, or null if none came before the deadline.
  json next_submission(SteadyClock::time_point until) {
    for (;;) {
      auto end = buf_.find("\n\n");
      while (end == std::string::npos) {
        if (!fill(until)) return nullptr;
        end = buf_.find("\n\n");
      }
      std::string block = buf_.substr(0, end);
      buf_.erase(0, end + 2);
      if (block.find("event: submission") == std::string::npos) continue;
      auto d = block.find("data: ");
      if (d == std::string::npos) continue;
      return json::parse(block.substr(d + 6, block.find('\n', d) - d - 6), nullptr, false);
    }
  }

 private:
  bool fill(SteadyClock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char tmp[4096];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

class MultiProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!store::TestDatabase::postgres_run()) {
      GTEST_SKIP() << "several serve processes share one database on PostgreSQL only: set STATGOV_TEST_PG "
                      "(./statgov.sh test runs a PostgreSQL pass, or tools/pg_fixture.sh)";
    }
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("statgov-multi-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    db_ = std::make_unique<store::TestDatabase>(dir_ / "unused.db");
    data_ = std::string(STATGOV_SOURCE_DIR) + "/data";
    // The server's own month (its clock is the system clock, in Beijing time).
    auto d = local_date(SystemClock().now());
    period_ = domain::Period::containing(domain::Frequency::month, d.year, d.month).str();
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  CliRun cli(const std::string& args, const std::string& input = "") {
    return run_statgov("--db '" + db_->target() + "' --data " + data_ + " " + args, input);
  }
  std::string summary_target() const { return "/api/v1/summary?form=B204-1&period=" + period_ + "&by=city"; }
  std::string progress_target() const { return "/api/v1/monitor/progress?form=B204-1&period=" + period_; }

  // Clean values for `unit` this month (10% above last year, year-to-date consistent), submitted
  // through `c`; soft edits that still ask for a reason get one. Returns the values submitted.
  json submit_clean(Client& c, std::int64_t unit) {
    std::string base = "/api/v1/submissions/" + std::to_string(unit) + "/B204-1/" + period_;
    auto sub = c.get(base).json_body();
    EXPECT_EQ(sub.value("state", ""), "not_started") << sub.dump().substr(0, 300);
    const json& prev = sub["prev"]["values"];
    const json& ly = sub["ly"]["values"];
    double out = round1(ly["I01"].get<double>() * 1.1);
    json v = {{"I01", out}, {"I03", round1(out * 0.9)}, {"I04", 0.0}, {"I05", ly["I05"]}};
    for (const char* code : {"I01", "I03", "I04", "I05"}) {
      std::string y = std::string(code) + "_YTD";
      v[y] = round1(prev[y].get<double>() + v[code].get<double>());
    }
    json body = {{"values", v}};
    auto r = c.post_json(base + "/submit", body);
    if (r.status == 422 && r.error_code() == "EXPLANATION_REQUIRED") {
      const json refused = r.json_body();
      for (const auto& d : refused["error"]["details"]) body["explanations"][d["rule"].get<std::string>()] = "测试说明 test";
      r = c.post_json(base + "/submit", body);
    }
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json_body().value("state", ""), "submitted") << r.body;
    return v;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::TestDatabase> db_;
  std::string data_, period_;
};

// The whole city's figures of this month's B204-1 as B shows them.
struct Figures {
  int units = -1, submitted = -1, not_started = -1;
  std::map<std::string, double> values;
  bool operator==(const Figures&) const = default;
};

Figures figures(Client& c, const std::string& summary, const std::string& progress) {
  Figures f;
  auto s = c.get(summary);
  auto p = c.get(progress);
  if (s.status != 200 || p.status != 200) {
    ADD_FAILURE() << s.status << " " << s.body.substr(0, 300) << "\n" << p.status << " " << p.body.substr(0, 300);
    return f;
  }
  auto sj = s.json_body(), pj = p.json_body();
  f.units = sj["total"]["units"].get<int>();
  for (const char* code : {"I01", "I03", "I04", "I05", "I01_YTD", "I03_YTD"}) {
    const json& v = sj["total"]["values"][code];
    f.values[code] = v.is_number() ? v.get<double>() : 0.0;
  }
  f.submitted = pj["total"]["submitted"].get<int>();
  f.not_started = pj["total"]["not_started"].get<int>();
  return f;
}

// `before` plus one more submitted report with values `v`, rounded as the summary rounds (one decimal).
Figures plus(Figures before, const json& v) {
  before.units += 1;
  before.submitted += 1;
  before.not_started -= 1;
  for (auto& [code, sum] : before.values) sum = round1(sum + v[code].get<double>());
  return before;
}

std::string describe(const Figures& f) {
  std::string s = "units " + std::to_string(f.units) + ", submitted " + std::to_string(f.submitted) + ", not_started " +
                   std::to_string(f.not_started);
  for (const auto& [k, v] : f.values) s += ", " + k + " " + std::to_string(v);
  return s;
}

// Polls B until its figures equal `want` or the deadline passes; returns how long it took.
std::chrono::milliseconds await_figures(Client& b, const std::string& summary, const std::string& progress,
                                        const Figures& want, SteadyClock::time_point since) {
  Figures got;
  for (;;) {
    got = figures(b, summary, progress);
    // Rounded sums: compare to a tenth of the last digit shown.
    bool same = got.units == want.units && got.submitted == want.submitted && got.not_started == want.not_started;
    for (const auto& [k, v] : want.values) same = same && std::fabs(got.values[k] - v) < 0.01;
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - since);
    if (same) return took;
    if (took > std::chrono::seconds(5)) {
      ADD_FAILURE() << "B still shows " << describe(got) << "\nwanted " << describe(want);
      return took;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST_F(MultiProcess, SubmissionThroughOneProcessShowsInTheOtherWithinASecond) {
  ASSERT_EQ(cli("demo --units 30").code, 0);
  ServeProcess a(db_->target(), dir_, "a"), b(db_->target(), dir_, "b");
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  ASSERT_NE(a.port(), b.port());

  // Two more enterprise accounts for other units that owe the monthly form, made on the database
  // directly while both processes run.
  Client city_a(a.port());
  ASSERT_EQ(city_a.login("demo-shi", kDemoPassword).status, 200);
  auto missing = city_a.get("/api/v1/monitor/missing?form=B204-1&period=" + period_);
  ASSERT_EQ(missing.status, 200) << missing.body;
  Client ent_a(a.port());
  ASSERT_EQ(ent_a.login("demo-qiye", kDemoPassword).status, 200);
  const std::int64_t unit1 = ent_a.get("/api/v1/me").json_body()["user"]["unit_id"].get<std::int64_t>();
  std::vector<std::int64_t> others;
  const json missing_units = missing.json_body();
  for (const auto& it : missing_units["items"]) {
    if (it["unit_id"].get<std::int64_t>() == unit1 || others.size() == 2) continue;
    std::string login = "ent" + std::to_string(others.size() + 2);
    auto add = cli("user add --login " + login + " --role enterprise --unit " + it["uscc"].get<std::string>(), kDemoPassword);
    ASSERT_EQ(add.code, 0) << add.out;
    others.push_back(it["unit_id"].get<std::int64_t>());
  }
  ASSERT_EQ(others.size(), 2u) << "the demo has at least three industrial units";

  Client city_b(b.port());
  ASSERT_EQ(city_b.login("demo-shi", kDemoPassword).status, 200);
  const std::string sum = summary_target(), prog = progress_target();
  Figures f0 = figures(city_b, sum, prog);
  ASSERT_EQ(f0.units, 0) << "the demo has nothing for the current month";
  ASSERT_GE(f0.not_started, 3);
  EXPECT_EQ(f0, figures(city_a, sum, prog)) << "both processes start from the same database";

  // 1. A submission through A: B's summary, progress and live stream show it within a second.
  std::int64_t seen = 0;  // the last event id B's stream gave
  {
    EventReader events(b.port(), city_b.cookie());
    ASSERT_TRUE(events.open(std::chrono::seconds(5)));
    json v = submit_clean(ent_a, unit1);
    ASSERT_FALSE(HasFailure());
    auto t0 = SteadyClock::now();
    json ev = events.next_submission(t0 + kWithin);
    ASSERT_TRUE(ev.is_object()) << "no event on B's stream within 1 s";
    EXPECT_EQ(ev["unit_id"], unit1);
    EXPECT_EQ(ev["form"], "B204-1");
    EXPECT_EQ(ev["period"], period_);
    EXPECT_EQ(ev["state"], "submitted");
    seen = ev.value("seq", std::int64_t{0});
    Figures f1 = plus(f0, v);
    EXPECT_LE(await_figures(city_b, sum, prog, f1, t0), kWithin);
    f0 = f1;
  }

  // 2. B is killed; a submission through A while B is down; B restarted shows it at once.
  b.kill9();
  Client ent2(a.port());
  ASSERT_EQ(ent2.login("ent2", kDemoPassword).status, 200);
  json v2 = submit_clean(ent2, others[0]);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(b.start());
  Client city_b2(b.port());
  ASSERT_EQ(city_b2.login("demo-shi", kDemoPassword).status, 200);
  Figures f2 = plus(f0, v2);
  Figures after_restart = figures(city_b2, sum, prog);
  EXPECT_EQ(after_restart.units, f2.units) << describe(after_restart);
  EXPECT_EQ(after_restart.submitted, f2.submitted);
  EXPECT_EQ(after_restart.not_started, f2.not_started);
  for (const auto& [k, want] : f2.values) EXPECT_NEAR(after_restart.values[k], want, 0.01) << k;
  // The browser whose stream broke with B reconnects (to any process) with the last id it got:
  // it is given what it missed while B was down.
  {
    EventReader resumed(b.port(), city_b2.cookie(), seen);
    ASSERT_TRUE(resumed.open(std::chrono::seconds(5)));
    json ev = resumed.next_submission(SteadyClock::now() + kWithin);
    ASSERT_TRUE(ev.is_object()) << "a stream resumed from Last-Event-ID " << seen << " did not replay the missed change";
    EXPECT_EQ(ev["unit_id"], others[0]);
    EXPECT_GT(ev.value("seq", std::int64_t{0}), seen);
    for (const char* bad : {"abc", "-1", "0", "12x"}) {
      auto r = http_request(b.port(), "GET", "/api/v1/events", "", {{"Cookie", city_b2.cookie()}, {"Last-Event-ID", bad}});
      EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
      EXPECT_EQ(r.error_code(), "BAD_ID") << bad;
    }
  }

  // 3. Nothing tells B about a write through A (no poke crosses processes): its feed still finds
  //    the change by itself within a second, on the stream and in the figures.
  {
    EventReader events(b.port(), city_b2.cookie());
    ASSERT_TRUE(events.open(std::chrono::seconds(5)));
    Client ent3(a.port());
    ASSERT_EQ(ent3.login("ent3", kDemoPassword).status, 200);
    json v3 = submit_clean(ent3, others[1]);
    ASSERT_FALSE(HasFailure());
    auto t0 = SteadyClock::now();
    json ev = events.next_submission(t0 + kWithin);
    ASSERT_TRUE(ev.is_object()) << "no event on restarted B's stream within 1 s";
    EXPECT_EQ(ev["unit_id"], others[1]);
    EXPECT_EQ(ev["state"], "submitted");
    EXPECT_LE(await_figures(city_b2, sum, prog, plus(f2, v3), t0), kWithin);
    // And A, which made all three, agrees.
    EXPECT_EQ(figures(city_a, sum, prog), figures(city_b2, sum, prog));
  }
}

}  // namespace
}  // namespace statgov::testing
