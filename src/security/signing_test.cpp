#include "security/signing.hpp"
#include "security/canonical_json.hpp"
#include "security/totp.hpp"

#include "base/crypto.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace statgov::security {
namespace {

using nlohmann::json;

// RFC 6238 appendix B, the SHA-1 rows: 8-digit codes for the ASCII seed "12345678901234567890".
TEST(Totp, Rfc6238Sha1Vectors) {
  const std::string seed = "12345678901234567890";
  struct V {
    std::int64_t t;
    const char* code;
  };
  for (const V& v :
       {V{59, "94287082"}, V{1111111109, "07081804"}, V{1111111111, "14050471"},
        V{1234567890, "89005924"}, V{2000000000, "69279037"}, V{20000000000, "65353130"}}) {
    EXPECT_EQ(totp(seed, v.t, 8), v.code) << v.t;
  }
  // RFC 4226 appendix D: HOTP, 6 digits.
  EXPECT_EQ(hotp(seed, 0), "755224");
  EXPECT_EQ(hotp(seed, 9), "520489");
}

TEST(Totp, WindowOfOneStep) {
  const std::string seed = "12345678901234567890";
  std::int64_t t = 1111111109;  // step 37037036
  std::string code = totp(seed, t);
  EXPECT_EQ(totp_match(seed, code, t), t / 30);
  EXPECT_EQ(totp_match(seed, code, t + 30), t / 30);  // one step late: accepted
  EXPECT_EQ(totp_match(seed, code, t - 30), t / 30);  // one step early
  EXPECT_FALSE(totp_match(seed, code, t + 60));       // two steps: refused
  EXPECT_FALSE(totp_match(seed, "12345", t));
  EXPECT_FALSE(totp_match(seed, "abcdef", t));
  EXPECT_EQ(totp_match(seed, "07081804", t), t / 30);  // 8 digits as well
}

TEST(Totp, Base32AndUri) {
  EXPECT_EQ(base32_encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(base32_decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"), "12345678901234567890");
  EXPECT_FALSE(base32_decode("01"));  // 0 and 1 are not base32
  auto uri = otpauth_uri("统计 平台", "demo-shi", "12345678901234567890");
  EXPECT_EQ(uri.rfind("otpauth://totp/", 0), 0u);
  EXPECT_NE(uri.find("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), std::string::npos);
  EXPECT_EQ(uri.find(' '), std::string::npos);
}

TEST(CanonicalJson, NumbersLikeEcmaScript) {
  EXPECT_EQ(ecma_number(1.0), "1");
  EXPECT_EQ(ecma_number(-0.0), "0");
  EXPECT_EQ(ecma_number(0.1), "0.1");
  EXPECT_EQ(ecma_number(123.456), "123.456");
  EXPECT_EQ(ecma_number(1e21), "1e+21");
  EXPECT_EQ(ecma_number(1e20), "100000000000000000000");
  EXPECT_EQ(ecma_number(0.000001), "0.000001");
  EXPECT_EQ(ecma_number(1.5e-7), "1.5e-7");
  EXPECT_EQ(ecma_number(-2.5e25), "-2.5e+25");
  EXPECT_EQ(ecma_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(ecma_number(9007199254740993.0), "9007199254740992");
}

TEST(CanonicalJson, SortedKeysNoSpacesEscapes) {
  auto j =
      json::parse(R"({"b":[1.0,2.50,"x"],"a":{"z":null,"y":true},"é":"\u0001\n\"中","A":1e3})");
  auto c = canonical_json(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(
      *c,
      "{\"A\":1000,\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,\"x\"],\"é\":\"\\u0001\\n\\\"中\"}");
  // Keys ordered by UTF-16 code units: U+FF21 (one unit, 0xFF21) after U+1F600 (surrogates
  // 0xD83D..).
  auto k = canonical_json(json::parse(R"({"\uff21":1,"\ud83d\ude00":2})"));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, "{\"\xF0\x9F\x98\x80\":2,\"\xEF\xBC\xA1\":1}");
  EXPECT_FALSE(canonical_json(json(std::nan(""))).ok());
}

TEST(Signing, SignVerifyAndKeyFiles) {
  crypto_init();
  auto key = generate_signing_key();
  auto payload =
      submission_signing_payload("B204-1", "2026M11", "91430200MA4L000001", {{"I01", 12.5}}, 1);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload,
            "{\"form\":\"B204-1\",\"period\":\"2026M11\",\"unit_uscc\":\"91430200MA4L000001\","
            "\"values\":{\"I01\":12.5},"
            "\"version\":1}");
  auto sig = ed25519_sign(key, *payload);
  EXPECT_TRUE(ed25519_verify(key.public_key, *payload, sig));
  EXPECT_FALSE(ed25519_verify(key.public_key, *payload + " ", sig));
  EXPECT_FALSE(ed25519_verify(key.public_key, *payload, sig.substr(1)));
  auto other = generate_signing_key();
  EXPECT_FALSE(ed25519_verify(other.public_key, *payload, sig));

  auto back = parse_private_key(private_key_jwk(key));
  ASSERT_TRUE(back.ok()) << back.error().message_en;
  EXPECT_EQ(back->public_key, key.public_key);
  EXPECT_EQ(*parse_public_key(base64(key.public_key)), key.public_key);
  EXPECT_EQ(*parse_public_key(private_key_jwk(key)), key.public_key);
  // WebCrypto "pkcs8" export: the RFC 8410 prefix and the seed, as PEM.
  std::string der =
      std::string("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16) +
      key.seed;
  auto pem = parse_private_key("-----BEGIN PRIVATE KEY-----\n" + base64(der) +
                               "\n-----END PRIVATE KEY-----\n");
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->public_key, key.public_key);
  EXPECT_FALSE(parse_private_key("{\"kty\":\"RSA\"}").ok());
  EXPECT_FALSE(parse_public_key("AAAA").ok());
  EXPECT_EQ(key_fingerprint(key.public_key).size(), 16u);
}

}  // namespace
}  // namespace statgov::security
