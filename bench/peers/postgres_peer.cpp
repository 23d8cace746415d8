// PostgreSQL peer: starts a throwaway server (initdb + pg_ctl in a temporary folder, on a free
// loopback port, as the `postgres` user when run as root), loads the rows with binary COPY through
// libpq, runs the county query of (f) and removes the server again. The cluster Debian may have
// created on port 5432 is never used.
#include "peers/peers.hpp"

#ifdef SG_BENCH_HAVE_LIBPQ

#include <arpa/inet.h>
#include <endian.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace statgov::bench {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// The server binaries: CUBE_BENCH_PG_BIN, else Debian's layout, 15 first (the peer).
std::string find_bindir() {
  if (const char* e = std::getenv("CUBE_BENCH_PG_BIN")) return e;
  for (const char* v : {"15", "16", "17", "14"}) {
    const std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
    if (access((dir + "/initdb").c_str(), X_OK) == 0 &&
        access((dir + "/pg_ctl").c_str(), X_OK) == 0)
      return dir;
  }
  return "";
}

// A loopback port nobody listens on now (the kernel's choice for port 0).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

// If the benchmark is interrupted while the server runs, stop it (immediate mode) and remove the
// folder: pg_ctl starts the server in its own session, so a Ctrl-C would not reach it. Only
// fork, execv, waitpid and _exit run in the handler (async-signal-safe); argv is prepared before.
struct Emergency {
  std::vector<std::string> stop, remove;
  std::vector<char*> stop_argv, remove_argv;
};
Emergency* g_emergency = nullptr;

void run_in_handler(std::vector<char*>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid > 0) {
    int st;
    waitpid(pid, &st, 0);
  }
}

extern "C" void on_interrupt(int sig) {
  if (g_emergency) {
    run_in_handler(g_emergency->stop_argv);
    run_in_handler(g_emergency->remove_argv);
  }
  _exit(128 + sig);
}

void arm(Emergency& e) {
  for (auto* list : {&e.stop, &e.remove}) {
    auto& argv = list == &e.stop ? e.stop_argv : e.remove_argv;
    for (std::string& s : *list) argv.push_back(s.data());
    argv.push_back(nullptr);
  }
  g_emergency = &e;
  for (int sig : {SIGINT, SIGTERM}) {
    // A signal the benchmark was started ignoring (nohup, `&` in a script) stays ignored.
    struct sigaction now {};
    if (sigaction(sig, nullptr, &now) == 0 && now.sa_handler != SIG_IGN) signal(sig, on_interrupt);
  }
}

void disarm() {
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction now {};
    if (sigaction(sig, nullptr, &now) == 0 && now.sa_handler == on_interrupt) signal(sig, SIG_DFL);
  }
  g_emergency = nullptr;
}

// CPU time (user + system) of process `pid` in ms, with that of its exited, reaped children when
// `children` (parallel workers are children of the postmaster). -1 if unreadable.
double proc_cpu_ms(long pid, bool children) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(f, s);
  const auto close_paren = s.rfind(')');
  if (close_paren == std::string::npos) return -1;
  // Fields after "pid (comm)": state is field 3; utime, stime, cutime, cstime are 14 to 17.
  std::vector<std::string> fields;
  std::size_t at = close_paren + 2;
  while (at < s.size() && fields.size() < 15) {
    const auto sp = s.find(' ', at);
    fields.push_back(s.substr(at, sp - at));
    if (sp == std::string::npos) break;
    at = sp + 1;
  }
  if (fields.size() < 15) return -1;
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  if (children) ticks += std::stod(fields[13]) + std::stod(fields[14]);
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Binary COPY (PostgreSQL documentation, "COPY", section "Binary Format"): network byte order.
struct CopyBuffer {
  std::string b;
  void i16(std::int16_t v) { put(htobe16(static_cast<std::uint16_t>(v))); }
  void i32(std::int32_t v) { put(htobe32(static_cast<std::uint32_t>(v))); }
  void field_i32(std::int32_t v) {
    i32(4);
    i32(v);
  }
  void field_i64(std::int64_t v) {
    i32(8);
    put(htobe64(static_cast<std::uint64_t>(v)));
  }
  void field_f64(double v) {
    if (std::isnan(v)) {
      i32(-1);  // NULL
      return;
    }
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    i32(8);
    put(htobe64(u));
  }
  template <class T>
  void put(T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
};

class Server {
 public:
  Server(std::string bindir, std::string dir, bool as_postgres)
      : bindir_(std::move(bindir)), dir_(std::move(dir)), as_postgres_(as_postgres) {}
  ~Server() { stop(); }

  std::vector<std::string> cmd(std::initializer_list<std::string> args) const {
    std::vector<std::string> v;
    if (as_postgres_) v = {"runuser", "-u", "postgres", "--"};
    v.insert(v.end(), args);
    v[as_postgres_ ? 4 : 0] = bindir_ + "/" + v[as_postgres_ ? 4 : 0];
    return v;
  }
  std::string data() const { return dir_ + "/data"; }
  std::string log() const { return dir_ + "/commands.log"; }

  bool start() {
    started_ =
        run_command(
            cmd({"pg_ctl", "start", "-w", "-t", "120", "-D", data(), "-l", dir_ + "/server.log"}),
            log(), dir_) == 0;
    return started_;
  }
  void stop() {
    if (!started_) return;
    run_command(cmd({"pg_ctl", "stop", "-w", "-m", "fast", "-D", data()}), log(), dir_);
    started_ = false;
  }

 private:
  std::string bindir_, dir_;
  bool as_postgres_;
  bool started_ = false;
};

bool exec_ok(PGconn* c, const std::string& sql, PeerResult& r,
             ExecStatusType want = PGRES_COMMAND_OK) {
  PGresult* res = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(res) == want;
  if (!ok) {
    // Appends only: g++ 12 warns (-Wrestrict, a false positive) on chains of string operator+.
    std::string m(1, '"');
    m.append(sql, 0, 60);
    m += "\": ";
    m += PQerrorMessage(c);
    r.why_not = std::move(m);
  }
  PQclear(res);
  return ok;
}

}  // namespace

PeerResult run_postgres(const cube::Cube& cur, const cube::Cube& prev, const PeerOptions& o) {
  PeerResult r;
  r.name = "PostgreSQL";
  const std::string bindir = find_bindir();
  if (bindir.empty()) {
    r.why_not =
        "no initdb/pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql-15, or set "
        "CUBE_BENCH_PG_BIN)";
    return r;
  }
  TempDir tmp("cube_bench_pg");
  if (!tmp.ok()) {
    r.why_not = "could not create a temporary folder";
    return r;
  }
  // initdb refuses to run as root: then the server runs as `postgres`, which must own the folder.
  const bool as_postgres = geteuid() == 0;
  if (as_postgres) {
    const passwd* pw = getpwnam("postgres");
    if (!pw || chown(tmp.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      r.why_not = "running as root, but there is no `postgres` user to own the server's folder";
      return r;
    }
  }
  Server server(bindir, tmp.path(), as_postgres);
  if (run_command(server.cmd({"initdb", "-D", server.data(), "-U", "postgres", "--auth=trust",
                              "--encoding=UTF8", "--locale=C", "--no-sync"}),
                  server.log(), tmp.path()) != 0) {
    r.why_not = "initdb failed:" + tail_of(server.log());
    return r;
  }
  const int port = free_port();
  // Estimated heap size: tuple header and null bitmap, 7 integer columns, K doubles, per period.
  const double rows = static_cast<double>(cur.units() + prev.units());
  const double heap_gb = rows * (40.0 + 32.0 + 8.0 * cur.indicators()) * 1.15 / (1 << 30);
  const int shared_gb = std::max(4, static_cast<int>(std::ceil(heap_gb * 1.5)));
  std::string extra_settings;
  {
    // fsync off etc.: a query benchmark on a server that is deleted afterwards; nothing here
    // touches the time of the query itself, which reads from memory either way.
    std::ofstream conf(server.data() + "/postgresql.conf", std::ios::app);
    conf << "\n# cube_bench (bench/peers/postgres_peer.cpp)\n"
         << "listen_addresses = '127.0.0.1'\nport = " << port << "\n"
         << "unix_socket_directories = '" << tmp.path() << "'\n"
         << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
         << "wal_level = minimal\nmax_wal_senders = 0\n"
         << "shared_buffers = '" << shared_gb << "GB'\n"
         << "work_mem = '1GB'\n"
         << "max_parallel_workers_per_gather = " << o.threads << "\n"
         << "autovacuum = off\n";  // VACUUM ANALYZE runs explicitly; no background work
    // CUBE_BENCH_PG_SETTINGS="jit=off;work_mem=4MB": extra lines, later ones win (for trying
    // the server's settings without rebuilding).
    if (const char* extra = std::getenv("CUBE_BENCH_PG_SETTINGS")) {
      std::string e = extra;
      for (char& ch : e)
        if (ch == ';') ch = '\n';
      conf << e << "\n";
      extra_settings = extra;
    }
    if (!conf) {
      r.why_not = "could not write postgresql.conf";
      return r;
    }
  }
  Emergency emergency;
  emergency.stop = server.cmd({"pg_ctl", "stop", "-w", "-m", "immediate", "-D", server.data()});
  if (as_postgres) emergency.stop[0] = "/usr/sbin/runuser";
  emergency.remove = {"/bin/rm", "-rf", tmp.path()};
  arm(emergency);
  struct Disarm {
    ~Disarm() { disarm(); }
  } disarm_on_exit;
  if (!server.start()) {
    r.why_not =
        "pg_ctl start failed:" + tail_of(server.log()) + tail_of(tmp.path() + "/server.log");
    return r;
  }

  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  struct Close {
    PGconn* c;
    ~Close() { PQfinish(c); }
  } close_conn{conn};
  if (PQstatus(conn) != CONNECTION_OK) {
    r.why_not = std::string("connect: ") + PQerrorMessage(conn);
    return r;
  }
  {
    PGresult* v = PQexec(conn, "SHOW server_version");
    if (PQresultStatus(v) == PGRES_TUPLES_OK) r.version = PQgetvalue(v, 0, 0);
    PQclear(v);
  }

  // --- load: CREATE TABLE and COPY in one transaction (with wal_level minimal no WAL is written;
  // FREEZE spares the later hint-bit writes)
  // --------------------------------------------------------
  const int K = cur.indicators();
  std::string ddl =
      "CREATE TABLE obs(period integer, unit bigint, county integer, township integer, "
      "division integer, size integer, state integer";
  for (int k = 0; k < K; ++k) ddl.append(", v").append(std::to_string(k)).append(" float8");
  ddl += ")";
  auto t_load = Clock::now();
  if (!exec_ok(conn, "BEGIN", r) || !exec_ok(conn, ddl, r)) return r;
  {
    PGresult* res = PQexec(conn, "COPY obs FROM STDIN (FORMAT binary, FREEZE)");
    const bool in_copy = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (!in_copy) {
      r.why_not = std::string("COPY: ") + PQerrorMessage(conn);
      return r;
    }
  }
  CopyBuffer buf;
  buf.b.reserve(8 << 20);
  buf.b.append("PGCOPY\n\377\r\n\0", 11);
  buf.i32(0);  // flags
  buf.i32(0);  // header extension length
  bool sent = true;
  auto flush = [&] {
    sent = sent && PQputCopyData(conn, buf.b.data(), static_cast<int>(buf.b.size())) == 1;
    buf.b.clear();
  };
  int period = 0;
  for (const cube::Cube* c : {&prev, &cur}) {
    for (std::uint32_t row = 0; row < c->units(); ++row) {
      const cube::UnitDims d = c->row_dims(row);
      buf.i16(static_cast<std::int16_t>(7 + K));
      buf.field_i32(period);
      buf.field_i64(c->row_id(row));
      buf.field_i32(static_cast<std::int32_t>(d.township / 1000));
      buf.field_i32(static_cast<std::int32_t>(d.township));
      buf.field_i32(d.division);
      buf.field_i32(d.size);
      buf.field_i32(static_cast<std::int32_t>(c->row_state(row)));
      for (int k = 0; k < K; ++k) buf.field_f64(c->value(row, k));
      if (buf.b.size() > (4 << 20)) flush();
    }
    ++period;
  }
  buf.i16(-1);  // trailer
  flush();
  if (!sent || PQputCopyEnd(conn, nullptr) != 1) {
    r.why_not = std::string("COPY data: ") + PQerrorMessage(conn);
    return r;
  }
  {
    PGresult* res = PQgetResult(conn);
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) r.why_not = std::string("COPY: ") + PQerrorMessage(conn);
    PQclear(res);
    while ((res = PQgetResult(conn))) PQclear(res);
    if (!ok) return r;
  }
  if (!exec_ok(conn, "COMMIT", r)) return r;
  r.load_ms = ms_since(t_load);

  // --- the same key as SQLite's table, statistics, and the table into shared buffers -----------
  auto t_prep = Clock::now();
  if (!exec_ok(conn, "ALTER TABLE obs ADD PRIMARY KEY (period, unit)", r) ||
      !exec_ok(conn, "VACUUM ANALYZE obs", r))
    return r;
  bool prewarmed = exec_ok(conn, "CREATE EXTENSION IF NOT EXISTS pg_prewarm", r) &&
                   exec_ok(conn, "SELECT pg_prewarm('obs')", r, PGRES_TUPLES_OK);
  r.why_not.clear();
  const double prep_ms = ms_since(t_prep);

  const std::string sql = county_growth_sql(K);
  // The plan's join, parallel workers and whether JIT compiles the expressions, for the report.
  std::string join = "?", workers = "0";
  bool jit = false;
  {
    PGresult* res = PQexec(conn, ("EXPLAIN " + sql).c_str());
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(res); ++i) {
        const std::string line = PQgetvalue(res, i, 0);
        for (const char* node : {"Parallel Hash Join", "Hash Join", "Merge Join", "Nested Loop"})
          if (line.find(node) != std::string::npos && join == "?") join = node;
        const auto w = line.find("Workers Planned: ");
        if (w != std::string::npos) workers = line.substr(w + 17);
        jit = jit || line.find("JIT:") != std::string::npos;
      }
    PQclear(res);
  }
  const std::string plan = join + ", " + workers + " workers planned, JIT " + (jit ? "on" : "off");
  r.setup = "throwaway server on 127.0.0.1:" + std::to_string(port) +
            ", fsync off, shared_buffers " + std::to_string(shared_gb) + "GB, work_mem 1GB, " +
            "max_parallel_workers_per_gather " + std::to_string(o.threads) + "; plan: " + plan;
  if (!extra_settings.empty()) r.setup += "; CUBE_BENCH_PG_SETTINGS: " + extra_settings;
  r.load_note = "binary COPY through libpq; then primary key (period, unit), VACUUM ANALYZE" +
                std::string(prewarmed ? ", pg_prewarm" : "") + ": " +
                std::to_string(static_cast<long>(prep_ms)) + " ms more";

  // CPU time of a run: the backend's own, plus the postmaster's reaped children (the parallel
  // workers exit after each query).
  long postmaster = 0;
  {
    std::ifstream pidfile(server.data() + "/postmaster.pid");
    pidfile >> postmaster;
  }
  const long backend = PQbackendPID(conn);
  auto server_cpu = [&] {
    const double a = proc_cpu_ms(postmaster, true), b = proc_cpu_ms(backend, false);
    return a < 0 || b < 0 ? -1.0 : a + b;
  };
  for (int run = 0; run <= o.runs; ++run) {
    const double cpu0 = server_cpu();
    auto t = Clock::now();
    PGresult* res = PQexec(conn, sql.c_str());
    const double ms = ms_since(t);
    const double cpu1 = server_cpu();
    if (run > 0 && cpu0 >= 0 && cpu1 >= 0) r.query_cpu_ms.push_back(cpu1 - cpu0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      r.why_not = std::string("query: ") + PQerrorMessage(conn);
      PQclear(res);
      return r;
    }
    if (run > 0) r.query_ms.push_back(ms);  // run 0 is the warm-up
    r.county.clear();
    for (int i = 0; i < PQntuples(res); ++i) {
      auto num = [&](int col) {
        return PQgetisnull(res, i, col) ? 0.0 : std::strtod(PQgetvalue(res, i, col), nullptr);
      };
      r.county.push_back(
          {static_cast<std::uint32_t>(std::strtoul(PQgetvalue(res, i, 0), nullptr, 10)), num(1),
           num(2)});
    }
    PQclear(res);
  }
  r.ran = true;
  return r;
}

}  // namespace statgov::bench

#else  // built without libpq-dev

namespace statgov::bench {
PeerResult run_postgres(const cube::Cube&, const cube::Cube&, const PeerOptions&) {
  PeerResult r;
  r.name = "PostgreSQL";
  r.why_not = "cube_bench was built without libpq (apt-get install libpq-dev, then reconfigure)";
  return r;
}
}  // namespace statgov::bench

#endif
