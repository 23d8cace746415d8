#include "security/signing.hpp"

#include "base/crypto.hpp"
#include "security/canonical_json.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

namespace statgov::security {

namespace {

// DER prefixes of Ed25519 keys (RFC 8410): PKCS#8 private key info and SubjectPublicKeyInfo,
// each followed by the 32 raw bytes.
constexpr unsigned char kPkcs8Prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                          0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
constexpr unsigned char kSpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

Error bad_key(const std::string& what_zh, const std::string& what_en) {
  return make_error(ErrorKind::invalid, "BAD_KEY", "密钥文件无法识别：" + what_zh,
                    "Unrecognised key file: " + what_en);
}

Result<std::string> decode(std::string_view text, int variant) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), " \t\r\n", &len, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return make_error(ErrorKind::invalid, "BAD_BASE64", "不是有效的 Base64 编码",
                      "Not valid base64");
  }
  out.resize(len);
  return out;
}

// The base64 body of a PEM block, or the text itself.
std::string strip_pem(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.rfind("-----", 0) == 0) continue;
    for (char c : line) {
      if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    }
  }
  return out;
}

bool has_prefix(const std::string& der, const unsigned char* prefix, std::size_t n) {
  return der.size() == n + 32 &&
         std::equal(prefix, prefix + n, reinterpret_cast<const unsigned char*>(der.data()));
}

}  // namespace

SigningKey generate_signing_key() {
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  return signing_key_from_seed(seed).value();  // 32 bytes: cannot fail
}

Result<SigningKey> signing_key_from_seed(std::string_view seed) {
  if (seed.size() != crypto_sign_SEEDBYTES)
    return bad_key("私钥长度应为32字节", "the private key must be 32 bytes");
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data()));
  sodium_memzero(sk, sizeof sk);
  return SigningKey{std::string(seed), std::string(reinterpret_cast<char*>(pk), sizeof pk)};
}

std::string ed25519_sign(const SigningKey& key, std::string_view message) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(key.seed.data()));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk);
  sodium_memzero(sk, sizeof sk);
  return std::string(reinterpret_cast<char*>(sig), sizeof sig);
}

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

std::string key_fingerprint(std::string_view public_key) {
  return sha256_hex(public_key).substr(0, 16);
}

Result<std::string> base64_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_ORIGINAL);
}

std::string base64url(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string private_key_jwk(const SigningKey& key) {
  nlohmann::json j = {{"kty", "OKP"},
                      {"crv", "Ed25519"},
                      {"d", base64url(key.seed)},
                      {"x", base64url(key.public_key)}};
  return j.dump();
}

Result<SigningKey> parse_private_key(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object()) {
    if (j.value("kty", "") != "OKP" || j.value("crv", "") != "Ed25519" || !j.contains("d") ||
        !j["d"].is_string()) {
      return bad_key("应为 Ed25519 私钥 JWK（含 d）", "expected an Ed25519 private JWK (with d)");
    }
    auto seed = decode(j["d"].get<std::string>(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (!seed.ok()) return bad_key("d 不是 base64url", "d is not base64url");
    SG_ASSIGN_OR_RETURN(auto key, signing_key_from_seed(*seed));
    if (j.contains("x")) {
      auto x = decode(j.value("x", ""), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
      if (!x.ok() || *x != key.public_key) return bad_key("x 与 d 不匹配", "x does not match d");
    }
    return key;
  }
  auto der = decode(strip_pem(text), sodium_base64_VARIANT_ORIGINAL);
  if (der.ok() && has_prefix(*der, kPkcs8Prefix, sizeof kPkcs8Prefix)) {
    return signing_key_from_seed(std::string_view(*der).substr(sizeof kPkcs8Prefix));
  }
  return bad_key("应为 JWK 或 PKCS#8", "expected a JWK or PKCS#8");
}

Result<std::string> parse_public_key(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object()) {
    if (j.value("crv", "") != "Ed25519" || !j.contains("x") || !j["x"].is_string()) {
      return bad_key("应为 Ed25519 JWK（含 x）", "expected an Ed25519 JWK (with x)");
    }
    auto x = decode(j["x"].get<std::string>(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (!x.ok() || x->size() != 32) return bad_key("x 应为32字节", "x must be 32 bytes");
    return *x;
  }
  auto raw = decode(strip_pem(text), sodium_base64_VARIANT_ORIGINAL);
  if (raw.ok() && raw->size() == 32) return *raw;
  if (raw.ok() && has_prefix(*raw, kSpkiPrefix, sizeof kSpkiPrefix))
    return raw->substr(sizeof kSpkiPrefix);
  return bad_key("应为32字节公钥的 Base64、JWK 或 SPKI",
                 "expected base64 of a 32-byte key, a JWK or SPKI");
}

Result<std::string> submission_signing_payload(std::string_view form, std::string_view period,
                                               std::string_view unit_uscc,
                                               const nlohmann::json& values, int version) {
  nlohmann::json doc = {{"form", form},
                        {"period", period},
                        {"unit_uscc", unit_uscc},
                        {"values", values},
                        {"version", version}};
  return canonical_json(doc);
}

}  // namespace statgov::security
