// Cube benchmark (issue 4): prints figures, it is not a test. One run, same data for every figure:
//   (a) full recompute of all rollups with comparable-unit growth, (b) a bare sum over the same
//   columns (memory-bandwidth reference) and a/b, (c) rollup answered from maintained cells,
//   (d) one submission applied, (e) memory per unit, (f) the same rollup-with-growth in SQLite
//   (and PostgreSQL, DuckDB: bench/peers/).
// Usage: cube_bench [--units N] [--indicators K] [--threads T] [--seed S] [--no-sqlite]
//                   [--malloc-defaults]
//                   [--peers sqlite,postgres,duckdb]   (default: sqlite)
//        (CUBE_BENCH_UNITS overrides the default N = 1,000,000.)
#include "cube/cube.hpp"
#include "peers/peers.hpp"

#include <malloc.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace statgov::cube;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Process CPU time: on this shared machine, wall time includes waiting for a core.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

struct Options {
  std::size_t units = 1'000'000;
  int indicators = 50;
  int threads = 2;
  std::uint64_t seed = 20261126;
  bool sqlite = true;
  bool postgres = false;  // --peers: bench/peers/postgres_peer.cpp
  bool duckdb = false;    // bench/peers/duckdb_peer.cpp
  bool keep_heap = true;  // --malloc-defaults clears it; see (a)
};

// "--peers sqlite,postgres,duckdb" (or "none"); false on an unknown name.
bool parse_peers(std::string list, Options& o) {
  o.sqlite = o.postgres = o.duckdb = false;
  list += ',';
  for (std::size_t at = 0, comma = 0; (comma = list.find(',', at)) != std::string::npos;
       at = comma + 1) {
    const std::string name = list.substr(at, comma - at);
    if (name == "sqlite")
      o.sqlite = true;
    else if (name == "postgres" || name == "postgresql")
      o.postgres = true;
    else if (name == "duckdb")
      o.duckdb = true;
    else if (name != "none" && !name.empty())
      return false;
  }
  return true;
}

// Zhuzhou's nine counties; 8 to 20 townships each.
const std::uint32_t kCounties[] = {430202, 430203, 430204, 430211, 430212,
                                   430223, 430224, 430225, 430281};

struct Generator {
  std::mt19937_64 rng;
  std::vector<std::uint32_t> townships;
  explicit Generator(std::uint64_t seed) : rng(seed) {
    for (std::uint32_t c : kCounties) {
      const int n = 8 + static_cast<int>(rng() % 13);
      for (int t = 1; t <= n; ++t) townships.push_back(c * 1000 + static_cast<std::uint32_t>(t));
    }
  }
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  UnitDims dims() {
    // Sizes skewed as in a business register: few large, most micro.
    const double s = uniform();
    const std::uint8_t size = s < 0.02 ? 1 : s < 0.12 ? 2 : s < 0.42 ? 3 : 4;
    return {townships[rng() % townships.size()], static_cast<std::uint8_t>(1 + rng() % 97), size};
  }
  State state() {
    const double s = uniform();
    if (s < 0.80) return State::accepted;
    if (s < 0.86) return State::approved;
    if (s < 0.89) return State::reviewed;
    if (s < 0.92) return State::submitted;
    if (s < 0.95) return State::draft;
    if (s < 0.97) return State::returned;
    return State::not_started;
  }
  // Log-normal levels; 5 % missing.
  void values(std::vector<double>& v) {
    std::lognormal_distribution<double> level(6.0, 2.0);
    for (auto& x : v) x = uniform() < 0.05 ? std::numeric_limits<double>::quiet_NaN() : level(rng);
  }
};

// The memory-bandwidth reference: each thread sums its half of every column (NaN as 0), with
// independent accumulators so the adds don't serialise.
double bare_sum(const Cube& a, const Cube& b, int threads) {
  std::vector<double> part(static_cast<std::size_t>(threads), 0.0);
  auto work = [&](int t) {
    double acc[8] = {};
    for (const Cube* c : {&a, &b}) {
      const std::size_t n = c->units();
      const std::size_t lo = n * t / threads, hi = n * (t + 1) / threads;
      for (int k = 0; k < c->indicators(); ++k) {
        const double* x = c->column(k).data();
        std::size_t i = lo;
        for (; i + 8 <= hi; i += 8)
          for (int j = 0; j < 8; ++j) acc[j] += x[i + j] == x[i + j] ? x[i + j] : 0.0;
        for (; i < hi; ++i) acc[0] += x[i] == x[i] ? x[i] : 0.0;
      }
    }
    double s = 0;
    for (double v : acc) s += v;
    part[t] = s;
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  double s = 0;
  for (double v : part) s += v;
  return s;
}

const Rollup kAll[] = {Rollup::city,     Rollup::county, Rollup::township,         Rollup::section,
                       Rollup::division, Rollup::size,   Rollup::county_by_section};

// (a): recompute every cell from the rows, then read all 7 rollups x 2 state groups, with growth.
std::size_t recompute_all(const Cube& cur, const Cube& prev, int threads) {
  PairCells cells = recompute_pair(cur, prev, threads);
  // All 7 rollups of a kind at once (one read of each grid; the same rows as one by one), the six
  // sets of tables on the threads.
  const StateGroup groups[] = {StateGroup::accepted, StateGroup::submitted_or_later};
  std::size_t rows = 0;
  for (const PairTables& p :
       pair_rollups(cells, cur.dictionaries(), prev.dictionaries(), kAll, groups, threads)) {
    for (const auto* set : {&p.current, &p.previous})
      for (const auto& t : *set) rows += t.size();
    for (const auto& t : p.growth) rows += t.size();
  }
  return rows;
}

int check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
  return rc;
}

// (f): a wide table, one row per (period, unit), one column per indicator; the county rollup with
// comparable-unit growth for every indicator, accepted reports only, as one query.
void sqlite_compare(const Cube& cur, const Cube& prev, double cube_ms,
                    const std::vector<GrowthRow>& cube_county) {
  const int K = cur.indicators();
  sqlite3* db = nullptr;
  check(sqlite3_open(":memory:", &db), db, "open");
  std::string ddl =
      "CREATE TABLE obs(period INTEGER, unit INTEGER, county INTEGER, township INTEGER, "
      "division INTEGER, size INTEGER, state INTEGER";
  for (int k = 0; k < K; ++k) ddl.append(", v").append(std::to_string(k)).append(" REAL");
  ddl += ", PRIMARY KEY(period, unit))";
  check(sqlite3_exec(db,
                     "PRAGMA cache_size=-4000000; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;",
                     nullptr, nullptr, nullptr),
        db, "pragma");
  check(sqlite3_exec(db, ddl.c_str(), nullptr, nullptr, nullptr), db, "create");
  std::string ins = "INSERT INTO obs VALUES(?,?,?,?,?,?,?";
  for (int k = 0; k < K; ++k) ins += ",?";
  ins += ")";
  sqlite3_stmt* st = nullptr;
  check(sqlite3_prepare_v2(db, ins.c_str(), -1, &st, nullptr), db, "prepare insert");
  auto t_load = Clock::now();
  check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  int period = 0;
  for (const Cube* c : {&prev, &cur}) {
    for (std::uint32_t r = 0; r < c->units(); ++r) {
      const UnitDims d = c->row_dims(r);
      sqlite3_bind_int(st, 1, period);
      sqlite3_bind_int64(st, 2, c->row_id(r));
      sqlite3_bind_int(st, 3, static_cast<int>(d.township / 1000));
      sqlite3_bind_int(st, 4, static_cast<int>(d.township));
      sqlite3_bind_int(st, 5, d.division);
      sqlite3_bind_int(st, 6, d.size);
      sqlite3_bind_int(st, 7, static_cast<int>(c->row_state(r)));
      for (int k = 0; k < K; ++k) {
        const double v = c->value(r, k);
        if (std::isnan(v))
          sqlite3_bind_null(st, 8 + k);
        else
          sqlite3_bind_double(st, 8 + k, v);
      }
      check(sqlite3_step(st), db, "insert");
      sqlite3_reset(st);
    }
    ++period;
  }
  check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_finalize(st);
  const double load_ms = ms_since(t_load);

  const int accepted = static_cast<int>(State::accepted);
  std::string q = "SELECT c.county";
  for (int k = 0; k < K; ++k) {
    // Appends only: g++ 12 warns (-Wrestrict, a false positive) on chains of string operator+.
    const std::string v = std::to_string(k);
    q.append(", SUM(CASE WHEN p.v")
        .append(v)
        .append(" IS NOT NULL THEN c.v")
        .append(v)
        .append(" END)");
    q.append(", SUM(CASE WHEN c.v")
        .append(v)
        .append(" IS NOT NULL THEN p.v")
        .append(v)
        .append(" END)");
  }
  q += " FROM obs c JOIN obs p ON p.period = 0 AND p.unit = c.unit AND p.state = " +
       std::to_string(accepted) + " WHERE c.period = 1 AND c.state = " + std::to_string(accepted) +
       " GROUP BY c.county ORDER BY c.county";
  check(sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr), db, "prepare query");
  auto t_q = Clock::now();
  double max_rel = 0;
  std::size_t i = 0;
  while (check(sqlite3_step(st), db, "query") == SQLITE_ROW) {
    // Cross-check indicator 0 against the cube's county growth.
    const double cur0 = sqlite3_column_double(st, 1), prev0 = sqlite3_column_double(st, 2);
    if (i < cube_county.size()) {
      max_rel =
          std::max(max_rel, std::fabs(cur0 - cube_county[i].current[0]) / (std::fabs(cur0) + 1));
      max_rel =
          std::max(max_rel, std::fabs(prev0 - cube_county[i].previous[0]) / (std::fabs(prev0) + 1));
    }
    ++i;
  }
  const double q_ms = ms_since(t_q);
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::printf(
      "(f) SQLite %s (in memory, wide table, %zu county rows): load %.0f ms; query %.0f ms\n",
      sqlite3_libversion(), i, load_ms, q_ms);
  std::printf("    ratio SQLite county query / cube full recompute of all rollups (a): %.1fx\n",
              q_ms / cube_ms);
  std::printf(
      "    cross-check vs cube county growth, indicator 0: %s (max relative difference %.1e)\n",
      i == cube_county.size() && max_rel < 1e-9 ? "equal" : "DIFFERENT", max_rel);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const char* e = std::getenv("CUBE_BENCH_UNITS")) o.units = std::strtoull(e, nullptr, 10);
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? argv[++i] : ""; };
    if (!std::strcmp(argv[i], "--units"))
      o.units = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--indicators"))
      o.indicators = std::atoi(next());
    else if (!std::strcmp(argv[i], "--threads"))
      o.threads = std::atoi(next());
    else if (!std::strcmp(argv[i], "--seed"))
      o.seed = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--no-sqlite"))
      o.sqlite = false;
    else if (!std::strcmp(argv[i], "--malloc-defaults"))
      o.keep_heap = false;
    else if (!std::strcmp(argv[i], "--peers") && parse_peers(next(), o))
      continue;
    else {
      std::fprintf(stderr,
                   "usage: cube_bench [--units N] [--indicators K] [--threads T] [--seed S] "
                   "[--no-sqlite] [--peers sqlite,postgres,duckdb] [--malloc-defaults]\n");
      return 2;
    }
  }
  const int K = o.indicators;
  const std::size_t N = o.units;
  std::printf(
      "cube_bench: N = %zu units, K = %d indicators, 2 periods, %d threads, %u hardware threads\n",
      N, K, o.threads, std::thread::hardware_concurrency());
  // The recompute kernel has AVX-512, AVX2 and baseline x86-64 (SSE2) builds, chosen at run time.
  std::printf("recompute kernel: %s (the best this CPU runs; chosen at run time)\n",
              recompute_kernel());

  // --- generate and load ------------------------------------------------------------------------
  // The previous period: 97 % of the current units (3 % are new this year) plus 3 % that have
  // since gone; 2 % moved township (often county), 1 % changed 大类. Growth ~ N(5 %, 10 %).
  const long rss0 = rss_kb();
  Generator gen(o.seed);
  Cube cur(K), prev(K);
  cur.reserve(N);
  prev.reserve(N);
  std::vector<double> v(static_cast<std::size_t>(K)), w(static_cast<std::size_t>(K));
  auto t_load = Clock::now();
  std::normal_distribution<double> growth(0.05, 0.10);
  for (std::size_t i = 0; i < N; ++i) {
    const UnitId id = static_cast<UnitId>(i + 1);
    const UnitDims d = gen.dims();
    gen.values(v);
    if (gen.uniform() < 0.97) {
      UnitDims pd = d;
      const double m = gen.uniform();
      if (m < 0.02)
        pd.township = gen.dims().township;
      else if (m < 0.03)
        pd.division = static_cast<std::uint8_t>(1 + gen.rng() % 97);
      for (int k = 0; k < K; ++k)
        w[k] = std::isnan(v[k]) || gen.uniform() < 0.03 ? v[k] : v[k] / (1 + growth(gen.rng));
      if (prev.upsert({id, pd, w, gen.state()}).ok() == false) return 1;
    }
    if (!cur.upsert({id, d, v, gen.state()}).ok()) return 1;
  }
  for (std::size_t i = 0; i < N * 3 / 100; ++i) {  // units gone since last year
    gen.values(w);
    if (!prev.upsert({static_cast<UnitId>(N + 1 + i), gen.dims(), w, gen.state()}).ok()) return 1;
  }
  const double load_ms = ms_since(t_load);
  auto t_align = Clock::now();
  cur.cluster();
  prev.align_to(cur);
  const double align_ms = ms_since(t_align);
  std::printf(
      "load (row by row through upsert): %.0f ms; cluster current rows by cell and align the "
      "previous\n"
      "period to them (load-time, once): %.0f ms\n",
      load_ms, align_ms);
  std::printf("current: %zu units, previous: %zu units\n", cur.units(), prev.units());

  // --- (a) and (b), interleaved so both see the same machine state
  // ----------------------------------
  std::vector<double> ta, tb, ca, cb;
  // Each recompute allocates about 40 MB of fresh cells and frees them when its tables are read.
  // With glibc's defaults that memory can go back to the kernel after every call and return as
  // zero-filled page faults (thousands per call; 5 to 20 % of (a)'s CPU in runs here). A server
  // that recomputes often can keep its heap the same way; the benchmark does so while it times
  // (a) and (b), and restores the defaults afterwards (before (e) measures memory).
  // --malloc-defaults keeps glibc's defaults throughout.
  if (o.keep_heap) {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  std::size_t rows = 0;
  double sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t = Clock::now();
    double c = cpu_ms();
    rows = recompute_all(cur, prev, o.threads);
    ta.push_back(ms_since(t));
    ca.push_back(cpu_ms() - c);
    t = Clock::now();
    c = cpu_ms();
    sink += bare_sum(cur, prev, o.threads);
    tb.push_back(ms_since(t));
    cb.push_back(cpu_ms() - c);
  }
  if (o.keep_heap) {
    mallopt(M_TRIM_THRESHOLD, 128 << 10);  // glibc's default
    malloc_trim(0);
  }
  const double a = median(ta), b = median(tb);
  std::printf(
      "(a) full recompute, all rollups (city, county, township, section, division, size, county x "
      "section;\n"
      "    accepted and submitted-or-later; current, previous and comparable growth; %zu rows): "
      "%.1f ms (median of 5; min %.1f)\n",
      rows, a, *std::min_element(ta.begin(), ta.end()));
  std::printf(
      "(b) bare sum over the same %d columns x 2 periods: %.1f ms (median of 5; min %.1f); a/b = "
      "%.2f%s\n",
      K, b, *std::min_element(tb.begin(), tb.end()), a / b, sink == 0.12345 ? " " : "");
  std::printf(
      "    CPU time summed over threads (median): recompute %.1f ms, bare sum %.1f ms, ratio "
      "%.2f\n",
      median(ca), median(cb), median(ca) / median(cb));
  {
    auto t = Clock::now();
    ComparableCells c1 = recompute_comparable(cur, prev, 1);
    std::printf("    single-threaded recompute of current + comparable cells alone: %.1f ms\n",
                ms_since(t));
  }

  // --- (c) rollups from maintained cells ---------------------------------------------------------
  auto t_pair = Clock::now();
  CubePair pair(cur, prev);
  std::printf("pair set-up (comparable cells from rows, 1 thread): %.0f ms\n", ms_since(t_pair));
  auto time_us = [](auto&& f, int reps) {
    auto t = Clock::now();
    std::size_t n = 0;
    for (int i = 0; i < reps; ++i) n += f();
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t).count() / reps;
    return std::pair<double, std::size_t>{us, n};
  };
  const int reps = 200;
  auto [c_county, n1] =
      time_us([&] { return cur.rollup(Rollup::county, StateGroup::accepted).size(); }, reps);
  auto [c_growth, n2] =
      time_us([&] { return pair.growth(Rollup::county, StateGroup::accepted).size(); }, reps);
  auto [c_cxs, n3] = time_us(
      [&] { return pair.growth(Rollup::county_by_section, StateGroup::submitted_or_later).size(); },
      reps);
  auto [c_town, n4] =
      time_us([&] { return pair.growth(Rollup::township, StateGroup::accepted).size(); }, reps);
  std::printf(
      "(c) rollup from maintained cells (mean of %d): county sums %.0f us; county growth %.0f us;\n"
      "    county x section growth %.0f us; township growth %.0f us\n",
      reps, c_county, c_growth, c_cxs, c_town);
  (void)n1, (void)n2, (void)n3, (void)n4;

  // --- (d) one submission ------------------------------------------------------------------------
  // Revisions of random existing units: new values for all K, a new state for 30 %, a new
  // classification for 2 %, alternating periods 9:1. Inputs are generated before the clock starts.
  const int M = 200'000;
  const int pool_rows = 4096;
  std::vector<double> pool(static_cast<std::size_t>(pool_rows) * K);
  for (int p = 0; p < pool_rows; ++p) {
    gen.values(v);
    std::copy(v.begin(), v.end(), pool.begin() + static_cast<long>(p) * K);
  }
  struct Op {
    UnitId id;
    UnitDims dims;
    State state;
    bool current;
  };
  std::vector<Op> ops(M);
  for (auto& op : ops) {
    op.current = gen.uniform() < 0.9;
    const Cube& c = op.current ? cur : prev;
    const std::uint32_t r = static_cast<std::uint32_t>(gen.rng() % c.units());
    op.id = c.row_id(r);
    op.dims = gen.uniform() < 0.02 ? gen.dims() : c.row_dims(r);
    op.state = gen.uniform() < 0.3 ? gen.state() : c.row_state(r);
  }
  auto t_sub = Clock::now();
  int failed = 0;
  for (int i = 0; i < M; ++i) {
    const Op& op = ops[i];
    UnitRow row{op.id,
                op.dims,
                {pool.data() + static_cast<long>(i % pool_rows) * K, static_cast<std::size_t>(K)},
                op.state};
    failed += !(op.current ? pair.upsert_current(row) : pair.upsert_previous(row)).ok();
  }
  const double sub_us = std::chrono::duration<double, std::micro>(Clock::now() - t_sub).count() / M;
  std::printf(
      "(d) one submission applied through CubePair::upsert_* (cube cells + comparable cells): %.2f "
      "us "
      "(mean of %d; %d refused)\n",
      sub_us, M, failed);

  // --- (e) memory
  // ---------------------------------------------------------------------------------
  const double per_unit =
      static_cast<double>(cur.memory_bytes()) / static_cast<double>(cur.units());
  std::printf(
      "(e) memory per unit (current cube: rows, cells, indexes): %.1f bytes = %.3f x raw (8 x K = "
      "%d bytes)\n",
      per_unit, per_unit / (8.0 * K), 8 * K);
  const double rss_per = (static_cast<double>(rss_kb() - rss0) * 1024.0) /
                         static_cast<double>(cur.units() + prev.units());
  std::printf(
      "    process RSS growth / units of both periods: %.1f bytes = %.3f x raw (includes benchmark "
      "buffers)\n",
      rss_per, rss_per / (8.0 * K));

  // --- (f) SQLite and the other peers
  // -----------------------------------------------------------------------------------
  if (o.sqlite || o.postgres || o.duckdb) {
    // The recompute's county growth (accepted) is what the peers must reproduce; read it from
    // fresh cells since (d) changed the cubes.
    PairCells cells = recompute_pair(cur, prev, o.threads);
    auto county =
        growth_rollup(cells.comparable, cur.dictionaries(), Rollup::county, StateGroup::accepted);
    if (o.sqlite) sqlite_compare(cur, prev, a, county);
    namespace peers = statgov::bench;
    const peers::PeerOptions po{o.threads, 3};
    const double a_cpu = median(ca);
    if (o.postgres) peers::print_peer(peers::run_postgres(cur, prev, po), a, a_cpu, county);
    if (o.duckdb) peers::print_peer(peers::run_duckdb(cur, prev, po), a, a_cpu, county);
  }
  return 0;
}
