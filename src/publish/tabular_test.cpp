#include "publish/tabular.hpp"

#include "base/xlsx.hpp"
#include "publish/testdata/sample.hpp"

#include <gtest/gtest.h>

namespace statgov::publish {
namespace {

using testing::sample;

TEST(Tabular, RoundsHalfUpOnTheDecimalForm) {
  EXPECT_EQ(format_rounded(1300.25, 1), "1300.3");
  EXPECT_EQ(format_rounded(400.05, 1), "400.1");
  EXPECT_EQ(format_rounded(2.675, 2), "2.68");
  EXPECT_EQ(format_rounded(512.345, 1), "512.3");
  EXPECT_EQ(format_rounded(9.96, 1), "10.0");
  EXPECT_EQ(format_rounded(999.5, 0), "1000");
  EXPECT_EQ(format_rounded(5, 2), "5.00");
  EXPECT_EQ(format_rounded(-1.25, 1), "-1.3");
  EXPECT_EQ(format_rounded(-0.04, 1), "0.0");
  EXPECT_EQ(format_rounded(0.0001234, 3), "0.000");
  EXPECT_EQ(format_rounded(1e21, 1), "1000000000000000000000.0");
}

TEST(Tabular, CsvExactText) {
  const Dataset d = sample();
  const std::string zh = write_csv(d, {2, 3, 4, 5, 6}, "zh");
  EXPECT_EQ(zh,
            "\xEF\xBB\xBF"
            "地区代码,地区,指标代码,指标,时间代码,时间,数值,单位,状态\r\n"
            "430202,荷塘区,I01,营业收入,2026-10,2026年10月,400.1,万元,\r\n"
            "430202,荷塘区,I01,营业收入,2026-11,2026年11月,,万元,C\r\n"
            "430203,芦淞区,I01,营业收入,2026-11,2026年11月,512.3,万元,\r\n"
            "430200,株洲市,I01_YOY,营业收入同比增长,2026-11,2026年11月,5.3,%,\r\n"
            "430203,芦淞区,I01_YOY,营业收入同比增长,2026-11,2026年11月,,%,M\r\n");
  const std::string en = write_csv(d, {7, 0}, "en");
  EXPECT_EQ(en,
            "\xEF\xBB\xBF"
            "Region code,Region,Indicator code,Indicator,Time code,Time,Value,Unit,Status\r\n"
            "430200,Zhuzhou,I01,Operating revenue,2026-09,Sep 2026,1100.0,\"10,000 yuan\",\r\n"
            "430200,Zhuzhou,I01,Operating revenue,2026-10,Oct 2026,1234.5,\"10,000 yuan\",\r\n");
  // Out-of-range indexes are skipped, not a crash.
  EXPECT_EQ(write_csv(d, {99}, "zh"),
            "\xEF\xBB\xBF地区代码,地区,指标代码,指标,时间代码,时间,数值,单位,状态\r\n");
}

TEST(Tabular, XlsxReadsBackWithValuesAndFootnotes) {
  const Dataset d = sample();
  const std::string bytes = write_xlsx(d, {0, 3, 4, 6}, "zh");
  ASSERT_FALSE(bytes.empty());
  auto wb = read_xlsx(bytes);
  ASSERT_TRUE(wb.ok()) << wb.error().message_en;
  const XlsxSheet* sh = wb->find("数据");
  ASSERT_NE(sh, nullptr);
  auto text = [&](int r, int c) {
    const XlsxCell* cell = sh->at(r, c);
    return cell ? cell->text : std::string("<empty>");
  };
  EXPECT_EQ(text(1, 1), d.title_zh);
  EXPECT_EQ(text(2, 1), "单位：万元");
  EXPECT_EQ(text(3, 1), "资料来源：株洲市统计局");
  EXPECT_EQ(text(4, 1), "更新时间：2026-12-15T01:30:00Z");
  EXPECT_EQ(text(5, 1), "<empty>");
  EXPECT_EQ(text(6, 1), "地区代码");
  EXPECT_EQ(text(6, 7), "数值");
  EXPECT_EQ(text(6, 9), "状态");
  // Row 7: 430200 / I01 / 2026-10 = 1234.5
  EXPECT_EQ(text(7, 1), "430200");
  EXPECT_EQ(text(7, 2), "株洲市");
  EXPECT_EQ(text(7, 5), "2026-10");
  ASSERT_TRUE(sh->at(7, 7) && sh->at(7, 7)->number);
  EXPECT_DOUBLE_EQ(*sh->at(7, 7)->number, 1234.5);
  EXPECT_EQ(text(7, 8), "万元");
  // Row 8: the suppressed cell
  EXPECT_EQ(text(8, 1), "430202");
  EXPECT_EQ(text(8, 7), "C");
  EXPECT_FALSE(sh->at(8, 7)->number.has_value());
  EXPECT_EQ(text(8, 9), "C");
  // Row 9: 512.345 shown with one decimal
  ASSERT_TRUE(sh->at(9, 7) && sh->at(9, 7)->number);
  EXPECT_DOUBLE_EQ(*sh->at(9, 7)->number, 512.3);
  // Row 10: missing
  EXPECT_EQ(text(10, 7), "…");
  EXPECT_EQ(text(10, 8), "%");
  EXPECT_EQ(text(10, 9), "M");
  // Footnotes after a blank row.
  EXPECT_EQ(text(11, 1), "<empty>");
  EXPECT_NE(text(12, 1).find("C"), std::string::npos);
  EXPECT_NE(text(12, 1).find("保密"), std::string::npos);
  EXPECT_NE(text(13, 1).find("…"), std::string::npos);
  EXPECT_EQ(sh->max_row, 13);
}

TEST(Tabular, XlsxInEnglishWithoutFootnotes) {
  const Dataset d = sample();
  auto wb = read_xlsx(write_xlsx(d, {0}, "en"));
  ASSERT_TRUE(wb.ok());
  const XlsxSheet* sh = wb->find("Data");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->at(1, 1)->text, d.title_en);
  EXPECT_EQ(sh->at(2, 1)->text, "Unit: 10,000 yuan");
  EXPECT_EQ(sh->at(6, 2)->text, "Region");
  EXPECT_EQ(sh->at(7, 2)->text, "Zhuzhou");
  EXPECT_EQ(sh->max_row, 7);
}

}  // namespace
}  // namespace statgov::publish
