// Issue #6, fault test 1, full size: 200 clients submit to the real `statgov serve` for 30 s while it
// is killed with SIGKILL several times and restarted on the same file; then prints how many
// submissions were acknowledged, found exactly once, lost. Exit status 0 only if nothing was lost.
//
//   cmake --build build --target kill9_bench statgov
//   ./build/bench/kill9_bench --statgov ./build/statgov --data data --units 3000 --clients 200 --seconds 30 --kills 5
#include "fault_args.hpp"

#include <cstdio>
#include <iostream>
#include <random>

using statgov::bench::arg;

int main(int argc, char** argv) {
  namespace kill9 = statgov::kill9;
  kill9::Options o = statgov::bench::fault_options(argc, argv);
  o.kills = std::stoi(arg(argc, argv, "kills", "5"));
  const std::string units = arg(argc, argv, "units", "3000");
  o.dir = std::filesystem::temp_directory_path() / ("statgov-kill9-" + std::to_string(getpid()));
  std::filesystem::create_directories(o.dir);
  o.db = (o.dir / "k.db").string();
  std::string cmd = o.statgov + " --db " + o.db + " --data " + o.data + " demo --units " + units + " > /dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::cerr << "demo failed\n";
    return 2;
  }
  std::printf("kill -9 fault test: %d clients, %.0f s, %d kills, seed %u\n", o.clients, o.seconds, o.kills, o.seed);
  auto n = kill9::run(o, [](const std::string& line) { std::printf("  %s\n", line.c_str()); });
  std::printf("acknowledged %ld  in flight at a kill (retried with the same key) %ld  unanswered at the end %ld  "
              "rejected %ld\n",
              n.acknowledged, n.interrupted, n.unknown, n.rejected);
  std::printf("found exactly once %ld  lost %ld  duplicated %ld  wrong values %ld  retry answered another %ld  "
              "half-written %ld  integrity_check %s\n",
              n.found, n.lost, n.duplicated, n.wrong_values, n.retry_differs, n.half_written, n.integrity.c_str());
  std::printf("%s\n", n.ok() && n.found == n.acknowledged + n.unknown ? "PASS" : "FAIL");
  if (n.ok()) std::filesystem::remove_all(o.dir);
  return n.ok() && n.found == n.acknowledged + n.unknown ? 0 : 1;
}
