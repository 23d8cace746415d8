// DuckDB peer: writes the rows to a temporary CSV (shortest round-trip decimal, so DuckDB reads
// back the very same doubles), runs duckdb_query.mjs under node with the npm package
// @duckdb/node-api from bench/peers/node_modules, and reads its JSON answer.
#include "peers/peers.hpp"

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#ifndef SG_BENCH_PEERS_DIR
#define SG_BENCH_PEERS_DIR "bench/peers"
#endif

namespace statgov::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Rows [lo, hi) of one period as CSV lines into `out`.
void format_rows(const cube::Cube& c, int period, std::uint32_t lo, std::uint32_t hi,
                 std::string& out) {
  char buf[32];
  auto put = [&](auto v) {
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  };
  for (std::uint32_t r = lo; r < hi; ++r) {
    const cube::UnitDims d = c.row_dims(r);
    put(period);
    out += ',';
    put(c.row_id(r));
    out += ',';
    put(d.township / 1000);
    out += ',';
    put(d.township);
    out += ',';
    put(static_cast<int>(d.division));
    out += ',';
    put(static_cast<int>(d.size));
    out += ',';
    put(static_cast<int>(c.row_state(r)));
    for (int k = 0; k < c.indicators(); ++k) {
      out += ',';
      const double v = c.value(r, k);
      if (!std::isnan(v)) put(v);  // empty field: NULL
    }
    out += '\n';
  }
}

// Both periods (previous = 0, then current = 1), formatted by `threads` threads in blocks and
// written in order.
bool write_csv(const cube::Cube& cur, const cube::Cube& prev, const std::string& path,
               int threads) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = true;
  const std::uint32_t block = 16384;
  const int t_count = std::max(1, threads);
  std::vector<std::string> parts(static_cast<std::size_t>(t_count));
  int period = 0;
  for (const cube::Cube* c : {&prev, &cur}) {
    const auto n = static_cast<std::uint32_t>(c->units());
    for (std::uint32_t lo = 0; lo < n; lo += block * static_cast<std::uint32_t>(t_count)) {
      std::vector<std::thread> pool;
      for (int t = 0; t < t_count; ++t) {
        const std::uint32_t a = std::min(n, lo + block * static_cast<std::uint32_t>(t));
        const std::uint32_t b = std::min(n, a + block);
        parts[t].clear();
        pool.emplace_back(format_rows, std::cref(*c), period, a, b, std::ref(parts[t]));
      }
      for (auto& th : pool) th.join();
      for (const std::string& p : parts)
        ok = ok && std::fwrite(p.data(), 1, p.size(), f) == p.size();
    }
    ++period;
  }
  return std::fclose(f) == 0 && ok;
}

}  // namespace

PeerResult run_duckdb(const cube::Cube& cur, const cube::Cube& prev, const PeerOptions& o) {
  PeerResult r;
  r.name = "DuckDB";
  const char* env_dir = std::getenv("CUBE_BENCH_PEERS_DIR");
  const std::string dir = env_dir && *env_dir ? env_dir : SG_BENCH_PEERS_DIR;
  const std::string script = dir + "/duckdb_query.mjs";
  if (access(script.c_str(), R_OK) != 0) {
    r.why_not = "no " + script + " (set CUBE_BENCH_PEERS_DIR to the bench/peers folder)";
    return r;
  }
  if (access((dir + "/node_modules/@duckdb/node-api/package.json").c_str(), R_OK) != 0) {
    r.why_not = "the npm package @duckdb/node-api is not installed in " + dir +
                " (run: npm ci --prefix " + dir + ")";
    return r;
  }
  TempDir tmp("cube_bench_duckdb");
  if (!tmp.ok()) {
    r.why_not = "could not create a temporary folder";
    return r;
  }
  const std::string csv = tmp.path() + "/obs.csv", sql = tmp.path() + "/query.sql",
                    log = tmp.path() + "/node.log";
  auto t_csv = Clock::now();
  if (!write_csv(cur, prev, csv, o.threads)) {
    r.why_not = "could not write " + csv;
    return r;
  }
  const double csv_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_csv).count();
  {
    std::ofstream q(sql);
    q << county_growth_sql(cur.indicators());
    if (!q) {
      r.why_not = "could not write " + sql;
      return r;
    }
  }
  std::string out;
  const int rc = run_command(
      {"node", script, "--csv", csv, "--indicators", std::to_string(cur.indicators()), "--sql", sql,
       "--threads", std::to_string(o.threads), "--runs", std::to_string(o.runs)},
      log, dir, &out);
  if (rc != 0) {
    r.why_not = (rc == 127 ? std::string("node could not be started")
                           : "node exited with status " + std::to_string(rc)) +
                ":" + tail_of(log);
    return r;
  }
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("query_ms") || !j.contains("county")) {
    r.why_not = "unexpected output from duckdb_query.mjs: " + out.substr(0, 200);
    return r;
  }
  r.version = j.value("version", std::string("?"));
  r.load_ms = j.value("load_ms", 0.0);
  for (const auto& t : j["query_ms"]) r.query_ms.push_back(t.get<double>());
  if (j.contains("query_cpu_ms"))
    for (const auto& t : j["query_cpu_ms"]) r.query_cpu_ms.push_back(t.get<double>());
  for (const auto& c : j["county"])
    r.county.push_back({c[0].get<std::uint32_t>(), c[1].get<double>(), c[2].get<double>()});
  r.setup = "@duckdb/node-api under node, in memory, threads = " + std::to_string(o.threads);
  r.load_note = "read_csv into an in-memory table (the CSV, " +
                std::to_string(static_cast<long>(std::lround(csv_ms))) +
                " ms to write, is not counted); no index (DuckDB joins by hashing)";
  r.ran = true;
  return r;
}

}  // namespace statgov::bench
