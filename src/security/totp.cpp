#include "security/totp.hpp"

#include "base/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <cctype>

#include <fmt/format.h>

namespace statgov::security {

namespace {
constexpr const char* kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string uri_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += ch;
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}
}  // namespace

std::string hotp(std::string_view secret, std::uint64_t counter, int digits) {
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), msg, sizeof msg, mac, &len);
  int offset = mac[len - 1] & 0x0f;
  std::uint32_t bin = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                      (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                      (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  return fmt::format("{:0{}}", bin % mod, digits);
}

std::string totp(std::string_view secret, std::int64_t unix_seconds, int digits) {
  return hotp(secret, static_cast<std::uint64_t>(unix_seconds / kTotpStepSeconds), digits);
}

std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code,
                                       std::int64_t unix_seconds, int window) {
  if (code.size() != 6 && code.size() != 8) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t now = unix_seconds / kTotpStepSeconds;
  std::optional<std::int64_t> found;
  for (std::int64_t step = now - window; step <= now + window; ++step) {
    if (step < 0) continue;
    auto expect = hotp(secret, static_cast<std::uint64_t>(step), static_cast<int>(code.size()));
    if (constant_time_equal(expect, code)) found = step;
  }
  return found;
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char ch : bytes) {
    buf = (buf << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buf >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buf << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == ' ' || ch == '=' || ch == '-') continue;
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    int v = -1;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= '2' && c <= '7')
      v = c - '2' + 26;
    if (v < 0) return std::nullopt;
    buf = (buf << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buf >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string new_totp_secret() {
  std::string s(20, '\0');
  randombytes_buf(s.data(), s.size());
  return s;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view secret) {
  return fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={}",
                     uri_escape(issuer), uri_escape(account), base32_encode(secret),
                     uri_escape(issuer), kTotpStepSeconds);
}

}  // namespace statgov::security
