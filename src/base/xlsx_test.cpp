#include "base/xlsx.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace statgov {
namespace {

// Builds a zip archive in a temp file with libzip and returns its bytes.
std::string make_zip(const std::map<std::string, std::string>& entries) {
  std::string path = "/tmp/sg-xlsx-test-XXXXXX";
  const int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  ::close(fd);
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_TRUNCATE, &err);
  EXPECT_NE(za, nullptr);
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
    EXPECT_GE(zip_file_add(za, name.c_str(), src, ZIP_FL_OVERWRITE), 0);
  }
  EXPECT_EQ(zip_close(za), 0);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path.c_str());
  return bytes;
}

const char* kRels =
    R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/>
</Relationships>)";

const char* kWorkbook =
    R"(<?xml version="1.0"?><x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<x:sheets><x:sheet name="数据" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>)";

std::map<std::string, std::string> minimal_parts(const std::string& sheet_data) {
  return {
      {"xl/workbook.xml", kWorkbook},
      {"xl/_rels/workbook.xml.rels", kRels},
      {"xl/sharedStrings.xml",
       R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2">
<si><t>地区</t></si><si><r><t>富</t></r><r><rPr><b/></rPr><t xml:space="preserve">文本 </t></r><rPh><t>ignored</t></rPh></si></sst>)"},
      {"xl/worksheets/sheet1.xml",
       R"(<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>)" +
           sheet_data + "</x:sheetData></x:worksheet>"},
  };
}

TEST(ReadXlsx, RoundTripsWriterOutput) {
  XlsxWriter w;
  const int s1 = w.add_sheet("报表");
  const int s2 = w.add_sheet("Second");
  w.write_string(s1, 0, 0, "地区", CellStyle::header);
  w.write_string(s1, 0, 1, "人口", true);
  w.write_string(s1, 1, 0, "北京");
  w.write_number(s1, 1, 1, 2189);
  w.write_number(s1, 2, 1, 3.25);
  w.write_number(s1, 3, 1, -0.1);
  w.write_blank(s1, 4, 1, CellStyle::unlocked);
  w.set_column_width(s1, 0, 20);
  w.hide_column(s1, 0);
  w.set_column_style(s1, 2, CellStyle::unlocked_text);
  w.hide_row(s1, 3);
  w.protect_sheet(s1);
  w.write_string(s2, 9, 27, "far away");
  w.hide_sheet(s2);
  auto bytes = w.finish();
  ASSERT_TRUE(bytes.ok()) << bytes.error().message_en;

  auto wb = read_xlsx(*bytes);
  ASSERT_TRUE(wb.ok()) << wb.error().message_en << wb.error().details.dump();
  ASSERT_EQ(wb->sheets.size(), 2u);
  const XlsxSheet* a = wb->find("报表");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->at(1, 1)->text, "地区");
  EXPECT_EQ(a->at(1, 2)->text, "人口");
  EXPECT_FALSE(a->at(1, 1)->number.has_value());
  EXPECT_EQ(a->at(2, 1)->text, "北京");
  EXPECT_EQ(a->at(2, 2)->text, "2189");
  EXPECT_EQ(a->at(2, 2)->number, 2189.0);
  EXPECT_EQ(a->at(3, 2)->text, "3.25");
  EXPECT_EQ(a->at(4, 2)->text, "-0.1");
  EXPECT_EQ(a->at(5, 2), nullptr);  // styled blank: no value
  EXPECT_EQ(a->max_row, 4);
  EXPECT_EQ(a->max_col, 2);
  const XlsxSheet* b = wb->find("Second");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->at(10, 28)->text, "far away");
  EXPECT_EQ(b->max_row, 10);
  EXPECT_EQ(b->max_col, 28);
  EXPECT_EQ(wb->find("nope"), nullptr);
}

TEST(XlsxWriter, ReportsErrorsFromFinish) {
  XlsxWriter bad_name;
  bad_name.add_sheet("a/b");
  auto r1 = bad_name.finish();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, "XLSX_WRITE");
  EXPECT_EQ(r1.error().kind, ErrorKind::internal);

  XlsxWriter bad_cell;
  const int s = bad_cell.add_sheet("s");
  bad_cell.write_number(s, -1, 0, 1);
  EXPECT_FALSE(bad_cell.finish().ok());

  XlsxWriter nan;
  nan.write_number(nan.add_sheet("s"), 0, 0, std::nan(""));
  EXPECT_FALSE(nan.finish().ok());

  XlsxWriter twice;
  twice.add_sheet("s");
  EXPECT_TRUE(twice.finish().ok());
  EXPECT_FALSE(twice.finish().ok());
}

TEST(ReadXlsx, HandCraftedCellKinds) {
  const std::string bytes = make_zip(minimal_parts(
      R"(<x:row r="2"><x:c r="A2" t="s"><x:v>0</x:v></x:c><x:c r="B2" t="s"><x:v>1</x:v></x:c>)"
      R"(<x:c r="C2" t="inlineStr"><x:is><x:t>内联</x:t></x:is></x:c><x:c t="b"><x:v>1</x:v></x:c>)"
      R"(<x:c t="b"><x:v>0</x:v></x:c><x:c t="e"><x:v>#DIV/0!</x:v></x:c>)"
      R"(<x:c t="str"><x:f>A1</x:f><x:v>公式</x:v></x:c><x:c s="3"/><x:c><x:v>1.5E3</x:v></x:c></x:row>)"
      R"(<x:row><x:c><x:v>0.30000000000000004</x:v></x:c><x:c t="inlineStr"><x:is><x:t>a_x000D_b</x:t></x:is></x:c></x:row>)"));
  auto wb = read_xlsx(bytes);
  ASSERT_TRUE(wb.ok()) << wb.error().details.dump();
  const XlsxSheet& s = wb->sheets.at(0);
  EXPECT_EQ(s.name, "数据");
  EXPECT_EQ(s.at(2, 1)->text, "地区");
  EXPECT_EQ(s.at(2, 2)->text, "富文本 ");
  EXPECT_EQ(s.at(2, 3)->text, "内联");
  EXPECT_EQ(s.at(2, 4)->text, "TRUE");
  EXPECT_EQ(s.at(2, 5)->text, "FALSE");
  EXPECT_EQ(s.at(2, 6)->text, "#DIV/0!");
  EXPECT_EQ(s.at(2, 7)->text, "公式");
  EXPECT_EQ(s.at(2, 8), nullptr);
  EXPECT_EQ(s.at(2, 9)->text, "1500");
  EXPECT_EQ(s.at(2, 9)->number, 1500.0);
  EXPECT_EQ(s.at(3, 1)->text, "0.3");
  EXPECT_EQ(s.at(3, 2)->text, "a\rb");
  EXPECT_EQ(s.max_row, 3);
  EXPECT_EQ(s.max_col, 9);
}

TEST(ReadXlsx, RejectsBadSharedStringIndexAndCellRef) {
  auto r1 = read_xlsx(make_zip(minimal_parts(R"(<x:row><x:c t="s"><x:v>7</x:v></x:c></x:row>)")));
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, "BAD_XLSX");
  auto r2 = read_xlsx(make_zip(minimal_parts(R"(<x:row><x:c r="1A"><x:v>1</x:v></x:c></x:row>)")));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "BAD_XLSX");
  auto r3 = read_xlsx(make_zip(minimal_parts(R"(<x:row><x:c r="XFE1"><x:v>1</x:v></x:c></x:row>)")));
  EXPECT_FALSE(r3.ok());
}

TEST(ReadXlsx, NotAZip) {
  auto r = read_xlsx("this is plain text, not a spreadsheet");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "BAD_XLSX");
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_EQ(r.error().message, "不是有效的 Excel (xlsx) 文件");
  EXPECT_FALSE(read_xlsx("").ok());
}

TEST(ReadXlsx, ZipWithoutWorkbook) {
  auto r = read_xlsx(make_zip({{"hello.txt", "hi"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "BAD_XLSX");
}

TEST(ReadXlsx, BadXmlAndMissingSheetPart) {
  auto parts = minimal_parts("");
  parts["xl/workbook.xml"] = "<workbook><sheets><sheet";
  EXPECT_EQ(read_xlsx(make_zip(parts)).error().code, "BAD_XLSX");
  parts = minimal_parts("");
  parts.erase("xl/worksheets/sheet1.xml");
  EXPECT_EQ(read_xlsx(make_zip(parts)).error().code, "BAD_XLSX");
}

TEST(ReadXlsx, TruncatedFileIsAnErrorNotACrash) {
  XlsxWriter w;
  const int s = w.add_sheet("s");
  for (int i = 0; i < 50; ++i) w.write_string(s, i, 0, "行 " + std::to_string(i));
  auto bytes = w.finish();
  ASSERT_TRUE(bytes.ok());
  for (std::size_t len : {bytes->size() / 4, bytes->size() / 2, bytes->size() - 10,
                          bytes->size() - 1}) {
    auto r = read_xlsx(std::string_view(*bytes).substr(0, len));
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.error().code, "BAD_XLSX");
  }
}

TEST(ReadXlsx, RefusesZipBombEntry) {
  auto parts = minimal_parts("");
  parts["xl/worksheets/sheet1.xml"] = std::string(kXlsxMaxEntryBytes + 1, ' ');
  const std::string bytes = make_zip(parts);
  ASSERT_LT(bytes.size(), 1u << 20);  // deflates to almost nothing
  auto r = read_xlsx(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "XLSX_TOO_LARGE");
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
}

TEST(ReadXlsx, RefusesOversizedInput) {
  const std::string big(kXlsxMaxInputBytes + 1, 'x');
  auto r = read_xlsx(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "XLSX_TOO_LARGE");
}

}  // namespace
}  // namespace statgov
