#include "app/cli.hpp"

#include "app/cli_common.hpp"
#include "base/files.hpp"
#include "security/sealed.hpp"

#include "api/api.hpp"
#include "app/ca_cli.hpp"
#include "app/portal_cli.hpp"
#include "base/crypto.hpp"
#include "notify/senders.hpp"
#include "publish/package.hpp"
#include "security/canonical_json.hpp"
#include "security/signing.hpp"
#include "services/demo.hpp"
#include "store/repos.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace statgov::app {

namespace {

Result<std::unique_ptr<store::Store>> open_store(const std::string& path) {
  if (store::is_postgres_target(path)) return store::Store::open(path);
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
  }
  return store::Store::open(path);
}

// Everything a command needs, built from the database path and data folder.
struct Wiring {
  std::unique_ptr<store::Store> store;
  SystemClock clock;
  services::Catalog catalog;
  std::unique_ptr<services::FormService> forms;
  std::unique_ptr<services::AuthService> auth;
  std::unique_ptr<services::UnitService> units;
  std::unique_ptr<services::ReportingService> reporting;
  std::unique_ptr<services::MonitorService> monitor;
  std::unique_ptr<services::ReviewQueue> review_queue;
  std::unique_ptr<services::ReminderService> reminders;
  std::unique_ptr<services::JobService> jobs;
  std::unique_ptr<services::ChangeFeed> feed;
  std::unique_ptr<services::SummaryService> summary;
  std::unique_ptr<services::ReleaseService> releases;

  Status init(const std::string& db, services::AuthConfig auth_cfg = {}, services::NotifyConfig notify = {}) {
    SG_ASSIGN_OR_RETURN(store, open_store(db));
    forms = std::make_unique<services::FormService>(*store, clock);
    auth = std::make_unique<services::AuthService>(*store, clock, auth_cfg);
    units = std::make_unique<services::UnitService>(*store, catalog, clock);
    reporting = std::make_unique<services::ReportingService>(*store, *forms, catalog, clock);
    monitor = std::make_unique<services::MonitorService>(*store, *forms, catalog, clock);
    reminders = std::make_unique<services::ReminderService>(*store, *monitor, clock, std::move(notify));
    jobs = std::make_unique<services::JobService>(*store, *monitor, *reporting, clock);
    feed = std::make_unique<services::ChangeFeed>(*store);
    summary = std::make_unique<services::SummaryService>(*store, *forms, catalog, *feed);
    review_queue = std::make_unique<services::ReviewQueue>(*monitor, *reporting, catalog, *summary);
    releases = std::make_unique<services::ReleaseService>(*store, *forms, catalog, *summary, *auth, clock);
    reporting->on_change([f = feed.get()] { f->poke(); });
    return catalog.reload(*store);
  }

  // A fresh database gets the reference data and the shipped forms.
  Status ensure_reference(const std::string& data_dir) {
    if (catalog.region_count() == 0) {
      SG_TRY(services::load_reference_data(*store, data_dir));
      SG_TRY(catalog.reload(*store));
    }
    return services::import_shipped_forms(*forms, data_dir, "system");
  }
};

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string read_all(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- e-signatures and the signed audit head (issue #7) -----------------------------------------

Result<std::string> read_file(const std::string& path) {
  bool ok = false;
  auto text = read_all(path, ok);
  if (!ok) return make_error(ErrorKind::invalid, "READ_FAILED", "无法读取文件：" + path, "Cannot read file: " + path);
  return text;
}

Result<security::SigningKey> read_private_key(const std::string& path) {
  SG_ASSIGN_OR_RETURN(auto text, read_file(path));
  return security::parse_private_key(text);
}

Result<security::SealKey> read_seal_key(const std::string& path) {
  SG_ASSIGN_OR_RETURN(auto text, read_file(path));
  return security::parse_seal_key(text);
}

int run_sign(bool keygen, const std::string& out_dir, const std::string& key_file, const std::string& payload_file) {
  if (keygen) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    auto priv = std::filesystem::path(out_dir) / "signing-key.jwk";
    auto pub = std::filesystem::path(out_dir) / "signing-key.pub";
    if (std::filesystem::exists(priv)) return fail("私钥文件已存在：" + priv.string(), "Key file exists: " + priv.string());
    auto key = security::generate_signing_key();
    if (auto st = write_new_file(priv, security::private_key_jwk(key) + "\n", 0600); !st.ok()) return fail(st.error());
    if (auto st = write_new_file(pub, base64(key.public_key) + "\n", 0644); !st.ok()) return fail(st.error());
    std::cout << nlohmann::json{{"key_id", security::key_fingerprint(key.public_key)},
                                {"public_key", base64(key.public_key)},
                                {"private_key_file", priv.string()},
                                {"public_key_file", pub.string()}}.dump(2)
              << "\n";
    return 0;
  }
  auto key = read_private_key(key_file);
  if (!key.ok()) return fail(key.error());
  auto text = read_file(payload_file);
  if (!text.ok()) return fail(text.error());
  auto p = nlohmann::json::parse(*text, nullptr, false);
  bool shape = p.is_object() && p.size() == 5 && p.contains("form") && p["form"].is_string() && p.contains("period") &&
               p["period"].is_string() && p.contains("unit_uscc") && p["unit_uscc"].is_string() &&
               p.contains("values") && p["values"].is_object() && p.contains("version") &&
               p["version"].is_number_integer();
  if (!shape) {
    return fail("签章内容应为 JSON {form, period, unit_uscc, values, version}（见 docs/signatures.md）",
                "The payload must be JSON {form, period, unit_uscc, values, version} (see docs/signatures.md)");
  }
  auto canonical = security::submission_signing_payload(p["form"].get<std::string>(), p["period"].get<std::string>(),
                                                        p["unit_uscc"].get<std::string>(), p["values"],
                                                        p["version"].get<int>());
  if (!canonical.ok()) return fail(canonical.error());
  std::cout << nlohmann::json{{"signature", base64(security::ed25519_sign(*key, *canonical))},
                              {"key_id", security::key_fingerprint(key->public_key)},
                              {"payload_sha256", sha256_hex(*canonical)}}.dump(2)
            << "\n";
  return 0;
}

// The signed part of an exported head, in canonical form.
Result<std::string> audit_head_payload(const nlohmann::json& head) {
  return security::canonical_json({{"type", "statgov-audit-head"},
                                   {"head_id", head.value("head_id", std::int64_t{0})},
                                   {"head_hash", head.value("head_hash", "")},
                                   {"count", head.value("count", std::int64_t{0})},
                                   {"at", head.value("at", "")}});
}

Result<nlohmann::json> signed_audit_head(const std::vector<store::AuditRow>& rows, const std::string& key_file,
                                         const std::string& at) {
  SG_ASSIGN_OR_RETURN(auto key, read_private_key(key_file));
  nlohmann::json head = {{"type", "statgov-audit-head"},
                         {"head_id", rows.empty() ? std::int64_t{0} : rows.back().id},
                         {"head_hash", rows.empty() ? std::string(64, '0') : rows.back().hash},
                         {"count", static_cast<std::int64_t>(rows.size())},
                         {"at", at}};
  SG_ASSIGN_OR_RETURN(auto payload, audit_head_payload(head));
  head["key_id"] = security::key_fingerprint(key.public_key);
  head["public_key"] = base64(key.public_key);
  head["signature"] = base64(security::ed25519_sign(key, payload));
  return head;
}

// The head must carry a good signature by `pub_file`'s key, and the chain must still hold the
// head's entry at the same position with the same hash: any rewrite of the history up to the
// head (edit, delete, reorder, even with every hash recomputed) moves or changes it.
Status check_audit_head(const std::vector<store::AuditRow>& rows, const std::string& head_file,
                        const std::string& pub_file) {
  if (head_file.empty() || pub_file.empty()) {
    return make_error(ErrorKind::invalid, "HEAD_NEEDS_KEY", "--head 与 --pub 须同时给出", "--head and --pub go together");
  }
  SG_ASSIGN_OR_RETURN(auto head_text, read_file(head_file));
  SG_ASSIGN_OR_RETURN(auto pub_text, read_file(pub_file));
  SG_ASSIGN_OR_RETURN(auto pub, security::parse_public_key(pub_text));
  auto head = nlohmann::json::parse(head_text, nullptr, false);
  bool shape = head.is_object() && head.value("type", "") == "statgov-audit-head" && head.contains("head_id") &&
               head["head_id"].is_number_integer() && head.contains("count") && head["count"].is_number_integer() &&
               head.contains("head_hash") && head["head_hash"].is_string() && head.contains("at") &&
               head["at"].is_string() && head.contains("signature") && head["signature"].is_string();
  if (!shape) {
    return make_error(ErrorKind::invalid, "BAD_HEAD", "审计链头文件格式不对", "The audit head file is malformed");
  }
  SG_ASSIGN_OR_RETURN(auto payload, audit_head_payload(head));
  auto sig = security::base64_decode(head["signature"].get<std::string>());
  if (!sig.ok() || !security::ed25519_verify(pub, payload, *sig)) {
    return make_error(ErrorKind::invalid, "HEAD_SIGNATURE_INVALID", "审计链头的签名无效（文件被改动或公钥不对）",
                      "The audit head's signature is invalid (the file was altered or the key is wrong)");
  }
  auto count = head["count"].get<std::int64_t>();
  auto id = head["head_id"].get<std::int64_t>();
  auto hash = head["head_hash"].get<std::string>();
  if (count == 0) return Ok{};
  if (count > static_cast<std::int64_t>(rows.size())) {
    return make_error(ErrorKind::invalid, "HEAD_MISSING",
                      fmt::format("审计日志只剩 {} 条，少于链头导出时的 {} 条：历史记录被删除", rows.size(), count),
                      fmt::format("The audit log has {} entries, fewer than the {} when the head was exported: "
                                  "history was deleted", rows.size(), count));
  }
  const auto& r = rows[static_cast<std::size_t>(count - 1)];
  if (r.id != id || r.hash != hash) {
    return make_error(ErrorKind::invalid, "HEAD_MISMATCH",
                      fmt::format("审计链在 {} 导出的链头（第 {} 条，编号 {}）之前的历史被改写", head["at"].get<std::string>(),
                                  count, id),
                      fmt::format("The audit history up to the head exported at {} (entry {} of id {}) was rewritten",
                                  head["at"].get<std::string>(), count, id));
  }
  return Ok{};
}

}  // namespace

int run(int argc, char** argv) {
  crypto_init();
  CLI::App cli{"statgov: statistical online reporting platform / 统计联网直报平台"};
  cli.require_subcommand(1);
  std::string db = "var/statgov.db";
  std::string data_dir = "data";
  cli.add_option("--db", db,
                 "SQLite database file, or a PostgreSQL database: postgresql://user@host:5432/dbname "
                 "(docs/postgres.md)")->capture_default_str();
  cli.add_option("--data", data_dir, "reference data and forms folder")->capture_default_str()->check(CLI::ExistingDirectory);
  std::string log_level = "info";
  cli.add_option("--log-level", log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))->capture_default_str();

  // serve
  auto* serve = cli.add_subcommand("serve", "run the internal platform (reporting, console)");
  std::string listen = "127.0.0.1:8080";
  std::string web_dir = "web/dist";
  // A submit is answered from the writer once its commit is durable (no thread waits), but drafts,
  // reviews and the other writes still hold a handler thread until their group commit: more threads
  // than cores let a batch fill with concurrent requests.
  int threads = 32;
  bool secure_cookies = false;
  std::string port_file;
  serve->add_option("--listen", listen, "address:port (port 0 = any free port)")->capture_default_str();
  serve->add_option("--web", web_dir, "built web client folder (empty = API only)")->capture_default_str();
  serve->add_option("--threads", threads, "request handler threads")->check(CLI::Range(1, 256))->capture_default_str();
  serve->add_flag("--secure-cookies", secure_cookies, "mark cookies Secure (when served over TLS)");
  serve->add_option("--port-file", port_file, "write the bound port to this file once listening");
  double rate_limit = 100;
  serve->add_option("--rate-limit", rate_limit, "requests per second per client address (burst 4x; 0 = off)")
      ->check(CLI::Range(0.0, 1e6))->capture_default_str();
  std::string trusted_proxy;
  serve->add_option("--trusted-proxy", trusted_proxy,
                    "CIDR[,CIDR...] of reverse proxies whose X-Forwarded-For gives the client address (empty = none)");
  std::string smtp_url, smtp_from = "statgov@localhost", sms_webhook;
  serve->add_option("--smtp-url", smtp_url, "SMTP server for reminders, e.g. smtp://127.0.0.1:25 (empty = no e-mail)");
  serve->add_option("--smtp-from", smtp_from, "sender address of reminder e-mails")->capture_default_str();
  serve->add_option("--sms-webhook", sms_webhook, "SMS gateway URL that takes {to, text} as JSON (empty = no SMS)");
  // Publication (docs/publication.md): the key that signs release packages and where they go.
  std::string release_key_file, export_dir, portal_site_dir;
  serve->add_option("--release-key", release_key_file, "Ed25519 secret key file that signs release packages (statgov release keygen)")
      ->check(CLI::ExistingFile);
  serve->add_option("--export-dir", export_dir, "folder signed release packages are written to");
  serve->add_option("--portal-site", portal_site_dir, "the portal's built front end (web/dist-portal), carried in every release package");
  // TLS in serve itself and staff identity by client certificate (issue #7, docs/tls-ca.md).
  http::TlsOptions tls_opt;
  std::string staff_auth = "password";
  int tls_handshake_timeout = 10;
  auto* tls_cert = serve->add_option("--tls-cert", tls_opt.cert_file, "server certificate chain (PEM; statgov ca issue-server): serve HTTPS")
      ->check(CLI::ExistingFile);
  auto* tls_key = serve->add_option("--tls-key", tls_opt.key_file, "server private key (PEM)")->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  auto* client_ca = serve->add_option("--client-ca", tls_opt.client_ca_file, "CA certificate that issues staff client certificates (ca.pem)")
      ->check(CLI::ExistingFile)->needs(tls_cert);
  serve->add_option("--crl", tls_opt.crl_file, "revocation list of that CA (crl.pem), re-read when it changes")
      ->check(CLI::ExistingFile)->needs(client_ca);
  serve->add_option("--tls-handshake-timeout", tls_handshake_timeout, "seconds a client has to complete the TLS handshake")
      ->check(CLI::Range(1, 120))->capture_default_str();
  std::string totp_key_file;
  serve->add_option("--totp-key", totp_key_file, "key file that encrypts TOTP secrets in the database (statgov totp keygen)")
      ->check(CLI::ExistingFile);
  serve->add_option("--staff-auth", staff_auth, "how staff log in: password | cert | password+cert (cert modes need --client-ca)")
      ->check(CLI::IsMember({"password", "cert", "password+cert"}))->capture_default_str();

  auto* migrate = cli.add_subcommand("migrate", "create or upgrade the database schema");

  auto* demo = cli.add_subcommand("demo", "build the demo database (reference data, forms, units, history, accounts)");
  services::DemoOptions demo_opt;
  bool force = false;
  demo->add_option("--units", demo_opt.units, "number of units")->check(CLI::Range(10, 200000))->capture_default_str();
  demo->add_option("--city", demo_opt.city, "city region code the units are spread over")->capture_default_str();
  demo->add_flag("--force", force, "replace an existing database file");
  demo->add_option("--release-key", release_key_file, "sign the demo's past releases with this key (statgov release keygen)")
      ->check(CLI::ExistingFile);
  demo->add_option("--export-dir", export_dir, "write the demo's signed release packages here");
  demo->add_option("--portal-site", portal_site_dir, "the portal's built front end (web/dist-portal), carried in the newest package");

  auto* user = cli.add_subcommand("user", "manage accounts");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "add an account");
  services::AuthService::NewUser nu;
  user_add->add_option("--login", nu.login)->required();
  user_add->add_option("--name", nu.name);
  user_add->add_option("--role", nu.role, "enterprise|township|county|city|leader|publisher|provider|admin")->required();
  user_add->add_option("--region", nu.region, "12-digit region code of the scope (staff)");
  user_add->add_option("--unit", nu.unit_uscc, "unit USCC (enterprise accounts)");
  auto* user_passwd = user->add_subcommand("passwd", "set a password (read from standard input)");
  std::string login;
  user_passwd->add_option("--login", login)->required();
  auto* user_disable = user->add_subcommand("disable", "disable an account and end its sessions");
  user_disable->add_option("--login", login)->required();
  auto* user_enable = user->add_subcommand("enable", "enable an account");
  user_enable->add_option("--login", login)->required();

  auto* import = cli.add_subcommand("import", "import data");
  import->require_subcommand(1);
  auto* import_forms = import->add_subcommand("form", "import form definition files (JSON)");
  std::vector<std::string> files;
  import_forms->add_option("files", files)->required()->check(CLI::ExistingFile);
  auto* import_units = import->add_subcommand("units", "import units from CSV (UTF-8/GBK) or XLSX");
  std::string unit_file;
  bool partial = false;
  import_units->add_option("file", unit_file)->required()->check(CLI::ExistingFile);
  import_units->add_flag("--partial", partial, "import the good rows even if some rows are bad");

  auto* backup = cli.add_subcommand("backup", "online, consistent copy of the database (safe while serving)");
  std::string backup_to;
  backup->add_option("--to", backup_to, "target file (must not exist)")->required();
  auto* restore = cli.add_subcommand("restore", "replace the database with a backup (server stopped)");
  std::string restore_from;
  restore->add_option("--from", restore_from, "backup file")->required()->check(CLI::ExistingFile);

  auto* audit = cli.add_subcommand("audit", "audit log");
  audit->require_subcommand(1);
  auto* audit_verify = audit->add_subcommand("verify", "check the audit hash chain end to end");
  // Signed audit head (issue #7): export daily, later prove the history before it unchanged.
  std::string head_key, head_file, head_pub;
  audit_verify->add_option("--head", head_file, "also check an exported head (statgov audit head) is still in the chain")
      ->check(CLI::ExistingFile);
  audit_verify->add_option("--pub", head_pub, "public key file the head was signed with (needed with --head)")
      ->check(CLI::ExistingFile);
  auto* audit_head = audit->add_subcommand("head", "print the current head of the audit chain, signed (JSON)");
  audit_head->add_option("--key", head_key, "Ed25519 private key file (JWK, see statgov sign keygen)")
      ->required()->check(CLI::ExistingFile);

  // E-signatures for API clients (docs/signatures.md); needs no database.
  auto* sign = cli.add_subcommand("sign", "Ed25519 keys and submission signatures (电子签章)");
  sign->require_subcommand(1);
  auto* sign_keygen = sign->add_subcommand("keygen", "create a key pair: DIR/signing-key.jwk (private), DIR/signing-key.pub");
  std::string sign_out, sign_key, sign_payload;
  sign_keygen->add_option("--out", sign_out, "folder for the key files")->required();
  auto* sign_submission = sign->add_subcommand("submission", "sign the canonical form of a submission payload");
  sign_submission->add_option("--key", sign_key, "private key file (JWK or PKCS#8)")->required()->check(CLI::ExistingFile);
  sign_submission->add_option("--payload", sign_payload,
                              "JSON {form, period, unit_uscc, values, version} of the submit to sign")
      ->required()->check(CLI::ExistingFile);

  // The key that seals TOTP secrets in the database (security/sealed.hpp, docs/operations.md).
  auto* totp = cli.add_subcommand("totp", "the key that encrypts staff one-time code secrets at rest (动态口令)");
  totp->require_subcommand(1);
  auto* totp_keygen = totp->add_subcommand("keygen", "create the key file (0600) for serve --totp-key");
  std::string totp_key_out;
  totp_keygen->add_option("--out", totp_key_out, "key file to create (never overwritten)")->required();
  auto* totp_reset = totp->add_subcommand("reset", "remove an account's one-time code (lost phone) and end its sessions");
  totp_reset->add_option("--login", login)->required();
  auto* totp_reseal = totp->add_subcommand(
      "reseal", "seal every stored secret with a new key file (also seals those stored before any key)");
  std::string totp_new_key, totp_old_key;
  totp_reseal->add_option("--key", totp_new_key, "the new key file (statgov totp keygen)")->required()
      ->check(CLI::ExistingFile);
  totp_reseal->add_option("--old-key", totp_old_key, "the key file serve used until now, if any")
      ->check(CLI::ExistingFile);
  auto* release = cli.add_subcommand("release", "release packages for the public portal (对外发布)");
  release->require_subcommand(1);
  auto* release_export = release->add_subcommand("export", "write a signed release's package into a folder again");
  std::string export_release, export_to;
  release_export->add_option("--release", export_release, "release id (code)")->required();
  release_export->add_option("--to", export_to, "target folder")->required();
  // release keygen | verify | pack, and `portal` (app/portal_cli.cpp); none opens the database.
  PortalCommands portal_commands;
  portal_commands.add(cli, *release);
  CaCommands ca_commands;
  ca_commands.add(cli);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (auto rc = portal_commands.run()) return *rc;
  if (auto rc = ca_commands.run()) return *rc;

  if (*totp_keygen) {
    if (auto st = write_new_file(totp_key_out, security::new_seal_key_text(), 0600); !st.ok()) return fail(st.error());
    std::cout << "TOTP key written: " << totp_key_out << " (0600). Start serve with --totp-key " << totp_key_out
              << "; keep a copy with the backups, apart from them: without it no enrolled one-time code opens.\n";
    return 0;
  }
  if (*sign) return run_sign(sign_keygen->parsed(), sign_out, sign_key, sign_payload);
  if ((*restore || (*demo && force)) && store::is_postgres_target(db)) {
    return fail("restore 与 demo --force 只适用于 SQLite 数据库文件；PostgreSQL 请用 pg_basebackup/pg_restore 或重建数据库",
                "restore and demo --force work on a SQLite file only; on PostgreSQL use pg_basebackup/pg_restore, "
                "or drop and create the database");
  }
  if (*restore) {
    // Check the backup opens, migrates and passes an integrity check before it replaces anything.
    {
      auto check = store::Store::open(restore_from);
      if (!check.ok()) return fail(check.error());
      auto ok = (*check)->read([](store::Conn& c) -> Status {
        SG_ASSIGN_OR_RETURN(auto st, c.prepare("PRAGMA integrity_check"));
        SG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row || st.text(0) != "ok") {
          return make_error(ErrorKind::invalid, "BACKUP_CORRUPT", "备份文件未通过完整性检查", "The backup fails the integrity check");
        }
        return Ok{};
      });
      if (!ok.ok()) return fail(ok.error());
    }
    std::error_code ec;
    std::string tmp = db + ".restoring";
    std::filesystem::copy_file(restore_from, tmp, std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec) {
      for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(db + suffix, ec);
      ec.clear();
      std::filesystem::rename(tmp, db, ec);
    }
    if (ec) return fail("恢复失败：" + ec.message(), "Restore failed: " + ec.message());
    std::cout << "restored " << db << " from " << restore_from << "\n";
    return 0;
  }
  services::NotifyConfig notify_cfg;
  services::AuthConfig auth_cfg;
  http::TrustedProxies trusted_proxies;
  if (*serve) {
    auth_cfg.staff_auth = *services::parse_staff_auth(staff_auth);  // CLI11 checked the value
    if (!totp_key_file.empty()) {
      auto key = read_seal_key(totp_key_file);
      if (!key.ok()) return fail(key.error());
      auth_cfg.totp_key = std::move(*key);
    }
    if (auth_cfg.staff_auth != services::StaffAuth::password && tls_opt.client_ca_file.empty()) {
      return fail("--staff-auth " + staff_auth + " 需要 --tls-cert、--tls-key 和 --client-ca（由本服务终止 TLS 并校验客户端证书）",
                  "--staff-auth " + staff_auth + " needs --tls-cert, --tls-key and --client-ca (serve terminates TLS and checks client certificates)");
    }
    tls_opt.handshake_timeout = std::chrono::seconds(tls_handshake_timeout);
    if (!trusted_proxy.empty()) {
      auto proxies = http::TrustedProxies::parse(trusted_proxy);
      if (!proxies.ok()) return fail(proxies.error());
      trusted_proxies = std::move(proxies).value();
    }
    notify::notify_init();
    for (const auto& [url, name] : {std::pair{&smtp_url, "--smtp-url"}, {&sms_webhook, "--sms-webhook"}}) {
      if (!url->empty() && url->find("://") == std::string::npos) {
        return fail(std::string(name) + " 应为完整的 URL", std::string(name) + " must be a full URL");
      }
    }
    if (!smtp_url.empty()) notify_cfg.email = std::make_unique<notify::SmtpSender>(notify::SmtpConfig{smtp_url, smtp_from, "", "", std::chrono::seconds(20)});
    if (!sms_webhook.empty()) notify_cfg.sms = std::make_unique<notify::WebhookSmsSender>(sms_webhook);
  }
  Wiring w;
  if (*demo && force) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix, ec);
  }
  if (auto st = w.init(db, auth_cfg, std::move(notify_cfg)); !st.ok()) return fail(st.error());

  if (*migrate) {
    std::cout << "schema version " << w.store->schema_version() << "\n";
    return 0;
  }

  // The release signing key, for serve and demo.
  std::string release_secret;
  if (!release_key_file.empty()) {
    bool ok = false;
    auto text = read_all(release_key_file, ok);
    if (!ok) return fail("无法读取发布密钥文件：" + release_key_file, "Cannot read the release key file: " + release_key_file);
    auto key = publish::parse_secret_key(text);
    if (!key.ok()) return fail(key.error());
    release_secret = std::move(*key);
  }
  if (*demo) {
    auto t0 = std::chrono::steady_clock::now();
    demo_opt.data_dir = data_dir;  // --data, not the default folder of the working directory
    demo_opt.release_secret_key = release_secret;
    demo_opt.export_dir = export_dir;
    demo_opt.site_dir = portal_site_dir;
    auto rep = services::build_demo(*w.store, w.catalog, *w.forms, w.clock, demo_opt);
    if (!rep.ok()) return fail(rep.error());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "demo: " << rep->units << " units, " << rep->submissions << " accepted submissions, " << rep->users
              << " accounts in " << ms << " ms -> " << db << "\n";
    std::cout << "demo: " << rep->releases << " releases in the calendar, " << rep->documents << " documents, "
              << rep->packages << " signed packages" << (export_dir.empty() ? "" : " -> " + export_dir) << "\n";
    return 0;
  }

  if (auto st = w.ensure_reference(data_dir); !st.ok()) return fail(st.error());
  const std::string cli_actor = "cli";

  if (*user_add) {
    std::string pw;
    if (!std::getline(std::cin, pw)) return fail("请在标准输入中提供密码", "Give the password on standard input");
    nu.password = pw;
    auto u = w.auth->add_user(nu, cli_actor);
    if (!u.ok()) return fail(u.error());
    std::cout << "added " << u->login << " (" << domain::role_name(u->role) << ", " << u->region << ")\n";
    return 0;
  }
  if (*user_passwd) {
    std::string pw;
    if (!std::getline(std::cin, pw)) return fail("请在标准输入中提供密码", "Give the password on standard input");
    auto st = w.auth->set_password(login, pw, cli_actor);
    if (!st.ok()) return fail(st.error());
    std::cout << "password changed for " << login << "\n";
    return 0;
  }
  if (*totp_reset) {
    if (auto st = w.auth->totp_reset(login, cli_actor); !st.ok()) return fail(st.error());
    std::cout << "one-time code removed for " << login << "; the account logs in with its password and may enrol again\n";
    return 0;
  }
  if (*totp_reseal) {
    auto new_key = read_seal_key(totp_new_key);
    if (!new_key.ok()) return fail(new_key.error());
    std::optional<security::SealKey> old_key;
    if (!totp_old_key.empty()) {
      auto k = read_seal_key(totp_old_key);
      if (!k.ok()) return fail(k.error());
      old_key = std::move(*k);
    }
    auto n = services::AuthService::totp_reseal(*w.store, w.clock, old_key ? &*old_key : nullptr, *new_key, cli_actor);
    if (!n.ok()) return fail(n.error());
    std::cout << *n << " one-time code secrets sealed with " << totp_new_key << "; start serve with --totp-key "
              << totp_new_key << "\n";
    return 0;
  }
  if (*user_disable || *user_enable) {
    auto st = w.auth->set_disabled(login, user_disable->parsed(), cli_actor);
    if (!st.ok()) return fail(st.error());
    std::cout << login << (user_disable->parsed() ? " disabled\n" : " enabled\n");
    return 0;
  }
  if (*import_forms) {
    for (const auto& f : files) {
      bool ok = false;
      auto text = read_all(f, ok);
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (!ok || j.is_discarded()) return fail("表式文件不是有效的 JSON：" + f, "Not valid JSON: " + f);
      auto r = w.forms->import(j, cli_actor);
      if (!r.ok()) return fail(r.error());
      std::cout << "imported form " << (*r)->def.code << " version " << (*r)->def.version << "\n";
    }
    return 0;
  }
  if (*import_units) {
    bool ok = false;
    auto bytes = read_all(unit_file, ok);
    if (!ok) return fail("无法读取文件：" + unit_file, "Cannot read file: " + unit_file);
    domain::User system{0, cli_actor, "CLI", domain::Role::admin, "", std::nullopt, false};
    services::ImportOptions opt;
    opt.partial = partial;
    auto r = w.units->import({system, "local"}, bytes, opt);
    if (!r.ok()) return fail(r.error());
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  if (*backup) {
    if (std::filesystem::exists(backup_to)) return fail("目标文件已存在：" + backup_to, "Target exists: " + backup_to);
    auto st = w.store->backup_to(backup_to);
    if (!st.ok()) return fail(st.error());
    std::cout << "backup written to " << backup_to << "\n";
    return 0;
  }
  if (*release_export) {
    auto path = w.releases->export_package(export_release, export_to);
    if (!path.ok()) return fail(path.error());
    std::cout << "exported " << *path << "\n";
    return 0;
  }
  if (*audit_verify) {
    auto rows = w.store->read([](store::Conn& c) { return store::list_audit(c); });
    if (!rows.ok()) return fail(rows.error());
    std::string prev(64, '0');
    for (const auto& r : *rows) {
      if (r.prev_hash != prev || store::audit_hash(r) != r.hash) {
        return fail("审计日志在第 " + std::to_string(r.id) + " 条被篡改或断链",
                    "The audit chain is broken or tampered with at entry " + std::to_string(r.id));
      }
      prev = r.hash;
    }
    if (!head_file.empty() || !head_pub.empty()) {
      if (auto st = check_audit_head(*rows, head_file, head_pub); !st.ok()) return fail(st.error());
    }
    std::cout << "audit chain ok: " << rows->size() << " entries\n";
    return 0;
  }
  if (*audit_head) {
    auto rows = w.store->read([](store::Conn& c) { return store::list_audit(c); });
    if (!rows.ok()) return fail(rows.error());
    auto head = signed_audit_head(*rows, head_key, format_utc(w.clock.now()));
    if (!head.ok()) return fail(head.error());
    std::cout << head->dump(2) << "\n";
    return 0;
  }

  // serve
  auto colon = listen.rfind(':');
  http::ServerOptions opt;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no port");
    opt.address = listen.substr(0, colon);
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    opt.port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    return fail("--listen 应为 地址:端口，例如 127.0.0.1:8080", "--listen must be address:port, e.g. 127.0.0.1:8080");
  }
  opt.threads = threads;
  opt.rate_per_second = rate_limit;
  opt.rate_burst = rate_limit * 4;
  opt.trusted_proxies = trusted_proxies;
  if (!tls_opt.cert_file.empty()) {
    if (!tls_opt.client_ca_file.empty() && tls_opt.crl_file.empty()) {
      spdlog::warn("--client-ca without --crl: client certificates cannot be revoked");
    }
    opt.tls = tls_opt;
    secure_cookies = true;  // served over HTTPS: cookies Secure, HSTS on
  }
  opt.hsts = secure_cookies;
  if (!web_dir.empty()) {
    if (!std::filesystem::exists(std::filesystem::path(web_dir) / "index.html")) {
      spdlog::warn("web client not found at {} (run the web build); serving the API only", web_dir);
    } else {
      opt.static_dir = web_dir;
    }
  }
  if (auto st = w.feed->start(); !st.ok()) return fail(st.error());
  w.reminders->start();
  api::ApiContext ctx{*w.store,    w.catalog,          *w.auth,      *w.forms, *w.units, *w.reporting,
                      *w.monitor,  *w.review_queue,    *w.reminders, *w.jobs,  *w.feed,  *w.summary, w.clock,
                      data_dir + "/openapi.json", secure_cookies};
  services::ReleaseConfig release_cfg;
  release_cfg.secret_key = release_secret;
  release_cfg.export_dir = export_dir;
  release_cfg.site_dir = portal_site_dir;
  if (release_secret.empty()) spdlog::warn("no --release-key: releases can be planned and prepared but not signed off");
  w.releases = std::make_unique<services::ReleaseService>(*w.store, *w.forms, w.catalog, *w.summary, *w.auth, w.clock,
                                                          release_cfg);
  ctx.releases = w.releases.get();
  http::Router router;
  api::register_routes(router, ctx);
  http::Server server(router, opt);
  if (auto err = server.start()) return fail("无法启动服务：" + *err, "Cannot start the server: " + *err);
  spdlog::info("statgov serving on {}://{}:{} (database {}, staff auth {})", opt.tls ? "https" : "http", opt.address,
               server.port(), store::redact_target(db), staff_auth);
  if (!port_file.empty()) {
    std::ofstream(port_file) << server.port() << "\n";
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("stopping");
  server.stop();
  server.wait();
  w.reminders->stop();
  w.feed->stop();
  w.jobs->wait_all();
  return 0;
}

}  // namespace statgov::app
