#include "app/portal_cli.hpp"

#include "app/cli_common.hpp"
#include "base/files.hpp"

#include "base/clock.hpp"
#include "base/crypto.hpp"
#include "http/http.hpp"
#include "portal/portal.hpp"
#include "publish/package.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace statgov::app {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::atomic<bool> g_portal_stop{false};
void on_portal_signal(int) { g_portal_stop = true; }

}  // namespace

void PortalCommands::add(CLI::App& cli, CLI::App& release) {
  keygen_ = release.add_subcommand(
      "keygen", "create the release key pair: DIR/release.key (0600), DIR/release.pub");
  keygen_->add_option("--out", out_, "folder for the key files")->required();

  verify_ =
      release.add_subcommand("verify", "check a release package (.sgpkg) against the public key");
  verify_->add_option("file", file_, "the package")->required()->check(CLI::ExistingFile);
  verify_->add_option("--pub", pub_, "release.pub")->required()->check(CLI::ExistingFile);

  pack_ = release.add_subcommand("pack", "sign and zip a folder laid out as a release package");
  pack_
      ->add_option("--dir", dir_,
                   "folder: release.json, calendar.json, datasets/, documents/, site/")
      ->required()
      ->check(CLI::ExistingDirectory);
  pack_->add_option("--key", key_, "release.key")->required()->check(CLI::ExistingFile);
  pack_->add_option("--agency", agency_, "agency id, e.g. CN_430200")->required();
  pack_->add_option("--sequence", sequence_, "package sequence (greater than the last one)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  pack_->add_option("--release-id", release_id_, "release id (default: release.json's id)");
  pack_->add_option("--release-at", release_at_,
                    "ISO time to the minute (default: release.json's release_at)");
  pack_->add_option("--out", out_, "the .sgpkg to write (written as .tmp and renamed)")->required();

  portal_ =
      cli.add_subcommand("portal", "run the public portal (serves signed release packages only)");
  portal_->add_option("--inbox", inbox_, "folder where packages are dropped")->required();
  portal_->add_option("--data", data_, "folder for accepted packages and state")->required();
  portal_->add_option("--release-pub", pub_, "release.pub")->required()->check(CLI::ExistingFile);
  portal_->add_option("--listen", listen_, "address:port (port 0 = any free port)")
      ->capture_default_str();
  portal_->add_option("--threads", threads_, "I/O threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  portal_->add_option("--integrity-interval", integrity_interval_, "seconds between tamper checks")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  portal_->add_option("--max-response-bytes", max_response_bytes_, "largest answer; larger -> 413")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 34))
      ->capture_default_str();
  portal_
      ->add_option("--rate-limit", rate_limit_,
                   "requests per second per client address (burst 4x; 0 = off)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  portal_->add_option("--port-file", port_file_,
                      "write the bound port to this file once listening");
}

std::optional<int> PortalCommands::run() {
  if (keygen_ && keygen_->parsed()) return keygen();
  if (verify_ && verify_->parsed()) return verify();
  if (pack_ && pack_->parsed()) return pack();
  if (portal_ && portal_->parsed()) return portal();
  return std::nullopt;
}

int PortalCommands::keygen() {
  std::error_code ec;
  fs::create_directories(out_, ec);
  const fs::path key = fs::path(out_) / "release.key", pub = fs::path(out_) / "release.pub";
  if (fs::exists(key) || fs::exists(pub)) {
    return fail("密钥文件已存在，不覆盖：" + key.string(),
                "Key files exist; not overwriting: " + key.string());
  }
  const auto kp = publish::generate_keypair();
  if (auto st = write_new_file(key, publish::key_file_text(kp.secret_key), 0600); !st.ok()) return fail(st.error());
  if (auto st = write_new_file(pub, publish::key_file_text(kp.public_key), 0644); !st.ok()) return fail(st.error());
  std::cout << "release key pair written: " << key.string() << " (secret, 0600), " << pub.string()
            << " (public, for the portal)\n";
  return 0;
}

int PortalCommands::verify() {
  auto pub_text = slurp(pub_);
  auto bytes = slurp(file_);
  if (!pub_text || !bytes) return fail("无法读取文件", "Cannot read the files");
  auto pub = publish::parse_public_key(*pub_text);
  if (!pub.ok()) return fail(pub.error());
  auto v = publish::open_package(*bytes, *pub);
  if (!v.ok()) return fail(v.error());
  const auto& m = v->manifest;
  std::uint64_t total = 0;
  for (const auto& f : m.files) total += f.size;
  std::cout << "format:     " << m.format << "\nagency:     " << m.agency
            << "\nsequence:   " << m.sequence << "\npackage_id: " << m.package_id
            << "\ncreated_at: " << m.created_at << "\nrelease_id: " << m.release_id
            << "\nrelease_at: " << m.release_at << "\nfiles:      " << m.files.size() << " ("
            << total << " bytes)\n";
  for (const auto& f : m.files)
    std::cout << "  " << f.sha256.substr(0, 16) << "  " << f.size << "  " << f.path << "\n";
  std::cout << "OK\n";
  return 0;
}

int PortalCommands::pack() {
  auto key_text = slurp(key_);
  if (!key_text) return fail("无法读取私钥文件", "Cannot read the key file");
  auto key = publish::parse_secret_key(*key_text);
  if (!key.ok()) return fail(key.error());
  publish::PackageFiles files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), dir_).generic_string();
    auto bytes = slurp(it->path());
    if (!bytes) return fail("无法读取：" + rel, "Cannot read " + rel);
    files.emplace(rel, std::move(*bytes));
  }
  if (ec)
    return fail("无法遍历目录：" + dir_, "Cannot walk the folder " + dir_ + ": " + ec.message());
  if (auto it = files.find("release.json"); it != files.end()) {
    auto j = nlohmann::json::parse(it->second, nullptr, false);
    if (!j.is_object())
      return fail("release.json 不是有效的 JSON 对象", "release.json is not a JSON object");
    if (release_id_.empty()) release_id_ = j.value("id", "");
    if (release_at_.empty()) release_at_ = j.value("release_at", "");
  }
  if (release_id_.empty() != release_at_.empty()) {
    return fail("发布编号与发布时间须同时给出", "Give both the release id and the release time");
  }
  publish::Manifest m;
  m.agency = agency_;
  m.sequence = sequence_;
  m.package_id = random_uuid();
  m.created_at = publish::format_iso_seconds(SystemClock().now());
  m.release_id = release_id_;
  if (!release_at_.empty()) {
    auto t = publish::parse_iso_time(release_at_);
    if (!t.ok()) return fail(t.error());
    if (std::chrono::floor<std::chrono::minutes>(*t) != *t) {
      return fail("发布时间须精确到分钟（秒为 0）",
                  "The release time must be to the minute (seconds 0)");
    }
    m.release_at = publish::format_iso_seconds(*t);
  }
  auto zip = publish::build_package(m, files, *key);
  if (!zip.ok()) return fail(zip.error());
  const std::string tmp = out_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << *zip;
    if (!out.flush()) return fail("无法写入：" + tmp, "Cannot write " + tmp);
  }
  fs::rename(tmp, out_, ec);
  if (ec) return fail("无法写入：" + out_, "Cannot write " + out_ + ": " + ec.message());
  std::cout << "packed " << files.size() << " files, sequence " << m.sequence << ", release '"
            << m.release_id << "' at '" << m.release_at << "' -> " << out_ << " (" << zip->size()
            << " bytes)\n";
  return 0;
}

int PortalCommands::portal() {
  auto pub_text = slurp(pub_);
  if (!pub_text) return fail("无法读取公钥文件", "Cannot read the public key file");
  auto pub = publish::parse_public_key(*pub_text);
  if (!pub.ok()) return fail(pub.error());
  http::ServerOptions opt;
  const auto colon = listen_.rfind(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no port");
    opt.address = listen_.substr(0, colon);
    const int port = std::stoi(listen_.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    opt.port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    return fail("--listen 应为 地址:端口，例如 0.0.0.0:8090",
                "--listen must be address:port, e.g. 0.0.0.0:8090");
  }
  opt.threads = threads_;
  opt.rate_per_second = rate_limit_;
  opt.rate_burst = rate_limit_ * 4;
  opt.api_prefix = "/";  // the portal routes everything itself (site included)

  SystemClock clock;
  portal::PortalOptions po;
  po.inbox = inbox_;
  po.data = data_;
  po.public_key = *pub;
  po.max_response_bytes = max_response_bytes_;
  po.integrity_interval = std::chrono::seconds(integrity_interval_);
  portal::Portal portal(po, clock);
  if (auto st = portal.open(); !st.ok()) return fail(st.error());
  http::Router router;
  portal.register_routes(router);
  http::Server server(router, opt);
  if (auto err = server.start())
    return fail("无法启动门户：" + *err, "Cannot start the portal: " + *err);
  portal.start();
  spdlog::info("statgov portal serving on http://{}:{} (inbox {}, data {})", opt.address,
               server.port(), inbox_, data_);
  if (!port_file_.empty()) std::ofstream(port_file_) << server.port() << "\n";
  std::signal(SIGINT, on_portal_signal);
  std::signal(SIGTERM, on_portal_signal);
  while (!g_portal_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("stopping the portal");
  server.stop();
  server.wait();
  portal.stop();
  return 0;
}

}  // namespace statgov::app
