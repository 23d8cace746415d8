// Options of the bench programs: `--name value` pairs, with a default when absent.
#pragma once

#include <string>

namespace statgov::bench {

inline std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + name) return argv[i + 1];
  }
  return def;
}

}  // namespace statgov::bench
