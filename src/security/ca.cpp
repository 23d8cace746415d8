#include "security/ca.hpp"

#include "base/clock.hpp"
#include "base/files.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <functional>
#include <fstream>
#include <memory>
#include <sstream>

namespace statgov::security {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using P12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using AsnIntPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER, ASN1_INTEGER_free>>;
using AsnTimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;

// Certificates start a few minutes in the past: a client whose clock is slightly behind the
// CA's must not see a certificate that is "not yet valid".
constexpr long kBackdateSeconds = 300;

Error ssl_error(const std::string& what_zh, const std::string& what_en) {
  unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return make_error(ErrorKind::internal, "CA_CRYPTO", what_zh + "：" + buf, what_en + ": " + buf);
}

Error io_error(const fs::path& p) {
  return make_error(ErrorKind::internal, "CA_IO", "无法写入文件：" + p.string(), "Cannot write file: " + p.string());
}

std::string iso_utc(std::time_t t) { return format_utc(std::chrono::system_clock::from_time_t(t)); }

std::string bio_string(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(ErrorKind::not_found, "CA_FILE_MISSING", "找不到文件：" + p.string(), "File not found: " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Readers (`serve` re-reading crl.pem) see the old file or the new one, never half of one.
Status write_atomic(const fs::path& p, const std::string& data, mode_t mode) {
  fs::path tmp = p;
  tmp += ".tmp" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  SG_TRY(write_new_file(tmp, data, mode));
  fs::rename(tmp, p, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error(p);
  }
  return Ok{};
}

// Exclusive lock on D/.lock for the life of the object: two `statgov ca` commands on one folder
// must not both read index.json and each write back their own version.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    fd_ = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<PKeyPtr> new_p256_key() {
  PKeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return ssl_error("无法生成密钥", "Cannot generate a key");
  return key;
}

Result<std::string> key_pem(EVP_PKEY* key) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return ssl_error("无法输出私钥", "Cannot write the private key");
  }
  return bio_string(b.get());
}

Result<std::string> cert_pem(X509* cert) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), cert) != 1) return ssl_error("无法输出证书", "Cannot write the certificate");
  return bio_string(b.get());
}

// 128 random bits as a positive serial; bit 126 set so every serial prints as 32 hex digits.
Result<BnPtr> random_serial() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return ssl_error("无法生成随机序列号", "Cannot make a random serial");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn) return ssl_error("无法生成随机序列号", "Cannot make a random serial");
  return bn;
}

std::string bn_hex(const BIGNUM* bn) {
  char* hex = BN_bn2hex(bn);
  std::string s = hex ? hex : "";
  OPENSSL_free(hex);
  return s;
}

Status add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return ssl_error(std::string("无法添加证书扩展 ") + OBJ_nid2sn(nid), std::string("Cannot add extension ") + OBJ_nid2sn(nid));
  }
  return Ok{};
}

struct Validity {
  std::time_t not_before, not_after;
};

// A certificate for `key` with subject CN = cn, signed by issuer_key; issuer null = self-signed.
Result<X509Ptr> make_cert(EVP_PKEY* key, const std::string& cn, const BIGNUM* serial, int days, X509* issuer,
                          EVP_PKEY* issuer_key, const std::vector<std::pair<int, std::string>>& exts, Validity& v) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return ssl_error("无法创建证书", "Cannot create a certificate");
  AsnIntPtr sn(BN_to_ASN1_INTEGER(serial, nullptr));
  if (!sn || X509_set_serialNumber(cert.get(), sn.get()) != 1) return ssl_error("无法设置序列号", "Cannot set the serial");
  std::time_t now = std::time(nullptr);
  v.not_before = now - kBackdateSeconds;
  v.not_after = now + static_cast<std::time_t>(days) * 86400;
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -kBackdateSeconds, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &now)) {
    return ssl_error("无法设置有效期", "Cannot set the validity period");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()),
                                 static_cast<int>(cn.size()), -1, 0) != 1) {
    return ssl_error("证书名称无效", "Invalid certificate name");
  }
  X509* signer_cert = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return ssl_error("无法创建证书", "Cannot create a certificate");
  }
  for (const auto& [nid, value] : exts) SG_TRY(add_ext(cert.get(), signer_cert, nid, value.c_str()));
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) {
    return ssl_error("无法签发证书", "Cannot sign the certificate");
  }
  return cert;
}

// ---- the CA folder ------------------------------------------------------------------------------

struct CaFiles {
  fs::path dir;
  fs::path key() const { return dir / "ca.key"; }
  fs::path cert() const { return dir / "ca.pem"; }
  fs::path crl() const { return dir / "crl.pem"; }
  fs::path index() const { return dir / "index.json"; }
};

struct Ca {
  CaFiles files;
  PKeyPtr key;
  X509Ptr cert;
  json index;
};

Error ca_missing(const std::string& dir) {
  return make_error(ErrorKind::not_found, "CA_NOT_FOUND",
                    "目录中没有 CA：" + dir + "（先运行 statgov ca init --dir " + dir + "）",
                    "No CA in " + dir + " (run statgov ca init --dir " + dir + " first)");
}

Result<Ca> load_ca(const std::string& dir) {
  CaFiles f{fs::path(dir)};
  std::error_code ec;
  if (!fs::is_directory(f.dir, ec) || !fs::exists(f.key(), ec) || !fs::exists(f.cert(), ec) ||
      !fs::exists(f.index(), ec)) {
    return ca_missing(dir);
  }
  SG_ASSIGN_OR_RETURN(auto key_text, read_text(f.key()));
  SG_ASSIGN_OR_RETURN(auto cert_text, read_text(f.cert()));
  SG_ASSIGN_OR_RETURN(auto index_text, read_text(f.index()));
  Ca ca{f, nullptr, nullptr, json::parse(index_text, nullptr, false)};
  BioPtr kb(BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
  ca.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  BioPtr cb(BIO_new_mem_buf(cert_text.data(), static_cast<int>(cert_text.size())));
  ca.cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  bool index_ok = ca.index.is_object() && ca.index.contains("certs") && ca.index["certs"].is_array() &&
                  ca.index.contains("crl_number") && ca.index["crl_number"].is_number_integer();
  if (!ca.key || !ca.cert || !index_ok || X509_check_private_key(ca.cert.get(), ca.key.get()) != 1) {
    ERR_clear_error();
    return make_error(ErrorKind::invalid, "CA_CORRUPT", "CA 目录中的文件已损坏或不匹配：" + dir,
                      "The files in the CA folder are damaged or do not match: " + dir);
  }
  return ca;
}

CaCertEntry entry_of(const json& j) {
  return CaCertEntry{j.value("serial", ""), j.value("kind", ""), j.value("subject", ""),
                     j.value("not_before", ""), j.value("not_after", ""), j.value("revoked_at", "")};
}

json json_of(const CaCertEntry& e) {
  return {{"serial", e.serial}, {"kind", e.kind}, {"subject", e.subject}, {"not_before", e.not_before},
          {"not_after", e.not_after}, {"revoked_at", e.revoked_at}};
}

Status save_index(const Ca& ca) { return write_atomic(ca.files.index(), ca.index.dump(2) + "\n", 0644); }

// Signs a CRL listing every revoked serial of the index, with the next CRL number, and replaces
// D/crl.pem atomically.
Status write_crl(Ca& ca) {
  CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.cert.get())) != 1) {
    return ssl_error("无法创建吊销列表", "Cannot create the CRL");
  }
  std::time_t now = std::time(nullptr);
  AsnTimePtr last(X509_time_adj_ex(nullptr, 0, 0, &now));
  AsnTimePtr next(X509_time_adj_ex(nullptr, kCrlValidityDays, 0, &now));
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return ssl_error("无法设置吊销列表时间", "Cannot set the CRL times");
  }
  for (const auto& c : ca.index["certs"]) {
    auto e = entry_of(c);
    if (e.revoked_at.empty()) continue;
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, e.serial.c_str()) == 0) continue;
    BnPtr bn(raw);
    X509_REVOKED* rev = X509_REVOKED_new();
    AsnIntPtr sn(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    // Revocation time as recorded: the index keeps 2026-11-26T04:05:06.123Z, the CRL seconds.
    std::string digits;
    for (char ch : e.revoked_at.substr(0, 19)) {
      if (std::isdigit(static_cast<unsigned char>(ch))) digits += ch;
    }
    AsnTimePtr when(ASN1_TIME_new());
    bool when_ok = when && digits.size() == 14 && ASN1_TIME_set_string_X509(when.get(), (digits + "Z").c_str()) == 1;
    if (!when_ok) when.reset(X509_time_adj_ex(nullptr, 0, 0, &now));
    if (!rev || !sn || !when || X509_REVOKED_set_serialNumber(rev, sn.get()) != 1 ||
        X509_REVOKED_set_revocationDate(rev, when.get()) != 1 || X509_CRL_add0_revoked(crl.get(), rev) != 1) {
      X509_REVOKED_free(rev);
      return ssl_error("无法写入吊销条目", "Cannot add a revoked entry");
    }
  }
  std::int64_t number = ca.index["crl_number"].get<std::int64_t>() + 1;
  AsnIntPtr crl_number(ASN1_INTEGER_new());
  if (!crl_number || ASN1_INTEGER_set_int64(crl_number.get(), number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, 0) != 1 ||
      X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca.key.get(), EVP_sha256()) <= 0) {
    return ssl_error("无法签署吊销列表", "Cannot sign the CRL");
  }
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509_CRL(b.get(), crl.get()) != 1) return ssl_error("无法输出吊销列表", "Cannot write the CRL");
  ca.index["crl_number"] = number;
  SG_TRY(write_atomic(ca.files.crl(), bio_string(b.get()), 0644));
  return Ok{};
}

// A login becomes a file name and a certificate CN: the same rule as accounts (1-64 characters,
// no whitespace or slashes), and no leading dot.
Status check_login(const std::string& login) {
  bool ok = !login.empty() && login.size() <= 64 && login.find_first_of(" \t\r\n/\\") == std::string::npos &&
            login[0] != '.';
  for (unsigned char c : login) ok = ok && c >= 0x20 && c != 0x7f;
  if (ok) return Ok{};
  return make_error(ErrorKind::invalid, "BAD_LOGIN", "登录名须为1-64个字符，不含空白和斜杠，且不以点开头",
                    "A login has 1-64 characters, no spaces or slashes, and does not start with a dot");
}

Status check_days(int days) {
  if (days >= 1 && days <= 36500) return Ok{};
  return make_error(ErrorKind::invalid, "BAD_DAYS", "有效天数应为 1 到 36500", "--days must be between 1 and 36500");
}

Status ensure_out_dir(const std::string& out_dir) {
  std::error_code ec;
  if (out_dir.empty()) return make_error(ErrorKind::invalid, "OUT_REQUIRED", "请用 --out 指定输出目录", "Give the output folder with --out");
  fs::create_directories(out_dir, ec);
  if (!fs::is_directory(out_dir, ec)) {
    return make_error(ErrorKind::invalid, "OUT_DIR", "无法创建输出目录：" + out_dir, "Cannot create the output folder: " + out_dir);
  }
  return Ok{};
}

std::string random_password() {
  // 20 characters from an alphabet without look-alikes (0/O, 1/l/I): easy to type into a browser.
  static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  constexpr unsigned n = sizeof alphabet - 1;
  std::string out;
  while (out.size() < 20) {
    unsigned char b = 0;
    if (RAND_bytes(&b, 1) != 1) continue;
    if (b >= 256 - 256 % n) continue;  // no modulo bias
    out += alphabet[b % n];
  }
  return out;
}

Result<std::vector<CaCertEntry>> revoke_where(const std::string& dir, const std::function<bool(const CaCertEntry&)>& match,
                                              const Error& none, const Error& already) {
  SG_ASSIGN_OR_RETURN(auto ca, load_ca(dir));
  DirLock lock(ca.files.dir);
  if (!lock.ok()) return io_error(ca.files.dir / ".lock");
  // Re-read under the lock: another command may have changed the index meanwhile.
  SG_ASSIGN_OR_RETURN(ca, load_ca(dir));
  std::vector<CaCertEntry> revoked;
  bool matched = false;
  std::string now = format_utc(std::chrono::system_clock::now());
  for (auto& c : ca.index["certs"]) {
    auto e = entry_of(c);
    if (!match(e)) continue;
    matched = true;
    if (!e.revoked_at.empty()) continue;
    c["revoked_at"] = now;
    e.revoked_at = now;
    revoked.push_back(e);
  }
  if (!matched) return none;
  if (revoked.empty()) return already;
  // The CRL first, then the index: a failure in between leaves the certificate blocked but
  // listed as valid, and revoking it again repairs both. The other order could leave it listed
  // as revoked while the CRL still lets it in.
  SG_TRY(write_crl(ca));
  SG_TRY(save_index(ca));
  return revoked;
}

}  // namespace

std::string normalize_serial(const std::string& serial) {
  std::string s;
  for (char c : serial) {
    if (c == ':' || c == ' ') continue;
    s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? (s.empty() ? s : "0") : s.substr(nz);
}

Result<CaInitResult> ca_init(const std::string& dir, const std::string& name, int days) {
  SG_TRY(check_days(days));
  if (name.empty() || name.size() > 200) {
    return make_error(ErrorKind::invalid, "BAD_CA_NAME", "CA 名称须为1-200个字符", "The CA name has 1-200 characters");
  }
  CaFiles f{fs::path(dir)};
  std::error_code ec;
  if (fs::exists(f.key(), ec) || fs::exists(f.cert(), ec) || fs::exists(f.index(), ec)) {
    return make_error(ErrorKind::conflict, "CA_EXISTS", "目录中已有 CA，不会覆盖：" + dir, "A CA already exists in " + dir + "; not overwriting");
  }
  bool created = fs::create_directories(f.dir, ec);
  if (!fs::is_directory(f.dir, ec)) {
    return make_error(ErrorKind::invalid, "CA_DIR", "无法创建目录：" + dir, "Cannot create the folder: " + dir);
  }
  if (created) fs::permissions(f.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  DirLock lock(f.dir);
  if (!lock.ok()) return io_error(f.dir / ".lock");
  SG_ASSIGN_OR_RETURN(auto key, new_p256_key());
  SG_ASSIGN_OR_RETURN(auto serial, random_serial());
  Validity v{};
  SG_ASSIGN_OR_RETURN(auto cert, make_cert(key.get(), name, serial.get(), days, nullptr, nullptr,
                                           {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                            {NID_subject_key_identifier, "hash"}},
                                           v));
  SG_ASSIGN_OR_RETURN(auto kp, key_pem(key.get()));
  SG_ASSIGN_OR_RETURN(auto cp, cert_pem(cert.get()));
  // The key first: if anything after fails, a second init still refuses (CA_EXISTS) rather than
  // silently making a different CA; the operator removes the folder and starts again.
  SG_TRY(write_new_file(f.key(), kp, 0600));
  SG_TRY(write_new_file(f.cert(), cp, 0644));
  Ca ca{f, std::move(key), std::move(cert),
        json{{"version", 1}, {"name", name}, {"crl_number", 0}, {"certs", json::array()}}};
  SG_TRY(write_crl(ca));
  SG_TRY(save_index(ca));
  return CaInitResult{f.cert().string(), f.key().string(), f.crl().string(), name};
}

namespace {

// Issued files are never overwritten: FILE_EXISTS names the first one already there.
Status refuse_existing(std::initializer_list<std::string> files) {
  std::error_code ec;
  for (const auto& p : files) {
    if (fs::exists(p, ec)) {
      return make_error(ErrorKind::conflict, "FILE_EXISTS", "文件已存在，不会覆盖：" + p, "File exists; not overwriting: " + p);
    }
  }
  return Ok{};
}

}  // namespace

Result<IssuedCert> ca_issue_client(const std::string& dir, const std::string& login, int days,
                                   const std::string& out_dir, const std::string& p12_password) {
  SG_TRY(check_login(login));
  SG_TRY(check_days(days));
  if (p12_password.size() > 128) {
    return make_error(ErrorKind::invalid, "BAD_P12_PASSWORD", "PKCS#12 密码最多128个字符", "The PKCS#12 password has at most 128 characters");
  }
  SG_ASSIGN_OR_RETURN(auto ca, load_ca(dir));
  SG_TRY(ensure_out_dir(out_dir));
  fs::path out(out_dir);
  IssuedCert r;
  r.key_file = (out / (login + ".key")).string();
  r.cert_file = (out / (login + ".pem")).string();
  r.p12_file = (out / (login + ".p12")).string();
  SG_TRY(refuse_existing({r.key_file, r.cert_file, r.p12_file}));
  DirLock lock(ca.files.dir);
  if (!lock.ok()) return io_error(ca.files.dir / ".lock");
  SG_ASSIGN_OR_RETURN(ca, load_ca(dir));
  SG_ASSIGN_OR_RETURN(auto key, new_p256_key());
  SG_ASSIGN_OR_RETURN(auto serial, random_serial());
  Validity v{};
  SG_ASSIGN_OR_RETURN(auto cert, make_cert(key.get(), login, serial.get(), days, ca.cert.get(), ca.key.get(),
                                           {{NID_basic_constraints, "critical,CA:FALSE"},
                                            {NID_key_usage, "critical,digitalSignature"},
                                            {NID_ext_key_usage, "clientAuth"},
                                            {NID_subject_key_identifier, "hash"},
                                            {NID_authority_key_identifier, "keyid:always"}},
                                           v));
  r.p12_password = p12_password;
  r.p12_password_generated = p12_password.empty();
  if (r.p12_password_generated) r.p12_password = random_password();
  // OpenSSL 3's defaults: AES-256-CBC with PBKDF2 and a SHA-256 MAC, which current browsers and
  // Windows 10 (1709+) import.
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(sk_X509_new_null(),
                                                                   [](STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); });
  X509* ca_copy = X509_dup(ca.cert.get());
  if (!chain || !ca_copy || sk_X509_push(chain.get(), ca_copy) <= 0) {
    X509_free(ca_copy);
    return ssl_error("无法打包证书", "Cannot build the PKCS#12 bundle");
  }
  P12Ptr p12(PKCS12_create(r.p12_password.c_str(), login.c_str(), key.get(), cert.get(), chain.get(), 0, 0, 0, 0, 0));
  BioPtr pb(BIO_new(BIO_s_mem()));
  if (!p12 || !pb || i2d_PKCS12_bio(pb.get(), p12.get()) != 1) return ssl_error("无法打包证书", "Cannot build the PKCS#12 bundle");
  SG_ASSIGN_OR_RETURN(auto kp, key_pem(key.get()));
  SG_ASSIGN_OR_RETURN(auto cp, cert_pem(cert.get()));
  r.entry = CaCertEntry{bn_hex(serial.get()), "client", login, iso_utc(v.not_before), iso_utc(v.not_after), ""};
  // Record before handing out: a certificate that exists must be revocable by serial.
  ca.index["certs"].push_back(json_of(r.entry));
  SG_TRY(save_index(ca));
  SG_TRY(write_new_file(r.key_file, kp, 0600));
  SG_TRY(write_new_file(r.cert_file, cp, 0644));
  SG_TRY(write_new_file(r.p12_file, bio_string(pb.get()), 0600));
  return r;
}

Result<IssuedCert> ca_issue_server(const std::string& dir, const std::vector<std::string>& hosts, int days,
                                   const std::string& out_dir) {
  SG_TRY(check_days(days));
  if (hosts.empty()) {
    return make_error(ErrorKind::invalid, "HOST_REQUIRED", "请用 --host 指定服务器名或 IP 地址", "Give the server's names or IP addresses with --host");
  }
  std::string san, subject;
  for (const auto& h : hosts) {
    bool ok = !h.empty() && h.size() <= 253 && h.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:*") == std::string::npos;
    if (!ok) {
      return make_error(ErrorKind::invalid, "BAD_HOST", "服务器名或 IP 地址无效：" + h, "Invalid host name or IP address: " + h);
    }
    // An IP address (v4 or v6) goes into the SAN as IP, anything else as DNS.
    ASN1_OCTET_STRING* addr = a2i_IPADDRESS(h.c_str());
    bool ip = addr != nullptr;
    ASN1_OCTET_STRING_free(addr);
    ERR_clear_error();
    if (!san.empty()) san += ",";
    san += (ip ? "IP:" : "DNS:") + h;
    if (!subject.empty()) subject += ",";
    subject += h;
  }
  SG_ASSIGN_OR_RETURN(auto ca, load_ca(dir));
  std::string out_s = out_dir.empty() ? dir : out_dir;
  SG_TRY(ensure_out_dir(out_s));
  fs::path out(out_s);
  IssuedCert r;
  r.key_file = (out / "server.key").string();
  r.cert_file = (out / "server.pem").string();
  SG_TRY(refuse_existing({r.key_file, r.cert_file}));
  DirLock lock(ca.files.dir);
  if (!lock.ok()) return io_error(ca.files.dir / ".lock");
  SG_ASSIGN_OR_RETURN(ca, load_ca(dir));
  SG_ASSIGN_OR_RETURN(auto key, new_p256_key());
  SG_ASSIGN_OR_RETURN(auto serial, random_serial());
  Validity v{};
  SG_ASSIGN_OR_RETURN(auto cert, make_cert(key.get(), hosts.front(), serial.get(), days, ca.cert.get(), ca.key.get(),
                                           {{NID_basic_constraints, "critical,CA:FALSE"},
                                            {NID_key_usage, "critical,digitalSignature"},
                                            {NID_ext_key_usage, "serverAuth"},
                                            {NID_subject_alt_name, san},
                                            {NID_subject_key_identifier, "hash"},
                                            {NID_authority_key_identifier, "keyid:always"}},
                                           v));
  SG_ASSIGN_OR_RETURN(auto kp, key_pem(key.get()));
  SG_ASSIGN_OR_RETURN(auto cp, cert_pem(cert.get()));
  SG_ASSIGN_OR_RETURN(auto chain_pem, cert_pem(ca.cert.get()));
  r.entry = CaCertEntry{bn_hex(serial.get()), "server", subject, iso_utc(v.not_before), iso_utc(v.not_after), ""};
  ca.index["certs"].push_back(json_of(r.entry));
  SG_TRY(save_index(ca));
  SG_TRY(write_new_file(r.key_file, kp, 0600));
  SG_TRY(write_new_file(r.cert_file, cp + chain_pem, 0644));
  return r;
}

Result<std::vector<CaCertEntry>> ca_revoke_serial(const std::string& dir, const std::string& serial) {
  std::string want = normalize_serial(serial);
  bool hex = !want.empty() && want.size() <= 64 && want.find_first_not_of("0123456789ABCDEF") == std::string::npos;
  if (!hex) {
    return make_error(ErrorKind::invalid, "BAD_SERIAL", "序列号应为十六进制数：" + serial, "A serial is a hexadecimal number: " + serial);
  }
  return revoke_where(
      dir, [&](const CaCertEntry& e) { return normalize_serial(e.serial) == want; },
      make_error(ErrorKind::not_found, "UNKNOWN_SERIAL", "没有序列号为 " + want + " 的证书",
                 "No certificate with serial " + want),
      make_error(ErrorKind::conflict, "ALREADY_REVOKED", "该证书已被吊销：" + want, "The certificate is already revoked: " + want));
}

Result<std::vector<CaCertEntry>> ca_revoke_user(const std::string& dir, const std::string& login) {
  SG_TRY(check_login(login));
  return revoke_where(
      dir, [&](const CaCertEntry& e) { return e.kind == "client" && e.subject == login; },
      make_error(ErrorKind::not_found, "NO_CERTIFICATE", "没有为 " + login + " 签发过证书",
                 "No certificate was issued to " + login),
      make_error(ErrorKind::conflict, "ALREADY_REVOKED", login + " 的证书都已被吊销",
                 "Every certificate of " + login + " is already revoked"));
}

Status ca_refresh_crl(const std::string& dir) {
  SG_ASSIGN_OR_RETURN(auto ca, load_ca(dir));
  DirLock lock(ca.files.dir);
  if (!lock.ok()) return io_error(ca.files.dir / ".lock");
  SG_ASSIGN_OR_RETURN(ca, load_ca(dir));
  SG_TRY(write_crl(ca));
  return save_index(ca);
}

Result<std::vector<CaCertEntry>> ca_list(const std::string& dir) {
  SG_ASSIGN_OR_RETURN(auto ca, load_ca(dir));
  std::vector<CaCertEntry> out;
  for (const auto& c : ca.index["certs"]) out.push_back(entry_of(c));
  return out;
}

}  // namespace statgov::security
