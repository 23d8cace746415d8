// Unit directory over HTTP: CSV (UTF-8, GBK) and XLSX imports with row-by-row reports, all or
// nothing, scope, edits with history; Excel template round trip for reporting.
#include "harness.hpp"

#include "base/xlsx.hpp"

#include <gtest/gtest.h>

namespace statgov::testing {
namespace {

class UnitsApi : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>(40);
    city_ = std::make_unique<Client>(server_->port());
    ASSERT_EQ(city_->login("demo-shi", kDemoPassword).status, 200);
  }
  HttpResult import(const std::string& bytes, const std::string& query = "") {
    return city_->send("POST", "/api/v1/units/import" + query, bytes, {{"Content-Type", "text/csv"}});
  }
  json find(const std::string& q) { return city_->get("/api/v1/units?q=" + q).json_body()["items"]; }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Client> city_;
};

// Real codes from the reference vectors; regions and industries from the reference tables.
const std::string kHeader = "统一社会信用代码,单位名称,区划代码,行业代码,规模\n";

TEST_F(UnitsApi, ImportsUtf8CsvAndRecordsPilotCodes) {
  std::string csv = kHeader +
                    "91110108551385082Q,株洲测试机械有限公司,430202001000,3311,3\n"
                    "91350100M0001TGQXM,株洲试点代码公司,430203001000,5211,小型\n";
  auto r = import(csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["imported"], 2);
  auto items = find("91110108551385082Q");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["name"], "株洲测试机械有限公司");
  EXPECT_EQ(items[0]["region_name"], "月塘街道");
  auto pilot = find("91350100M0001TGQXM");
  ASSERT_EQ(pilot.size(), 1u);
  EXPECT_FALSE(pilot[0]["uscc_note"].get<std::string>().empty()) << "accepted with a warning";
}

TEST_F(UnitsApi, ImportsGbkCsv) {
  // "统一社会信用代码,单位名称,区划代码,行业代码,规模" and "株洲中文" in GBK.
  std::string gbk_header =
      "\xCD\xB3\xD2\xBB\xC9\xE7\xBB\xE1\xD0\xC5\xD3\xC3\xB4\xFA\xC2\xEB,\xB5\xA5\xCE\xBB\xC3\xFB\xB3\xC6,"
      "\xC7\xF8\xBB\xAE\xB4\xFA\xC2\xEB,\xD0\xD0\xD2\xB5\xB4\xFA\xC2\xEB,\xB9\xE6\xC4\xA3\r\n";
  std::string row = "91310110666007217T,\xD6\xEA\xD6\xDE\xD6\xD0\xCE\xC4,430202002000,3311,2\r\n";
  auto r = import(gbk_header + row);
  ASSERT_EQ(r.status, 200) << r.body;
  auto items = find("91310110666007217T");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["name"], "株洲中文");
}

TEST_F(UnitsApi, BadRowsAreReportedAndNothingIsImported) {
  std::string csv = kHeader +
                    "91110108551385082Q,好单位,430202001000,3311,3\n"
                    "91110108551385082F,校验位错,430202001000,3311,3\n"
                    "91310115591693856A,区划错,439999001000,3311,3\n"
                    "91310110666007217T,行业错,430202001000,9999,3\n"
                    "52410000663412719U,规模错,430202001000,3311,9\n";
  auto r = import(csv);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.error_code(), "IMPORT_FAILED");
  auto details = r.json_body()["error"]["details"];
  ASSERT_EQ(details.size(), 4u);
  EXPECT_EQ(details[0]["row"], 3);
  EXPECT_EQ(details[0]["column"], "统一社会信用代码");
  EXPECT_EQ(details[0]["code"], "USCC_CHECK");
  EXPECT_EQ(details[1]["code"], "UNKNOWN_REGION");
  EXPECT_EQ(details[2]["code"], "UNKNOWN_INDUSTRY");
  EXPECT_EQ(details[3]["code"], "SIZE_CLASS");
  for (const auto& d : details) {
    EXPECT_FALSE(d["message"].get<std::string>().empty());
    EXPECT_FALSE(d["message_en"].get<std::string>().empty());
  }
  EXPECT_TRUE(find("91110108551385082Q").empty()) << "all or nothing";
  // Partial mode takes the good row and reports the rest.
  auto p = import(csv, "?partial=true");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json_body()["imported"], 1);
  EXPECT_EQ(p.json_body()["rejected"].size(), 4u);
}

TEST_F(UnitsApi, BrokenFilesGetClearErrors) {
  EXPECT_EQ(import("").error_code(), "EMPTY_FILE");
  EXPECT_EQ(import("a,b\n\"unterminated\n").error_code(), "CSV_SYNTAX");
  EXPECT_EQ(import("\xFF\xFE\x00\x41").error_code(), "BAD_ENCODING");
  EXPECT_EQ(import(std::string("PK\x03\x04garbage", 11)).error_code(), "BAD_XLSX");
  auto missing = import("单位名称\n某公司\n");
  EXPECT_EQ(missing.error_code(), "IMPORT_FAILED");
}

TEST_F(UnitsApi, ImportsXlsx) {
  XlsxWriter w;
  int s = w.add_sheet("units");
  const char* head[] = {"统一社会信用代码", "单位名称", "区划代码", "行业代码", "规模"};
  for (int c = 0; c < 5; ++c) w.write_string(s, 0, c, head[c]);
  w.write_string(s, 1, 0, "91370000728611939A");
  w.write_string(s, 1, 1, "株洲表格公司");
  w.write_string(s, 1, 2, "430202001000");
  w.write_string(s, 1, 3, "3311");
  w.write_number(s, 1, 4, 2);
  auto bytes = w.finish();
  ASSERT_TRUE(bytes.ok());
  auto r = import(*bytes);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(find("91370000728611939A").size(), 1u);
}

TEST_F(UnitsApi, ScopeAndRolesOnImportAndEdit) {
  Client town(server_->port());
  ASSERT_EQ(town.login("demo-xiangzhen", kDemoPassword).status, 200);
  std::string town_region = town.get("/api/v1/me").json_body()["user"]["region"];
  std::string elsewhere = town_region.rfind("430202001", 0) == 0 ? "430203001000" : "430202001000";
  auto r = town.send("POST", "/api/v1/units/import", kHeader + "91110108551385082Q,外区单位," + elsewhere + ",3311,3\n");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json_body()["error"]["details"][0]["code"], "OUT_OF_SCOPE");
  Client ent(server_->port());
  ASSERT_EQ(ent.login("demo-qiye", kDemoPassword).status, 200);
  EXPECT_EQ(ent.send("POST", "/api/v1/units/import", kHeader).status, 403);
  EXPECT_EQ(ent.send("PATCH", "/api/v1/units/1", R"({"name":"x"})").status, 403);
}

TEST_F(UnitsApi, EditsKeepAHistory) {
  auto id = std::to_string(server_->demo_unit());
  auto before = city_->get("/api/v1/units/" + id).json_body();
  auto r = city_->send("PATCH", "/api/v1/units/" + id, R"({"name":"株洲改名后有限公司","size":2})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto after = city_->get("/api/v1/units/" + id).json_body();
  EXPECT_EQ(after["name"], "株洲改名后有限公司");
  auto hist = after["history"];
  ASSERT_GE(hist.size(), 1u);
  bool saw_name = false;
  for (const auto& h : hist) {
    if (h["field"] == "name") {
      saw_name = true;
      EXPECT_EQ(h["old"], before["name"]);
      EXPECT_EQ(h["new"], "株洲改名后有限公司");
      EXPECT_EQ(h["actor"], "demo-shi");
      EXPECT_FALSE(h["at"].get<std::string>().empty());
    }
  }
  EXPECT_TRUE(saw_name);
  EXPECT_EQ(city_->send("PATCH", "/api/v1/units/" + id, R"({"colour":"red"})").error_code(), "UNKNOWN_FIELD");
  EXPECT_EQ(city_->send("PATCH", "/api/v1/units/" + id, R"({"industry":"9999"})").error_code(), "UNKNOWN_INDUSTRY");
  EXPECT_EQ(city_->send("PATCH", "/api/v1/units/" + id, R"({"size":7})").error_code(), "SIZE_CLASS");
  EXPECT_EQ(city_->get("/api/v1/units/" + id).json_body()["size"], 2);
}

TEST_F(UnitsApi, ExcelTemplateRoundTrip) {
  Client ent(server_->port());
  ASSERT_EQ(ent.login("demo-qiye", kDemoPassword).status, 200);
  std::string base = "/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/B204-1/2026M11";
  json draft = {{"values", {{"I01", 1234.5}, {"I03", 1000}, {"I04", 10}}}};
  ASSERT_EQ(ent.send("PUT", base + "/draft", draft.dump()).status, 200);
  auto t = ent.get(base + "/template.xlsx");
  ASSERT_EQ(t.status, 200);
  EXPECT_NE(t.headers["content-type"].find("spreadsheetml"), std::string::npos);
  auto book = read_xlsx(t.body);
  ASSERT_TRUE(book.ok());
  ASSERT_NE(book->find("B204-1"), nullptr);
  // Clear the draft, then upload the template: the values come back from the file.
  ASSERT_EQ(ent.send("PUT", base + "/draft", R"({"values":{}})").status, 200);
  auto up = ent.send("POST", base + "/upload", t.body,
                     {{"Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}});
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.json_body()["values"]["I01"], 1234.5);
  EXPECT_EQ(up.json_body()["values"]["I04"], 10);
  EXPECT_EQ(ent.get(base).json_body()["values"]["I03"], 1000);
  // Another period's template is refused; so is a workbook that is not a template.
  std::string other = "/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/B204-1/2026M10";
  auto wrong = ent.send("POST", other + "/upload", t.body);
  EXPECT_EQ(wrong.status, 400);
  XlsxWriter w;
  w.add_sheet("Sheet1");
  auto plain = w.finish();
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(ent.send("POST", base + "/upload", *plain).error_code(), "NOT_TEMPLATE");
}

}  // namespace
}  // namespace statgov::testing
