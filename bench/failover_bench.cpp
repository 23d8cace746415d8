// Issue #6, fault test 2, full size: a PostgreSQL 15 primary with a synchronous standby on loopback
// (deploy/pg_standby.sh), the real `statgov serve` on the multi-host URL, 200 clients submitting
// with idempotency keys for 30 s; every process of the primary is killed with SIGKILL at a random
// moment under load and the standby promoted; the same serve (not restarted) goes on against it.
// Prints how many submissions were acknowledged, found exactly once, lost, duplicated. Exit status
// 0 only if nothing was lost. Run as root (the servers run as the postgres user).
//
//   cmake --build build --target failover_bench statgov
//   ./build/bench/failover_bench --statgov ./build/statgov --data data --units 3000 --clients 200 --seconds 30
#include "fault_args.hpp"
#include "../tests/standby_pair.hpp"

#include <cstdio>
#include <iostream>
#include <random>

using statgov::bench::arg;

int main(int argc, char** argv) {
  namespace kill9 = statgov::kill9;
  kill9::Options o = statgov::bench::fault_options(argc, argv);
  o.kills = 1;  // one primary, one standby: one failover
  const std::string units = arg(argc, argv, "units", "3000");
  const std::string script = arg(argc, argv, "standby-script", "deploy/pg_standby.sh");
  const auto tmp = std::filesystem::temp_directory_path();
  kill9::StandbyPair pg(script, tmp / ("statgov-failover-" + std::to_string(getpid())));
  if (!pg.started()) {
    std::cerr << "primary + standby did not start:\n" << pg.log();
    return 2;
  }
  if (kill9::query_text(pg.server_url(pg.primary_port(), "postgres"),
                        "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'statgov_standby'") != "sync") {
    std::cerr << "the standby is not synchronous\n";
    return 2;
  }
  {
    auto admin = statgov::store::Conn::open(pg.server_url(pg.primary_port(), "postgres"), false);
    if (!admin || !admin.value()
                       .exec_script("CREATE DATABASE statgov TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
                       .ok()) {
      std::cerr << "CREATE DATABASE failed\n";
      return 2;
    }
  }
  o.db = pg.multi_host_url("statgov");
  o.dir = tmp / ("statgov-failover-serve-" + std::to_string(getpid()));
  std::filesystem::create_directories(o.dir);
  o.fault = [&] {
    if (pg.run("kill-primary") != 0) return std::string("kill-primary failed");
    if (pg.run("promote") != 0) return std::string("promote failed");
    return std::string();
  };
  std::string cmd = o.statgov + " --db '" + o.db + "' --data " + o.data + " demo --units " + units + " > /dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::cerr << "demo failed\n";
    return 2;
  }
  std::printf("failover fault test: primary :%d + synchronous standby :%d, %d clients, %.0f s, seed %u\n",
              pg.primary_port(), pg.standby_port(), o.clients, o.seconds, o.seed);
  auto n = kill9::run(o, [](const std::string& line) { std::printf("  %s\n", line.c_str()); });
  std::printf("acknowledged %ld (of which after the promotion %ld)  503 answers retried with the same key %ld  "
              "transport failures %ld  unanswered at the end %ld  rejected %ld\n",
              n.acknowledged, n.acknowledged_after, n.unavailable, n.interrupted, n.unknown, n.rejected);
  std::printf("found exactly once %ld  lost %ld  duplicated %ld  wrong values %ld  retry answered another %ld  "
              "half-written %ld\n",
              n.found, n.lost, n.duplicated, n.wrong_values, n.retry_differs, n.half_written);
  const bool pass = n.ok() && n.found == n.acknowledged + n.unknown && n.acknowledged_after > 0;
  std::printf("%s\n", pass ? "PASS" : "FAIL");
  std::filesystem::remove_all(o.dir);
  return pass ? 0 : 1;
}
