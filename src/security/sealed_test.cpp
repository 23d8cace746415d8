#include "security/sealed.hpp"

#include "base/crypto.hpp"

#include <gtest/gtest.h>

namespace statgov::security {
namespace {

class Sealed : public ::testing::Test {
 protected:
  void SetUp() override { crypto_init(); }
};

TEST_F(Sealed, RoundTripsAndHidesThePlainText) {
  auto key = parse_seal_key(new_seal_key_text());
  ASSERT_TRUE(key.ok());
  std::string secret = "JBSWY3DPEHPK3PXP";
  auto a = seal(*key, secret, "totp:user:7");
  auto b = seal(*key, secret, "totp:user:7");
  EXPECT_TRUE(is_sealed(a));
  EXPECT_EQ(a.find(secret), std::string::npos);
  EXPECT_NE(a, b) << "a fresh nonce per value";
  auto back = unseal(&*key, a, "totp:user:7");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, secret);
}

TEST_F(Sealed, WrongKeyOtherContextAlteredOrNoKeyAreRefused) {
  auto key = *parse_seal_key(new_seal_key_text());
  auto other = *parse_seal_key(new_seal_key_text());
  auto v = seal(key, "JBSWY3DPEHPK3PXP", "totp:user:7");
  EXPECT_EQ(unseal(&other, v, "totp:user:7").error().code, "SEAL_KEY_WRONG");
  EXPECT_EQ(unseal(&key, v, "totp:user:8").error().code, "SEAL_KEY_WRONG") << "copied onto another user's row";
  std::string altered = v;
  altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(unseal(&key, altered, "totp:user:7").error().code, "SEAL_KEY_WRONG");
  EXPECT_EQ(unseal(&key, "sealed1:", "totp:user:7").error().code, "SEAL_KEY_WRONG");
  EXPECT_EQ(unseal(&key, "sealed1:***", "totp:user:7").error().code, "SEAL_KEY_WRONG");
  auto missing = unseal(nullptr, v, "totp:user:7");
  EXPECT_EQ(missing.error().code, "SEAL_KEY_MISSING");
  EXPECT_EQ(missing.error().kind, ErrorKind::unavailable);
}

TEST_F(Sealed, PlainValuesFromBeforeTheKeyStillRead) {
  auto key = *parse_seal_key(new_seal_key_text());
  EXPECT_EQ(*unseal(&key, "JBSWY3DPEHPK3PXP", "x"), "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(*unseal(nullptr, "JBSWY3DPEHPK3PXP", "x"), "JBSWY3DPEHPK3PXP");
}

TEST_F(Sealed, KeyFilesAreChecked) {
  EXPECT_TRUE(parse_seal_key(" " + new_seal_key_text() + "\n").ok());
  EXPECT_EQ(parse_seal_key("").error().code, "BAD_SEAL_KEY");
  EXPECT_EQ(parse_seal_key("not base64 at all!").error().code, "BAD_SEAL_KEY");
  EXPECT_EQ(parse_seal_key(base64(std::string(16, 'k'))).error().code, "BAD_SEAL_KEY") << "too short";
}

}  // namespace
}  // namespace statgov::security
