// Secrets kept at rest in the database (the TOTP seeds), sealed with a key that lives in a file
// outside it, so that a copy of the database or of a backup alone does not give away the second
// factor. XChaCha20-Poly1305 (libsodium), a random nonce per value, and a context string (e.g. the
// user) as associated data, so a sealed value copied onto another row does not open.
//
// Thread safety: pure functions over their arguments.
#pragma once

#include "base/result.hpp"

#include <string>
#include <string_view>

namespace statgov::security {

struct SealKey {
  std::string bytes;  // 32 bytes
};

// The key file: one line of base64 (32 bytes). BAD_SEAL_KEY otherwise.
Result<SealKey> parse_seal_key(std::string_view file_text);
// A new key, as the file's text.
std::string new_seal_key_text();

// "sealed1:" + base64(nonce | ciphertext | tag).
std::string seal(const SealKey& key, std::string_view plain, std::string_view context);
bool is_sealed(std::string_view stored);
// A stored value back to plain text. A value that is not sealed (written before a key was configured)
// comes back as it is. Sealed without a key: 503 SEAL_KEY_MISSING; wrong key, other context or
// altered: 503 SEAL_KEY_WRONG (a configuration problem of the server, not the user's fault).
Result<std::string> unseal(const SealKey* key, std::string_view stored, std::string_view context);

}  // namespace statgov::security
