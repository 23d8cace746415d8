// End-to-end behaviour of online reporting over HTTP: auth, CSRF, tasks, edit checks, explanations,
// idempotency, scopes and bad input.
#include "harness.hpp"

#include "base/crypto.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <future>
#include <thread>

namespace statgov::testing {
namespace {

class ReportingApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(80); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;

  Client enterprise() {
    Client c(server_->port());
    auto r = c.login("demo-qiye", kDemoPassword);
    EXPECT_EQ(r.status, 200) << r.body;
    return c;
  }
  std::string sub(const std::string& form, const std::string& period, std::int64_t unit = 0) {
    return "/api/v1/submissions/" + std::to_string(unit ? unit : server_->demo_unit()) + "/" + form + "/" + period;
  }
  // Values for 2026M11 that pass every hard edit, given last month's cumulative values.
  json good_values(Client& c) {
    auto s = c.get(sub("B204-1", "2026M11")).json_body();
    const json& prev = s["prev"]["values"];
    const json& ly = s["ly"]["values"];
    double out = std::round(ly["I01"].get<double>() * 1.1 * 10) / 10;
    double sales = std::round(out * 0.9 * 10) / 10;
    json v = {{"I01", out}, {"I03", sales}, {"I04", 0.0}, {"I05", ly["I05"]}};
    for (const char* code : {"I01", "I03", "I04", "I05"}) {
      std::string y = std::string(code) + "_YTD";
      v[y] = std::round((prev[y].get<double>() + v[code].get<double>()) * 10) / 10;
    }
    return v;
  }
};
TestServer* ReportingApi::server_ = nullptr;

// A version of a form, once compiled, is served from the cache without a database connection:
// asked for while every read connection is lent out, it answers at once (it used to wait for one).
TEST_F(ReportingApi, CachedFormVersionNeedsNoConnection) {
  auto latest = server_->forms().get("B204-1");
  ASSERT_TRUE(latest.ok());
  const int version = (*latest)->def.version;
  std::future<bool> cached;
  std::function<void(int)> hold = [&](int depth) {
    if (depth > 0) {
      server_->store().read([&](store::Conn&) {
        hold(depth - 1);
        return 0;
      });
      return;
    }
    cached = std::async(std::launch::async, [&] {
      auto f = server_->forms().get("B204-1", version);
      return f.ok() && *f == *latest;
    });
    // Leases are returned when this returns, so a waiting get() ends either way.
    EXPECT_EQ(cached.wait_for(std::chrono::seconds(5)), std::future_status::ready)
        << "get() of a cached version waited for a read connection";
  };
  hold(server_->store().readers());
  EXPECT_TRUE(cached.get());
}

TEST_F(ReportingApi, HealthAndLoginCookie) {
  auto h = http_request(server_->port(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json_body()["status"], "ok");
  Client c(server_->port());
  auto r = c.login("demo-qiye", kDemoPassword);
  ASSERT_EQ(r.status, 200);
  auto cookie = r.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(r.json_body()["user"]["role"], "enterprise");
  EXPECT_FALSE(c.csrf().empty());
  auto me = c.get("/api/v1/me");
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.json_body()["user"]["login"], "demo-qiye");
}

TEST_F(ReportingApi, LoginErrorsAndThrottling) {
  auto bad_json = http_request(server_->port(), "POST", "/api/v1/auth/login", "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.error_code(), "BAD_JSON");
  auto j = bad_json.json_body();
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  EXPECT_FALSE(j["error"]["message_en"].get<std::string>().empty());
  auto extra = http_request(server_->port(), "POST", "/api/v1/auth/login",
                            json{{"login", "a"}, {"password", "b"}, {"x", 1}}.dump());
  EXPECT_EQ(extra.status, 400);
  Client c(server_->port());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.login("demo-lingdao", "wrong-password1").status, 401);
  auto throttled = c.login("demo-lingdao", kDemoPassword);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.error_code(), "THROTTLED");
  server_->clock().advance(std::chrono::minutes(16));
  EXPECT_EQ(c.login("demo-lingdao", kDemoPassword).status, 200);
  server_->clock().advance(-std::chrono::minutes(16));
}

TEST_F(ReportingApi, UnauthenticatedAndCsrf) {
  EXPECT_EQ(http_request(server_->port(), "GET", "/api/v1/tasks").status, 401);
  auto c = enterprise();
  auto v = json{{"values", json::object()}}.dump();
  auto no_csrf = http_request(server_->port(), "PUT", sub("B204-1", "2026M11") + "/draft", v, {{"Cookie", c.cookie()}});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(no_csrf.error_code(), "CSRF");
  // A machine client with a bearer token has no ambient credentials and needs no CSRF token.
  std::string token = c.cookie().substr(std::string("sg_session=").size());
  auto bearer = http_request(server_->port(), "POST", sub("B204-1", "2026M11") + "/validate", v,
                             {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(bearer.status, 200) << bearer.body;
}

TEST_F(ReportingApi, SessionsEndWhenIdleAndEverywhereOnRequest) {
  Client a(server_->port()), b(server_->port());
  ASSERT_EQ(a.login("demo-fabu", kDemoPassword).status, 200);
  ASSERT_EQ(b.login("demo-fabu", kDemoPassword).status, 200);
  // Activity every 20 minutes keeps a session alive past the 30-minute idle limit.
  for (int i = 0; i < 3; ++i) {
    server_->clock().advance(std::chrono::minutes(20));
    EXPECT_EQ(a.get("/api/v1/me").status, 200) << i;
  }
  auto idle = b.get("/api/v1/me");
  EXPECT_EQ(idle.status, 401);
  EXPECT_EQ(idle.error_code(), "SESSION_IDLE");
  ASSERT_EQ(b.login("demo-fabu", kDemoPassword).status, 200);
  EXPECT_EQ(a.send("POST", "/api/v1/auth/logout-all", "").status, 204);
  EXPECT_EQ(a.get("/api/v1/me").status, 401);
  EXPECT_EQ(b.get("/api/v1/me").status, 401) << "every device is logged out";
  server_->clock().set(from_local(2026, 11, 26, 10, 0));
}

// A session's last-seen time is written in the background (issue #6): a request never waits for
// the writer for it, and until the write commits the process counts the request's time itself.
TEST_F(ReportingApi, SessionActivityIsRecordedWithoutWaitingForTheWriter) {
  Client a(server_->port());
  ASSERT_EQ(a.login("demo-fabu", kDemoPassword).status, 200);
  const std::string hash = sha256_hex(a.cookie().substr(std::string("sg_session=").size()));
  auto last_seen = [&]() -> std::string {
    auto row =
        server_->store().read([&](store::Conn& c) { return store::find_session_user(c, hash); });
    return row.ok() && *row ? (*row)->session.last_seen : std::string("?");
  };
  // Hold the writer: a job that waits for the gate.
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::promise<void> held;
  server_->store().write_async(
      [open, &held](store::Conn&) -> Status {
        held.set_value();
        open.wait();
        return Status{};
      },
      [](Status) {});
  held.get_future().wait();
  bool released = false;
  auto release = [&] {
    if (!released) gate.set_value();
    released = true;
  };
  auto get_me = [&] {
    auto f = std::async(std::launch::async, [&] { return a.get("/api/v1/me"); });
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      release();
      ADD_FAILURE() << "a request waited for the held writer";
    }
    return f.get();
  };
  server_->clock().advance(std::chrono::minutes(20));
  const std::string first = format_utc(server_->clock().now());
  EXPECT_EQ(get_me().status, 200);
  // 40 minutes after login: the database still has the login's time (past the 30-minute idle
  // limit), the process knows of the request 20 minutes ago.
  server_->clock().advance(std::chrono::minutes(20));
  const std::string second = format_utc(server_->clock().now());
  EXPECT_LT(last_seen(), first);
  EXPECT_EQ(get_me().status, 200);
  release();
  for (int i = 0; i < 500 && last_seen() != second; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(last_seen(), second);
  // Once written, the idle limit counts from the last request as before.
  server_->clock().advance(std::chrono::minutes(29));
  EXPECT_EQ(a.get("/api/v1/me").status, 200);
  server_->clock().advance(std::chrono::minutes(31));
  auto idle = a.get("/api/v1/me");
  EXPECT_EQ(idle.status, 401);
  EXPECT_EQ(idle.error_code(), "SESSION_IDLE");
  server_->clock().set(from_local(2026, 11, 26, 10, 0));
}

TEST_F(ReportingApi, StaffReadsOfMicrodataAreAudited) {
  Client town(server_->port());
  ASSERT_EQ(town.login("demo-xiangzhen", kDemoPassword).status, 200);
  ASSERT_EQ(town.get(sub("B204-1", "2026M10")).status, 200);
  bool logged = false;
  for (const auto& e : server_->audit("read")) {
    logged = logged || (e.actor == "demo-xiangzhen" &&
                        e.object == "submission:" + std::to_string(server_->demo_unit()) + "/B204-1/2026M10");
  }
  EXPECT_TRUE(logged);
}

TEST_F(ReportingApi, TasksListTheOpenPeriodWithItsDeadline) {
  auto c = enterprise();
  auto r = c.get("/api/v1/tasks");
  ASSERT_EQ(r.status, 200);
  bool found = false;
  auto items = r.json_body()["items"];
  for (const auto& t : items) {
    if (t["form_code"] == "B204-1" && t["period"] == "2026M11") {
      found = true;
      EXPECT_EQ(t["deadline"], "2026-12-05T18:00:00+08:00");
      EXPECT_EQ(t["overdue"], false);
    }
    if (t["form_code"] == "B204-1" && t["period"] == "2026M10") {
      EXPECT_EQ(t["state"], "accepted");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ReportingApi, HardEditBlocksSoftEditNeedsExplanationThenSubmit) {
  auto c = enterprise();
  std::string base = sub("B204-1", "2026M11");
  json v = good_values(c);
  // Hard edit: export delivery above sales.
  json bad = v;
  bad["I04"] = v["I03"].get<double>() + 100;
  bad["I04_YTD"] = bad["I04"];
  auto r = c.post_json(base + "/submit", {{"values", bad}});
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.error_code(), "RULE_FAILED");
  bool named = false;
  auto details = r.json_body()["error"]["details"];
  for (const auto& d : details) {
    if (d["rule"] == "export_le_sales") {
      named = true;
      EXPECT_EQ(d["severity"], "error");
      EXPECT_NE(d["message"].get<std::string>().find("出口交货值"), std::string::npos);
      EXPECT_EQ(d["indicators"], json::array({"I03", "I04"}));
    }
  }
  EXPECT_TRUE(named) << r.body;
  EXPECT_EQ(c.get(base).json_body()["state"], "not_started") << "a rejected submit writes nothing";

  // Soft edit: output 80% above last year.
  json soft = v;
  auto s = c.get(base).json_body();
  double ly = s["ly"]["values"]["I01"];
  soft["I01"] = std::round(ly * 1.8 * 10) / 10;
  soft["I03"] = std::round(soft["I01"].get<double>() * 0.9 * 10) / 10;
  for (const char* code : {"I01", "I03"}) {
    std::string y = std::string(code) + "_YTD";
    soft[y] = std::round((s["prev"]["values"][y].get<double>() + soft[code].get<double>()) * 10) / 10;
  }
  r = c.post_json(base + "/submit", {{"values", soft}});
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.error_code(), "EXPLANATION_REQUIRED");
  EXPECT_EQ(r.json_body()["error"]["details"][0]["rule"], "yoy_output_01");
  r = c.post_json(base + "/submit", {{"values", soft}, {"explanations", {{"yoy_output_01", "  "}}}});
  EXPECT_EQ(r.error_code(), "EXPLANATION_REQUIRED") << "blank explanations do not count";

  r = c.post_json(base + "/submit", {{"values", soft}, {"explanations", {{"yoy_output_01", "新生产线十月投产"}}}},
                  {{"Idempotency-Key", "submit-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json_body();
  EXPECT_EQ(body["state"], "submitted");
  EXPECT_EQ(body["version"], 1);
  EXPECT_EQ(body["explanations"]["yoy_output_01"], "新生产线十月投产");
  // Written straight as text (JsonWriter, issue #6): what nlohmann prints for the same value.
  EXPECT_EQ(body.dump(-1, ' ', false, json::error_handler_t::replace), r.body);

  // Retry with the same key: the first answer, nothing new.
  auto again = c.post_json(base + "/submit", {{"values", soft}, {"explanations", {{"yoy_output_01", "新生产线十月投产"}}}},
                           {{"Idempotency-Key", "submit-1"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, r.body);
  // The same key for another request is refused.
  auto reused = c.post_json(base + "/submit", {{"values", v}}, {{"Idempotency-Key", "submit-1"}});
  EXPECT_EQ(reused.status, 422);
  EXPECT_EQ(reused.error_code(), "IDEMPOTENCY_KEY_REUSED");
  // Without a key, a second submit is a state conflict.
  auto twice = c.post_json(base + "/submit", {{"values", soft}, {"explanations", {{"yoy_output_01", "x y"}}}});
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(twice.error_code(), "STATE_CONFLICT");

  auto versions = c.get(base + "/versions").json_body()["items"];
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0]["values"]["I01"], soft["I01"]);
  auto full = c.get(base).json_body();
  EXPECT_EQ(full["state"], "submitted");
  EXPECT_EQ(full["editable"], false);
  EXPECT_FALSE(full["events"].empty());
  // The submit's answer, made from what was written, is the submission as read back.
  full.erase("events");
  EXPECT_EQ(full, body);
}

TEST_F(ReportingApi, DraftKeepsValuesAndResults) {
  auto c = enterprise();
  std::string base = sub("202-1", "2026Q4");
  auto r = c.send("PUT", base + "/draft", json{{"values", {{"E01", 10}, {"E02", 20}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json_body();
  EXPECT_EQ(j["state"], "draft");
  EXPECT_EQ(j["values"]["E02"], 20);
  ASSERT_FALSE(j["results"].empty());
  EXPECT_EQ(j["results"][0]["rule"], "women_le_total");
  auto again = c.get(base).json_body();
  EXPECT_EQ(again["values"]["E01"], 10);
}

TEST_F(ReportingApi, BadInputGetsClearErrorsAndChangesNothing) {
  auto c = enterprise();
  std::string base = sub("B204-1", "2026M11");
  auto before = c.get(base).json_body();
  struct Case {
    std::string method, target, body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"POST", base + "/validate", "{", 400, "BAD_JSON"},
      {"POST", base + "/validate", "[]", 400, "BAD_JSON"},
      {"POST", base + "/validate", R"({"values":{},"colour":"red"})", 400, "UNKNOWN_FIELD"},
      {"POST", base + "/validate", R"({})", 400, "MISSING_FIELD"},
      {"POST", base + "/validate", R"({"values":{"NOPE":1}})", 400, "VALUES_INVALID"},
      {"POST", base + "/validate", R"({"values":{"I01":"many"}})", 400, "VALUES_INVALID"},
      {"POST", base + "/validate", R"({"values":{"I01":-5}})", 400, "VALUES_INVALID"},
      {"POST", base + "/validate", R"({"values":{"I01":1.23456}})", 400, "VALUES_INVALID"},
      {"POST", base + "/validate", R"({"values":{"I01":1e300}})", 400, "VALUES_INVALID"},
      {"POST", base + "/submit", R"({"values":{"I01":1}})", 400, "VALUES_INVALID"},
      {"POST", base + "/submit", R"({"values":{},"explanations":[]})", 400, "VALUES_INVALID"},
      {"POST", sub("B204-1", "2026M13") + "/validate", R"({"values":{}})", 400, "PERIOD_FORMAT"},
      {"POST", sub("B204-1", "2026Q4") + "/validate", R"({"values":{}})", 400, "PERIOD_FREQUENCY"},
      {"POST", sub("B204-1", "2027M01") + "/validate", R"({"values":{}})", 422, "PERIOD_NOT_OPEN"},
      {"POST", sub("NOPE-1", "2026M11") + "/validate", R"({"values":{}})", 404, "FORM_NOT_FOUND"},
      {"GET", "/api/v1/submissions/abc/B204-1/2026M11", "", 400, "BAD_ID"},
      {"GET", sub("B204-1", "2026M11", 2), "", 404, "UNIT_NOT_FOUND"},
      {"GET", "/api/v1/nowhere", "", 404, "NOT_FOUND"},
      {"DELETE", "/api/v1/tasks", "", 405, "METHOD_NOT_ALLOWED"},
      {"POST", base + "/upload", "this is not excel", 400, "BAD_XLSX"},
      {"POST", base + "/submit", "{}", 400, "MISSING_FIELD"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.method + " " + k.target + " " + k.body);
    auto r = k.method == "GET" ? c.get(k.target) : c.send(k.method, k.target, k.body);
    EXPECT_EQ(r.status, k.status) << r.body;
    EXPECT_EQ(r.error_code(), k.code);
    auto j = r.json_body();
    ASSERT_TRUE(j.is_object());
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    EXPECT_FALSE(j["error"]["message_en"].get<std::string>().empty());
  }
  auto after = c.get(base).json_body();
  EXPECT_EQ(after["state"], before["state"]);
  EXPECT_EQ(after["values"], before["values"]);
  EXPECT_EQ(after["version"], before["version"]);
  auto bad_key = c.send("POST", base + "/submit", R"({"values":{}})", {{"Idempotency-Key", std::string(200, 'k')}});
  EXPECT_EQ(bad_key.error_code(), "BAD_IDEMPOTENCY_KEY");
}

TEST_F(ReportingApi, ScopesFilterEveryRead) {
  Client town(server_->port());
  ASSERT_EQ(town.login("demo-xiangzhen", kDemoPassword).status, 200);
  auto units = town.get("/api/v1/units?limit=500").json_body()["items"];
  ASSERT_FALSE(units.empty());
  auto me = town.get("/api/v1/me").json_body()["user"];
  std::string prefix = me["region"].get<std::string>().substr(0, 9);
  for (const auto& u : units) EXPECT_EQ(u["region"].get<std::string>().substr(0, 9), prefix);

  Client city(server_->port());
  ASSERT_EQ(city.login("demo-shi", kDemoPassword).status, 200);
  auto all = city.get("/api/v1/units?limit=500").json_body()["items"];
  EXPECT_GT(all.size(), units.size());
  // A unit outside the township is invisible to it, visible to the city.
  for (const auto& u : all) {
    if (u["region"].get<std::string>().substr(0, 9) != prefix) {
      auto id = std::to_string(u["id"].get<std::int64_t>());
      EXPECT_EQ(town.get("/api/v1/units/" + id).status, 404);
      EXPECT_EQ(city.get("/api/v1/units/" + id).status, 200);
      break;
    }
  }
  // Enterprises do not browse the directory.
  auto c = enterprise();
  EXPECT_EQ(c.get("/api/v1/units").status, 403);
  // Paging.
  auto page1 = city.get("/api/v1/units?limit=10").json_body();
  ASSERT_EQ(page1["items"].size(), 10u);
  auto page2 = city.get("/api/v1/units?limit=10&cursor=" + page1["next_cursor"].get<std::string>()).json_body();
  EXPECT_GT(page2["items"][0]["id"].get<int>(), page1["items"][9]["id"].get<int>());
  EXPECT_EQ(city.get("/api/v1/units?bogus=1").status, 400);
}

TEST_F(ReportingApi, FormThatTheUnitDoesNotOwe) {
  Client city(server_->port());
  ASSERT_EQ(city.login("demo-shi", kDemoPassword).status, 200);
  // Find a non-industrial unit.
  auto all = city.get("/api/v1/units?limit=500").json_body()["items"];
  for (const auto& u : all) {
    std::string s = u["section"];
    if (s != "B" && s != "C" && s != "D") {
      auto r = city.send("POST", sub("B204-1", "2026M11", u["id"].get<std::int64_t>()) + "/validate", R"({"values":{}})");
      EXPECT_EQ(r.status, 422);
      EXPECT_EQ(r.error_code(), "NOT_OWED");
      return;
    }
  }
  FAIL() << "demo has no non-industrial unit";
}

}  // namespace
}  // namespace statgov::testing
