#include "app/ca_cli.hpp"

#include "app/cli_common.hpp"

#include "base/clock.hpp"
#include "security/ca.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

namespace statgov::app {

namespace {

nlohmann::json entry_json(const security::CaCertEntry& e) {
  return {{"serial", e.serial},         {"kind", e.kind},           {"subject", e.subject},
          {"not_before", e.not_before}, {"not_after", e.not_after}, {"revoked_at", e.revoked_at}};
}

}  // namespace

void CaCommands::add(CLI::App& cli) {
  ca_ = cli.add_subcommand("ca", "the bureau's certificate authority for staff client certificates (CA身份认证)");
  ca_->require_subcommand(1);
  auto dir = [this](CLI::App* c) { c->add_option("--dir", dir_, "CA folder (ca.key, ca.pem, crl.pem, index.json)")->required(); };

  init_ = ca_->add_subcommand("init", "create the CA key, its self-signed certificate and an empty revocation list");
  dir(init_);
  init_->add_option("--name", name_, "CA name (certificate CN), e.g. \"株洲市统计局 CA\"")->capture_default_str();
  init_->add_option("--days", ca_days_, "validity in days")->capture_default_str();

  issue_ = ca_->add_subcommand("issue", "issue a staff client certificate (CN = login): LOGIN.key, LOGIN.pem, LOGIN.p12");
  dir(issue_);
  issue_->add_option("--user", user_, "the account's login")->required();
  issue_->add_option("--out", out_, "folder for the key, certificate and PKCS#12 bundle")->required();
  issue_->add_option("--days", client_days_, "validity in days")->capture_default_str();
  issue_->add_option("--p12-password", p12_password_, "password of the .p12 bundle (default: generated and printed once)");

  issue_server_ = ca_->add_subcommand("issue-server", "issue the server certificate for serve --tls-cert: server.key, server.pem");
  dir(issue_server_);
  issue_server_->add_option("--host", hosts_, "host names and IP addresses, comma-separated, e.g. stats.example.gov.cn,10.0.0.5")
      ->required();
  issue_server_->add_option("--out", out_, "folder for server.key and server.pem (default: the CA folder)");
  issue_server_->add_option("--days", server_days_, "validity in days")->capture_default_str();

  revoke_ = ca_->add_subcommand("revoke", "revoke a certificate and rewrite crl.pem (serve picks it up without restart)");
  dir(revoke_);
  auto* serial = revoke_->add_option("--serial", serial_, "serial number (hex, as ca list prints it)");
  auto* user = revoke_->add_option("--user", user_, "revoke every valid certificate of this login");
  serial->excludes(user);
  user->excludes(serial);

  crl_ = ca_->add_subcommand("crl", "re-sign crl.pem with a fresh validity period (yearly)");
  dir(crl_);

  list_ = ca_->add_subcommand("list", "list the certificates issued, with their state");
  dir(list_);
  list_->add_flag("--json", json_, "print JSON");
}

std::optional<int> CaCommands::run() {
  if (!ca_ || !ca_->parsed()) return std::nullopt;
  if (init_->parsed()) return init();
  if (issue_->parsed()) return issue();
  if (issue_server_->parsed()) return issue_server();
  if (revoke_->parsed()) return revoke();
  if (crl_->parsed()) return crl();
  return list();
}

int CaCommands::init() {
  auto r = security::ca_init(dir_, name_, ca_days_);
  if (!r.ok()) return fail(r.error());
  std::cout << "CA \"" << r->subject << "\" created\n  certificate: " << r->ca_cert << "\n  key:         " << r->ca_key
            << " (keep it offline or at least private: whoever has it can issue staff certificates)\n  CRL:         "
            << r->crl << "\n";
  return 0;
}

int CaCommands::issue() {
  auto r = security::ca_issue_client(dir_, user_, client_days_, out_, p12_password_);
  if (!r.ok()) return fail(r.error());
  std::cout << "issued client certificate for " << r->entry.subject << "\n  serial:      " << r->entry.serial
            << "\n  valid until: " << r->entry.not_after << "\n  key:         " << r->key_file
            << "\n  certificate: " << r->cert_file << "\n  browser:     " << r->p12_file << "\n";
  if (r->p12_password_generated) {
    // Shown this once and stored nowhere: hand it to the user apart from the .p12 file.
    std::cout << "  p12 password (shown once): " << r->p12_password << "\n";
  }
  return 0;
}

int CaCommands::issue_server() {
  // "a, b,c" -> a, b, c; spaces inside a name stay (and are refused as BAD_HOST).
  std::vector<std::string> hosts;
  std::string cur;
  for (char c : hosts_ + ",") {
    if (c != ',') {
      cur += c;
      continue;
    }
    auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
    if (b != std::string::npos) hosts.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  }
  auto r = security::ca_issue_server(dir_, hosts, server_days_, out_);
  if (!r.ok()) return fail(r.error());
  std::cout << "issued server certificate for " << r->entry.subject << "\n  serial:      " << r->entry.serial
            << "\n  valid until: " << r->entry.not_after << "\n  key:         " << r->key_file
            << "\n  certificate: " << r->cert_file << " (with the CA certificate)\n";
  return 0;
}

int CaCommands::revoke() {
  if (serial_.empty() == user_.empty()) {
    return fail(make_error(ErrorKind::invalid, "REVOKE_WHAT", "请给出 --serial 或 --user 之一", "Give either --serial or --user"));
  }
  auto r = serial_.empty() ? security::ca_revoke_user(dir_, user_) : security::ca_revoke_serial(dir_, serial_);
  if (!r.ok()) return fail(r.error());
  for (const auto& e : *r) std::cout << "revoked " << e.serial << " (" << e.kind << " " << e.subject << ")\n";
  std::cout << "CRL rewritten: " << dir_ << "/crl.pem\n";
  return 0;
}

int CaCommands::crl() {
  auto st = security::ca_refresh_crl(dir_);
  if (!st.ok()) return fail(st.error());
  std::cout << "CRL re-signed: " << dir_ << "/crl.pem\n";
  return 0;
}

int CaCommands::list() {
  auto r = security::ca_list(dir_);
  if (!r.ok()) return fail(r.error());
  if (json_) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *r) out.push_back(entry_json(e));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::string now = format_utc(std::chrono::system_clock::now());
  for (const auto& e : *r) {
    // ISO 8601 UTC strings of one format sort as time.
    const char* state = !e.revoked_at.empty() ? "REVOKED" : (e.not_after < now ? "expired" : "valid  ");
    std::cout << e.serial << "  " << state << "  " << e.kind << "  "
              << e.subject << "  until " << e.not_after
              << (e.revoked_at.empty() ? "" : "  revoked " + e.revoked_at) << "\n";
  }
  if (r->empty()) std::cout << "no certificates issued yet\n";
  return 0;
}

}  // namespace statgov::app
