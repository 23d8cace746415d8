// One-time passwords for the staff second factor: HOTP (RFC 4226) and TOTP (RFC 6238) with
// HMAC-SHA-1 (OpenSSL), base32 secrets (RFC 4648) and otpauth:// URIs for authenticator apps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace statgov::security {

inline constexpr int kTotpStepSeconds = 30;

std::string hotp(std::string_view secret, std::uint64_t counter, int digits = 6);
// The code for a Unix time in seconds.
std::string totp(std::string_view secret, std::int64_t unix_seconds, int digits = 6);
// The time step whose code matches `code` within ±window steps of `unix_seconds` (newest wins
// ties), or nothing. Compared in constant time per candidate.
std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code,
                                       std::int64_t unix_seconds, int window = 1);

std::string base32_encode(std::string_view bytes);                // upper case, no padding
std::optional<std::string> base32_decode(std::string_view text);  // ignores case, spaces, '='
std::string new_totp_secret();  // 20 random bytes (160 bits, RFC 4226)
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace statgov::security
