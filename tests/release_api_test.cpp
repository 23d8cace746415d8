// Publication, internal side (docs/publication.md section 5): the calendar, embargo and pre-release
// list, prepared datasets against the summary API with disclosure control, the publisher's
// sign-off producing a verifiable package, and the 政务公开 catalogue.
#include "harness.hpp"

#include "base/crypto.hpp"
#include "publish/package.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace statgov::testing {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_cli(const std::string& args, std::string& out) {
  CliRun r = run_statgov(args);
  out += r.out;
  return r.code;
}

json release_body(const std::string& code, const std::string& at, const std::string& period) {
  return {{"code", code},
          {"title_zh", "2026年规模以上工业生产情况"},
          {"title_en", "Industrial production"},
          {"release_at", at},
          {"form", "B204-1"},
          {"period", period},
          {"tables",
           {{{"by", "county"}, {"indicators", {"I01", "I03"}}},
            {{"by", "section"}, {"indicators", {"I01"}}}}},
          {"prerelease", {"demo-quxian"}}};
}

// Index of a code in a dataset dimension, or -1.
int code_index(const json& ds, const std::string& dim, const std::string& code) {
  for (const auto& d : ds["dimensions"]) {
    if (d["id"] != dim) continue;
    for (std::size_t i = 0; i < d["codes"].size(); ++i) {
      if (d["codes"][i]["id"] == code) return static_cast<int>(i);
    }
  }
  return -1;
}

const json* find_obs(const json& ds, const std::vector<int>& key) {
  for (const auto& o : ds["observations"]) {
    bool same = o["key"].size() == key.size();
    for (std::size_t i = 0; same && i < key.size(); ++i) same = o["key"][i].get<int>() == key[i];
    if (same) return &o;
  }
  return nullptr;
}

class ReleaseApi : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>(150);
    for (const char* who : {"demo-fabu", "demo-admin", "demo-shi", "demo-lingdao", "demo-qiye",
                            "demo-xiangzhen", "demo-quxian"}) {
      clients_.emplace(who, Client(server_->port()));
      ASSERT_EQ(clients_.at(who).login(who, kDemoPassword).status, 200) << who;
    }
  }
  Client& as(const std::string& who) { return clients_.at(who); }
  std::string public_key() { return server_->releases().config().secret_key.substr(32); }

  std::unique_ptr<TestServer> server_;
  std::map<std::string, Client> clients_;
};

TEST_F(ReleaseApi, CalendarEmbargoPrepareSignOff) {
  // One October report goes back to "submitted": a release counts accepted reports only.
  ASSERT_TRUE(server_->store()
                  .write([](store::Conn& c) {
                    return c.exec_script(
                        "UPDATE submissions SET state = 'submitted' WHERE id = (SELECT id FROM "
                        "submissions WHERE "
                        "form_code = 'B204-1' AND period = '2026M10' ORDER BY id LIMIT 1)");
                  })
                  .ok());

  auto created = as("demo-fabu")
                     .post_json("/api/v1/releases",
                                release_body("T-2026-10", "2026-12-15T09:30+08:00", "2026M10"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json_body()["release_at"], "2026-12-15T01:30:00Z");
  EXPECT_EQ(created.json_body()["state"], "planned");
  EXPECT_EQ(created.json_body()["prerelease"], json::array({"demo-quxian"}));
  EXPECT_EQ(as("demo-fabu")
                .post_json("/api/v1/releases",
                           release_body("T-2026-10", "2026-12-15T09:30+08:00", "2026M10"))
                .status,
            409);
  for (const char* who :
       {"demo-shi", "demo-lingdao", "demo-qiye", "demo-xiangzhen", "demo-quxian"}) {
    EXPECT_EQ(as(who)
                  .post_json("/api/v1/releases", release_body(std::string("X-") + who,
                                                              "2026-12-15T09:30+08:00", "2026M10"))
                  .status,
              403)
        << who;
  }
  for (const char* at :
       {"2026-12-15 09:30", "2026-12-15T09:30:30+08:00", "2026-11-01T09:30+08:00",
        "2026-13-01T09:30+08:00", "2026-02-30T09:30Z", "tomorrow", "2026-12-15T09:30+99:00"}) {
    auto r = as("demo-fabu").post_json("/api/v1/releases", release_body("BAD-AT", at, "2026M10"));
    EXPECT_EQ(r.status, 400) << at << " " << r.body;
  }
  EXPECT_EQ(
      as("demo-fabu")
          .post_json("/api/v1/releases", release_body("BAD-P", "2026-12-15T09:30+08:00", "2026Q3"))
          .status,
      400);

  // Not prepared yet; then prepared.
  EXPECT_EQ(as("demo-fabu").get("/api/v1/releases/T-2026-10/preview").error_code(), "NOT_PREPARED");
  EXPECT_EQ(as("demo-shi").post_json("/api/v1/releases/T-2026-10/prepare", json::object()).status,
            403);
  auto prep = as("demo-fabu").post_json("/api/v1/releases/T-2026-10/prepare", json::object());
  ASSERT_EQ(prep.status, 200) << prep.body;
  EXPECT_EQ(prep.json_body()["state"], "prepared");

  // Embargo: before the minute only the publishing roles and the pre-release list.
  for (const char* who : {"demo-qiye", "demo-xiangzhen"}) {
    EXPECT_EQ(as(who).get("/api/v1/releases/T-2026-10/preview").status, 403) << who;
    EXPECT_EQ(as(who).get("/api/v1/releases/T-2026-10").status, 403) << who;
    EXPECT_EQ(as(who).get("/api/v1/releases").json_body()["items"].size(), 0u) << who;
  }
  for (const char* who : {"demo-quxian", "demo-lingdao", "demo-shi", "demo-admin"}) {
    EXPECT_EQ(as(who).get("/api/v1/releases/T-2026-10/preview").status, 200) << who;
  }
  auto pv = as("demo-fabu").get("/api/v1/releases/T-2026-10/preview");
  ASSERT_EQ(pv.status, 200);
  auto datasets = pv.json_body()["datasets"];
  ASSERT_EQ(datasets.size(), 2u);
  const json& by_county = datasets[0];
  const json& by_section = datasets[1];
  EXPECT_EQ(by_county["id"], "B204_1_COUNTY_MONTHLY");
  EXPECT_EQ(by_section["id"], "B204_1_SECTION_MONTHLY");
  EXPECT_EQ(by_county["agency"], "CN_430200");
  EXPECT_EQ(by_county["dimensions"].back()["codes"][0]["id"], "2026-10");
  for (const auto& ds : datasets) {
    auto parsed = publish::dataset_from_json(ds);
    EXPECT_TRUE(parsed.ok()) << ds["id"] << ": " << (parsed.ok() ? "" : parsed.error().message_en);
  }

  // County totals against the summary API over accepted reports.
  auto sum =
      as("demo-shi").get("/api/v1/summary?form=B204-1&period=2026M10&by=county&states=accepted");
  ASSERT_EQ(sum.status, 200) << sum.body;
  auto s = sum.json_body();
  int i01 = code_index(by_county, "INDICATOR", "I01");
  ASSERT_GE(i01, 0);
  int compared = 0, hidden = 0;
  for (const auto& row : s["rows"]) {
    int r = code_index(by_county, "REGION", row["key"]);
    ASSERT_GE(r, 1) << row["key"];
    const json* o = find_obs(by_county, {r, i01, 0});
    ASSERT_NE(o, nullptr);
    if (row["counts"]["I01"].get<int>() < 3) {
      EXPECT_EQ(o->value("status", ""), "C")
          << "a county with fewer than 3 units is suppressed: " << row["key"];
    }
    if (o->value("status", "") == "C") {
      EXPECT_TRUE((*o)["value"].is_null());
      ++hidden;
      continue;
    }
    EXPECT_NEAR((*o)["value"].get<double>(), row["values"]["I01"].get<double>(), 0.051)
        << row["key"];
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no county total was published";
  const json* city = find_obs(by_county, {0, i01, 0});
  ASSERT_NE(city, nullptr);
  ASSERT_FALSE(city->contains("status"));
  EXPECT_NEAR((*city)["value"].get<double>(), s["total"]["values"]["I01"].get<double>(), 0.051);
  auto sent = as("demo-shi")
                  .get("/api/v1/summary?form=B204-1&period=2026M10&by=county&states=submitted")
                  .json_body();
  EXPECT_GT(sent["total"]["values"]["I01"].get<double>(), (*city)["value"].get<double>() + 0.05)
      << "the submitted-but-not-accepted report must not count";
  // The section dataset: small cells suppressed with no value; its city total is the same figure.
  int suppressed = 0;
  for (const auto& ds : datasets) {
    for (const auto& o : ds["observations"]) {
      if (o.value("status", "") == "C") {
        ++suppressed;
        EXPECT_TRUE(o["value"].is_null());
      }
    }
  }
  EXPECT_GT(suppressed, 0)
      << "a demo this small has county x section cells with fewer than 3 units";
  const json* city_t = find_obs(by_section, {0, 0, code_index(by_section, "INDICATOR", "I01"), 0});
  ASSERT_NE(city_t, nullptr);
  EXPECT_EQ((*city_t)["value"], (*city)["value"]);
  EXPECT_GE(code_index(by_county, "INDICATOR", "I01_YOY"), 0);

  // Sign-off: the publisher only, with the right password.
  EXPECT_EQ(as("demo-admin")
                .post_json("/api/v1/releases/T-2026-10/signoff", {{"password", kDemoPassword}})
                .status,
            403);
  auto wrong =
      as("demo-fabu")
          .post_json("/api/v1/releases/T-2026-10/signoff", {{"password", "not-the-password"}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.error_code(), "WRONG_PASSWORD");
  auto signed1 =
      as("demo-fabu")
          .post_json("/api/v1/releases/T-2026-10/signoff", {{"password", kDemoPassword}});
  ASSERT_EQ(signed1.status, 200) << signed1.body;
  EXPECT_EQ(signed1.json_body()["state"], "signed");
  const auto seq1 = signed1.json_body()["signed"]["sequence"].get<std::uint64_t>();
  auto file1 = server_->dir() / "export" / ("CN_430200-" + std::to_string(seq1) + ".sgpkg");
  ASSERT_TRUE(std::filesystem::exists(file1));
  EXPECT_FALSE(std::filesystem::exists(file1.string() + ".tmp"));
  auto bytes1 = read_file(file1);
  auto pkg1 = publish::open_package(bytes1, public_key());
  ASSERT_TRUE(pkg1.ok()) << pkg1.error().message_en;
  EXPECT_EQ(pkg1->manifest.release_at, "2026-12-15T01:30:00Z");
  EXPECT_EQ(pkg1->manifest.release_id, "T-2026-10");
  EXPECT_EQ(pkg1->manifest.agency, "CN_430200");
  EXPECT_EQ(pkg1->files.count("release.json"), 1u);
  EXPECT_EQ(pkg1->files.count("calendar.json"), 1u);
  EXPECT_EQ(json::parse(pkg1->files.at("datasets/B204_1_COUNTY_MONTHLY.json")), by_county);
  EXPECT_EQ(pkg1->files.count("documents/430200-2026-000001.json"), 1u)
      << "the demo's documents ride in the first package";
  EXPECT_FALSE(publish::open_package(bytes1, publish::generate_keypair().public_key).ok());
  auto dl = as("demo-fabu").get("/api/v1/releases/T-2026-10/package");
  EXPECT_EQ(dl.status, 200);
  EXPECT_EQ(dl.body, bytes1);
  EXPECT_EQ(as("demo-shi").get("/api/v1/releases/T-2026-10/package").status, 403);

  // Signed: no edit, no second sign-off.
  EXPECT_EQ(as("demo-fabu")
                .send("PATCH", "/api/v1/releases/T-2026-10", json{{"title_en", "x"}}.dump())
                .status,
            409);
  EXPECT_EQ(as("demo-fabu")
                .post_json("/api/v1/releases/T-2026-10/signoff", {{"password", kDemoPassword}})
                .status,
            409);

  // A second release: editing a prepared one returns it to planned; its package is sequence + 1
  // and carries only the documents changed since.
  ASSERT_EQ(as("demo-fabu")
                .post_json("/api/v1/releases",
                           release_body("T-2026-09", "2026-12-16T09:30+08:00", "2026M09"))
                .status,
            201);
  ASSERT_EQ(as("demo-fabu").post_json("/api/v1/releases/T-2026-09/prepare", json::object()).status,
            200);
  auto edited =
      as("demo-fabu")
          .send("PATCH", "/api/v1/releases/T-2026-09", json{{"title_en", "September"}}.dump());
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json_body()["state"], "planned");
  EXPECT_EQ(as("demo-fabu")
                .post_json("/api/v1/releases/T-2026-09/signoff", {{"password", kDemoPassword}})
                .error_code(),
            "NOT_PREPARED");
  ASSERT_EQ(as("demo-fabu").post_json("/api/v1/releases/T-2026-09/prepare", json::object()).status,
            200);
  ASSERT_EQ(as("demo-fabu")
                .send("PATCH", "/api/v1/documents/430200-2026-000002",
                      json{{"title", "改过的通知"}}.dump())
                .status,
            200);
  auto signed2 =
      as("demo-fabu")
          .post_json("/api/v1/releases/T-2026-09/signoff", {{"password", kDemoPassword}});
  ASSERT_EQ(signed2.status, 200) << signed2.body;
  EXPECT_EQ(signed2.json_body()["signed"]["sequence"].get<std::uint64_t>(), seq1 + 1);
  auto pkg2 = publish::open_package(
      read_file(server_->dir() / "export" / ("CN_430200-" + std::to_string(seq1 + 1) + ".sgpkg")),
      public_key());
  ASSERT_TRUE(pkg2.ok()) << pkg2.error().message_en;
  EXPECT_EQ(pkg2->manifest.sequence, seq1 + 1);
  EXPECT_EQ(pkg2->files.count("documents/430200-2026-000002.json"), 1u);
  EXPECT_EQ(pkg2->files.count("documents/430200-2026-000001.json"), 0u);
  auto cal = json::parse(pkg2->files.at("calendar.json"));
  bool listed = false;
  for (const auto& e : cal) listed = listed || e["id"] == "T-2026-10";
  EXPECT_TRUE(listed);

  // After the minute: any staff account reads the published release; an enterprise still doesn't.
  server_->clock().set(from_local(2026, 12, 15, 9, 31));
  for (auto& [who, c] : clients_)
    ASSERT_EQ(c.login(who, kDemoPassword).status, 200) << who;  // sessions expired
  EXPECT_EQ(as("demo-xiangzhen").get("/api/v1/releases/T-2026-10/preview").status, 200);
  EXPECT_EQ(as("demo-xiangzhen").get("/api/v1/releases/T-2026-10").json_body()["state"],
            "published");
  EXPECT_EQ(as("demo-qiye").get("/api/v1/releases/T-2026-10/preview").status, 403);
  EXPECT_EQ(as("demo-xiangzhen").get("/api/v1/releases/T-2026-09/preview").status, 403);

  std::string out;
  EXPECT_EQ(
      run_cli("--db '" + server_->db_path() + "' --data " + STATGOV_SOURCE_DIR + "/data audit verify",
              out),
      0)
      << out;
  EXPECT_NE(out.find("audit chain ok"), std::string::npos) << out;
  // `statgov release export` writes the stored package again, byte for byte.
  out.clear();
  auto again = server_->dir() / "again";
  EXPECT_EQ(run_cli("--db '" + server_->db_path() + "' --data " + STATGOV_SOURCE_DIR +
                        "/data release export --release T-2026-10 --to " + again.string(),
                    out),
            0)
      << out;
  EXPECT_EQ(read_file(again / file1.filename()), bytes1);
}

// A second release of a period already published, after an accepted report was revised, says in
// release.json which published values it corrects; a first release revises nothing.
TEST_F(ReleaseApi, ACorrectionSaysWhatItRevises) {
  auto sign = [&](const std::string& code, const std::string& at) -> json {
    EXPECT_EQ(as("demo-fabu").post_json("/api/v1/releases", release_body(code, at, "2026M10")).status, 201);
    EXPECT_EQ(as("demo-fabu").post_json("/api/v1/releases/" + code + "/prepare", json::object()).status, 200);
    auto s = as("demo-fabu").post_json("/api/v1/releases/" + code + "/signoff", {{"password", kDemoPassword}});
    EXPECT_EQ(s.status, 200) << s.body;
    const auto seq = s.json_body()["signed"]["sequence"].get<std::uint64_t>();
    auto pkg = publish::open_package(
        read_file(server_->dir() / "export" / ("CN_430200-" + std::to_string(seq) + ".sgpkg")), public_key());
    EXPECT_TRUE(pkg.ok());
    return pkg.ok() ? json::parse(pkg->files.at("release.json")) : json();
  };
  const json first = sign("T-2026-10", "2026-12-15T09:30+08:00");
  EXPECT_EQ(first["revises"], json::array());
  // Unchanged data released again corrects nothing.
  EXPECT_EQ(sign("T-2026-10-B", "2026-12-15T10:30+08:00")["revises"], json::array());

  // The city revises the demo enterprise's accepted October report.
  const std::string sub = "/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/B204-1/2026M10";
  auto cur = as("demo-shi").get(sub);
  ASSERT_EQ(cur.status, 200) << cur.body;
  ASSERT_EQ(cur.json_body()["state"], "accepted") << "the demo accepts past months";
  json values = cur.json_body()["values"];
  values["I01"] = values["I01"].get<double>() + 1000;
  values["I01_YTD"] = values["I01_YTD"].get<double>() + 1000;
  auto rev = as("demo-shi").post_json(
      sub + "/revise", {{"values", values}, {"version", cur.json_body()["version"]}, {"reason", "企业更正营业收入"}});
  ASSERT_EQ(rev.status, 200) << rev.body;

  const json again = sign("T-2026-10-C", "2026-12-15T11:30+08:00");
  ASSERT_TRUE(again["revises"].is_array());
  std::set<std::string> revised;
  for (const auto& e : again["revises"]) {
    EXPECT_GT(e["changed"].get<int>(), 0);
    EXPECT_EQ(e["periods"], json::array({"2026-10"}));
    EXPECT_FALSE(e["reason_zh"].get<std::string>().empty());
    EXPECT_FALSE(e["reason_en"].get<std::string>().empty());
    revised.insert(e["dataset"].get<std::string>() + "@" + e["release"].get<std::string>());
  }
  // The county table's city total changed against both earlier versions.
  EXPECT_EQ(revised.count("B204_1_COUNTY_MONTHLY@T-2026-10"), 1u) << again.dump(2);
  EXPECT_EQ(revised.count("B204_1_COUNTY_MONTHLY@T-2026-10-B"), 1u) << again.dump(2);
}

TEST_F(ReleaseApi, Documents) {
  json doc = {
      {"index_no", "430200-2026-000123"},
      {"title", "关于统计数据发布的说明"},
      {"category", "通知公告"},
      {"publisher", "株洲市统计局"},
      {"date", "2026-11-20"},
      {"body", "正文"},
      {"attachments", {{{"name", "附件1.txt"}, {"content_base64", base64("hello\x01\x02")}}}}};
  auto made = as("demo-fabu").post_json("/api/v1/documents", doc);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.json_body()["attachments"][0]["size"], 7);
  EXPECT_EQ(as("demo-fabu").post_json("/api/v1/documents", doc).status, 409);
  EXPECT_EQ(as("demo-fabu").post_json("/api/v1/documents", doc).error_code(), "DUPLICATE_INDEX_NO");
  for (const char* bad : {"430200/2026", "a--b", "-a", "430200 2026", ""}) {
    auto d = doc;
    d["index_no"] = bad;
    EXPECT_EQ(as("demo-fabu").post_json("/api/v1/documents", d).status, 400) << bad;
  }
  auto d = doc;
  d["index_no"] = "430200-2026-000124";
  d["attachments"] = {{{"name", "../x"}, {"content_base64", base64("x")}}};
  EXPECT_EQ(as("demo-fabu").post_json("/api/v1/documents", d).status, 400);
  d["attachments"] = {{{"name", "x.txt"}, {"content_base64", "***"}}};
  EXPECT_EQ(as("demo-fabu").post_json("/api/v1/documents", d).status, 400);
  d.erase("attachments");
  d["date"] = "2026-02-30";
  EXPECT_EQ(as("demo-fabu").post_json("/api/v1/documents", d).status, 400);
  EXPECT_EQ(as("demo-shi").post_json("/api/v1/documents", doc).status, 403);
  EXPECT_EQ(as("demo-qiye").get("/api/v1/documents").status, 403);

  auto got = as("demo-lingdao").get("/api/v1/documents/430200-2026-000123");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json_body()["title"], "关于统计数据发布的说明");
  EXPECT_TRUE(got.json_body()["published_sequence"].is_null());
  EXPECT_EQ(as("demo-fabu").get("/api/v1/documents/430200-2026-999999").error_code(),
            "DOCUMENT_NOT_FOUND");
  auto patched =
      as("demo-fabu")
          .send("PATCH", "/api/v1/documents/430200-2026-000123", json{{"body", "新正文"}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json_body()["body"], "新正文");
  EXPECT_EQ(patched.json_body()["attachments"].size(), 1u) << "attachments stay unless replaced";
  EXPECT_EQ(
      as("demo-fabu")
          .send("PATCH", "/api/v1/documents/430200-2026-000123", json{{"index_no", "x"}}.dump())
          .status,
      400);
  auto list = as("demo-shi").get("/api/v1/documents?q=%E5%8F%91%E5%B8%83");  // "发布"
  ASSERT_EQ(list.status, 200);
  bool found = false;
  const json items = list.json_body()["items"];
  for (const auto& it : items) found = found || it["index_no"] == "430200-2026-000123";
  EXPECT_TRUE(found) << list.body;
  EXPECT_EQ(as("demo-shi").get("/api/v1/documents?category=none").json_body()["items"].size(), 0u);

  std::string out;
  EXPECT_EQ(
      run_cli("--db '" + server_->db_path() + "' --data " + STATGOV_SOURCE_DIR + "/data audit verify",
              out),
      0)
      << out;
}

}  // namespace
}  // namespace statgov::testing
