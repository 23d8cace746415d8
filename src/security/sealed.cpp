#include "security/sealed.hpp"

#include "base/crypto.hpp"

#include <sodium.h>

#include <cctype>

namespace statgov::security {

namespace {
constexpr std::string_view kPrefix = "sealed1:";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

Result<SealKey> parse_seal_key(std::string_view file_text) {
  auto raw = unbase64(trim(file_text));
  if (!raw || raw->size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
    return make_error(ErrorKind::invalid, "BAD_SEAL_KEY", "密钥文件无效（应为一行 base64 编码的 32 字节密钥）",
                      "Invalid key file (expected one line of base64, 32 bytes)");
  }
  return SealKey{std::move(*raw)};
}

std::string new_seal_key_text() {
  std::string k(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(k.data()));
  auto text = base64(k) + "\n";
  sodium_memzero(k.data(), k.size());
  return text;
}

std::string seal(const SealKey& key, std::string_view plain, std::string_view context) {
  std::string box(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len, bytes_of(plain),
                                             plain.size(), bytes_of(context), context.size(), nullptr, out,
                                             bytes_of(key.bytes));
  return std::string(kPrefix) + base64(box);
}

bool is_sealed(std::string_view stored) { return stored.substr(0, kPrefix.size()) == kPrefix; }

Result<std::string> unseal(const SealKey* key, std::string_view stored, std::string_view context) {
  if (!is_sealed(stored)) return std::string(stored);
  if (!key) {
    return make_error(ErrorKind::unavailable, "SEAL_KEY_MISSING",
                      "服务器未配置加密密钥，无法校验动态口令（请管理员以 --totp-key 启动服务）",
                      "The server has no key to open the one-time code secret (start serve with --totp-key)");
  }
  auto box = unbase64(stored.substr(kPrefix.size()));
  constexpr auto overhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  std::string plain;
  bool ok = box && box->size() >= overhead;
  if (ok) {
    plain.resize(box->size() - overhead);
    unsigned long long len = 0;
    const auto* in = bytes_of(*box);
    ok = crypto_aead_xchacha20poly1305_ietf_decrypt(
             reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr,
             in + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, box->size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
             bytes_of(context), context.size(), in, bytes_of(key->bytes)) == 0;
  }
  if (!ok) {
    return make_error(ErrorKind::unavailable, "SEAL_KEY_WRONG", "动态口令密钥无法用当前加密密钥解开（密钥文件不符或数据被改动）",
                      "The one-time code secret does not open with this key (wrong key file, or the value was altered)");
  }
  return plain;
}

}  // namespace statgov::security
