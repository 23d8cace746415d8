#include "app/cli_common.hpp"

#include <iostream>

namespace statgov::app {

int fail(const Error& e) {
  std::cerr << "statgov: " << e.message << "\nstatgov: " << e.message_en << " [" << e.code << "]\n";
  for (const auto& d : e.details) std::cerr << "  " << d.dump() << "\n";
  return 1;
}

int fail(const std::string& zh, const std::string& en) {
  std::cerr << "statgov: " << zh << "\nstatgov: " << en << "\n";
  return 1;
}

}  // namespace statgov::app
