// Monitoring, the review workflow level by level, reminders through a loopback SMTP sink, live
// events and bulk re-validation (issue #3).
#include "harness.hpp"
#include "notify/senders.hpp"
#include "smtp_sink.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace statgov::testing {
namespace {

class ReviewApi : public ::testing::Test {
 protected:
  void SetUp() override {
    notify::notify_init();
    sink_ = std::make_unique<SmtpSink>();
    services::NotifyConfig cfg;
    cfg.email = std::make_unique<notify::SmtpSender>(
        notify::SmtpConfig{"smtp://127.0.0.1:" + std::to_string(sink_->port()), "statgov@test.invalid", "", "",
                           std::chrono::seconds(5)});
    server_ = std::make_unique<TestServer>(120, std::move(cfg));
    for (const char* who : {"demo-qiye", "demo-xiangzhen", "demo-quxian", "demo-shi", "demo-lingdao"}) {
      clients_.emplace(who, Client(server_->port()));
      ASSERT_EQ(clients_.at(who).login(who, kDemoPassword).status, 200) << who;
    }
  }
  Client& as(const std::string& who) { return clients_.at(who); }
  std::string sub(const std::string& form = "B204-1", const std::string& period = "2026M11") {
    return "/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/" + form + "/" + period;
  }
  HttpResult submit_clean() {
    auto s = as("demo-qiye").get(sub()).json_body();
    const json& prev = s["prev"]["values"];
    const json& ly = s["ly"]["values"];
    double out = std::round(ly["I01"].get<double>() * 1.1 * 10) / 10;
    json v = {{"I01", out}, {"I03", std::round(out * 9) / 10}, {"I04", 0.0}, {"I05", ly["I05"]}};
    for (const char* code : {"I01", "I03", "I04", "I05"}) {
      std::string y = std::string(code) + "_YTD";
      v[y] = std::round((prev[y].get<double>() + v[code].get<double>()) * 10) / 10;
    }
    return as("demo-qiye").post_json(sub() + "/submit", {{"values", v}});
  }
  HttpResult act(const std::string& who, const std::string& action, int version, const std::string& reason = "") {
    json b = {{"action", action}, {"version", version}};
    if (!reason.empty()) b["reason"] = reason;
    return as(who).post_json(sub() + "/review", b);
  }
  json progress(const std::string& who, const std::string& extra = "") {
    return as(who).get("/api/v1/monitor/progress?form=B204-1&period=2026M11" + extra).json_body();
  }

  std::unique_ptr<SmtpSink> sink_;
  std::unique_ptr<TestServer> server_;
  std::map<std::string, Client> clients_;
};

TEST_F(ReviewApi, ProgressIsScopedAndMatchesAnIndependentCount) {
  auto city = progress("demo-shi");
  ASSERT_TRUE(city.contains("rows")) << city.dump();
  EXPECT_EQ(city["region"]["code"], "430200000000");
  int expected = 0;
  for (const auto& r : city["rows"]) expected += r["expected"].get<int>();
  EXPECT_EQ(expected, city["total"]["expected"]);
  // Independent count: industrial units (B, C, D) in the directory.
  int industrial = 0;
  auto units = as("demo-shi").get("/api/v1/units?limit=500").json_body()["items"];
  for (const auto& u : units) {
    std::string s = u["section"];
    industrial += (s == "B" || s == "C" || s == "D") ? 1 : 0;
  }
  EXPECT_EQ(city["total"]["expected"], industrial);
  EXPECT_EQ(city["total"]["submitted"], 0);
  EXPECT_EQ(city["total"]["overdue"], 0) << "the deadline is 5 December";

  auto county = progress("demo-quxian");
  std::string county_code = county["region"]["code"];
  EXPECT_EQ(county_code.substr(6), "000000");
  for (const auto& r : county["rows"]) EXPECT_EQ(r["key"].get<std::string>().substr(0, 6), county_code.substr(0, 6));
  // Another county is out of scope for the county statistician.
  std::string other = county_code.substr(0, 6) == "430202" ? "430203000000" : "430202000000";
  EXPECT_EQ(as("demo-quxian").get("/api/v1/monitor/progress?form=B204-1&period=2026M11&region=" + other).status, 403);
  EXPECT_EQ(as("demo-qiye").get("/api/v1/monitor/progress?form=B204-1&period=2026M11").status, 403);

  ASSERT_EQ(submit_clean().status, 200);
  auto after = progress("demo-quxian");
  EXPECT_EQ(after["total"]["submitted"], county["total"]["submitted"].get<int>() + 1);
  auto by_section = progress("demo-shi", "&by=section");
  bool saw_c = false;
  for (const auto& r : by_section["rows"]) saw_c = saw_c || r["key"] == "C";
  EXPECT_TRUE(saw_c);
  EXPECT_EQ(as("demo-shi").get("/api/v1/monitor/progress?form=B204-1&period=2026M11&by=colour").status, 400);
  EXPECT_EQ(as("demo-shi").get("/api/v1/monitor/progress?form=B204-1").status, 400);

  // After the deadline every unsent unit is overdue; overdue is computed, not stored.
  server_->clock().set(from_local(2026, 12, 5, 18, 1));
  EXPECT_EQ(as("demo-shi").get("/api/v1/me").status, 401) << "sessions end after 12 hours";
  ASSERT_EQ(as("demo-shi").login("demo-shi", kDemoPassword).status, 200);
  auto late = progress("demo-shi");
  EXPECT_EQ(late["total"]["overdue"], late["total"]["expected"].get<int>() - late["total"]["submitted"].get<int>());
}

// Who owed a past period follows the directory as it stood at the period's end: a unit closed, moved
// to another county or reclassified afterwards still owed that period where it was; the current
// period follows today's directory.
TEST_F(ReviewApi, ExpectedUnitsFollowTheDirectoryAsOfThePeriod) {
  const std::string past = "2024M06";  // ended long before the test clock; nobody reported it
  auto counts = [&](const std::string& period) {
    std::map<std::string, int> by_county;
    auto p = as("demo-shi").get("/api/v1/monitor/progress?form=B204-1&period=" + period).json_body();
    for (const auto& r : p["rows"]) by_county[r["key"]] = r["expected"];
    by_county["total"] = p["total"]["expected"];
    return by_county;
  };
  auto past_before = counts(past);
  auto now_before = counts("2026M11");
  ASSERT_GT(past_before["total"], 0);
  // Three active units of the directory: two industrial ones in one county, one non-industrial.
  auto units = as("demo-shi").get("/api/v1/units?limit=500").json_body()["items"];
  auto industrial = [](const json& u) {
    std::string s = u["section"];
    return s == "B" || s == "C" || s == "D";
  };
  auto county = [](const json& u) { return u["region"].get<std::string>().substr(0, 6) + "000000"; };
  json closed, moved, reclassified;
  std::string elsewhere;
  for (const auto& u : units) {
    if (u["status"] != "active" || u["id"] == server_->demo_unit()) continue;
    if (industrial(u) && closed.is_null()) closed = u;
    else if (industrial(u) && moved.is_null() && county(u) == county(closed)) moved = u;
    else if (!industrial(u) && reclassified.is_null()) reclassified = u;
  }
  for (const auto& u : units) {
    if (!closed.is_null() && county(u) != county(closed)) elsewhere = u["region"];
  }
  ASSERT_FALSE(closed.is_null() || moved.is_null() || reclassified.is_null() || elsewhere.empty());
  auto patch = [&](const json& u, const json& body) {
    auto r = as("demo-shi").send("PATCH", "/api/v1/units/" + std::to_string(u["id"].get<std::int64_t>()), body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  };
  patch(closed, {{"status", "closed"}});
  patch(moved, {{"region", elsewhere}});
  patch(reclassified, {{"industry", "3311"}});

  // The past period: exactly as before the changes, county by county.
  EXPECT_EQ(counts(past), past_before);
  // The moved unit still counts for its old county's statistician in the past period, not for the new one.
  auto missing_then = as("demo-shi").get("/api/v1/monitor/missing?form=B204-1&period=" + past +
                                         "&region=" + county(closed)).json_body()["items"];
  std::set<std::int64_t> ids;
  for (const auto& m : missing_then) ids.insert(m["unit_id"].get<std::int64_t>());
  EXPECT_TRUE(ids.count(moved["id"].get<std::int64_t>()));
  EXPECT_TRUE(ids.count(closed["id"].get<std::int64_t>()));
  EXPECT_FALSE(ids.count(reclassified["id"].get<std::int64_t>()));

  // The current period: today's directory.
  auto now_after = counts("2026M11");
  EXPECT_EQ(now_after["total"], now_before["total"] - 1 + 1) << "one closed, one became industrial";
  std::string new_county = elsewhere.substr(0, 6) + "000000";
  std::string old_county = county(closed);
  std::string recl_county = county(reclassified);
  auto want = now_before;
  want[old_county] -= 2;
  want[new_county] += 1;
  want[recl_county] += 1;
  for (auto& [k, v] : want) {
    if (k == "total") continue;
    EXPECT_EQ(now_after[k], v) << k;
  }
}

TEST_F(ReviewApi, LevelByLevelWithReturnAndLock) {
  auto first = submit_clean();
  ASSERT_EQ(first.status, 200) << first.body;
  int v = first.json_body()["version"];
  // No skipping: county and city cannot act before the township.
  EXPECT_EQ(act("demo-quxian", "approve", v).error_code(), "STATE_CONFLICT");
  EXPECT_EQ(act("demo-shi", "approve", v).error_code(), "STATE_CONFLICT");
  EXPECT_EQ(act("demo-qiye", "approve", v).status, 403);
  EXPECT_EQ(act("demo-lingdao", "approve", v).status, 403);
  // A return needs a reason; a stale version is refused.
  EXPECT_EQ(act("demo-xiangzhen", "return", v).error_code(), "REASON_REQUIRED");
  EXPECT_EQ(act("demo-xiangzhen", "approve", v + 1).error_code(), "STALE_VERSION");
  // The township queue holds it.
  auto queue = as("demo-xiangzhen").get("/api/v1/review/queue?form=B204-1&period=2026M11").json_body();
  ASSERT_EQ(queue["items"].size(), 1u);
  EXPECT_EQ(queue["items"][0]["unit_id"], server_->demo_unit());

  auto ret = act("demo-xiangzhen", "return", v, "出口交货值请核实");
  ASSERT_EQ(ret.status, 200) << ret.body;
  EXPECT_EQ(ret.json_body()["state"], "returned");
  auto notices = as("demo-qiye").get("/api/v1/notices").json_body()["items"];
  ASSERT_FALSE(notices.empty());
  EXPECT_EQ(notices[0]["kind"], "return");
  EXPECT_EQ(notices[0]["body"], "出口交货值请核实");
  auto seen = as("demo-qiye").get(sub()).json_body();
  EXPECT_EQ(seen["editable"], true);
  bool reason_in_events = false;
  for (const auto& e : seen["events"]) reason_in_events = reason_in_events || e["reason"] == "出口交货值请核实";
  EXPECT_TRUE(reason_in_events);

  auto again = submit_clean();
  ASSERT_EQ(again.status, 200) << again.body;
  v = again.json_body()["version"];
  EXPECT_EQ(v, 2);
  ASSERT_EQ(act("demo-xiangzhen", "approve", v).json_body()["state"], "reviewed");
  EXPECT_EQ(act("demo-xiangzhen", "approve", v).error_code(), "STATE_CONFLICT") << "no double review";
  ASSERT_EQ(act("demo-quxian", "approve", v).json_body()["state"], "approved");
  ASSERT_EQ(act("demo-shi", "approve", v).json_body()["state"], "accepted");
  // Locked: the enterprise cannot change it, nobody can return it.
  EXPECT_EQ(as("demo-qiye").send("PUT", sub() + "/draft", R"({"values":{}})").error_code(), "STATE_CONFLICT");
  EXPECT_EQ(act("demo-shi", "return", v, "太晚了").error_code(), "STATE_CONFLICT");
  // A revision after lock needs a reason and keeps the history.
  auto cur = as("demo-shi").get(sub()).json_body();
  json values = cur["values"];
  EXPECT_EQ(as("demo-shi").post_json(sub() + "/revise", {{"values", values}, {"version", v}}).error_code(),
            "REASON_REQUIRED");
  EXPECT_EQ(as("demo-quxian").post_json(sub() + "/revise", {{"values", values}, {"version", v}, {"reason", "更正"}}).status,
            403);
  values["I05"] = values["I05"].get<double>() + 0.1;
  values["I05_YTD"] = std::round((values["I05_YTD"].get<double>() + 0.1) * 10) / 10;
  auto rev = as("demo-shi").post_json(sub() + "/revise", {{"values", values}, {"version", v}, {"reason", "企业更正用电量"}});
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(rev.json_body()["state"], "accepted");
  EXPECT_EQ(rev.json_body()["version"], 3);
  auto versions = as("demo-qiye").get(sub() + "/versions").json_body()["items"];
  ASSERT_EQ(versions.size(), 3u);
  // The revision's version row: its number, state, values and actor, as the row itself now holds.
  EXPECT_EQ(versions[2]["version"], 3);
  EXPECT_EQ(versions[2]["state"], "accepted");
  EXPECT_EQ(versions[2]["values"], values);
  EXPECT_EQ(versions[2]["actor"], "demo-shi");
  EXPECT_EQ(versions[2]["values"], rev.json_body()["values"]);
}

TEST_F(ReviewApi, ReviewersOutsideTheRegionSeeNothing) {
  ASSERT_EQ(submit_clean().status, 200);
  // A township statistician of another township.
  auto me = as("demo-xiangzhen").get("/api/v1/me").json_body()["user"];
  std::string town = me["region"];
  std::string other = town.substr(0, 9) == "430202001" ? "430202002000" : "430202001000";
  auto u = server_->auth().add_user({"other-town", "外乡镇", "township", other, "Secret123", ""}, "test");
  ASSERT_TRUE(u.ok());
  Client stranger(server_->port());
  ASSERT_EQ(stranger.login("other-town", "Secret123").status, 200);
  auto r = stranger.post_json(sub() + "/review", {{"action", "approve"}, {"version", 1}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_code(), "UNIT_NOT_FOUND");
  EXPECT_TRUE(stranger.get("/api/v1/review/queue?form=B204-1&period=2026M11").json_body()["items"].empty());
  EXPECT_EQ(as("demo-qiye").get(sub()).json_body()["state"], "submitted") << "unchanged";
}

TEST_F(ReviewApi, BulkApprovalTakesOnlyCleanSubmissions) {
  ASSERT_EQ(submit_clean().status, 200);
  auto r = as("demo-xiangzhen").post_json("/api/v1/review/bulk",
                                         {{"form", "B204-1"}, {"period", "2026M11"}, {"units", {server_->demo_unit(), 999999}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["approved"], json::array({server_->demo_unit()}));
  EXPECT_EQ(r.json_body()["skipped"][0]["code"], "UNIT_NOT_FOUND");
  EXPECT_EQ(as("demo-qiye").get(sub()).json_body()["state"], "reviewed");
}

TEST_F(ReviewApi, RemindersReachExactlyTheMissingUnits) {
  ASSERT_EQ(submit_clean().status, 200);
  auto missing = as("demo-shi").get("/api/v1/monitor/missing?form=B204-1&period=2026M11").json_body()["items"];
  std::set<std::string> want;
  for (const auto& m : missing) {
    EXPECT_NE(m["unit_id"], server_->demo_unit());
    EXPECT_FALSE(m["contact"].get<std::string>().empty());
    want.insert(m["email"].get<std::string>());
  }
  ASSERT_FALSE(want.empty());
  auto r = as("demo-shi").post_json("/api/v1/reminders", {{"form", "B204-1"}, {"period", "2026M11"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["count"], want.size());
  auto sent = server_->reminders().process_due();
  ASSERT_TRUE(sent.ok());
  std::set<std::string> got;
  for (const auto& m : sink_->mails()) {
    for (const auto& to : m.to) got.insert(to);
    EXPECT_NE(m.data.find("Subject: =?UTF-8?B?"), std::string::npos);
  }
  EXPECT_EQ(got, want);
  // In-app notices reach the missing units, not the one that submitted.
  EXPECT_TRUE(as("demo-qiye").get("/api/v1/notices").json_body()["items"].empty());
  auto hist = as("demo-shi").get("/api/v1/reminders?form=B204-1&period=2026M11").json_body()["items"];
  ASSERT_EQ(hist.size(), 1u);
  for (const auto& d : hist[0]["deliveries"]) {
    EXPECT_EQ(d["status"], "sent");
    EXPECT_EQ(d["attempts"], 1);
  }
  EXPECT_EQ(as("demo-lingdao").post_json("/api/v1/reminders", {{"form", "B204-1"}, {"period", "2026M11"}}).status, 403);
  EXPECT_EQ(as("demo-shi").post_json("/api/v1/reminders", {{"period", "2026M11"}}).status, 400);
}

// Several serve processes on one database each run an outbox worker. Two workers, each with its
// own Store (its own connections, as a second process has; on PostgreSQL its own session and
// advisory-lock turn), race over the same due rows: every e-mail and in-app notice goes out once.
TEST_F(ReviewApi, TwoWorkersRacingSendEachReminderOnce) {
  auto second_store = store::Store::open(server_->db_path(), 1);
  ASSERT_TRUE(second_store.ok()) << second_store.error().message_en;
  services::NotifyConfig cfg;
  cfg.email = std::make_unique<notify::SmtpSender>(
      notify::SmtpConfig{"smtp://127.0.0.1:" + std::to_string(sink_->port()), "statgov@test.invalid", "", "",
                         std::chrono::seconds(5)});
  services::ReminderService second(**second_store, server_->monitor(), server_->clock(), std::move(cfg));

  auto r = as("demo-shi").post_json("/api/v1/reminders", {{"form", "B204-1"}, {"period", "2026M11"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::size_t units = r.json_body()["units"].size();
  ASSERT_GT(units, 5u);
  // Both workers start together and go on until neither finds anything due.
  std::atomic<int> ready{0};
  std::atomic<long> attempted{0};
  std::atomic<bool> failed{false};
  auto work = [&](services::ReminderService& w) {
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    for (int idle = 0; idle < 3;) {
      auto n = w.process_due();
      if (!n.ok()) {
        failed = true;
        return;
      }
      attempted += *n;
      idle = *n == 0 ? idle + 1 : 0;
    }
  };
  std::thread a([&] { work(server_->reminders()); });
  std::thread b([&] { work(second); });
  a.join();
  b.join();
  ASSERT_FALSE(failed);

  std::map<std::string, int> mails;  // recipient -> messages received
  for (const auto& m : sink_->mails()) {
    for (const auto& to : m.to) ++mails[to];
  }
  ASSERT_FALSE(mails.empty());
  for (const auto& [to, n] : mails) EXPECT_EQ(n, 1) << to << " got " << n << " reminders";
  auto hist = as("demo-shi").get("/api/v1/reminders?form=B204-1&period=2026M11").json_body()["items"];
  ASSERT_EQ(hist.size(), 1u);
  std::size_t deliveries = 0;
  for (const auto& d : hist[0]["deliveries"]) {
    ++deliveries;
    EXPECT_EQ(d["status"], "sent") << d.dump();
    EXPECT_EQ(d["attempts"], 1) << d.dump();
  }
  EXPECT_EQ(static_cast<std::size_t>(attempted.load()), deliveries) << "each outbox row attempted once in all";
  EXPECT_EQ(mails.size() + units, deliveries) << "one e-mail per address and one in-app notice per unit";
  // In-app notices: one per unit.
  auto dup = server_->store().read([](store::Conn& c) -> Result<std::int64_t> {
    SG_ASSIGN_OR_RETURN(auto q, c.prepare("SELECT count(*) FROM (SELECT unit_id FROM notices WHERE kind = 'reminder' "
                                          "GROUP BY unit_id HAVING count(*) > 1) d"));
    SG_ASSIGN_OR_RETURN(bool row, q.step());
    return row ? q.int64(0) : -1;
  });
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(*dup, 0) << "units with more than one in-app reminder";
}

TEST_F(ReviewApi, SmsRemindersGoThroughTheWebhook) {
  // The SMS gateway: a small HTTP server of our own that records what it is sent.
  std::mutex mu;
  std::vector<json> received;
  http::Router gw;
  gw.add("POST", "/api/sms", [&](http::Request& req) {
    std::lock_guard lock(mu);
    received.push_back(json::parse(req.body, nullptr, false));
    return http::Response::json(200, {{"ok", true}});
  });
  http::Server gateway(gw, http::ServerOptions{"127.0.0.1", 0, 2, 1 << 20, "", "/api/", false, 0, 0});
  ASSERT_FALSE(gateway.start());
  services::NotifyConfig cfg;
  cfg.sms = std::make_unique<notify::WebhookSmsSender>("http://127.0.0.1:" + std::to_string(gateway.port()) + "/api/sms");
  TestServer s(30, std::move(cfg));
  Client city(s.port());
  ASSERT_EQ(city.login("demo-shi", kDemoPassword).status, 200);
  auto missing = city.get("/api/v1/monitor/missing?form=B204-1&period=2026M11").json_body()["items"];
  std::set<std::string> phones;
  for (const auto& m : missing) phones.insert(m["phone"].get<std::string>());
  ASSERT_FALSE(phones.empty());
  ASSERT_EQ(city.post_json("/api/v1/reminders", {{"form", "B204-1"}, {"period", "2026M11"}}).status, 200);
  ASSERT_TRUE(s.reminders().process_due().ok());
  std::set<std::string> got;
  {
    std::lock_guard lock(mu);
    for (const auto& r : received) {
      got.insert(r["to"].get<std::string>());
      EXPECT_NE(r["text"].get<std::string>().find("B204-1"), std::string::npos);
    }
  }
  EXPECT_EQ(got, phones);
  gateway.stop();
  gateway.wait();
}

TEST_F(ReviewApi, FailedDeliveriesAreRetriedWithBackoff) {
  // An SMTP server that is not there: every attempt fails and is recorded.
  services::NotifyConfig cfg;
  cfg.email = std::make_unique<notify::SmtpSender>(notify::SmtpConfig{"smtp://127.0.0.1:1", "x@test.invalid", "", "",
                                                                     std::chrono::seconds(2)});
  TestServer s(30, std::move(cfg));
  Client city(s.port());
  ASSERT_EQ(city.login("demo-shi", kDemoPassword).status, 200);
  ASSERT_EQ(city.post_json("/api/v1/reminders", {{"form", "B204-1"}, {"period", "2026M11"}}).status, 200);
  ASSERT_TRUE(s.reminders().process_due().ok());
  auto d = city.get("/api/v1/reminders?form=B204-1&period=2026M11").json_body()["items"][0]["deliveries"];
  int emails = 0;
  for (const auto& x : d) {
    if (x["channel"] == "email") {
      ++emails;
      EXPECT_EQ(x["status"], "pending");
      EXPECT_EQ(x["attempts"], 1);
      EXPECT_FALSE(x["last_error"].get<std::string>().empty());
    } else {
      EXPECT_EQ(x["status"], "sent");
    }
  }
  ASSERT_GT(emails, 0);
  // Not due again until the back-off has passed.
  ASSERT_EQ(s.reminders().process_due().value(), 0);
  for (int i = 0; i < 6; ++i) {
    s.clock().advance(std::chrono::minutes(20));
    ASSERT_TRUE(s.reminders().process_due().ok());
  }
  ASSERT_EQ(city.login("demo-shi", kDemoPassword).status, 200) << "two idle hours ended the session";
  d = city.get("/api/v1/reminders?form=B204-1&period=2026M11").json_body()["items"][0]["deliveries"];
  for (const auto& x : d) {
    if (x["channel"] == "email") {
      EXPECT_EQ(x["status"], "failed");
      EXPECT_EQ(x["attempts"], services::ReminderService::kMaxAttempts);
    }
  }
}

TEST_F(ReviewApi, LiveEventsReachViewersInScope) {
  // Read the event stream raw: connect, then submit, then expect the event within 2 s.
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  std::string req = "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: " + as("demo-quxian").cookie() + "\r\n\r\n";
  asio::write(sock, asio::buffer(req));
  std::string got;
  char buf[4096];
  auto read_some = [&] {
    sock.non_blocking(true);
    boost::system::error_code ec;
    std::size_t n = sock.read_some(asio::buffer(buf), ec);
    if (!ec) got.append(buf, n);
  };
  auto t0 = std::chrono::steady_clock::now();
  while (got.find(": connected") == std::string::npos && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
    read_some();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(got.find("text/event-stream"), std::string::npos) << got;
  ASSERT_EQ(submit_clean().status, 200);
  t0 = std::chrono::steady_clock::now();
  while (got.find("event: submission") == std::string::npos && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
    read_some();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(got.find("event: submission"), std::string::npos) << got;
  EXPECT_NE(got.find("\"state\":\"submitted\""), std::string::npos);
  EXPECT_NE(got.find("\"unit_id\":" + std::to_string(server_->demo_unit())), std::string::npos);
}

TEST_F(ReviewApi, RevalidationJobReportsProgress) {
  ASSERT_EQ(submit_clean().status, 200);
  auto start = as("demo-shi").post_json("/api/v1/jobs/revalidate", {{"form", "B204-1"}, {"period", "2026M10"}});
  ASSERT_EQ(start.status, 202) << start.body;
  auto id = std::to_string(start.json_body()["id"].get<std::int64_t>());
  server_->jobs().wait_all();
  auto job = as("demo-shi").get("/api/v1/jobs/" + id).json_body();
  EXPECT_EQ(job["state"], "done");
  EXPECT_EQ(job["done"], job["total"]);
  EXPECT_GT(job["total"].get<int>(), 0);
  EXPECT_EQ(job["result"]["with_failed_checks"], 0) << "the demo history passes its own rules";
  EXPECT_EQ(as("demo-quxian").get("/api/v1/jobs/" + id).status, 404) << "another user's job";
  EXPECT_EQ(as("demo-lingdao").post_json("/api/v1/jobs/revalidate", {{"form", "B204-1"}, {"period", "2026M10"}}).status, 403);
}

}  // namespace
}  // namespace statgov::testing
