#include "base/text.hpp"

#include <gtest/gtest.h>

namespace statgov {
namespace {

TEST(IsValidUtf8, AcceptsAsciiAndMultibyte) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("abc"));
  EXPECT_TRUE(is_valid_utf8("中文"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(IsValidUtf8, RejectsMalformed) {
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong 4-byte
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xE4\xB8"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // stray continuation
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Gb18030, DecodesGbk) {
  auto r = gb18030_to_utf8("\xD6\xD0\xCE\xC4");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "中文");
}

TEST(Gb18030, DecodesFourByteSequence) {
  auto r = gb18030_to_utf8("\x81\x30\x81\x30");  // U+0080
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "\xC2\x80");
}

TEST(Gb18030, RejectsInvalidAndTruncated) {
  auto bad = gb18030_to_utf8("\xFF\xFF");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "BAD_ENCODING");
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid);
  EXPECT_FALSE(gb18030_to_utf8("\xD6").ok());
}

TEST(DecodeText, KeepsUtf8AndStripsBom) {
  auto plain = decode_text("地区,人口");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "地区,人口");
  auto bom = decode_text("\xEF\xBB\xBF地区,人口");
  ASSERT_TRUE(bom.ok());
  EXPECT_EQ(*bom, "地区,人口");
}

TEST(DecodeText, FallsBackToGbk) {
  // "地区,人口\r\n" in GBK
  auto r = decode_text("\xB5\xD8\xC7\xF8,\xC8\xCB\xBF\xDA\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "地区,人口\r\n");
}

TEST(DecodeText, RejectsNulAndGarbage) {
  auto nul = decode_text(std::string_view("a\0b", 3));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, "BAD_ENCODING");
  auto garbage = decode_text("\xFF\xFE\xFF");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, "BAD_ENCODING");
  EXPECT_EQ(garbage.error().message_en,
            "Unrecognised text encoding (UTF-8 and GBK/GB18030 are supported)");
}

TEST(Trim, StripsAsciiAndWideSpaces) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("\xE3\x80\x80北京\xE3\x80\x80"), "北京");
  EXPECT_EQ(trim("\xC2\xA0 x \xC2\xA0"), "x");
  EXPECT_EQ(trim(" \xE3\x80\x80 "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("中"), "中");
}

}  // namespace
}  // namespace statgov
