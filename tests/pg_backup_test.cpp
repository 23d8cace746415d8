// Issue #6, fault test 4 on PostgreSQL: a backup taken under load restores to a database that
// passes an integrity check and holds every submission acknowledged before the backup began.
//
// The test runs the documented procedure (docs/postgres.md "Backups", deploy/pg_backup.sh) on its
// own PostgreSQL 15 cluster (initdb as the postgres user in a temp folder, loopback port, WAL
// archiving on through `pg_backup.sh settings`): demo loaded, a real `statgov serve` on it, clients
// submitting with idempotency keys, `pg_backup.sh base` taken while they submit, a WAL switch after
// they stop, the primary killed (immediate stop), `pg_backup.sh restore` into a new data folder
// and PostgreSQL started on it (it replays the archive to its end and promotes). Then:
//   - every submission acknowledged before the backup began is there exactly once with its version,
//     submit event, audit entry and idempotency key (and so is every one acknowledged later: they
//     reach the restored copy only through the archive, which shows the archive is replayed);
//   - `statgov audit verify` passes on the restored database;
//   - `pg_backup.sh check` (pg_amcheck: every table and B-tree index, --heapallindexed) passes.
// And a point-in-time restore (`pg_backup.sh restore ... --to-time T`, T the primary's clock after
// the clients' last answer, a few more submissions acknowledged after T): it holds every
// submission acknowledged before T and none of those after.
// It needs root (the cluster runs as the postgres user) and runs in the PostgreSQL pass of the
// test command (STATGOV_TEST_PG set); otherwise it skips and says why.
#include "harness.hpp"
#include "kill9_driver.hpp"

#include "store/store.hpp"
#include "store/test_database.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <random>

namespace statgov::testing {
namespace {

namespace fs = std::filesystem;
const std::string kPgBin = "/usr/lib/postgresql/15/bin";

std::string script() { return std::string(STATGOV_SOURCE_DIR) + "/deploy/pg_backup.sh"; }

// A shell command's exit code and output (standard output and error together).
CliRun shell(const std::string& cmd) {
  CliRun r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) r.out += buf;
  const int status = p ? pclose(p) : -1;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
std::string as_postgres(const std::string& cmd) { return "runuser -u postgres -- " + cmd; }

unsigned short free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A PostgreSQL cluster in `data`, started with pg_ctl on a loopback port; stopped (immediate) when
// destroyed if still running.
class Cluster {
 public:
  Cluster(fs::path data, fs::path sock) : data_(std::move(data)), sock_(std::move(sock)), port_(free_port()) {}
  ~Cluster() { stop("immediate"); }
  CliRun start() {
    auto r = shell(as_postgres(kPgBin + "/pg_ctl -D " + data_.string() + " -l " + data_.string() + ".log -w -t 60 -o '-p " +
                               std::to_string(port_) + " -k " + sock_.string() + " -c listen_addresses=127.0.0.1' start"));
    running_ = r.code == 0;
    if (!running_) r.out += shell("tail -20 " + data_.string() + ".log").out;
    return r;
  }
  void stop(const char* mode) {
    if (!running_) return;
    shell(as_postgres(kPgBin + "/pg_ctl -D " + data_.string() + " -m " + mode + " -w stop"));
    running_ = false;
  }
  std::string url(const std::string& db) const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db; }
  CliRun psql(const std::string& db, const std::string& sql) const {
    return shell(kPgBin + "/psql -X -v ON_ERROR_STOP=1 -Atq -d '" + url(db) + "' -c \"" + sql + "\"");
  }

 private:
  fs::path data_, sock_;
  unsigned short port_;
  bool running_ = false;
};

enum class Phase { before_backup, during_backup, after_backup, after_target_time };

struct Acked {
  std::string key;
  kill9::Target target;
  std::int64_t id = 0;
  int version = 0;
  Phase phase = Phase::before_backup;
};

TEST(PgBackup, BaseBackupUnderLoadRestoresEveryAcknowledgedSubmission) {
  if (!store::TestDatabase::postgres_run()) {
    GTEST_SKIP() << "PostgreSQL backup test: runs in the PostgreSQL pass (STATGOV_TEST_PG set, ./statgov.sh pg or "
                    "tools/pg_fixture.sh); it starts its own cluster";
  }
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the test's own PostgreSQL cluster runs as the postgres user";
  if (!fs::exists(kPgBin + "/initdb") || getpwnam("postgres") == nullptr) {
    GTEST_SKIP() << "no PostgreSQL 15 at " << kPgBin << " or no postgres user";
  }
  const auto t_start = std::chrono::steady_clock::now();
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("statgov-pgbackup-" + std::to_string(rd()));
  fs::create_directories(dir / "sock");
  fs::create_directories(dir / "archive");
  struct Cleanup {
    fs::path d;
    bool keep = false;
    ~Cleanup() {
      if (!keep) fs::remove_all(d);
      else std::cout << "  kept " << d << "\n";
    }
  } cleanup{dir};
  ASSERT_EQ(shell("chown -R postgres " + dir.string()).code, 0);

  // 1. The primary, with WAL archiving as docs/postgres.md sets it up.
  auto init = shell(as_postgres(kPgBin + "/initdb -D " + (dir / "primary").string() +
                                " -U postgres -A trust -E UTF8 --locale=C.UTF-8"));
  ASSERT_EQ(init.code, 0) << init.out;
  // The archive_command runs as the postgres user, which may not reach the source tree (a clone in a
  // 0700 temp folder, say): archive with a copy in the test's own folder, as an installation would
  // put the script where postgres can run it (docs/postgres.md).
  const fs::path archiver = dir / "pg_backup.sh";
  fs::copy_file(script(), archiver);
  fs::permissions(archiver, fs::perms(0755));
  auto settings = shell(archiver.string() + " settings " + (dir / "archive").string() + " >> " +
                        (dir / "primary" / "postgresql.conf").string());
  ASSERT_EQ(settings.code, 0) << settings.out;
  Cluster primary(dir / "primary", dir / "sock");
  auto started = primary.start();
  ASSERT_EQ(started.code, 0) << started.out;
  auto created = primary.psql("postgres", "CREATE DATABASE statgov TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'");
  ASSERT_EQ(created.code, 0) << created.out;
  const std::string data = std::string(STATGOV_SOURCE_DIR) + "/data";
  const std::string url = primary.url("statgov");
  auto demo = run_statgov("--db '" + url + "' --data " + data + " demo --units 120");
  ASSERT_EQ(demo.code, 0) << demo.out;

  // 2. A real server and clients submitting.
  std::vector<std::int64_t> units;
  {
    auto st = store::Store::open(url, 1);
    ASSERT_TRUE(st.ok()) << st.error().message_en;
    ASSERT_TRUE((*st)->read([&](store::Conn& c) -> Status {
      SG_ASSIGN_OR_RETURN(auto q, c.prepare("SELECT u.id FROM units u JOIN industries i ON i.code = u.industry "
                                            "WHERE i.section IN ('B','C','D') ORDER BY u.id"));
      for (;;) {
        SG_ASSIGN_OR_RETURN(bool row, q.step());
        if (!row) break;
        units.push_back(q.int64(0));
      }
      return Ok{};
    }).ok());
  }
  ASSERT_GE(units.size(), 20u);
  kill9::ServeProcess server(STATGOV_BINARY, url, data, dir);
  const unsigned short port = server.start();
  ASSERT_NE(port, 0) << "serve did not start on the primary";
  const std::string token = kill9::login_token(port, "demo-shi", kDemoPassword);
  ASSERT_FALSE(token.empty());

  std::vector<kill9::Target> targets;  // periods the demo never reported
  for (auto u : units) {
    for (int y = 2024; y >= 2015; --y) {
      for (int m = 1; m <= 12; ++m) targets.push_back({u, y, m});
    }
  }
  std::mt19937 rng(rd());
  std::shuffle(targets.begin(), targets.end(), rng);
  constexpr int kClients = 16;
  std::atomic<int> phase{static_cast<int>(Phase::before_backup)};
  std::atomic<bool> stop{false};
  std::atomic<long> rejected{0}, failed{0}, acked_before{0};
  std::mutex mu;
  std::vector<Acked> acked;  // guarded by mu
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::optional<kill9::Conn> conn;
      int n = 0;
      for (std::size_t i = static_cast<std::size_t>(c); i < targets.size() && !stop; i += kClients) {
        const auto& t = targets[i];
        const std::string key = "pgb-" + std::to_string(c) + "-" + std::to_string(n++);
        try {
          if (!conn) conn.emplace(port);
          auto [status, body] = conn->request("POST", t.path(), json{{"values", kill9::values_for(t.unit, t.month)}}.dump(),
                                              token, key);
          // The phase is read after the answer arrived: "before" means acknowledged before the
          // backup began.
          const auto p = static_cast<Phase>(phase.load());
          if (status != 200) {
            if (++rejected < 5) std::cout << "  HTTP " << status << " " << body.substr(0, 200) << "\n";
            continue;
          }
          auto j = json::parse(body, nullptr, false);
          std::lock_guard lock(mu);
          acked.push_back({key, t, j.value("id", std::int64_t{0}), j.value("version", 0), p});
          if (p == Phase::before_backup) ++acked_before;
        } catch (const std::exception&) {
          ++failed;
          conn.reset();
        }
      }
    });
  }
  auto joined = [&] {
    stop = true;
    for (auto& t : clients) t.join();
    clients.clear();
  };
  for (int i = 0; i < 1000 && acked_before < 150; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (acked_before < 150) {
    joined();
    FAIL() << "the clients got only " << acked_before << " answers in 10 s";
  }

  // 3. The base backup, while they submit.
  phase = static_cast<int>(Phase::during_backup);
  const auto t_backup = std::chrono::steady_clock::now();
  auto base = shell(script() + " base '" + primary.url("postgres") + "' " + (dir / "backup").string());
  const auto backup_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t_backup).count();
  phase = static_cast<int>(Phase::after_backup);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // writes go on after it, too
  joined();
  ASSERT_EQ(base.code, 0) << base.out;
  // The moment a point-in-time restore goes back to: the primary's clock after every answer so far
  // arrived. Then a few more submissions (periods no client used), each committed after it.
  auto at = primary.psql("postgres", "SELECT now()::text");
  ASSERT_EQ(at.code, 0) << at.out;
  const std::string target_time = at.out.substr(0, at.out.find('\n'));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    kill9::Conn conn(port);
    for (int m = 1; m <= 8; ++m) {
      const kill9::Target t{units[static_cast<std::size_t>(m) % units.size()], 2010, m};
      const std::string key = "pgb-late-" + std::to_string(m);
      auto [status, body] =
          conn.request("POST", t.path(), json{{"values", kill9::values_for(t.unit, t.month)}}.dump(), token, key);
      ASSERT_EQ(status, 200) << body;
      auto j = json::parse(body, nullptr, false);
      acked.push_back({key, t, j.value("id", std::int64_t{0}), j.value("version", 0), Phase::after_target_time});
    }
  }
  // Close the current WAL file so the archive holds every write acknowledged so far.
  auto wal = primary.psql("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
  ASSERT_EQ(wal.code, 0) << wal.out;
  const std::string last_wal = wal.out.substr(0, wal.out.find('\n'));
  for (int i = 0; i < 200 && !fs::exists(dir / "archive" / last_wal); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(dir / "archive" / last_wal)) << "WAL " << last_wal << " not archived within 10 s";
  server.terminate();
  primary.stop("immediate");  // the disaster: the primary is gone

  std::map<Phase, long> per_phase;
  for (const auto& a : acked) ++per_phase[a.phase];
  std::cout << "  acknowledged before the backup " << per_phase[Phase::before_backup] << ", during it ("
            << backup_ms << " ms) " << per_phase[Phase::during_backup] << ", after it " << per_phase[Phase::after_backup]
            << "; refused " << rejected << ", transport errors " << failed << "\n";
  EXPECT_EQ(rejected, 0);
  EXPECT_EQ(failed, 0);
  EXPECT_GT(per_phase[Phase::during_backup], 0) << "the backup was taken under load";
  EXPECT_GT(per_phase[Phase::after_backup], 0) << "writes after the backup, which only the archive carries";

  // 4. Restore into a new data folder; PostgreSQL replays the archive and opens for writes.
  auto restore = shell(script() + " restore " + (dir / "backup").string() + " " + (dir / "archive").string() + " " +
                       (dir / "restored").string());
  ASSERT_EQ(restore.code, 0) << restore.out;
  Cluster restored(dir / "restored", dir / "sock");
  started = restored.start();
  ASSERT_EQ(started.code, 0) << started.out;
  bool promoted = false;
  for (int i = 0; i < 300 && !promoted; ++i) {
    promoted = restored.psql("postgres", "SELECT pg_is_in_recovery()").out == "f\n";
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(promoted) << "the restored server did not finish recovery within 30 s";

  // 5. PostgreSQL's own check, statgov's audit chain, and every acknowledged submission.
  auto check = shell(script() + " check '" + restored.url("statgov") + "'");
  EXPECT_EQ(check.code, 0) << check.out;
  EXPECT_NE(check.out.find("no corruption found"), std::string::npos) << check.out;
  auto verify = run_statgov("--db '" + restored.url("statgov") + "' --data " + data + " audit verify");
  EXPECT_EQ(verify.code, 0) << verify.out;

  auto st = store::Store::open(restored.url("statgov"), 1);
  ASSERT_TRUE(st.ok()) << st.error().message_en;
  std::map<Phase, long> missing, not_once;
  ASSERT_TRUE((*st)->read([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto sub, c.prepare("SELECT id, version FROM submissions WHERE unit_id = ?1 AND form_code = 'B204-1' AND period = ?2"));
    SG_ASSIGN_OR_RETURN(auto versions, c.prepare("SELECT count(*) FROM submission_versions WHERE submission_id = ?1"));
    SG_ASSIGN_OR_RETURN(auto events, c.prepare("SELECT count(*) FROM submission_events WHERE submission_id = ?1 AND action = 'submit'"));
    SG_ASSIGN_OR_RETURN(auto audit, c.prepare("SELECT count(*) FROM audit_log WHERE action = 'submit' AND object = ?1"));
    SG_ASSIGN_OR_RETURN(auto keys, c.prepare("SELECT count(*) FROM idempotency WHERE key = ?1"));
    auto count = [](store::Stmt& q) -> Result<std::int64_t> {
      SG_ASSIGN_OR_RETURN(bool row, q.step());
      std::int64_t n = row ? q.int64(0) : -1;
      q.reset();
      return n;
    };
    for (const auto& a : acked) {
      const std::string period = a.target.period();
      sub.bind(1, a.target.unit).bind(2, std::string_view(period));
      int rows = 0;
      std::int64_t id = 0, version = 0;
      for (;;) {
        SG_ASSIGN_OR_RETURN(bool row, sub.step());
        if (!row) break;
        ++rows;
        id = sub.int64(0);
        version = sub.int64(1);
      }
      sub.reset();
      if (rows == 0) {
        ++missing[a.phase];
        continue;
      }
      versions.bind(1, id);
      events.bind(1, id);
      const std::string object = "submission:" + std::to_string(a.target.unit) + "/B204-1/" + period;
      audit.bind(1, std::string_view(object));
      keys.bind(1, std::string_view(a.key));
      SG_ASSIGN_OR_RETURN(auto nv, count(versions));
      SG_ASSIGN_OR_RETURN(auto ne, count(events));
      SG_ASSIGN_OR_RETURN(auto na, count(audit));
      SG_ASSIGN_OR_RETURN(auto nk, count(keys));
      if (rows != 1 || id != a.id || version != a.version || nv != 1 || ne != 1 || na != 1 || nk != 1) {
        if (not_once[a.phase]++ < 3) {
          std::cout << "  not exactly once: " << a.key << " rows " << rows << " id " << id << "/" << a.id << " versions "
                    << nv << " events " << ne << " audit " << na << " keys " << nk << "\n";
        }
      }
    }
    return Ok{};
  }).ok());
  for (auto p : {Phase::before_backup, Phase::during_backup, Phase::after_backup, Phase::after_target_time}) {
    EXPECT_EQ(missing[p], 0) << "acknowledged submissions missing from the restored database, phase " << static_cast<int>(p);
    EXPECT_EQ(not_once[p], 0) << "not exactly once with version, event, audit entry and key, phase " << static_cast<int>(p);
  }
  // Writable after the restore (promoted, not a standby).
  auto write = restored.psql("statgov", "CREATE TABLE restore_probe (x int); DROP TABLE restore_probe");
  EXPECT_EQ(write.code, 0) << write.out;
  restored.stop("fast");

  // 6. Point-in-time restore to target_time, from the same backup and archive (which now also holds
  // the first restore's new timeline, branched after target_time: recovery follows it up to there).
  auto pitr = shell(script() + " restore " + (dir / "backup").string() + " " + (dir / "archive").string() + " " +
                    (dir / "pitr").string() + " --to-time '" + target_time + "'");
  ASSERT_EQ(pitr.code, 0) << pitr.out;
  Cluster back(dir / "pitr", dir / "sock");
  started = back.start();
  ASSERT_EQ(started.code, 0) << started.out;
  promoted = false;
  for (int i = 0; i < 300 && !promoted; ++i) {
    promoted = back.psql("postgres", "SELECT pg_is_in_recovery()").out == "f\n";
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(promoted) << "the point-in-time restore did not open within 30 s";
  auto keys = back.psql("statgov", "SELECT key FROM idempotency");
  ASSERT_EQ(keys.code, 0) << keys.out;
  std::set<std::string> kept;
  for (std::size_t at_line = 0, end; (end = keys.out.find('\n', at_line)) != std::string::npos; at_line = end + 1)
    kept.insert(keys.out.substr(at_line, end - at_line));
  std::map<Phase, long> kept_per_phase;
  for (const auto& a : acked) kept_per_phase[a.phase] += kept.count(a.key);
  EXPECT_EQ(kept_per_phase[Phase::before_backup] + kept_per_phase[Phase::during_backup] +
                kept_per_phase[Phase::after_backup],
            per_phase[Phase::before_backup] + per_phase[Phase::during_backup] + per_phase[Phase::after_backup])
      << "every submission acknowledged before " << target_time;
  EXPECT_EQ(kept_per_phase[Phase::after_target_time], 0) << "none acknowledged after " << target_time;
  auto late = back.psql("statgov", "SELECT count(*) FROM submissions WHERE period LIKE '2010M%'");
  EXPECT_EQ(late.out, "0\n") << late.out;
  auto verify_pitr = run_statgov("--db '" + back.url("statgov") + "' --data " + data + " audit verify");
  EXPECT_EQ(verify_pitr.code, 0) << verify_pitr.out;
  std::cout << "  whole test " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t_start).count()
            << " ms\n";
  cleanup.keep = HasFailure();
}

// The script refuses bad use with a message and a non-zero exit, before touching anything.
TEST(PgBackup, ScriptRefusesBadUse) {
  const fs::path dir = fs::temp_directory_path() / ("statgov-pgbackup-cli-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir / "exists");
  struct Cleanup {
    fs::path d;
    ~Cleanup() { fs::remove_all(d); }
  } cleanup{dir};
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {"", "usage"},
      {"frobnicate", "usage"},
      {"base onlyone", "usage"},
      {"base postgresql://x@127.0.0.1:1/x " + (dir / "exists").string(), "exists already"},
      {"restore " + (dir / "exists").string() + " " + dir.string() + " " + (dir / "new").string(), "not a base backup"},
      {"restore " + (dir / "exists").string() + " " + dir.string() + " " + (dir / "new").string() + " --at now", "usage"},
      // The target time goes into postgresql.auto.conf: anything but a timestamp with a zone is refused.
      {"restore " + (dir / "exists").string() + " " + dir.string() + " " + (dir / "new").string() +
           " --to-time \"2026-11-27 08:00:00+08'\nrestore_command = 'x'\"",
       "wants a timestamp with its zone"},
      {"restore " + (dir / "exists").string() + " " + dir.string() + " " + (dir / "new").string() +
           " --to-time '2026-11-27 08:00:00'",
       "wants a timestamp with its zone"},
      {"archive-wal /nonexistent/wal 000000010000000000000001 " + dir.string(), "no WAL file"},
      {"archive-wal /etc/hostname x " + (dir / "nope").string(), "does not exist"},
  };
  for (const auto& c : cases) {
    auto r = shell(script() + " " + c.args);
    EXPECT_NE(r.code, 0) << c.args << ": " << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << ": " << r.out;
  }
  EXPECT_FALSE(fs::exists(dir / "new"));
  // archive-wal: the same file twice is fine (PostgreSQL may retry), other bytes under the name are refused.
  fs::create_directories(dir / "archive");
  std::ofstream(dir / "a") << "one";
  std::ofstream(dir / "b") << "two";
  EXPECT_EQ(shell(script() + " archive-wal " + (dir / "a").string() + " W " + (dir / "archive").string()).code, 0);
  EXPECT_EQ(shell(script() + " archive-wal " + (dir / "a").string() + " W " + (dir / "archive").string()).code, 0);
  auto clash = shell(script() + " archive-wal " + (dir / "b").string() + " W " + (dir / "archive").string());
  EXPECT_NE(clash.code, 0);
  EXPECT_NE(clash.out.find("other content"), std::string::npos) << clash.out;
  std::ifstream in(dir / "archive" / "W");
  std::string kept;
  in >> kept;
  EXPECT_EQ(kept, "one");
}

}  // namespace
}  // namespace statgov::testing
