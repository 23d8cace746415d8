// Command-line wiring for the bureau's certificate authority (docs/tls-ca.md):
//   statgov ca init | issue | issue-server | revoke | crl | list
// None of these opens the database; the CA itself is security/ca.hpp.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace statgov::app {

class CaCommands {
 public:
  // Adds the `ca` group and its subcommands to the top level.
  void add(CLI::App& cli);
  // After parsing: runs the command if it is one of these and returns its exit code.
  std::optional<int> run();

 private:
  int init();
  int issue();
  int issue_server();
  int revoke();
  int crl();
  int list();

  CLI::App* ca_ = nullptr;
  CLI::App* init_ = nullptr;
  CLI::App* issue_ = nullptr;
  CLI::App* issue_server_ = nullptr;
  CLI::App* revoke_ = nullptr;
  CLI::App* crl_ = nullptr;
  CLI::App* list_ = nullptr;

  std::string dir_, name_ = "statgov CA", user_, out_, p12_password_, hosts_, serial_;
  int ca_days_ = 3650, client_days_ = 365, server_days_ = 825;
  bool json_ = false;
};

}  // namespace statgov::app
