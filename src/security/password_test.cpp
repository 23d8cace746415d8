#include "security/password.hpp"

#include "base/crypto.hpp"

#include <gtest/gtest.h>

namespace statgov::security {
namespace {

TEST(Password, HashAndVerify) {
  crypto_init();
  auto h = hash_password("Secret123", HashCost::test());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(*h, "Secret123"));
  EXPECT_FALSE(verify_password(*h, "Secret124"));
  EXPECT_FALSE(verify_password("not a hash", "Secret123"));
  auto h2 = hash_password("Secret123", HashCost::test());
  EXPECT_NE(*h, *h2) << "salted";
}

TEST(Password, Policy) {
  EXPECT_TRUE(check_password_policy("abcd1234").ok());
  EXPECT_FALSE(check_password_policy("abc123").ok());
  EXPECT_FALSE(check_password_policy("abcdefgh").ok());
  EXPECT_FALSE(check_password_policy("12345678").ok());
  EXPECT_EQ(check_password_policy("short1").error().code, "WEAK_PASSWORD");
}

}  // namespace
}  // namespace statgov::security
