#include "base/csv.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace statgov {
namespace {

using ::testing::ElementsAre;

TEST(ParseCsv, SimpleRowsLfAndCrlf) {
  auto r = parse_csv("a,b,c\r\n1,2,3\n4,5,6");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_THAT((*r)[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT((*r)[2].fields, ElementsAre("4", "5", "6"));
  EXPECT_EQ((*r)[2].line, 3u);
}

TEST(ParseCsv, QuotesEscapesAndEmbeddedNewline) {
  auto r = parse_csv("\"a,1\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,x,y\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_THAT((*r)[0].fields, ElementsAre("a,1", "say \"hi\"", "two\nlines"));
  EXPECT_EQ((*r)[0].line, 1u);
  EXPECT_EQ((*r)[1].line, 3u);  // the record started on the line after the embedded break
}

TEST(ParseCsv, EmptyFieldsAndSkippedEmptyLines) {
  auto r = parse_csv("\n,,\r\n\r\na,\"\",\n\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_THAT((*r)[0].fields, ElementsAre("", "", ""));
  EXPECT_EQ((*r)[0].line, 2u);
  EXPECT_THAT((*r)[1].fields, ElementsAre("a", "", ""));
  EXPECT_EQ((*r)[1].line, 4u);
}

TEST(ParseCsv, ChineseAndOtherDelimiter) {
  auto r = parse_csv("地区;人口\n北京;2189\n", ';');
  ASSERT_TRUE(r.ok());
  EXPECT_THAT((*r)[1].fields, ElementsAre("北京", "2189"));
}

TEST(ParseCsv, UnterminatedQuoteReportsLine) {
  auto r = parse_csv("a,b\nc,d\ne,\"open\nstill open\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CSV_SYNTAX");
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_EQ(r.error().details, nlohmann::json::parse(R"([{"line":3}])"));
}

TEST(ParseCsv, QuoteInsideUnquotedFieldIsAnError) {
  auto r = parse_csv("ok\nab\"c\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CSV_SYNTAX");
  EXPECT_EQ(r.error().details[0]["line"], 2);
  EXPECT_FALSE(parse_csv("\"a\"b,c").ok());
  EXPECT_TRUE(parse_csv("\"a\"  ,c").ok());  // spaces after a closing quote are tolerated
}

TEST(ParseCsv, TooManyFields) {
  std::string line(kCsvMaxFields, ',');  // kCsvMaxFields + 1 fields
  auto r = parse_csv(line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "TOO_LARGE");
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
  EXPECT_TRUE(parse_csv(std::string(kCsvMaxFields - 1, ',')).ok());
}

TEST(ParseCsv, TooManyRows) {
  std::string text;
  for (std::size_t i = 0; i <= kCsvMaxRows; ++i) text += "1\n";
  auto r = parse_csv(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "TOO_LARGE");
}

TEST(WriteCsv, QuotesOnlyWhenNeededAndRoundTrips) {
  const std::vector<std::vector<std::string>> rows = {
      {"地区", "说明"}, {"a,b", "say \"hi\""}, {"two\nlines", ""}, {""}, {}};
  const std::string out = write_csv(rows);
  EXPECT_EQ(out,
            "地区,说明\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\r\n\"\"\r\n\r\n");
  auto back = parse_csv(out);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 4u);  // the zero-field row is an empty line and is skipped
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ((*back)[i].fields, rows[i]);
}

}  // namespace
}  // namespace statgov
