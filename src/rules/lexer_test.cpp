#include "rules/lexer.hpp"

#include <gtest/gtest.h>

namespace statgov::rules {
namespace {

std::vector<Token> lex(std::string_view text) {
  std::vector<Token> toks;
  Diagnostic d;
  EXPECT_TRUE(tokenize(text, toks, d)) << d.message_en;
  return toks;
}

TEST(Lexer, OperatorsAndTwoCharacterForms) {
  auto t = lex("= == != <> < <= > >= + - * / ( ) , .");
  std::vector<TokenKind> want = {TokenKind::eq,    TokenKind::eq,    TokenKind::ne,     TokenKind::ne,
                                 TokenKind::lt,    TokenKind::le,    TokenKind::gt,     TokenKind::ge,
                                 TokenKind::plus,  TokenKind::minus, TokenKind::star,   TokenKind::slash,
                                 TokenKind::lparen, TokenKind::rparen, TokenKind::comma, TokenKind::dot,
                                 TokenKind::end};
  ASSERT_EQ(t.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t[i].kind, want[i]) << i;
}

TEST(Lexer, NumbersIdentifiersStrings) {
  auto t = lex("12 3.5 1e3 .25 I01_YTD prev.I01 \"33\\\"x\"");
  ASSERT_EQ(t.size(), 10U);
  EXPECT_DOUBLE_EQ(t[0].number, 12);
  EXPECT_DOUBLE_EQ(t[1].number, 3.5);
  EXPECT_DOUBLE_EQ(t[2].number, 1000);
  EXPECT_DOUBLE_EQ(t[3].number, 0.25);
  EXPECT_EQ(t[4].text, "I01_YTD");
  EXPECT_EQ(t[5].text, "prev");
  EXPECT_EQ(t[6].kind, TokenKind::dot);
  EXPECT_EQ(t[7].text, "I01");
  EXPECT_EQ(t[8].kind, TokenKind::string);
  EXPECT_EQ(t[8].text, "33\"x");
}

TEST(Lexer, PositionsCountLinesAndCodePoints) {
  auto t = lex("I01\n  >= \"中文\" I03");
  ASSERT_EQ(t.size(), 5U);
  EXPECT_EQ(t[1].line, 2);
  EXPECT_EQ(t[1].column, 3);
  EXPECT_EQ(t[3].line, 2);
  EXPECT_EQ(t[3].column, 11);  // "中文" is 4 characters wide including quotes
}

TEST(Lexer, ReportsUnterminatedStringAndStrayCharacters) {
  std::vector<Token> toks;
  Diagnostic d;
  EXPECT_FALSE(tokenize("a = \"33", toks, d));
  EXPECT_EQ(d.code, "RULE_SYNTAX");
  EXPECT_EQ(d.column, 5);
  EXPECT_FALSE(tokenize("a ! b", toks, d));
  EXPECT_EQ(d.column, 3);
  EXPECT_FALSE(tokenize("12abc", toks, d));
  EXPECT_FALSE(tokenize("a @ b", toks, d));
}

TEST(Lexer, KeywordsAreCaseInsensitive) {
  EXPECT_TRUE(equals_keyword("AND", "and"));
  EXPECT_TRUE(equals_keyword("Then", "then"));
  EXPECT_FALSE(equals_keyword("andx", "and"));
}

}  // namespace
}  // namespace statgov::rules
