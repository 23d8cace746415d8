// Argon2id password hashing (libsodium crypto_pwhash_str, the encoded form carries its own
// parameters and salt) and the password policy.
#pragma once

#include "base/result.hpp"

#include <string>
#include <string_view>

namespace statgov::security {

struct HashCost {
  unsigned long long ops;
  std::size_t mem;
  static HashCost interactive();  // libsodium's INTERACTIVE limits: ~64 MiB, used in production
  static HashCost test();         // minimum limits, for tests and the bulk demo loader only
};

Result<std::string> hash_password(std::string_view password, HashCost cost = HashCost::interactive());
bool verify_password(std::string_view encoded_hash, std::string_view password);
// At least 8 characters with letters and digits; at most 128 bytes.
Status check_password_policy(std::string_view password);

}  // namespace statgov::security
