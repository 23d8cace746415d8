#include "portal/portal.hpp"

#include "base/crypto.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

namespace statgov::portal {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxTamperEvents = 100;

Error bad_content(const std::string& file, const std::string& why_zh, const std::string& why_en) {
  return make_error(ErrorKind::invalid, "BAD_CONTENT",
                    "发布包内容无效：" + file + "（" + why_zh + "）",
                    "Invalid release package content: " + file + " (" + why_en + ")");
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

// Write via a temporary file and rename, so that a reader never sees half a file.
Status write_file(const fs::path& p, std::string_view bytes) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      return make_error(ErrorKind::internal, "IO_ERROR", "无法写入文件：" + p.string(),
                        "Cannot write file: " + p.string());
    }
  }
  fs::rename(tmp, p, ec);
  if (ec) {
    return make_error(ErrorKind::internal, "IO_ERROR", "无法写入文件：" + p.string(),
                      "Cannot write file: " + p.string() + ": " + ec.message());
  }
  return Ok{};
}

std::string reason_text(const Error& e) {
  std::string out = e.message + "\n" + e.message_en + "\n[" + e.code + "]\n";
  for (const auto& d : e.details) out += d.dump() + "\n";
  return out;
}

// Sequence number from an archive name "<n>.sgpkg"; 0 if it is not one.
std::uint64_t archive_sequence(const fs::path& p) {
  if (p.extension() != ".sgpkg") return 0;
  const std::string stem = p.stem().string();
  if (stem.empty() || stem.size() > 19 ||
      !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return std::stoull(stem);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Loading a package's content
// ---------------------------------------------------------------------------------------------

namespace {

Result<std::shared_ptr<const Package>> load_package_unguarded(publish::VerifiedPackage verified) {
  auto p = std::make_shared<Package>();
  const auto& m = verified.manifest;
  if (!m.release_at.empty()) {
    auto t = publish::parse_iso_time(m.release_at);
    if (!t.ok()) return bad_content("manifest.json", "release_at 格式错误", "bad release_at");
    p->release_at = *t;
  }
  for (const auto& [path, bytes] : verified.files) {
    auto parse = [&](const char* what) -> Result<json> {
      auto j = json::parse(bytes, nullptr, false);
      if (j.is_discarded()) return bad_content(path, "不是有效的 JSON", "not valid JSON");
      (void)what;
      return j;
    };
    if (path == "release.json") {
      SG_ASSIGN_OR_RETURN(p->release, parse("release"));
      if (!p->release.is_object() || !p->release.contains("id") || !p->release["id"].is_string()) {
        return bad_content(path, "应为含 id 的对象", "expected an object with an id");
      }
      if (p->release["id"] != m.release_id) {
        return bad_content(path, "id 与清单不符", "id differs from the manifest's release_id");
      }
    } else if (path == "calendar.json") {
      SG_ASSIGN_OR_RETURN(p->calendar, parse("calendar"));
      if (!p->calendar.is_array()) return bad_content(path, "应为数组", "expected an array");
    } else if (path.rfind("datasets/", 0) == 0) {
      const std::string name = path.substr(9);
      if (name.size() < 6 || name.substr(name.size() - 5) != ".json" ||
          name.find('/') != std::string::npos) {
        return bad_content(path, "数据集文件应为 datasets/{id}.json",
                           "dataset files are datasets/{id}.json");
      }
      SG_ASSIGN_OR_RETURN(json j, parse("dataset"));
      auto d = publish::dataset_from_json(j);
      if (!d.ok()) return bad_content(path, d.error().message, d.error().message_en);
      if (d->id != name.substr(0, name.size() - 5)) {
        return bad_content(path, "文件名与数据集 id 不符", "file name differs from the dataset id");
      }
      if (m.release_id.empty()) {
        return bad_content(path, "数据集只能随发布一同发布", "datasets travel only with a release");
      }
      auto v = std::make_shared<DatasetVersion>();
      v->dataset = std::move(d).value();
      v->published = std::move(j);
      v->release_id = m.release_id;
      v->release_at = m.release_at;
      v->sequence = m.sequence;
      p->datasets.push_back(std::move(v));
    } else if (path.rfind("documents/files/", 0) == 0) {
      // attachment bytes; checked against the documents below
    } else if (path.rfind("documents/", 0) == 0) {
      SG_ASSIGN_OR_RETURN(json doc, parse("document"));
      if (!doc.is_object() || !doc.contains("index_no") || !doc["index_no"].is_string() ||
          doc["index_no"].get<std::string>().empty() ||
          path != "documents/" + doc["index_no"].get<std::string>() + ".json") {
        return bad_content(path, "应为 documents/{index_no}.json 且含 index_no",
                           "expected documents/{index_no}.json with its index_no");
      }
      for (const char* key : {"title", "category", "publisher", "date", "body"}) {
        if (doc.contains(key) && !doc[key].is_string()) {
          return bad_content(path, std::string(key) + " 应为字符串",
                             std::string(key) + " must be a string");
        }
      }
      if (!doc.contains("attachments")) doc["attachments"] = json::array();
      if (!doc["attachments"].is_array())
        return bad_content(path, "attachments 应为数组", "attachments must be an array");
      for (const auto& a : doc["attachments"]) {
        if (!a.is_object() || !a.contains("name") || !a["name"].is_string() ||
            !a.contains("path") || !a["path"].is_string() ||
            !verified.files.count(a["path"].get<std::string>())) {
          return bad_content(path, "附件应为 {name, path} 且文件在包内",
                             "attachments are {name, path} with the file in the package");
        }
      }
      // NOTE: the key first: in `m[k(doc)] = std::move(doc)` the move happens before k(doc).
      std::string index_no = doc["index_no"].get<std::string>();
      p->documents[index_no] = std::move(doc);
    } else if (path.rfind("site/", 0) == 0) {
      p->has_site = true;
    }
    // Anything else is carried and kept (signed), but not served.
  }
  if (!m.release_id.empty() && p->release.is_null()) {
    return bad_content("release.json", "有发布编号却没有 release.json",
                       "a release id but no release.json");
  }
  p->verified = std::move(verified);
  return std::shared_ptr<const Package>(std::move(p));
}

}  // namespace

Result<std::shared_ptr<const Package>> load_package(publish::VerifiedPackage verified) {
  // The content is signed but still input: a JSON type error must refuse the package, never
  // take the poller thread down.
  try {
    return load_package_unguarded(std::move(verified));
  } catch (const std::exception& e) {
    return bad_content("?", "内容无法解析", std::string("content does not parse: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Response cache
// ---------------------------------------------------------------------------------------------

std::shared_ptr<const http::Response> ResponseCache::get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  ++hits_;
  return it->second->second;
}

void ResponseCache::put(const std::string& key, std::shared_ptr<const http::Response> r) {
  const std::size_t size = r->body.size() + key.size() + 256;
  if (size > max_bytes_ / 4) return;  // one huge response must not flush everything else
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->second->body.size() + key.size() + 256;
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(r));
  index_[key] = lru_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto& last = lru_.back();
    bytes_ -= last.second->body.size() + last.first.size() + 256;
    index_.erase(last.first);
    lru_.pop_back();
  }
}

std::size_t ResponseCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

// ---------------------------------------------------------------------------------------------
// Portal
// ---------------------------------------------------------------------------------------------

Portal::Portal(PortalOptions options, const Clock& clock)
    : opt_(std::move(options)), clock_(clock), cache_(opt_.cache_bytes) {}

Portal::~Portal() { stop(); }

Status Portal::open() {
  std::error_code ec;
  for (const auto& d : {opt_.data / "archive", opt_.data / "published", opt_.data / "set-aside",
                        opt_.inbox / "refused"}) {
    fs::create_directories(d, ec);
    if (ec) {
      return make_error(ErrorKind::internal, "IO_ERROR", "无法创建目录：" + d.string(),
                        "Cannot create folder: " + d.string() + ": " + ec.message());
    }
  }
  {
    std::lock_guard work(work_mu_);
    SG_TRY(load_archive());
  }
  check_integrity();  // restores published/ from the verified copies
  poll_inbox();
  return Ok{};
}

Status Portal::load_archive() {
  // state.json keeps the last sequence even if its package is later set aside, so that an older
  // package can't be replayed into the gap.
  std::uint64_t last = 0;
  std::set<std::string> ids;
  if (auto text = read_file(opt_.data / "state.json")) {
    auto j = json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("last_sequence") && j["last_sequence"].is_number_unsigned()) {
      last = j["last_sequence"].get<std::uint64_t>();
    }
    if (j.is_object() && j.contains("package_ids") && j["package_ids"].is_array()) {
      for (const auto& id : j["package_ids"]) {
        if (id.is_string()) ids.insert(id.get<std::string>());
      }
    }
  }
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(opt_.data / "archive", ec)) {
    const std::uint64_t seq = archive_sequence(e.path());
    if (seq > 0 && e.is_regular_file()) files.emplace_back(seq, e.path());
  }
  std::sort(files.begin(), files.end());
  std::map<std::uint64_t, std::shared_ptr<const Package>> loaded;
  std::string agency;
  for (const auto& [seq, path] : files) {
    auto set_aside = [&](const Error& why) {
      spdlog::error("portal: archived package {} no longer verifies, set aside: {} [{}]",
                    path.string(), why.message_en, why.code);
      std::error_code ec2;
      const fs::path to = opt_.data / "set-aside" / path.filename();
      fs::rename(path, to, ec2);
      (void)write_file(to.string() + ".reason.txt", reason_text(why));
    };
    auto bytes = read_file(path);
    if (!bytes) {
      set_aside(make_error(ErrorKind::internal, "IO_ERROR", "无法读取", "Cannot read"));
      continue;
    }
    auto v = publish::open_package(*bytes, opt_.public_key);
    if (!v.ok()) {
      set_aside(v.error());
      continue;
    }
    if (v->manifest.sequence != seq) {
      set_aside(make_error(ErrorKind::invalid, "BAD_PACKAGE", "文件名与包的序号不符",
                           "The file name differs from the package's sequence"));
      continue;
    }
    if (!agency.empty() && v->manifest.agency != agency) {
      set_aside(make_error(ErrorKind::invalid, "AGENCY_MISMATCH", "发布机构与先前的包不同",
                           "The agency differs from earlier packages"));
      continue;
    }
    agency = v->manifest.agency;
    ids.insert(v->manifest.package_id);
    auto p = load_package(std::move(v).value());
    if (!p.ok()) {
      set_aside(p.error());
      continue;
    }
    auto copy = std::const_pointer_cast<Package>(*p);
    copy->archive_sha256 = sha256_hex(*bytes);
    loaded.emplace(seq, std::move(copy));
    last = std::max(last, seq);
  }
  {
    std::lock_guard lock(mu_);
    packages_ = std::move(loaded);
    last_sequence_ = last;
    package_ids_ = std::move(ids);
    agency_ = agency;
    ++generation_;
  }
  spdlog::info("portal: {} packages loaded from {}, last sequence {}", files.size(),
               (opt_.data / "archive").string(), last);
  return write_state();
}

Status Portal::write_state() {
  json j;
  {
    std::lock_guard lock(mu_);
    j = {{"last_sequence", last_sequence_}, {"package_ids", package_ids_}, {"agency", agency_}};
  }
  return write_file(opt_.data / "state.json", j.dump(2) + "\n");
}

Status Portal::unpack(const Package& p) {
  const fs::path dir = opt_.data / "published" / std::to_string(p.sequence());
  const fs::path tmp = dir.string() + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  for (const auto& [path, bytes] : p.verified.files) {
    SG_TRY(write_file(tmp / path, bytes));
  }
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) {
    return make_error(ErrorKind::internal, "IO_ERROR", "无法解包到 " + dir.string(),
                      "Cannot unpack to " + dir.string() + ": " + ec.message());
  }
  return Ok{};
}

Result<std::uint64_t> Portal::accept(const std::string& bytes) {
  std::lock_guard work(work_mu_);
  SG_ASSIGN_OR_RETURN(auto verified, publish::open_package(bytes, opt_.public_key));
  return accept_verified(std::move(verified), bytes);
}

Result<std::uint64_t> Portal::accept_verified(publish::VerifiedPackage verified,
                                              const std::string& bytes) {
  const auto& m = verified.manifest;
  {
    std::lock_guard lock(mu_);
    if (package_ids_.count(m.package_id)) {
      return make_error(ErrorKind::conflict, "REPLAYED",
                        "此发布包已接收过（package_id " + m.package_id + "）",
                        "This package was already accepted (package_id " + m.package_id + ")");
    }
    if (m.sequence <= last_sequence_) {
      return make_error(ErrorKind::conflict, "STALE_SEQUENCE",
                        "发布包序号 " + std::to_string(m.sequence) + " 不大于已接收的 " +
                            std::to_string(last_sequence_) + "（旧包或重放）",
                        "Package sequence " + std::to_string(m.sequence) +
                            " is not greater than the last accepted " +
                            std::to_string(last_sequence_) + " (old or replayed)");
    }
    if (!agency_.empty() && m.agency != agency_) {
      return make_error(ErrorKind::invalid, "AGENCY_MISMATCH",
                        "发布机构 " + m.agency + " 与本门户的 " + agency_ + " 不同",
                        "Agency " + m.agency + " differs from this portal's " + agency_);
    }
  }
  const std::uint64_t seq = m.sequence;
  SG_ASSIGN_OR_RETURN(auto loaded, load_package(std::move(verified)));
  auto pkg = std::const_pointer_cast<Package>(loaded);
  pkg->archive_sha256 = sha256_hex(bytes);
  // Archive first: once it is on disk the package survives a restart; the state follows.
  SG_TRY(write_file(opt_.data / "archive" / (std::to_string(seq) + ".sgpkg"), bytes));
  if (auto st = unpack(*pkg); !st.ok()) {
    spdlog::warn("portal: {} (the integrity check will retry)", st.error().message_en);
  }
  {
    std::lock_guard lock(mu_);
    packages_.emplace(seq, pkg);
    last_sequence_ = seq;
    package_ids_.insert(pkg->verified.manifest.package_id);
    agency_ = pkg->verified.manifest.agency;
    ++generation_;
  }
  SG_TRY(write_state());
  spdlog::info("portal: accepted package {} (agency {}, release '{}', release_at '{}', {} files)",
               seq, pkg->verified.manifest.agency, pkg->verified.manifest.release_id,
               pkg->verified.manifest.release_at, pkg->verified.files.size());
  return seq;
}

void Portal::refuse(const fs::path& file, const Error& why) {
  spdlog::warn("portal: refused {}: {} [{}]", file.filename().string(), why.message_en, why.code);
  const fs::path dir = opt_.inbox / "refused";
  fs::path to = dir / file.filename();
  std::error_code ec;
  if (fs::exists(to, ec)) {
    to = dir / (file.stem().string() + "-" + random_token(4) + file.extension().string());
  }
  fs::rename(file, to, ec);
  if (ec) {
    spdlog::error("portal: cannot move {} to {}: {}", file.string(), to.string(), ec.message());
    fs::remove(file, ec);
  }
  (void)write_file(to.string() + ".reason.txt", reason_text(why));
}

int Portal::poll_inbox() {
  std::lock_guard work(work_mu_);
  std::error_code ec;
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> seen;
  std::vector<fs::path> ready;
  for (const auto& e : fs::directory_iterator(opt_.inbox, ec)) {
    std::error_code ec2;
    if (!e.is_regular_file(ec2) || e.path().extension() != ".sgpkg") continue;
    const std::string name = e.path().filename().string();
    const auto size = e.file_size(ec2);
    const auto mtime = e.last_write_time(ec2);
    if (ec2) continue;
    // A file is complete when it was renamed in whole (the documented way) or its size and time
    // did not change since the previous poll. A file untouched for two seconds counts as renamed
    // in, so a portal started on a full inbox takes it at once.
    const bool settled = fs::file_time_type::clock::now() - mtime > std::chrono::seconds(2);
    auto prev = pending_.find(name);
    if (settled || (prev != pending_.end() && prev->second == std::make_pair(size, mtime))) {
      ready.push_back(e.path());
    } else {
      seen[name] = {size, mtime};
    }
  }
  pending_ = std::move(seen);
  std::sort(ready.begin(), ready.end());
  // Verify everything first, then accept in sequence order: a batch dropped together (say 18
  // and 19) must not be refused for arriving in name order.
  std::vector<std::tuple<std::uint64_t, fs::path, publish::VerifiedPackage, std::string>> good;
  for (const auto& path : ready) {
    std::error_code ec2;
    if (fs::file_size(path, ec2) > publish::kMaxPackageBytes) {
      refuse(path, make_error(ErrorKind::too_large, "TOO_LARGE", "发布包超过 256 MiB",
                              "The package exceeds 256 MiB"));
      continue;
    }
    auto bytes = read_file(path);
    if (!bytes) continue;  // vanished meanwhile; nothing to do
    auto v = publish::open_package(*bytes, opt_.public_key);
    if (!v.ok()) {
      refuse(path, v.error());
      continue;
    }
    const std::uint64_t seq = v->manifest.sequence;
    good.emplace_back(seq, path, std::move(v).value(), std::move(*bytes));
  }
  std::sort(good.begin(), good.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  int accepted = 0;
  for (auto& [seq, path, verified, bytes] : good) {
    auto r = accept_verified(std::move(verified), bytes);
    if (!r.ok()) {
      refuse(path, r.error());
      continue;
    }
    std::error_code ec2;
    fs::remove(path, ec2);
    ++accepted;
  }
  return accepted;
}

std::vector<TamperEvent> Portal::check_integrity() {
  std::lock_guard work(work_mu_);
  std::map<std::uint64_t, std::shared_ptr<const Package>> packages;
  {
    std::lock_guard lock(mu_);
    packages = packages_;
  }
  const std::string now = publish::format_iso_seconds(clock_.now());
  std::vector<TamperEvent> found;
  auto report = [&](std::string path, std::string change, bool repaired) {
    spdlog::error("portal: integrity: {} {} ({})", path, change,
                  repaired ? "repaired from the signed archive" : "NOT repaired");
    found.push_back({std::move(path), std::move(change), repaired, now});
  };
  std::error_code ec;
  const fs::path published = opt_.data / "published";
  for (const auto& [seq, pkg] : packages) {
    const std::string rel_dir = "published/" + std::to_string(seq);
    const fs::path dir = opt_.data / rel_dir;
    // The archive copy: the source of repairs when it still verifies, else the verified copy
    // in memory (which came from it).
    const fs::path archive = opt_.data / "archive" / (std::to_string(seq) + ".sgpkg");
    std::optional<publish::VerifiedPackage> from_archive;
    auto source = [&]() -> const publish::PackageFiles& {
      if (!from_archive) {
        auto bytes = read_file(archive);
        auto v = bytes ? publish::open_package(*bytes, opt_.public_key)
                       : Result<publish::VerifiedPackage>(
                             make_error(ErrorKind::internal, "IO_ERROR", "", ""));
        from_archive = v.ok() && v->manifest.package_id == pkg->verified.manifest.package_id
                           ? std::move(v).value()
                           : pkg->verified;
      }
      return from_archive->files;
    };
    auto archive_bytes = read_file(archive);
    if (!archive_bytes || sha256_hex(*archive_bytes) != pkg->archive_sha256) {
      report("archive/" + std::to_string(seq) + ".sgpkg", archive_bytes ? "modified" : "deleted",
             false);
    }
    for (const auto& entry : pkg->verified.manifest.files) {
      const std::string& path = entry.path;
      const fs::path file = dir / path;
      auto disk = read_file(file);
      if (disk && disk->size() == entry.size && sha256_hex(*disk) == entry.sha256) continue;
      const auto& src = source();
      auto it = src.find(path);
      const bool repaired = it != src.end() && write_file(file, it->second).ok();
      report(rel_dir + "/" + path, disk ? "modified" : "deleted", repaired);
    }
    // Anything on disk that the manifest does not list was added by someone else.
    std::vector<fs::path> extra;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code ec2;
      if (it->is_directory(ec2)) continue;
      const std::string rel = fs::relative(it->path(), dir, ec2).generic_string();
      if (!pkg->verified.files.count(rel)) extra.push_back(it->path());
    }
    ec.clear();
    for (const auto& p : extra) {
      std::error_code ec2;
      const bool removed = fs::remove(p, ec2);
      report(rel_dir + "/" + fs::relative(p, dir, ec2).generic_string(), "added", removed);
    }
  }
  for (const auto& e : fs::directory_iterator(published, ec)) {
    const std::string name = e.path().filename().string();
    bool known = false;
    for (const auto& [seq, pkg] : packages) known = known || name == std::to_string(seq);
    if (!known) {
      std::error_code ec2;
      const bool removed = fs::remove_all(e.path(), ec2) > 0 && !ec2;
      report("published/" + name, "added", removed);
    }
  }
  {
    std::lock_guard lock(mu_);
    integrity_checked_at_ = now;
    for (const auto& e : found) tampered_.push_back(e);
    if (tampered_.size() > kMaxTamperEvents) {
      tampered_.erase(tampered_.begin(), tampered_.end() - kMaxTamperEvents);
    }
  }
  return found;
}

namespace {

// `later` over `earlier`: code lists united (earlier order first; periods sorted), observations
// united by their codes, `later`'s title, notes and metadata.
std::shared_ptr<const DatasetVersion> merge_versions(const DatasetVersion& earlier,
                                                     const DatasetVersion& later) {
  const publish::Dataset& a = earlier.dataset;
  const publish::Dataset& b = later.dataset;
  auto same_shape = [&] {
    if (a.dimensions.size() != b.dimensions.size()) return false;
    for (std::size_t i = 0; i < a.dimensions.size(); ++i)
      if (a.dimensions[i].id != b.dimensions[i].id) return false;
    return true;
  };
  if (!same_shape()) return std::make_shared<const DatasetVersion>(later);  // a redesign replaces
  publish::Dataset m = b;
  std::vector<std::map<std::string, std::uint32_t>> index(m.dimensions.size());
  for (std::size_t i = 0; i < m.dimensions.size(); ++i) {
    auto& dim = m.dimensions[i];
    std::vector<publish::Code> codes = a.dimensions[i].codes;
    for (const auto& c : b.dimensions[i].codes) {
      auto it = std::find_if(codes.begin(), codes.end(), [&](const publish::Code& x) { return x.id == c.id; });
      if (it == codes.end()) codes.push_back(c);
      else *it = c;  // the later names win
    }
    if (i + 1 == m.dimensions.size()) {  // TIME_PERIOD: in time order
      std::stable_sort(codes.begin(), codes.end(),
                       [](const publish::Code& x, const publish::Code& y) { return x.id < y.id; });
    }
    dim.codes = std::move(codes);
    for (std::uint32_t k = 0; k < dim.codes.size(); ++k) index[i][dim.codes[k].id] = k;
  }
  std::map<std::vector<std::uint32_t>, publish::Observation> cells;
  for (const publish::Dataset* src : {&a, &b}) {
    for (const auto& o : src->observations) {
      publish::Observation n = o;
      for (std::size_t i = 0; i < n.key.size(); ++i)
        n.key[i] = index[i][src->dimensions[i].codes[o.key[i]].id];
      cells[n.key] = std::move(n);
    }
  }
  m.observations.clear();
  for (auto& [k, o] : cells) m.observations.push_back(std::move(o));
  auto out = std::make_shared<DatasetVersion>(later);
  out->dataset = std::move(m);
  out->published = publish::dataset_to_json(out->dataset);
  return out;
}

}  // namespace

std::shared_ptr<const View> Portal::view() const {
  const TimePoint now = clock_.now();
  std::lock_guard lock(mu_);
  std::string key = std::to_string(generation_) + ":";
  for (const auto& [seq, p] : packages_) {
    if (p->visible_at(now)) key += std::to_string(seq) + ",";
  }
  if (view_ && view_->key == key) return view_;

  auto v = std::make_shared<View>();
  v->key = key;
  std::map<std::string, std::pair<json, std::uint64_t>> releases;  // by id, latest package wins
  for (const auto& [seq, p] : packages_) {
    if (p->calendar.is_array()) v->calendar = p->calendar;  // public before its releases
    if (!p->visible_at(now)) continue;
    if (p->release.is_object()) {
      json r = p->release;
      r["sequence"] = seq;
      if (!r.contains("release_at")) r["release_at"] = p->verified.manifest.release_at;
      releases[p->verified.manifest.release_id] = {std::move(r), seq};
    }
    for (const auto& d : p->datasets) {
      auto& entry = v->datasets[d->dataset.id];
      if (entry.current) {
        entry.revisions.push_back({{"updated", entry.current->dataset.updated},
                                   {"release_id", entry.current->release_id},
                                   {"sequence", entry.current->sequence}});
        // A dataset grows release by release (each month adds its period): the series is the
        // union of every visible version, the later one winning where both hold a cell.
        entry.current = merge_versions(*entry.current, *d);
      } else {
        entry.current = d;
      }
    }
    for (const auto& [no, doc] : p->documents) v->documents[no] = {doc, p};
    if (p->has_site) v->site = p;
  }
  for (auto& [id, r] : releases) v->releases.push_back(std::move(r.first));
  std::sort(v->releases.begin(), v->releases.end(), [](const json& a, const json& b) {
    const std::string ta = a.value("release_at", ""), tb = b.value("release_at", "");
    if (ta != tb) return ta > tb;
    return a.value("sequence", 0) > b.value("sequence", 0);
  });
  view_ = v;
  return v;
}

json Portal::health() const {
  std::lock_guard lock(mu_);
  json tampered = json::array();
  for (const auto& e : tampered_) {
    tampered.push_back({{"path", e.path},
                        {"change", e.change},
                        {"repaired", e.repaired},
                        {"detected_at", e.detected_at}});
  }
  return {
      {"ok", true},
      {"packages", packages_.size()},
      {"last_sequence", last_sequence_},
      {"integrity",
       {{"checked_at", integrity_checked_at_.empty() ? json(nullptr) : json(integrity_checked_at_)},
        {"tampered", std::move(tampered)}}}};
}

void Portal::start() {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    auto next_integrity = std::chrono::steady_clock::now() + opt_.integrity_interval;
    std::unique_lock lock(thread_mu_);
    while (!stopping_) {
      thread_cv_.wait_for(lock, opt_.inbox_interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      poll_inbox();
      if (std::chrono::steady_clock::now() >= next_integrity) {
        check_integrity();
        next_integrity = std::chrono::steady_clock::now() + opt_.integrity_interval;
      }
      lock.lock();
    }
  });
}

void Portal::stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  thread_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace statgov::portal
