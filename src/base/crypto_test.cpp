#include "base/crypto.hpp"

#include <sodium.h>

#include <string>

#include <gtest/gtest.h>

namespace statgov {
namespace {

// FIPS 180-2 examples: audit hashes and signed payload digests depend on these exact values.
TEST(Sha256Hex, KnownDigests) {
  crypto_init();
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// The same digest as libsodium's (what computed the hashes already stored) at every length
// around the block and padding boundaries.
TEST(Sha256Hex, SameAsLibsodium) {
  crypto_init();
  std::string text;
  for (int n = 0; n < 300; ++n) {
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    char hex[sizeof out * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    ASSERT_EQ(sha256_hex(text), hex) << "length " << n;
    text += static_cast<char>('!' + n % 90);
  }
}

}  // namespace
}  // namespace statgov
