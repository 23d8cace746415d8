// The public portal end to end: packages built in-process with a test key, dropped in the inbox,
// served over HTTP; the clock is moved instead of waiting for a release's minute.
#include "portal_harness.hpp"

#include "base/crypto.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

namespace statgov::portal_testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kReleaseAt = "2026-12-15T01:30:00Z";  // 09:30 Beijing; the clock is 09:00
constexpr const char* kFlow = "B204_1_COUNTY_MONTHLY";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class PortalTest : public ::testing::Test {
 protected:
  // Release R1 at kReleaseAt carrying one dataset, plus the calendar announcing it.
  std::string first_release(TestPortal& t, std::uint64_t seq = 1) {
    publish::PackageFiles files;
    files["datasets/" + std::string(kFlow) + ".json"] = dataset_json(kFlow, kReleaseAt).dump();
    files["release.json"] = json{
        {"id", "2026-11-B204-1"},
        {"title_zh", "11月规上工业营业收入"},
        {"title_en", "November industrial revenue"},
        {"release_at", kReleaseAt},
        {"datasets", {kFlow}}}.dump();
    files["calendar.json"] = json::array({{{"id", "2026-11-B204-1"},
                                           {"title_zh", "11月规上工业营业收入"},
                                           {"title_en", "November industrial revenue"},
                                           {"release_at", kReleaseAt},
                                           {"status", "signed"}}})
                                 .dump();
    return t.package(seq, "2026-11-B204-1", kReleaseAt, files);
  }

  static void expect_hidden(TestPortal& t) {
    EXPECT_EQ(t.get("/api/v1/releases").json_body()["releases"].size(), 0u);
    EXPECT_EQ(t.get("/api/v1/datasets").json_body()["datasets"].size(), 0u);
    EXPECT_EQ(t.get(std::string("/api/v1/datasets/") + kFlow).status, 404);
    EXPECT_EQ(t.get(std::string("/api/v1/datasets/") + kFlow + "/data?format=csv").status, 404);
    EXPECT_EQ(t.get("/rest/dataflow").status, 404);
    EXPECT_EQ(t.get(std::string("/rest/dataflow/all/") + kFlow).status, 404);
    EXPECT_EQ(t.get(std::string("/rest/data/") + kFlow).status, 404);
    EXPECT_EQ(t.get(std::string("/rest/data/") + kFlow).error_code(), "NO_DATA");
  }
};

TEST_F(PortalTest, ReleaseIsHeldUntilItsMinuteThenAppearsWhole) {
  TestPortal t;
  ASSERT_EQ(t.drop("r1.sgpkg", first_release(t)), 1);
  EXPECT_FALSE(fs::exists(t.inbox() / "r1.sgpkg"));
  EXPECT_TRUE(fs::exists(t.data() / "archive" / "1.sgpkg"));

  auto health = t.get("/healthz").json_body();
  EXPECT_EQ(health["packages"], 1);
  EXPECT_EQ(health["last_sequence"], 1);
  // The calendar is public before the release: titles and minutes, nothing of the data.
  auto cal = t.get("/api/v1/calendar");
  ASSERT_EQ(cal.status, 200);
  ASSERT_EQ(cal.json_body()["calendar"].size(), 1u);
  EXPECT_EQ(cal.json_body()["calendar"][0]["release_at"], kReleaseAt);
  expect_hidden(t);

  t.clock().set(*publish::parse_iso_time("2026-12-15T01:29:59Z"));
  expect_hidden(t);

  t.clock().set(*publish::parse_iso_time(kReleaseAt));  // no action: the next request shows it
  auto rel = t.get("/api/v1/releases");
  ASSERT_EQ(rel.status, 200);
  ASSERT_EQ(rel.json_body()["releases"].size(), 1u);
  EXPECT_EQ(rel.json_body()["releases"][0]["id"], "2026-11-B204-1");
  EXPECT_EQ(rel.header("access-control-allow-origin"), "*");

  auto cat = t.get("/api/v1/datasets").json_body()["datasets"];
  ASSERT_EQ(cat.size(), 1u);
  EXPECT_EQ(cat[0]["id"], kFlow);
  EXPECT_EQ(cat[0]["release_id"], "2026-11-B204-1");
  EXPECT_EQ(cat[0]["dimensions"].size(), 3u);

  auto ds = t.get(std::string("/api/v1/datasets/") + kFlow);
  ASSERT_EQ(ds.status, 200);
  EXPECT_EQ(ds.json_body()["observations"].size(), 6u);

  auto flows =
      t.get("/rest/dataflow", {{"Accept", "application/vnd.sdmx.structure+xml;version=2.1"}});
  ASSERT_EQ(flows.status, 200) << flows.body;
  EXPECT_NE(flows.body.find(kFlow), std::string::npos);
  EXPECT_NE(flows.header("vary").find("Accept"), std::string::npos);
  EXPECT_EQ(t.get(std::string("/rest/dataflow/CN_430200/") + kFlow + "/latest").status, 200);
  EXPECT_EQ(t.get("/rest/dataflow/OTHER_AGENCY").status, 404);
  EXPECT_EQ(
      t.get(std::string("/rest/datastructure/CN_430200/DSD_") + kFlow + "?references=children")
          .status,
      200);
  EXPECT_EQ(t.get(std::string("/rest/codelist/CN_430200/CL_REGION_") + kFlow).status, 200);

  auto data = t.get(std::string("/rest/data/") + kFlow + "/430202.I01",
                    {{"Accept", "application/vnd.sdmx.data+csv;version=1.0.0"}});
  ASSERT_EQ(data.status, 200) << data.body;
  EXPECT_NE(data.body.find("430202"), std::string::npos);
  EXPECT_EQ(data.body.find("430203"), std::string::npos);
  auto full = t.get(std::string("/rest/data/CN_430200,") + kFlow + ",1.0/all");
  EXPECT_EQ(full.status, 200) << full.body;
}

TEST_F(PortalTest, DataDownloadsWithDimensionFilters) {
  TestPortal t;
  ASSERT_EQ(t.drop("r1.sgpkg", first_release(t)), 1);
  t.clock().set(*publish::parse_iso_time(kReleaseAt));
  const std::string base = std::string("/api/v1/datasets/") + kFlow + "/data";

  auto js = t.get(base);  // default: JSON-stat
  ASSERT_EQ(js.status, 200) << js.body;
  EXPECT_TRUE(js.json_body().is_object());
  auto csv = t.get(base + "?format=csv&REGION=430202&TIME_PERIOD=2026-11");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.header("content-type").find("text/csv"), std::string::npos);
  EXPECT_NE(csv.body.find("103"), std::string::npos);  // 100 + 1*2 + 1
  EXPECT_EQ(csv.body.find("101"), std::string::npos);  // 430202, 2026-10 is filtered out
  auto csv_en = t.get(base + "?format=csv&REGION=430202&TIME_PERIOD=2026-11&lang=en");
  EXPECT_NE(csv_en.body, csv.body);
  auto csv_en2 = t.get(base + "?format=csv&REGION=430202&TIME_PERIOD=2026-11",
                       {{"Accept-Language", "en-US,en;q=0.9"}});
  EXPECT_EQ(csv_en2.body, csv_en.body);

  auto xlsx = t.get(base + "?format=xlsx");
  ASSERT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
  EXPECT_EQ(t.get(base + "?format=sdmx-csv&REGION=430200,430203").status, 200);

  EXPECT_EQ(t.get(base + "?SECTOR=A").error_code(), "UNKNOWN_DIMENSION");
  EXPECT_EQ(t.get(base + "?SECTOR=A").status, 400);
  EXPECT_EQ(t.get(base + "?REGION=999999").error_code(), "UNKNOWN_CODE");
  EXPECT_EQ(t.get(base + "?REGION=999999").status, 404);
  EXPECT_EQ(t.get(base + "?format=pdf").status, 400);
  EXPECT_EQ(t.get("/api/v1/datasets/NOPE/data").status, 404);

  // A repeated request is a cache lookup.
  const auto hits = t.portal().cache().hits();
  auto again = t.get(base + "?format=csv&REGION=430202&TIME_PERIOD=2026-11");
  EXPECT_EQ(again.body, csv.body);
  EXPECT_GT(t.portal().cache().hits(), hits);
}

TEST_F(PortalTest, SdmxErrors) {
  TestPortal t;
  ASSERT_EQ(t.drop("r1.sgpkg", first_release(t)), 1);
  t.clock().set(*publish::parse_iso_time(kReleaseAt));
  const std::string flow = std::string("/rest/data/") + kFlow;

  auto bad_key = t.get(flow + "/430202.I01.EXTRA.PARTS");
  EXPECT_EQ(bad_key.status, 400) << bad_key.body;
  EXPECT_EQ(bad_key.error_code(), "BAD_QUERY");
  EXPECT_NE(bad_key.header("vary").find("Accept"), std::string::npos);
  EXPECT_EQ(t.get(flow + "?startPeriod=yesterday").status, 400);
  EXPECT_EQ(t.get("/rest/data/A,B,C,D").status, 400);

  auto unknown = t.get("/rest/data/NO_SUCH_FLOW");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error_code(), "NO_DATA");
  EXPECT_EQ(t.get(std::string("/rest/data/OTHER,") + kFlow + ",1.0").status, 404);
  EXPECT_EQ(t.get(flow + "/430202.NOPE").status, 404);  // an empty selection

  auto png = t.get(flow, {{"Accept", "image/png"}});
  EXPECT_EQ(png.status, 406);
  EXPECT_EQ(png.error_code(), "NOT_ACCEPTABLE");
  EXPECT_NE(png.header("vary").find("Accept"), std::string::npos);
  auto png2 = t.get("/rest/dataflow", {{"Accept", "image/png"}});
  EXPECT_EQ(png2.status, 406);
  EXPECT_NE(png2.header("vary").find("Accept"), std::string::npos);
}

TEST_F(PortalTest, OversizeAnswerIs413) {
  portal::PortalOptions o;
  o.max_response_bytes = 100;
  TestPortal t(o);
  ASSERT_EQ(t.drop("r1.sgpkg", first_release(t)), 1);
  t.clock().set(*publish::parse_iso_time(kReleaseAt));
  auto r = t.get(std::string("/api/v1/datasets/") + kFlow + "/data?format=csv");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.error_code(), "TOO_LARGE");
  EXPECT_NE(r.json_body()["error"]["message_en"].get<std::string>().find("narrow"),
            std::string::npos);
  EXPECT_EQ(t.get(std::string("/rest/data/") + kFlow).status, 413);
}

TEST_F(PortalTest, RefusedPackagesChangeNothing) {
  TestPortal t;
  const std::string good = first_release(t, 5);
  ASSERT_EQ(t.drop("good.sgpkg", good), 1);
  const auto before = t.get("/healthz").json_body();
  const auto archive_before = slurp(t.data() / "archive" / "5.sgpkg");

  // A flipped byte in the middle of the package.
  std::string tampered = first_release(t, 6);
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_EQ(t.drop("tampered.sgpkg", tampered), 0);
  EXPECT_TRUE(t.refused("tampered.sgpkg"));
  {
    // zh line, en line, [CODE]
    const std::string why = t.reason("tampered.sgpkg");
    EXPECT_GE(std::count(why.begin(), why.end(), '\n'), 3) << why;
    EXPECT_NE(why.find("\n["), std::string::npos) << why;
    EXPECT_TRUE(static_cast<unsigned char>(why[0]) >= 0x80) << why;  // Chinese first
  }

  // Signed with another key.
  const auto other = publish::generate_keypair();
  publish::PackageFiles files{
      {"documents/X-1.json", json{{"index_no", "X-1"}, {"title", "t"}}.dump()}};
  EXPECT_EQ(t.drop("other.sgpkg", t.package(7, "", "", files, other.secret_key)), 0);
  EXPECT_TRUE(t.refused("other.sgpkg"));
  EXPECT_NE(t.reason("other.sgpkg").find("BAD_SIGNATURE"), std::string::npos);

  // The accepted package again, and an older sequence.
  EXPECT_EQ(t.drop("replay.sgpkg", good), 0);
  EXPECT_TRUE(t.refused("replay.sgpkg"));
  EXPECT_NE(t.reason("replay.sgpkg").find("REPLAYED"), std::string::npos);
  EXPECT_EQ(t.drop("old.sgpkg", t.package(4, "", "", files)), 0);
  EXPECT_TRUE(t.refused("old.sgpkg"));
  EXPECT_NE(t.reason("old.sgpkg").find("STALE_SEQUENCE"), std::string::npos);
  EXPECT_EQ(t.drop("same.sgpkg", t.package(5, "", "", files)), 0);
  EXPECT_NE(t.reason("same.sgpkg").find("STALE_SEQUENCE"), std::string::npos);

  // Path tricks: a signed manifest listing ../ is refused before anything is written.
  {
    auto v = publish::open_package(t.package(8, "", "", files), t.keys().public_key);
    ASSERT_TRUE(v.ok());
    std::vector<std::pair<std::string, std::string>> e{{"manifest.json", v->manifest_bytes},
                                                       {"manifest.sig", base64(v->signature)}};
    for (const auto& [p, b] : v->files) e.emplace_back(p, b);
    e.emplace_back("../../escaped.txt", "x");
    EXPECT_EQ(t.drop("tricks.sgpkg", *publish::zip_entries(e)), 0);
    EXPECT_TRUE(t.refused("tricks.sgpkg"));
    EXPECT_NE(t.reason("tricks.sgpkg").find("BAD_PATH"), std::string::npos);
    EXPECT_FALSE(fs::exists(t.dir() / "escaped.txt"));
    EXPECT_FALSE(fs::exists(t.data() / "escaped.txt"));
  }
  // Not a zip at all.
  EXPECT_EQ(t.drop("junk.sgpkg", "hello"), 0);
  EXPECT_TRUE(t.refused("junk.sgpkg"));

  const auto after = t.get("/healthz").json_body();
  EXPECT_EQ(after["packages"], before["packages"]);
  EXPECT_EQ(after["last_sequence"], 5);
  EXPECT_EQ(slurp(t.data() / "archive" / "5.sgpkg"), archive_before);
  for (int s : {4, 6, 7, 8})
    EXPECT_FALSE(fs::exists(t.data() / "archive" / (std::to_string(s) + ".sgpkg")));
  EXPECT_EQ(t.get("/api/v1/documents").json_body()["documents"].size(), 0u);
}

TEST_F(PortalTest, PartialFileWaitsUntilItsSizeIsStable) {
  TestPortal t;
  const std::string bytes = first_release(t);
  // Written in place (not renamed in): the first poll only notes it.
  spit(t.inbox() / "slow.sgpkg", bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(t.portal().poll_inbox(), 0);
  spit(t.inbox() / "slow.sgpkg", bytes);  // grows before the next poll
  EXPECT_EQ(t.portal().poll_inbox(), 0);
  EXPECT_FALSE(t.refused("slow.sgpkg"));
  EXPECT_EQ(t.portal().poll_inbox(), 1);  // unchanged since the last poll: taken
  // Files that are not *.sgpkg (e.g. the .tmp of a writer) are left alone.
  spit(t.inbox() / "next.sgpkg.tmp", "partial");
  EXPECT_EQ(t.portal().poll_inbox(), 0);
  EXPECT_EQ(t.portal().poll_inbox(), 0);
  EXPECT_TRUE(fs::exists(t.inbox() / "next.sgpkg.tmp"));
}

TEST_F(PortalTest, MonthlyReleasesOfOneDatasetGrowItsSeries) {
  TestPortal t;
  // Release 1 carries October only; release 2 November only (a revised value for a region too).
  json oct = dataset_json(kFlow, kReleaseAt, 100);
  oct["dimensions"][2]["codes"].erase(1);  // 2026-10 only
  json o1 = json::array();
  for (const auto& o : oct["observations"])
    if (o["key"][2] == 0) o1.push_back(o);
  oct["observations"] = o1;
  const std::string nov_at = "2026-12-20T01:30:00Z";
  json nov = dataset_json(kFlow, nov_at, 700);
  nov["dimensions"][2]["codes"].erase(0);  // 2026-11 only
  json o2 = json::array();
  for (auto o : nov["observations"]) {
    if (o["key"][2] != 1) continue;
    o["key"][2] = 0;
    o2.push_back(o);
  }
  nov["observations"] = o2;
  ASSERT_EQ(t.drop("r1.sgpkg", t.release_package(1, "R1", kReleaseAt, {oct})), 1);
  ASSERT_EQ(t.drop("r2.sgpkg", t.release_package(2, "R2", nov_at, {nov})), 1);
  t.clock().set(*publish::parse_iso_time(nov_at));
  auto ds = t.get(std::string("/api/v1/datasets/") + kFlow).json_body();
  auto periods = ds["dimensions"][2]["codes"];
  ASSERT_EQ(periods.size(), 2u) << ds.dump();
  EXPECT_EQ(periods[0]["id"], "2026-10");
  EXPECT_EQ(periods[1]["id"], "2026-11");
  std::map<std::pair<int, std::string>, json> cell;
  for (const auto& o : ds["observations"])
    cell[{o["key"][0].get<int>(), periods[o["key"][2].get<int>()]["id"].get<std::string>()}] = o;
  EXPECT_EQ(cell.size(), 6u);
  using Cell = std::pair<int, std::string>;
  EXPECT_EQ(cell[Cell(0, "2026-10")]["value"], 100);
  EXPECT_EQ(cell[Cell(0, "2026-11")]["value"], 701);
  EXPECT_EQ(cell[Cell(2, "2026-11")]["status"], "C");
  // SDMX sees the whole series too.
  auto sdmx = t.get(std::string("/rest/data/") + kFlow + "/all?format=csv");
  if (sdmx.status == 200) {
    EXPECT_NE(sdmx.body.find("2026-10"), std::string::npos);
    EXPECT_NE(sdmx.body.find("2026-11"), std::string::npos);
  }
}

TEST_F(PortalTest, RevisionReplacesTheDatasetAfterItsOwnMinute) {
  TestPortal t;
  ASSERT_EQ(t.drop("r1.sgpkg",
                   t.release_package(1, "R1", kReleaseAt, {dataset_json(kFlow, kReleaseAt, 100)})),
            1);
  const std::string revised_at = "2026-12-20T01:30:00Z";
  ASSERT_EQ(t.drop("r2.sgpkg",
                   t.release_package(2, "R2", revised_at, {dataset_json(kFlow, revised_at, 500)})),
            1);
  t.clock().set(*publish::parse_iso_time(kReleaseAt));
  auto ds = t.get(std::string("/api/v1/datasets/") + kFlow).json_body();
  EXPECT_EQ(ds["updated"], kReleaseAt);  // the revision is still under embargo
  EXPECT_EQ(ds["revisions"].size(), 0u);
  EXPECT_EQ(t.get("/api/v1/releases").json_body()["releases"].size(), 1u);

  t.clock().set(*publish::parse_iso_time(revised_at));
  ds = t.get(std::string("/api/v1/datasets/") + kFlow).json_body();
  EXPECT_EQ(ds["updated"], revised_at);
  ASSERT_EQ(ds["revisions"].size(), 1u);
  EXPECT_EQ(ds["revisions"][0]["updated"], kReleaseAt);
  EXPECT_EQ(ds["observations"][0]["value"], 500);
  auto rel = t.get("/api/v1/releases").json_body()["releases"];
  ASSERT_EQ(rel.size(), 2u);
  EXPECT_EQ(rel[0]["id"], "R2");  // newest first
  auto cat = t.get("/api/v1/datasets").json_body()["datasets"];
  ASSERT_EQ(cat.size(), 1u);
  EXPECT_EQ(cat[0]["revisions"].size(), 1u);
  auto csv = t.get(std::string("/api/v1/datasets/") + kFlow + "/data?format=csv");
  EXPECT_NE(csv.body.find("500"), std::string::npos);
}

TEST_F(PortalTest, TamperedFilesOnDiskAreCaughtRepairedAndNeverServed) {
  TestPortal t;
  publish::PackageFiles site{{"site/index.html", "<html>portal</html>"},
                             {"site/assets/app.js", "console.log(1)"}};
  ASSERT_EQ(t.drop("site.sgpkg", t.package(1, "", "", site)), 1);
  ASSERT_EQ(t.drop("r2.sgpkg", first_release(t, 2)), 1);
  t.clock().set(*publish::parse_iso_time(kReleaseAt));
  const fs::path pub1 = t.data() / "published" / "1", pub2 = t.data() / "published" / "2";
  const fs::path dataset_file = pub2 / "datasets" / (std::string(kFlow) + ".json");
  ASSERT_TRUE(fs::exists(pub1 / "site" / "index.html"));
  const std::string original = slurp(dataset_file);
  EXPECT_TRUE(t.portal().check_integrity().empty());

  spit(pub1 / "site" / "index.html", "<html>defaced</html>");
  spit(dataset_file, original.substr(0, original.size() - 10) + "9999999999");
  fs::remove(pub2 / "release.json");
  spit(pub1 / "site" / "evil.html", "<script>x</script>");

  // Served from memory whatever the disk says.
  EXPECT_EQ(t.get("/").body, "<html>portal</html>");
  EXPECT_EQ(t.get("/evil.html").status, 404);
  auto events = t.portal().check_integrity();
  ASSERT_EQ(events.size(), 4u);
  std::map<std::string, std::string> changes;
  for (const auto& e : events) {
    changes[e.path] = e.change;
    EXPECT_TRUE(e.repaired) << e.path;
  }
  EXPECT_EQ(changes["published/1/site/index.html"], "modified");
  EXPECT_EQ(changes["published/2/release.json"], "deleted");
  EXPECT_EQ(changes["published/1/site/evil.html"], "added");
  EXPECT_EQ(changes["published/2/datasets/" + std::string(kFlow) + ".json"], "modified");

  auto tampered = t.get("/healthz").json_body()["integrity"]["tampered"];
  EXPECT_EQ(tampered.size(), 4u);
  EXPECT_FALSE(t.get("/healthz").json_body()["integrity"]["checked_at"].is_null());
  EXPECT_EQ(slurp(pub1 / "site" / "index.html"), "<html>portal</html>");
  EXPECT_EQ(slurp(dataset_file), original);
  EXPECT_TRUE(fs::exists(pub2 / "release.json"));
  EXPECT_FALSE(fs::exists(pub1 / "site" / "evil.html"));
  EXPECT_TRUE(t.portal().check_integrity().empty());  // clean again

  // A foreign folder under published/ is removed too.
  fs::create_directories(t.data() / "published" / "99");
  spit(t.data() / "published" / "99" / "x.html", "x");
  events = t.portal().check_integrity();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].path, "published/99");
  EXPECT_FALSE(fs::exists(t.data() / "published" / "99"));
}

TEST_F(PortalTest, RestartRestoresStateAndSetsAsideWhatNoLongerVerifies) {
  TestPortal t;
  const std::string r1 = first_release(t, 3);
  ASSERT_EQ(t.drop("r1.sgpkg", r1), 1);
  publish::PackageFiles doc{{"documents/X-1.json", json{{"index_no", "X-1"},
                                                        {"title", "公告"},
                                                        {"category", "通知"},
                                                        {"body", "正文"},
                                                        {"date", "2026-12-01"}}
                                                       .dump()}};
  ASSERT_EQ(t.drop("doc.sgpkg", t.package(4, "", "", doc)), 1);
  t.clock().set(*publish::parse_iso_time(kReleaseAt));
  const auto before = t.get(std::string("/api/v1/datasets/") + kFlow).body;
  fs::remove_all(t.data() / "published");  // the unpacked copy is rebuilt from the archive

  t.restart();
  EXPECT_EQ(t.get(std::string("/api/v1/datasets/") + kFlow).body, before);
  EXPECT_EQ(t.get("/healthz").json_body()["last_sequence"], 4);
  EXPECT_EQ(t.get("/api/v1/documents").json_body()["documents"].size(), 1u);
  EXPECT_TRUE(fs::exists(t.data() / "published" / "3" / "release.json"));
  EXPECT_EQ(t.drop("again.sgpkg", r1), 0);  // still a replay after the restart
  EXPECT_TRUE(t.refused("again.sgpkg"));

  // An archived package altered at rest no longer verifies: set aside at the next start.
  std::string archived = slurp(t.data() / "archive" / "3.sgpkg");
  archived[archived.size() / 2] ^= 0x01;
  spit(t.data() / "archive" / "3.sgpkg", archived);
  t.restart();
  EXPECT_TRUE(fs::exists(t.data() / "set-aside" / "3.sgpkg"));
  EXPECT_TRUE(fs::exists(t.data() / "set-aside" / "3.sgpkg.reason.txt"));
  EXPECT_EQ(t.get(std::string("/api/v1/datasets/") + kFlow).status, 404);
  auto health = t.get("/healthz").json_body();
  EXPECT_EQ(health["packages"], 1);
  EXPECT_EQ(health["last_sequence"], 4);  // the sequence is not given back
  EXPECT_FALSE(fs::exists(t.data() / "published" / "3"));
}

TEST_F(PortalTest, DocumentsSearchAndAttachments) {
  TestPortal t;
  publish::PackageFiles files{
      {"documents/430200-2026-001.json",
       json{{"index_no", "430200-2026-001"},
            {"title", "关于发布统计公报的通知"},
            {"category", "通知公告"},
            {"publisher", "统计局"},
            {"date", "2026-12-01"},
            {"body", "全市经济运行平稳"},
            {"attachments",
             {{{"name", "公报.pdf"}, {"path", "documents/files/430200-2026-001/公报.pdf"}}}}}
           .dump()},
      {"documents/files/430200-2026-001/公报.pdf", "%PDF-1.4 test"},
      {"documents/430200-2026-002.json", json{{"index_no", "430200-2026-002"},
                                              {"title", "Annual report"},
                                              {"category", "统计公报"},
                                              {"publisher", "统计局"},
                                              {"date", "2026-12-05"},
                                              {"body", "GDP grew"}}
                                             .dump()}};
  ASSERT_EQ(t.drop("docs.sgpkg", t.package(1, "", "", files)), 1);
  auto all = t.get("/api/v1/documents").json_body()["documents"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["index_no"], "430200-2026-002");  // newest first
  EXPECT_EQ(t.get("/api/v1/documents?q=%E7%BB%8F%E6%B5%8E").json_body()["documents"].size(),
            1u);  // 经济 in the body
  EXPECT_EQ(t.get("/api/v1/documents?q=gdp").json_body()["documents"].size(), 1u);
  EXPECT_EQ(t.get("/api/v1/documents?q=2026-001").json_body()["documents"].size(), 1u);
  EXPECT_EQ(t.get("/api/v1/documents?category=%E7%BB%9F%E8%AE%A1%E5%85%AC%E6%8A%A5")
                .json_body()["documents"]
                .size(),
            1u);
  EXPECT_EQ(t.get("/api/v1/documents/430200-2026-001").json_body()["body"], "全市经济运行平稳");
  EXPECT_EQ(t.get("/api/v1/documents/NOPE").status, 404);
  auto pdf = t.get("/api/v1/documents/430200-2026-001/files/%E5%85%AC%E6%8A%A5.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.body, "%PDF-1.4 test");
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_EQ(t.get("/api/v1/documents/430200-2026-001/files/other.pdf").status, 404);
}

TEST_F(PortalTest, SiteFromTheLatestPackageWithSpaFallback) {
  TestPortal t;
  auto none = t.get("/");
  EXPECT_EQ(none.status, 200);
  EXPECT_NE(none.body.find("尚未发布"), std::string::npos);
  EXPECT_NE(none.body.find("not been published"), std::string::npos);

  publish::PackageFiles site{{"site/index.html", "<html>v1</html>"},
                             {"site/assets/app-abc.js", "console.log(1)"}};
  ASSERT_EQ(t.drop("site.sgpkg", t.package(1, "", "", site)), 1);
  EXPECT_EQ(t.get("/").body, "<html>v1</html>");
  auto spa = t.get("/datasets/B204_1?lang=en");
  EXPECT_EQ(spa.status, 200);
  EXPECT_EQ(spa.body, "<html>v1</html>");
  EXPECT_NE(spa.header("content-type").find("text/html"), std::string::npos);
  auto js = t.get("/assets/app-abc.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.header("content-type").find("javascript"), std::string::npos);
  EXPECT_NE(js.header("cache-control").find("immutable"), std::string::npos);
  EXPECT_EQ(t.get("/assets/missing.js").status, 404);
  EXPECT_EQ(t.get("/favicon.png").status, 404);

  ASSERT_EQ(t.drop("site2.sgpkg", t.package(2, "", "", {{"site/index.html", "<html>v2</html>"}})),
            1);
  EXPECT_EQ(t.get("/documents").body, "<html>v2</html>");
}

TEST_F(PortalTest, UnknownUrlsAreJson404) {
  TestPortal t;
  for (const char* url : {"/api/v1/nope", "/api/v2/releases", "/rest/nope", "/rest/data"}) {
    auto r = t.get(url);
    if (std::string(url).rfind("/rest", 0) == 0) {
      EXPECT_EQ(r.header("vary"), "Accept") << url;
    }
    EXPECT_EQ(r.status, 404) << url;
    EXPECT_EQ(r.error_code(), "NOT_FOUND") << url;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos) << url;
  }
}

TEST_F(PortalTest, BackgroundThreadTakesTheInboxAndChecksIntegrity) {
  portal::PortalOptions o;
  o.inbox_interval = std::chrono::milliseconds(50);
  o.integrity_interval = std::chrono::seconds(1);
  TestPortal t(o);
  t.portal().start();
  const std::string bytes = t.package(1, "", "", {{"site/index.html", "<html>v1</html>"}});
  spit(t.inbox() / "site.sgpkg.tmp", bytes);
  fs::rename(t.inbox() / "site.sgpkg.tmp", t.inbox() / "site.sgpkg");
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 100 && !pred(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return t.get("/healthz").json_body()["packages"] == 1; }));
  EXPECT_EQ(t.get("/").body, "<html>v1</html>");
  spit(t.data() / "published" / "1" / "site" / "index.html", "defaced");
  ASSERT_TRUE(
      wait_for([&] { return t.get("/healthz").json_body()["integrity"]["tampered"].size() == 1; }));
  EXPECT_EQ(slurp(t.data() / "published" / "1" / "site" / "index.html"), "<html>v1</html>");
  t.portal().stop();
}

// The release CLI: keygen (0600, no overwrite), pack and verify.
TEST(ReleaseCli, KeygenPackVerify) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("statgov-release-cli-" + std::to_string(rd()));
  fs::create_directories(dir / "pkg" / "datasets");
  const std::string bin = STATGOV_BINARY;
  auto run = [&](const std::string& args) {
    return std::system((bin + " " + args + " >" + (dir / "out.txt").string() + " 2>&1").c_str());
  };
  ASSERT_EQ(run("release keygen --out " + (dir / "keys").string()), 0);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "keys" / "release.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_NE(run("release keygen --out " + (dir / "keys").string()), 0);  // refuses to overwrite
  ASSERT_EQ(run("release keygen --out " + (dir / "other").string()), 0);

  spit(dir / "pkg" / "datasets" / (std::string(kFlow) + ".json"),
       dataset_json(kFlow, kReleaseAt).dump());
  spit(dir / "pkg" / "release.json", json{{"id", "R1"},
                                          {"title_zh", "t"},
                                          {"title_en", "t"},
                                          {"release_at", "2026-12-15T09:30+08:00"}}
                                         .dump());
  const std::string out = (dir / "r1.sgpkg").string();
  ASSERT_EQ(run("release pack --dir " + (dir / "pkg").string() + " --key " +
                (dir / "keys" / "release.key").string() +
                " --agency CN_430200 --sequence 1 --out " + out),
            0)
      << slurp(dir / "out.txt");
  ASSERT_EQ(run("release verify " + out + " --pub " + (dir / "keys" / "release.pub").string()), 0);
  const std::string printed = slurp(dir / "out.txt");
  EXPECT_NE(printed.find("OK"), std::string::npos);
  EXPECT_NE(printed.find("release_at: 2026-12-15T01:30:00Z"), std::string::npos);
  EXPECT_NE(run("release verify " + out + " --pub " + (dir / "other" / "release.pub").string()), 0);
  EXPECT_NE(slurp(dir / "out.txt").find("BAD_SIGNATURE"), std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace statgov::portal_testing
