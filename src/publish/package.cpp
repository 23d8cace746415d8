#include "publish/package.hpp"

#include "base/crypto.hpp"

#include <sodium.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <set>

namespace statgov::publish {

namespace {

using json = nlohmann::json;

constexpr std::string_view kFormat = "statgov-release-package/1";
constexpr std::string_view kManifestPath = "manifest.json";
constexpr std::string_view kSignaturePath = "manifest.sig";
constexpr std::uint64_t kMaxSignatureFileBytes = 1024;

Error package_error(std::string code, ErrorKind kind, std::string zh, std::string en,
                    std::string_view reason = {}) {
  json details = json::array();
  if (!reason.empty()) details.push_back({{"reason", std::string(reason)}});
  return make_error(kind, std::move(code), std::move(zh), std::move(en), std::move(details));
}

Error bad_package(const std::string& zh, const std::string& en) {
  return package_error("BAD_PACKAGE", ErrorKind::invalid, "发布包无效：" + zh,
                       "Invalid release package: " + en);
}

Error bad_path(const std::string& path) {
  return package_error("BAD_PATH", ErrorKind::invalid, "发布包含有不安全的路径：" + path,
                       "The release package holds an unsafe path: " + path, path);
}

Error too_large(const std::string& zh, const std::string& en) {
  return package_error("TOO_LARGE", ErrorKind::too_large, "发布包超过大小限制：" + zh,
                       "The release package exceeds a size limit: " + en);
}

Error bad_key(const std::string& which) {
  return package_error("BAD_KEY", ErrorKind::invalid,
                       "密钥文件无效（应为一行 base64 编码的 Ed25519 " + which + "）",
                       "Invalid key file (expected one line of base64 Ed25519 " + which + ")");
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

Result<std::string> parse_key(std::string_view file_text, std::size_t bytes,
                              const std::string& which) {
  auto raw = unbase64(trim(file_text));
  if (!raw || raw->size() != bytes) return bad_key(which);
  return std::move(*raw);
}

// Read-only archive over caller-owned bytes; zip_discard because nothing is ever written.
class ZipReader {
 public:
  ZipReader() = default;
  ~ZipReader() {
    if (za_ != nullptr) zip_discard(za_);
  }
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  Status open(std::string_view bytes) {
    zip_error_t err;
    zip_error_init(&err);
    // freep = 0: the buffer stays owned by the caller and outlives this reader.
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src == nullptr) {
      zip_error_fini(&err);
      return bad_package("无法读取", "cannot read the bytes");
    }
    // ZIP_CHECKCONS: local headers must agree with the central directory, and duplicate names
    // fail the open.
    za_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (za_ == nullptr) {
      zip_source_free(src);  // on failure the source is still ours
      std::string reason = zip_error_strerror(&err);
      zip_error_fini(&err);
      return bad_package("不是有效的 zip 文件（" + reason + "）",
                         "not a valid zip file (" + reason + ")");
    }
    zip_error_fini(&err);
    return Ok{};
  }

  zip_t* get() const { return za_; }

  // Inflates one entry. The directory's size was checked before; the caps are enforced again
  // while inflating because that size is attacker-controlled and may lie.
  Result<std::string> read(zip_uint64_t index, const std::string& name, std::uint64_t& total) {
    zip_file_t* file = zip_fopen_index(za_, index, 0);
    if (file == nullptr) return bad_package("无法打开 " + name, "cannot open " + name);
    std::string out;
    char buf[64 * 1024];
    while (true) {
      const zip_int64_t got = zip_fread(file, buf, sizeof buf);
      if (got < 0) {
        zip_fclose(file);
        return bad_package("无法解压 " + name, "cannot inflate " + name);
      }
      if (got == 0) break;
      const auto n = static_cast<std::uint64_t>(got);
      if (out.size() + n > kMaxPackageFileBytes || total + n > kMaxPackageBytes) {
        zip_fclose(file);
        return too_large(name, name);
      }
      total += n;
      out.append(buf, n);
    }
    if (zip_fclose(file) != 0)
      return bad_package(name + " 校验和错误", "checksum error in " + name);
    return out;
  }

 private:
  zip_t* za_ = nullptr;
};

}  // namespace

KeyPair generate_keypair() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  KeyPair kp{std::string(reinterpret_cast<char*>(pk), sizeof pk),
             std::string(reinterpret_cast<char*>(sk), sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return kp;
}

Result<std::string> parse_public_key(std::string_view file_text) {
  return parse_key(file_text, crypto_sign_PUBLICKEYBYTES, "public key / 公钥");
}

Result<std::string> parse_secret_key(std::string_view file_text) {
  return parse_key(file_text, crypto_sign_SECRETKEYBYTES, "secret key / 私钥");
}

std::string key_file_text(std::string_view raw_key) { return base64(raw_key) + "\n"; }

bool safe_package_path(std::string_view path) {
  if (path.empty() || path.size() > 255) return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return false;
  }
  if (path.front() == '/') return false;
  // Every segment non-empty (no "a//b", no trailing '/', i.e. no directory entries), not "." or
  // "..", and free of control characters and a drive-letter colon.
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ':') return false;
    }
    i = j + 1;
  }
  return true;
}

json manifest_to_json(const Manifest& m) {
  json files = json::array();
  for (const auto& f : m.files)
    files.push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
  return {{"format", m.format},         {"agency", m.agency},         {"sequence", m.sequence},
          {"package_id", m.package_id}, {"created_at", m.created_at}, {"release_id", m.release_id},
          {"release_at", m.release_at}, {"files", std::move(files)}};
}

Result<Manifest> manifest_from_json(const json& j) {
  auto bad = [](const std::string& field) {
    return bad_package("manifest.json 的 " + field + " 字段缺失或类型错误",
                       "manifest.json field " + field + " is missing or of the wrong type");
  };
  if (!j.is_object())
    return bad_package("manifest.json 不是对象", "manifest.json is not an object");
  Manifest m;
  auto str = [&](const char* key, std::string& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!str("format", m.format)) return bad("format");
  if (m.format != kFormat) {
    return bad_package("未知的格式 " + m.format, "unknown format " + m.format);
  }
  for (const char* key : {"agency", "package_id", "created_at", "release_id", "release_at"}) {
    std::string* out = std::string_view(key) == "agency"       ? &m.agency
                       : std::string_view(key) == "package_id" ? &m.package_id
                       : std::string_view(key) == "created_at" ? &m.created_at
                       : std::string_view(key) == "release_id" ? &m.release_id
                                                               : &m.release_at;
    if (!str(key, *out)) return bad(key);
  }
  if (m.agency.empty()) return bad("agency");
  if (m.package_id.empty()) return bad("package_id");
  if (m.release_id.empty() != m.release_at.empty()) return bad("release_at");
  auto seq = j.find("sequence");
  auto natural = [](const json& v) {
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
  };
  if (seq == j.end() || !natural(*seq)) return bad("sequence");
  m.sequence = seq->get<std::uint64_t>();
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return bad("files");
  std::set<std::string> seen;
  for (const auto& f : *files) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("sha256") ||
        !f["sha256"].is_string() || !f.contains("size") || !natural(f["size"])) {
      return bad("files");
    }
    ManifestEntry e{f["path"].get<std::string>(), f["sha256"].get<std::string>(),
                    f["size"].get<std::uint64_t>()};
    if (!safe_package_path(e.path) || e.path == kManifestPath || e.path == kSignaturePath) {
      return bad_path(e.path);
    }
    if (!seen.insert(e.path).second) return bad_path(e.path + " (duplicate / 重复)");
    if (!is_hex64(e.sha256)) return bad("files[].sha256");
    if (e.size > kMaxPackageFileBytes) return too_large(e.path, e.path);
    m.files.push_back(std::move(e));
  }
  return m;
}

Result<TimePoint> parse_iso_time(std::string_view t) {
  auto bad = [&] {
    return make_error(
        ErrorKind::invalid, "BAD_TIME",
        "时间格式错误（应为 ISO 8601，例如 2026-12-15T09:30+08:00）：" + std::string(t),
        "Bad time (expected ISO 8601, e.g. 2026-12-15T09:30+08:00): " + std::string(t));
  };
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > t.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!num(0, 4, y) || t.size() < 16 || t[4] != '-' || !num(5, 2, mo) || t[7] != '-' ||
      !num(8, 2, d) || t[10] != 'T' || !num(11, 2, h) || t[13] != ':' || !num(14, 2, mi)) {
    return bad();
  }
  std::size_t pos = 16;
  if (pos < t.size() && t[pos] == ':') {
    if (!num(pos + 1, 2, s)) return bad();
    pos += 3;
    if (pos < t.size() && t[pos] == '.') {
      ++pos;
      while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;  // fraction: ignored
    }
  }
  int offset = 0;
  if (pos < t.size() && t[pos] == 'Z') {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh = 0, om = 0;
    if (!num(pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' || !num(pos + 4, 2, om) ||
        oh > 14 || om > 59) {
      return bad();
    }
    offset = (oh * 60 + om) * (t[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (pos != t.size() || !ymd.ok() || h > 23 || mi > 59 || s > 60) return bad();
  return TimePoint(sys_days(ymd)) + hours(h) + minutes(mi - offset) + seconds(s);
}

std::string format_iso_seconds(TimePoint t) {
  std::string s = format_utc(std::chrono::floor<std::chrono::seconds>(t));  // ...:ss.000Z
  return s.substr(0, 19) + "Z";
}

Result<std::string> zip_entries(const std::vector<std::pair<std::string, std::string>>& entries,
                                bool store) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (out == nullptr) {
    zip_error_fini(&err);
    return bad_package("无法创建 zip", "cannot create the zip");
  }
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  zip_error_fini(&err);
  if (za == nullptr) {
    zip_source_free(out);
    return bad_package("无法创建 zip", "cannot create the zip");
  }
  zip_source_keep(out);  // keep the buffer alive after zip_close to read the result back
  auto fail = [&](const std::string& what) -> Error {
    zip_discard(za);
    zip_source_free(out);
    return bad_package("无法写入 zip：" + what, "cannot write the zip: " + what);
  };
  for (const auto& [name, bytes] : entries) {
    // The entries outlive zip_close, so the source may point into them (freep = 0).
    zip_source_t* s = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
    if (s == nullptr) return fail(name);
    const zip_int64_t idx = zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      return fail(name);
    }
    if (store &&
        zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0) != 0) {
      return fail(name);
    }
    // Fixed times so that the same input zips to the same bytes.
    zip_file_set_mtime(za, static_cast<zip_uint64_t>(idx), 315532800 + 86400, 0);
  }
  if (zip_close(za) != 0) return fail("close");
  std::string result;
  if (zip_source_open(out) != 0) {
    zip_source_free(out);
    return bad_package("无法读取 zip", "cannot read back the zip");
  }
  char buf[64 * 1024];
  zip_int64_t got = 0;
  while ((got = zip_source_read(out, buf, sizeof buf)) > 0)
    result.append(buf, static_cast<std::size_t>(got));
  zip_source_close(out);
  zip_source_free(out);
  if (got < 0) return bad_package("无法读取 zip", "cannot read back the zip");
  return result;
}

Result<std::string> build_package(Manifest manifest, const PackageFiles& files,
                                  std::string_view secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) return bad_key("secret key / 私钥");
  if (manifest.format != kFormat) {
    return bad_package("未知的格式 " + manifest.format, "unknown format " + manifest.format);
  }
  manifest.files.clear();
  std::uint64_t total = 0;
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [path, bytes] : files) {
    if (!safe_package_path(path) || path == kManifestPath || path == kSignaturePath) {
      return bad_path(path);
    }
    if (bytes.size() > kMaxPackageFileBytes) return too_large(path, path);
    total += bytes.size();
    if (total > kMaxPackageBytes) return too_large(path, path);
    manifest.files.push_back({path, sha256_hex(bytes), bytes.size()});
  }
  if (files.size() + 2 > kMaxPackageEntries) return too_large("文件过多", "too many files");
  std::string manifest_bytes = manifest_to_json(manifest).dump(2) + "\n";
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(manifest_bytes.data()),
                       manifest_bytes.size(),
                       reinterpret_cast<const unsigned char*>(secret_key.data()));
  entries.emplace_back(kManifestPath, std::move(manifest_bytes));
  entries.emplace_back(kSignaturePath,
                       base64(std::string_view(reinterpret_cast<char*>(sig), sizeof sig)) + "\n");
  for (const auto& [path, bytes] : files) entries.emplace_back(path, bytes);
  // NOTE: zip_entries keeps pointers into `entries` until it returns; nothing here outlives it.
  return zip_entries(entries);
}

Result<VerifiedPackage> open_package(std::string_view zip_bytes, std::string_view public_key) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) return bad_key("public key / 公钥");
  if (zip_bytes.size() > kMaxPackageBytes) return too_large("整个包", "the whole package");
  ZipReader zip;
  SG_TRY(zip.open(zip_bytes));

  // Pass 1: the directory only. Names, duplicates and declared sizes are checked before a byte
  // is inflated, so a zip bomb is refused by what it claims.
  const zip_int64_t n = zip_get_num_entries(zip.get(), 0);
  if (n < 0) return bad_package("无法读取目录", "cannot read the zip directory");
  if (static_cast<std::uint64_t>(n) > kMaxPackageEntries)
    return too_large("文件过多", "too many files");
  std::map<std::string, zip_uint64_t> index;
  std::uint64_t declared_total = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(n); ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip.get(), i, ZIP_FL_ENC_RAW, &st) != 0 || (st.valid & ZIP_STAT_NAME) == 0 ||
        (st.valid & ZIP_STAT_SIZE) == 0) {
      return bad_package("无法读取目录项", "cannot read a zip directory entry");
    }
    std::string name = st.name;
    if (!safe_package_path(name)) return bad_path(name);
    if (!index.emplace(name, i).second) return bad_path(name + " (duplicate / 重复)");
    const std::uint64_t cap =
        name == kSignaturePath ? kMaxSignatureFileBytes : kMaxPackageFileBytes;
    if (st.size > cap) return too_large(name, name);
    declared_total += st.size;
    if (declared_total > kMaxPackageBytes) return too_large("解压后总大小", "the unpacked total");
  }
  auto manifest_it = index.find(std::string(kManifestPath));
  auto sig_it = index.find(std::string(kSignaturePath));
  if (manifest_it == index.end())
    return bad_package("缺少 manifest.json", "manifest.json is missing");
  if (sig_it == index.end()) return bad_package("缺少 manifest.sig", "manifest.sig is missing");

  std::uint64_t total = 0;
  VerifiedPackage out;
  SG_ASSIGN_OR_RETURN(out.manifest_bytes, zip.read(manifest_it->second, manifest_it->first, total));
  SG_ASSIGN_OR_RETURN(std::string sig_text, zip.read(sig_it->second, sig_it->first, total));
  auto sig = unbase64(trim(sig_text));
  if (!sig || sig->size() != crypto_sign_BYTES) {
    return package_error("BAD_SIGNATURE", ErrorKind::invalid, "签名格式错误",
                         "The signature is malformed");
  }
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                  reinterpret_cast<const unsigned char*>(out.manifest_bytes.data()),
                                  out.manifest_bytes.size(),
                                  reinterpret_cast<const unsigned char*>(public_key.data())) != 0) {
    return package_error("BAD_SIGNATURE", ErrorKind::invalid,
                         "签名验证失败（包被改动，或不是用本局的发布密钥签名）",
                         "The signature does not verify (the package was altered, or it was not "
                         "signed with the bureau's release key)");
  }
  out.signature = std::move(*sig);

  // From here on the manifest is the bureau's own word.
  auto j = json::parse(out.manifest_bytes, nullptr, false);
  if (j.is_discarded())
    return bad_package("manifest.json 不是有效的 JSON", "manifest.json is not valid JSON");
  SG_ASSIGN_OR_RETURN(out.manifest, manifest_from_json(j));

  std::set<std::string> listed;
  for (const auto& e : out.manifest.files) listed.insert(e.path);
  for (const auto& [name, i] : index) {
    if (name != kManifestPath && name != kSignaturePath && !listed.count(name)) {
      return bad_package("包中有清单之外的文件 " + name, "a file outside the manifest: " + name);
    }
  }
  for (const auto& e : out.manifest.files) {
    auto it = index.find(e.path);
    if (it == index.end()) {
      return bad_package("清单所列文件缺失 " + e.path, "a listed file is missing: " + e.path);
    }
    SG_ASSIGN_OR_RETURN(std::string bytes, zip.read(it->second, e.path, total));
    if (bytes.size() != e.size || sha256_hex(bytes) != e.sha256) {
      return package_error("BAD_HASH", ErrorKind::invalid, "文件内容与签名清单不符：" + e.path,
                           "A file does not match the signed manifest: " + e.path, e.path);
    }
    out.files.emplace(e.path, std::move(bytes));
  }
  return out;
}

}  // namespace statgov::publish
