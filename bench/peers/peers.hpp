// Peers of cube_bench section (f): the county rollup with comparable-unit growth run in another
// engine on the same generated rows, timed, and cross-checked against the cube. SQLite lives in
// cube_bench.cpp; PostgreSQL (a throwaway server started and removed by the benchmark, through
// libpq) and DuckDB (through the npm package @duckdb/node-api, run by node on duckdb_query.mjs)
// live here. Nothing in src/ depends on this folder.
#pragma once

#include "cube/cube.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace statgov::bench {

// One county row of the peer's answer, indicator 0 only (what the cross-check compares).
struct PeerCounty {
  std::uint32_t county = 0;
  double current0 = 0;   // SUM of current values of units comparable on indicator 0
  double previous0 = 0;  // SUM of their previous values
};

struct PeerResult {
  std::string name;  // "PostgreSQL", "DuckDB"
  bool ran = false;  // false: `why_not` says why (not installed, failed, ...)
  std::string why_not;
  std::string version;               // the engine's own version string
  std::string setup;                 // one line on how it was configured
  double load_ms = 0;                // rows into the engine (bulk load)
  std::string load_note;             // how, and what else was done before the query (and its time)
  std::vector<double> query_ms;      // timed runs after one warm-up
  std::vector<double> query_cpu_ms;  // CPU time of the same runs summed over the engine's threads
                                     // and processes (empty if unknown)
  std::vector<PeerCounty> county;    // from the last run, ordered by county
};

// The query every peer runs, the same text as SQLite's in (f): table `obs` (period 0 = previous,
// 1 = current), GROUP BY county of the current period, join on unit, accepted in both periods;
// for indicator k the columns are SUM(current where previous is not null) and SUM(previous where
// current is not null), i.e. comparable-unit sums.
std::string county_growth_sql(int indicators);

struct PeerOptions {
  int threads = 2;  // DuckDB threads; PostgreSQL max_parallel_workers_per_gather
  int runs = 3;     // timed runs after one warm-up
};

PeerResult run_postgres(const cube::Cube& cur, const cube::Cube& prev, const PeerOptions& o);
PeerResult run_duckdb(const cube::Cube& cur, const cube::Cube& prev, const PeerOptions& o);

// Prints load, median query time, the ratios to the cube's full recompute (a) in wall time
// (`cube_ms`) and CPU time (`cube_cpu_ms`), and the cross-check of indicator 0 against the cube's
// county growth (accepted).
void print_peer(const PeerResult& r, double cube_ms, double cube_cpu_ms,
                const std::vector<cube::GrowthRow>& county);

// --- shared plumbing (peers.cpp) ----------------------------------------------------------------
// A temporary folder removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const char* prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs argv[0] (searched in PATH) with stdout and stderr appended to `log` (or, when `out` is not
// null, stdout captured into *out), in folder `cwd` if not empty. Returns the exit status, or -1
// when it could not be started.
int run_command(const std::vector<std::string>& argv, const std::string& log,
                const std::string& cwd = "", std::string* out = nullptr);

// The last `lines` lines of a text file, for error messages.
std::string tail_of(const std::string& path, int lines = 8);

double median_of(std::vector<double> v);

}  // namespace statgov::bench
