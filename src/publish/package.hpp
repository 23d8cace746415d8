// Release packages (docs/publication.md section 2): a zip of files with a manifest of hashes and
// an Ed25519 signature by the bureau's release key. Build on the internal side, verify on the
// portal and in `statgov release verify`. Pure functions over bytes; the callers do the file I/O.
#pragma once

#include "base/clock.hpp"
#include "base/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace statgov::publish {

struct KeyPair {
  std::string public_key;  // 32 raw bytes
  std::string secret_key;  // 64 raw bytes (libsodium's Ed25519 secret key)
};
KeyPair generate_keypair();
// Key files hold base64 text (one line); these parse them, with a clear error on anything else.
Result<std::string> parse_public_key(std::string_view file_text);
Result<std::string> parse_secret_key(std::string_view file_text);
std::string key_file_text(std::string_view raw_key);

struct ManifestEntry {
  std::string path, sha256;
  std::uint64_t size = 0;
};

struct Manifest {
  std::string format = "statgov-release-package/1";
  std::string agency;
  std::uint64_t sequence = 0;
  std::string package_id;
  std::string created_at;            // ISO 8601 UTC
  std::string release_id;            // "" if the package carries no release
  std::string release_at;            // ISO 8601 UTC to the minute; "" if no release
  std::vector<ManifestEntry> files;  // filled by build_package
};

// Files by path in the package (release.json, calendar.json, datasets/..., documents/...,
// site/...).
using PackageFiles = std::map<std::string, std::string>;

// Fill the manifest's file list, sign it and zip everything. Errors: a bad path or size.
Result<std::string> build_package(Manifest manifest, const PackageFiles& files,
                                  std::string_view secret_key);

struct VerifiedPackage {
  Manifest manifest;
  std::string manifest_bytes, signature;  // as in the zip, for keeping beside the files
  PackageFiles files;
};

// Open and check a package by the rules of docs/publication.md section 2 (except the sequence,
// which only the portal knows). Errors name the rule that failed (code BAD_PACKAGE,
// BAD_SIGNATURE, BAD_HASH, BAD_PATH, TOO_LARGE).
Result<VerifiedPackage> open_package(std::string_view zip_bytes, std::string_view public_key);

// The path rule on its own (relative, '/'-separated, no '..', no NUL, no backslash, <= 255 bytes).
bool safe_package_path(std::string_view path);

// Caps of docs/publication.md section 2.
inline constexpr std::uint64_t kMaxPackageBytes =
    256ull * 1024 * 1024;  // the zip, and its unpacked sum
inline constexpr std::uint64_t kMaxPackageFileBytes = 64ull * 1024 * 1024;
inline constexpr std::uint64_t kMaxPackageEntries = 100'000;

// The manifest's JSON form (what build_package signs) and its strict reader.
nlohmann::json manifest_to_json(const Manifest& m);
Result<Manifest> manifest_from_json(const nlohmann::json& j);

// release_at and friends: "YYYY-MM-DDThh:mm[:ss[.fff]]" then "Z" or "+hh:mm"/"-hh:mm".
// Error code BAD_TIME.
Result<TimePoint> parse_iso_time(std::string_view text);
// "YYYY-MM-DDThh:mm:ssZ" (no fraction), the form manifests and SDMX "prepared" use.
std::string format_iso_seconds(TimePoint t);

// Zip the entries as given, in order, with no checks at all: build_package uses it after its own
// checks; tests use it to make hostile packages. store = no compression.
Result<std::string> zip_entries(const std::vector<std::pair<std::string, std::string>>& entries,
                                bool store = false);

}  // namespace statgov::publish
