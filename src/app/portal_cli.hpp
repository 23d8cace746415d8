// Command-line wiring for release packages and the public portal (docs/publication.md):
//   statgov release keygen | verify | pack      statgov portal
// None of these opens the internal database.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace statgov::app {

class PortalCommands {
 public:
  // Adds keygen, verify and pack to the `release` group, and `portal` to the top level.
  void add(CLI::App& cli, CLI::App& release);
  // After parsing: runs the command if it is one of these and returns its exit code.
  std::optional<int> run();

 private:
  int keygen();
  int verify();
  int pack();
  int portal();

  CLI::App* keygen_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* pack_ = nullptr;
  CLI::App* portal_ = nullptr;

  std::string out_, file_, pub_, dir_, key_, agency_, release_id_, release_at_;
  std::uint64_t sequence_ = 0;
  std::string inbox_, data_, listen_ = "127.0.0.1:8090", port_file_;
  int threads_ = 8;
  int integrity_interval_ = 10;
  std::size_t max_response_bytes_ = 32 * 1024 * 1024;
  double rate_limit_ = 100;
};

}  // namespace statgov::app
