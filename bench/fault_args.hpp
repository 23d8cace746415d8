// The fault benches' (kill9_bench, failover_bench) shared options.
#pragma once

#include "../tests/kill9_driver.hpp"
#include "args.hpp"

#include <random>
#include <string>

namespace statgov::bench {

// The fault benches' common options (--statgov --data --clients --seconds --seed), on top of the
// driver's defaults; each bench sets the rest (kills, where the database lives).
inline kill9::Options fault_options(int argc, char** argv) {
  kill9::Options o;
  o.statgov = arg(argc, argv, "statgov", "./build/statgov");
  o.data = arg(argc, argv, "data", "data");
  o.clients = std::stoi(arg(argc, argv, "clients", "200"));
  o.seconds = std::stod(arg(argc, argv, "seconds", "30"));
  o.seed = static_cast<unsigned>(std::stoul(arg(argc, argv, "seed", std::to_string(std::random_device{}()))));
  return o;
}

}  // namespace statgov::bench
