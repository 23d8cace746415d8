#include "security/password.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

namespace statgov::security {

HashCost HashCost::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

HashCost HashCost::test() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

Result<std::string> hash_password(std::string_view password, HashCost cost) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(ErrorKind::internal, "HASH_FAILED", "密码处理失败（内存不足）",
                      "Password hashing failed (out of memory)");
  }
  return std::string(out);
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  std::string h(encoded_hash);  // needs a NUL-terminated copy
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

Status check_password_policy(std::string_view password) {
  bool letter = std::any_of(password.begin(), password.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  bool digit = std::any_of(password.begin(), password.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (password.size() < 8 || password.size() > 128 || !letter || !digit) {
    return make_error(ErrorKind::invalid, "WEAK_PASSWORD", "密码至少8位，且须同时包含字母和数字（最长128位）",
                      "A password has 8 to 128 characters with both letters and digits");
  }
  return Ok{};
}

}  // namespace statgov::security
