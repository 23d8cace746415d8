// Ed25519 signatures (libsodium) for e-signatures (电子签章) and the signed audit head, the key
// file formats shared by the browser and the CLI, and the canonical form of a submission that an
// enterprise signs (docs/signatures.md).
#pragma once

#include "base/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace statgov::security {

// Raw bytes: seed 32, public key 32, signature 64.
struct SigningKey {
  std::string seed;
  std::string public_key;
};

SigningKey generate_signing_key();
Result<SigningKey> signing_key_from_seed(std::string_view seed32);
std::string ed25519_sign(const SigningKey& key, std::string_view message);
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

// The key id: the first 16 hex digits of SHA-256 over the raw 32-byte public key.
std::string key_fingerprint(std::string_view public_key);

// Base64 decoding, standard alphabet with padding (what the API takes). Errors: BAD_BASE64.
Result<std::string> base64_decode(std::string_view text);
std::string base64url(std::string_view bytes);  // no padding (JWK)

// Private key file: a JWK (RFC 8037: {"kty":"OKP","crv":"Ed25519","d","x"}), as the browser and
// `statgov sign keygen` write it. Also read: PKCS#8 DER in base64 or PEM (WebCrypto "pkcs8").
std::string private_key_jwk(const SigningKey& key);
Result<SigningKey> parse_private_key(std::string_view file_text);
// Public key file: base64 of the raw 32 bytes, a JWK with "x", or SPKI DER in base64 or PEM.
Result<std::string> parse_public_key(std::string_view file_text);

// The canonical form a submission's signature covers (RFC 8785 JSON of
// {"form","period","unit_uscc","values","version"}).
Result<std::string> submission_signing_payload(std::string_view form, std::string_view period,
                                               std::string_view unit_uscc,
                                               const nlohmann::json& values, int version);

}  // namespace statgov::security
