// Hashing and randomness on libsodium. Call crypto_init() once before threads start.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace statgov {

void crypto_init();                                  // idempotent; aborts if libsodium can't start
std::string sha256_hex(std::string_view data);
std::string random_token(std::size_t bytes = 32);    // URL-safe base64 without padding
std::string base64(std::string_view data);        // standard alphabet, with padding
std::optional<std::string> unbase64(std::string_view text);  // the same alphabet; nullopt if malformed
std::string random_uuid();                           // RFC 4122 version 4, lower case
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace statgov
