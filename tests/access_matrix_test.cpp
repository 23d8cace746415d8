// Access matrix (issue #7): every API route called as every role, in and out of scope, against
// the allow/deny table below. The table is the intended design (DESIGN.md sections 3 and 8,
// docs/api.md), not a recording of what the code happens to do: enterprises see only their own
// unit, staff their region subtree, leaders read-only monitoring, publishers and department data
// providers nothing of the enterprise data (their own features are not built yet).
//
// A route the router has and the table lacks fails the test ("new route without an access
// entry"), and so does a table entry the router no longer has.
//
// Allowed: 2xx, or a 4xx other than 401/403 and the scope 404s (UNIT_NOT_FOUND, JOB_NOT_FOUND):
// a write that is refused for its content (400 validation, 409 state conflict, 422 rule failed)
// still passed the access check. Denied: 401 for anonymous callers, 403 or a scope 404 for a
// logged-in role. Never a 5xx. An allowed answer must not carry the role's out-of-scope unit.
#include "harness.hpp"

#include "base/crypto.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <set>
#include <sstream>

namespace statgov::testing {
namespace {

enum Who { kEnterprise, kTownship, kCounty, kCity, kLeader, kPublisher, kProvider, kAdmin, kAnonymous, kWhoCount };
constexpr std::array<const char*, kWhoCount> kWhoName = {"enterprise", "township", "county", "city", "leader",
                                                          "publisher", "provider", "admin", "anonymous"};
constexpr std::array<const char*, kAnonymous> kLogin = {"demo-qiye",  "demo-xiangzhen", "demo-quxian",
                                                        "demo-shi",   "demo-lingdao",   "demo-fabu",
                                                        "demo-bumen", "demo-admin"};

// How a route is scoped, which decides whether it is called once or twice (in and out of scope).
enum class Scoped { no, unit, region };

// `expect`: one word per caller in kWhoName order. Unscoped routes: "A" (allow) or "D" (deny).
// Scoped routes: two letters, in-scope then out-of-scope unit (or region).
struct Entry {
  const char* method;
  const char* pattern;
  Scoped scoped;
  const char* expect;
};

//                                                                        ent  town cnty city lead publ prov admn anon
const std::vector<Entry>& matrix() {
  static const std::vector<Entry> m = {
      {"GET", "/healthz", Scoped::no,                                      "A    A    A    A    A    A    A    A    A"},
      {"GET", "/api/v1/openapi.json", Scoped::no,                          "A    A    A    A    A    A    A    A    A"},
      {"POST", "/api/v1/auth/login", Scoped::no,                           "A    A    A    A    A    A    A    A    A"},
      // Certificate login is off on this plain-HTTP, password-mode server (404 CERT_LOGIN_OFF for
      // everyone, no role decision); the certificate modes are tls_test.cpp's.
      {"POST", "/api/v1/auth/cert-login", Scoped::no,                      "A    A    A    A    A    A    A    A    A"},
      {"GET", "/api/v1/auth/methods", Scoped::no,                          "A    A    A    A    A    A    A    A    A"},
      {"POST", "/api/v1/auth/logout", Scoped::no,                          "A    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/auth/logout-all", Scoped::no,                      "A    A    A    A    A    A    A    A    D"},
      {"GET", "/api/v1/me", Scoped::no,                                    "A    A    A    A    A    A    A    A    D"},
      // An enterprise's `unit` parameter is ignored (it always gets its own unit's tasks).
      {"GET", "/api/v1/tasks", Scoped::unit,                               "AA   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"GET", "/api/v1/forms", Scoped::no,                                 "A    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/forms", Scoped::no,                                "D    D    D    A    D    D    D    A    D"},
      {"GET", "/api/v1/forms/{code}", Scoped::no,                          "A    A    A    A    A    A    A    A    D"},
      {"GET", "/api/v1/submissions/{unit}/{form}/{period}", Scoped::unit,  "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"POST", "/api/v1/submissions/{unit}/{form}/{period}/validate", Scoped::unit,
                                                                           "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      // Filling in: the enterprise, and staff on its behalf (代报); never the leader.
      {"PUT", "/api/v1/submissions/{unit}/{form}/{period}/draft", Scoped::unit,
                                                                           "AD   AD   AD   AD   DD   DD   DD   AD   DD"},
      {"POST", "/api/v1/submissions/{unit}/{form}/{period}/submit", Scoped::unit,
                                                                           "AD   AD   AD   AD   DD   DD   DD   AD   DD"},
      {"GET", "/api/v1/submissions/{unit}/{form}/{period}/versions", Scoped::unit,
                                                                           "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"GET", "/api/v1/submissions/{unit}/{form}/{period}/template.xlsx", Scoped::unit,
                                                                           "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"POST", "/api/v1/submissions/{unit}/{form}/{period}/upload", Scoped::unit,
                                                                           "AD   AD   AD   AD   DD   DD   DD   AD   DD"},
      {"GET", "/api/v1/units", Scoped::no,                                 "D    A    A    A    A    D    D    A    D"},
      {"GET", "/api/v1/units/{id}", Scoped::unit,                          "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"PATCH", "/api/v1/units/{id}", Scoped::unit,                        "DD   AD   AD   AD   DD   DD   DD   AD   DD"},
      {"POST", "/api/v1/units/import", Scoped::no,                         "D    A    A    A    D    D    D    A    D"},
      // Monitoring: staff incl. the leader, within their subtree (docs/api.md, issue #3).
      {"GET", "/api/v1/monitor/progress", Scoped::region,                  "DD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"GET", "/api/v1/monitor/missing", Scoped::region,                   "DD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"GET", "/api/v1/events", Scoped::no,                                "D    A    A    A    A    D    D    A    D"},
      // Summary tables (issue #4): monitoring staff within their subtree, like progress.
      {"GET", "/api/v1/summary", Scoped::no,                               "D    A    A    A    A    D    D    A    D"},
      {"GET", "/api/v1/summary.xlsx", Scoped::no,                          "D    A    A    A    A    D    D    A    D"},
      {"GET", "/api/v1/summary/units", Scoped::no,                         "D    A    A    A    A    D    D    A    D"},
      {"GET", "/api/v1/summary/outliers", Scoped::no,                      "D    A    A    A    A    D    D    A    D"},
      // Review: the levels only (township review, county approve, city/admin accept).
      {"GET", "/api/v1/review/queue", Scoped::no,                          "D    A    A    A    D    D    D    A    D"},
      {"POST", "/api/v1/review/bulk", Scoped::no,                          "D    A    A    A    D    D    D    A    D"},
      {"POST", "/api/v1/submissions/{unit}/{form}/{period}/review", Scoped::unit,
                                                                           "DD   AD   AD   AD   DD   DD   DD   AD   DD"},
      {"POST", "/api/v1/submissions/{unit}/{form}/{period}/revise", Scoped::unit,
                                                                           "DD   DD   DD   AD   DD   DD   DD   AD   DD"},
      {"POST", "/api/v1/reminders", Scoped::region,                        "DD   AD   AD   AD   DD   DD   DD   AD   DD"},
      {"GET", "/api/v1/reminders", Scoped::no,                             "D    A    A    A    A    D    D    A    D"},
      // The caller's own unit's notices; a staff account has none and gets an empty list.
      {"GET", "/api/v1/notices", Scoped::no,                               "A    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/jobs/revalidate", Scoped::no,                      "D    A    A    A    D    D    D    A    D"},
      // A job is visible to whoever started it (here the county) and to the administrator.
      {"GET", "/api/v1/jobs/{id}", Scoped::no,                             "D    D    A    D    D    D    D    A    D"},
      // Publication (docs/publication.md section 5): the publisher plans, prepares and exports
      // (the administrator too, but only the publisher signs off); leaders and city staff read;
      // nobody else sees a release's figures before its minute (the fixture has no pre-release list).
      {"GET", "/api/v1/releases", Scoped::no,                              "A    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/releases", Scoped::no,                             "D    D    D    D    D    A    D    A    D"},
      {"GET", "/api/v1/releases/{id}", Scoped::no,                         "D    D    D    A    A    A    D    A    D"},
      {"PATCH", "/api/v1/releases/{id}", Scoped::no,                       "D    D    D    D    D    A    D    A    D"},
      {"POST", "/api/v1/releases/{id}/prepare", Scoped::no,                "D    D    D    D    D    A    D    A    D"},
      {"GET", "/api/v1/releases/{id}/preview", Scoped::no,                 "D    D    D    A    A    A    D    A    D"},
      {"POST", "/api/v1/releases/{id}/signoff", Scoped::no,                "D    D    D    D    D    A    D    D    D"},
      {"GET", "/api/v1/releases/{id}/package", Scoped::no,                 "D    D    D    D    D    A    D    A    D"},
      {"GET", "/api/v1/documents", Scoped::no,                             "D    D    D    A    A    A    D    A    D"},
      {"POST", "/api/v1/documents", Scoped::no,                            "D    D    D    D    D    A    D    A    D"},
      {"GET", "/api/v1/documents/{index_no}", Scoped::no,                  "D    D    D    A    A    A    D    A    D"},
      {"PATCH", "/api/v1/documents/{index_no}", Scoped::no,                "D    D    D    D    D    A    D    A    D"},
      // E-signatures (issue #7): a unit's keys are readable like the unit; only the enterprise
      // registers and revokes its own; a signature is re-verified by whoever may read the submission.
      {"GET", "/api/v1/units/{id}/keys", Scoped::unit,                     "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      {"POST", "/api/v1/units/{id}/keys", Scoped::unit,                    "AD   DD   DD   DD   DD   DD   DD   DD   DD"},
      {"DELETE", "/api/v1/units/{id}/keys/{key_id}", Scoped::unit,         "AD   DD   DD   DD   DD   DD   DD   DD   DD"},
      {"GET", "/api/v1/submissions/{id}/signature", Scoped::unit,          "AD   AD   AD   AD   AD   DD   DD   AD   DD"},
      // The TOTP second factor is for staff accounts; anyone may ask whether theirs is on.
      {"GET", "/api/v1/me/totp", Scoped::no,                               "A    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/me/totp", Scoped::no,                              "D    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/me/totp/confirm", Scoped::no,                      "D    A    A    A    A    A    A    A    D"},
      {"POST", "/api/v1/me/totp/disable", Scoped::no,                      "D    A    A    A    A    A    A    A    D"},
  };
  return m;
}

std::vector<std::string> words(const char* s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// Reads only the status line and headers of a response, with a timeout: for the event stream,
// which never ends.
int stream_status(unsigned short port, const std::string& cookie) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int status = -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    if (!cookie.empty()) req += "Cookie: " + cookie + "\r\n";
    req += "\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string got;
      char buf[1024];
      while (got.find("\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      if (got.rfind("HTTP/1.1 ", 0) == 0 && got.size() >= 12) status = std::stoi(got.substr(9, 3));
    }
  }
  ::close(fd);
  return status;
}

class AccessMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>(60);
    for (int w = 0; w < kAnonymous; ++w) {
      clients_[w] = std::make_unique<Client>(server_->port());
      ASSERT_EQ(clients_[w]->login(kLogin[w], kDemoPassword).status, 200) << kLogin[w];
    }
    auto& st = server_->store();
    domain::Scope all;
    auto units = st.read([&](store::Conn& c) { return store::all_units(c, all); });
    ASSERT_TRUE(units.ok());
    for (const auto& u : *units) {
      if (u.id == server_->demo_unit()) own_ = u;
    }
    ASSERT_NE(own_.id, 0);
    // Another county's unit: outside the enterprise's, the township's and the county's scope.
    for (const auto& u : *units) {
      if (u.region.substr(0, 6) != own_.region.substr(0, 6)) {
        other_county_ = u;
        break;
      }
    }
    ASSERT_NE(other_county_.id, 0) << "the demo has units in one county only";
    // A unit outside the city (长沙市芙蓉区): outside every demo account's scope.
    outside_.uscc = "91430102MA4L0XXX0Y";
    outside_.name = "长沙域外测试有限公司";
    outside_.region = "430102000000";  // a county-level code: the regions table holds only those outside 株洲
    outside_.industry = own_.industry;
    outside_.size = 3;
    outside_.status = "active";
    outside_.created_at = outside_.updated_at = "2026-11-26T02:00:00Z";
    auto id = st.write([&](store::Conn& c) { return store::insert_unit(c, outside_); });
    ASSERT_TRUE(id.ok()) << id.error().message_en;
    outside_.id = *id;
    // A job started by the county statistician, for GET /api/v1/jobs/{id}.
    auto job = clients_[kCounty]->post_json("/api/v1/jobs/revalidate", {{"form", "B204-1"}, {"period", "2026M11"}});
    ASSERT_EQ(job.status, 202) << job.body;
    job_id_ = job.json_body()["id"];
    // A real template (the upload is parsed before the submission is resolved, so garbage would
    // be refused with 400 before the access check is reached).
    auto tpl = clients_[kCity]->get(fmt_sub(own_.id) + "/template.xlsx");
    ASSERT_EQ(tpl.status, 200);
    template_ = tpl.body;
    // A planned release of October (prepared and signed off by the routes in turn).
    auto rel = clients_[kPublisher]->post_json(
        "/api/v1/releases", {{"code", "ACCESS-1"}, {"title_zh", "访问测试"}, {"title_en", "Access test"},
                             {"release_at", "2026-12-15T09:30+08:00"}, {"form", "B204-1"}, {"period", "2026M10"},
                             {"tables", {{{"by", "county"}, {"indicators", {"I01"}}}}}});
    ASSERT_EQ(rel.status, 201) << rel.body;
    // A signing key of the enterprise's unit (to revoke), and a submission of each unit (whose
    // signature is asked for): the demo's October, or a stored one for units without it.
    auto key = clients_[kEnterprise]->post_json("/api/v1/units/" + std::to_string(own_.id) + "/keys",
                                                {{"public_key", base64(std::string(32, 's'))}});
    ASSERT_EQ(key.status, 201) << key.body;
    key_id_ = key.json_body()["key_id"];
    for (const auto* u : {&own_, &other_county_, &outside_}) {
      auto sub = st.write([&](store::Conn& c) -> Result<std::int64_t> {
        SG_ASSIGN_OR_RETURN(auto row, store::find_submission(c, all, u->id, "B204-1", "2026M10"));
        if (row) return row->id;
        store::SubmissionRow r;
        r.unit_id = u->id;
        r.form_code = "B204-1";
        r.form_version = 1;
        r.period = "2026M10";
        r.region = u->region;
        r.state = "accepted";
        r.version = 1;
        r.updated_at = "2026-11-10T02:00:00Z";
        return store::save_submission(c, r);
      });
      ASSERT_TRUE(sub.ok()) << sub.error().message_en;
      submission_of_[u->id] = *sub;
    }
  }
  void TearDown() override {
    if (server_) server_->jobs().wait_all();
  }

  static std::string fmt_sub(std::int64_t unit) {
    return "/api/v1/submissions/" + std::to_string(unit) + "/B204-1/2026M11";
  }
  const store::UnitRow& out_unit(int who) const {
    return who == kEnterprise || who == kTownship || who == kCounty ? other_county_ : outside_;
  }
  std::string out_region(int who) const {
    return who == kEnterprise || who == kTownship || who == kCounty ? other_county_.region.substr(0, 6) + "000000"
                                                                    : std::string("430100000000");
  }

  struct Call {
    std::string target, body, content_type;
  };

  Call request_for(const Entry& e, int who, bool in_scope) const {
    const store::UnitRow& unit = in_scope ? own_ : out_unit(who);
    std::string region = in_scope ? own_.region : out_region(who);
    std::string p = e.pattern;
    std::string m = e.method;
    Call c;
    c.target = replace_all(replace_all(replace_all(p, "{unit}", std::to_string(unit.id)), "{form}", "B204-1"),
                           "{period}", "2026M11");
    c.target = replace_all(c.target, "{code}", "B204-1");
    if (p.rfind("/api/v1/releases/{id}", 0) == 0) c.target = replace_all(c.target, "{id}", "ACCESS-1");
    // The demo's first 政务公开 document.
    c.target = replace_all(c.target, "{index_no}", "430200-2026-000001");
    if (p == "/api/v1/units/{id}") c.target = replace_all(c.target, "{id}", std::to_string(unit.id));
    if (p == "/api/v1/jobs/{id}") c.target = replace_all(c.target, "{id}", std::to_string(job_id_));
    if (p.rfind("/api/v1/units/{id}/keys", 0) == 0) {
      c.target = replace_all(replace_all(c.target, "{id}", std::to_string(unit.id)), "{key_id}", key_id_);
    }
    if (p == "/api/v1/submissions/{id}/signature") {
      c.target = replace_all(c.target, "{id}", std::to_string(submission_of_.at(unit.id)));
    }
    const std::string fp = "?form=B204-1&period=2026M11";
    if (p == "/api/v1/tasks") c.target += "?unit=" + std::to_string(unit.id);
    if (p == "/api/v1/units") c.target += "?limit=500";
    if (p == "/api/v1/monitor/progress") c.target += fp + "&by=region&region=" + region;
    if (p == "/api/v1/monitor/missing") c.target += fp + "&region=" + region;
    if ((p == "/api/v1/review/queue" || p == "/api/v1/reminders") && m == "GET") c.target += fp;
    // The summaries read the last closed month (the demo's accepted history).
    if (p == "/api/v1/summary" || p == "/api/v1/summary.xlsx") c.target += "?form=B204-1&period=2026M10&by=county";
    if (p == "/api/v1/summary/units") c.target += "?form=B204-1&period=2026M10&by=county&key=" + own_.region.substr(0, 6) + "000000";
    if (p == "/api/v1/summary/outliers") c.target += "?form=B204-1&period=2026M10&indicator=I01";
    json body;
    if (p == "/api/v1/auth/login") {
      body = {{"login", kLogin[who == kAnonymous ? kEnterprise : who]}, {"password", kDemoPassword}};
    } else if (p.find("/validate") != std::string::npos || p.find("/draft") != std::string::npos ||
               p.find("/submit") != std::string::npos) {
      body = {{"values", json::object()}};
    } else if (p.find("/review") != std::string::npos && p.find("{unit}") != std::string::npos) {
      body = {{"action", "approve"}, {"version", 1}};
    } else if (p.find("/revise") != std::string::npos) {
      body = {{"values", json::object()}, {"reason", "修订测试"}, {"version", 1}};
    } else if (p == "/api/v1/review/bulk") {
      body = {{"form", "B204-1"}, {"period", "2026M11"}, {"units", {own_.id}}};
    } else if (p == "/api/v1/reminders" && m == "POST") {
      body = {{"form", "B204-1"}, {"period", "2026M11"}, {"region", region}};
    } else if (p == "/api/v1/jobs/revalidate") {
      body = {{"form", "B204-1"}, {"period", "2026M11"}};
    } else if (p == "/api/v1/forms" && m == "POST") {
      body = json::object();  // refused as a form definition (400) once the role is allowed
    } else if (p == "/api/v1/units/{id}" && m == "PATCH") {
      body = {{"status", "active"}};
    } else if (p == "/api/v1/units/{id}/keys" && m == "POST") {
      body = {{"public_key", base64(std::string(32, 'k'))}, {"label", "access matrix"}};
    } else if (p == "/api/v1/me/totp/confirm" || p == "/api/v1/me/totp/disable") {
      body = {{"code", "x"}};  // refused as malformed (400) once the role is allowed
    }
    if (p == "/api/v1/releases/{id}/signoff") body = {{"password", kDemoPassword}};
    if ((p == "/api/v1/releases" || p == "/api/v1/documents") && m == "POST") body = json::object();  // 400 once allowed
    if ((p == "/api/v1/releases/{id}" || p == "/api/v1/documents/{index_no}") && m == "PATCH") body = json::object();
    if (!body.is_null()) {
      c.body = body.dump();
      c.content_type = "application/json";
    }
    if (p.find("/upload") != std::string::npos) {
      c.body = template_;
      c.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    }
    if (p == "/api/v1/units/import") {
      c.body = "统一社会信用代码,单位名称,区划代码,行业代码,规模\n";
      c.content_type = "text/csv";
    }
    return c;
  }

  HttpResult perform(const Entry& e, int who, const Call& c) {
    std::map<std::string, std::string> headers;
    if (!c.content_type.empty()) headers["Content-Type"] = c.content_type;
    if ((std::string(e.pattern) == "/api/v1/auth/logout" || std::string(e.pattern) == "/api/v1/auth/logout-all") &&
        who != kAnonymous) {
      // Logging out ends the session: use a fresh one.
      Client fresh(server_->port());
      EXPECT_EQ(fresh.login(kLogin[who], kDemoPassword).status, 200);
      auto r = fresh.send(e.method, c.target, c.body, headers);
      // logout-all also ends the role's main session: log it in again for the routes that follow.
      EXPECT_EQ(clients_[who]->login(kLogin[who], kDemoPassword).status, 200);
      return r;
    }
    if (who == kAnonymous) return http_request(server_->port(), e.method, c.target, c.body, headers);
    if (std::string(e.method) == "GET") return clients_[who]->get(c.target);
    return clients_[who]->send(e.method, c.target, c.body, headers);
  }

  std::unique_ptr<TestServer> server_;
  std::array<std::unique_ptr<Client>, kAnonymous> clients_;
  store::UnitRow own_, other_county_, outside_;
  std::int64_t job_id_ = 0;
  std::string template_;
  std::string key_id_;
  std::map<std::int64_t, std::int64_t> submission_of_;  // unit id -> a submission id
};

bool is_scope_404(const HttpResult& r) {
  return r.status == 404 && (r.error_code() == "UNIT_NOT_FOUND" || r.error_code() == "JOB_NOT_FOUND");
}

TEST_F(AccessMatrix, EveryRouteHasAnEntry) {
  std::set<std::pair<std::string, std::string>> table, routes;
  for (const auto& e : matrix()) {
    EXPECT_TRUE(table.emplace(e.method, e.pattern).second) << "duplicate entry " << e.method << " " << e.pattern;
    auto w = words(e.expect);
    ASSERT_EQ(w.size(), static_cast<std::size_t>(kWhoCount)) << e.method << " " << e.pattern;
    for (const auto& x : w) {
      EXPECT_EQ(x.size(), e.scoped == Scoped::no ? 1u : 2u) << e.method << " " << e.pattern;
      EXPECT_EQ(x.find_first_not_of("AD"), std::string::npos) << e.method << " " << e.pattern;
    }
  }
  for (const auto& r : server_->router().routes()) {
    routes.emplace(r.method, r.pattern);
    EXPECT_TRUE(table.count({r.method, r.pattern}))
        << "new route without an access entry: " << r.method << " " << r.pattern
        << " (add it to matrix() in tests/access_matrix_test.cpp)";
  }
  for (const auto& t : table) {
    EXPECT_TRUE(routes.count(t)) << "access entry for a route the router does not have: " << t.first << " " << t.second;
  }
}

TEST_F(AccessMatrix, EveryRouteAsEveryRoleInAndOutOfScope) {
  int calls = 0, failures = 0;
  for (const auto& r : server_->router().routes()) {
    const Entry* e = nullptr;
    for (const auto& x : matrix()) {
      if (r.method == x.method && r.pattern == x.pattern) e = &x;
    }
    if (!e) continue;  // reported by EveryRouteHasAnEntry
    auto expect = words(e->expect);
    for (int who = 0; who < kWhoCount; ++who) {
      for (std::size_t k = 0; k < expect[static_cast<std::size_t>(who)].size(); ++k) {
        bool in_scope = k == 0;
        bool allow = expect[static_cast<std::size_t>(who)][k] == 'A';
        std::string what = std::string(e->method) + " " + e->pattern + " as " + kWhoName[static_cast<std::size_t>(who)] +
                           (e->scoped == Scoped::no ? "" : in_scope ? " (in scope)" : " (out of scope)");
        ++calls;
        if (std::string(e->pattern) == "/api/v1/events") {
          int status = stream_status(server_->port(), who == kAnonymous ? "" : clients_[who]->cookie());
          bool ok = allow ? status == 200 : (who == kAnonymous ? status == 401 : status == 403);
          if (!ok) ++failures;
          EXPECT_TRUE(ok) << what << ": expected " << (allow ? "allow" : "deny") << ", got " << status;
          continue;
        }
        Call c = request_for(*e, who, in_scope);
        auto res = perform(*e, who, c);
        SCOPED_TRACE(what + " -> " + std::to_string(res.status) + " " + res.body.substr(0, 300));
        bool ok = true;
        EXPECT_LT(res.status, 500) << "server error";
        ok = ok && res.status < 500;
        if (allow) {
          bool denied = res.status == 401 || res.status == 403 || is_scope_404(res);
          EXPECT_FALSE(denied) << "expected allow";
          ok = ok && !denied;
          EXPECT_TRUE(res.status >= 200 && res.status < 500) << "expected allow";
          // An allowed answer never carries the caller's out-of-scope unit.
          if (who != kAnonymous) {
            const auto& out = out_unit(who);
            bool leak = res.body.find(out.uscc) != std::string::npos ||
                        res.body.find("\"unit_id\":" + std::to_string(out.id) + ",") != std::string::npos;
            EXPECT_FALSE(leak) << "answer carries out-of-scope unit " << out.id;
            ok = ok && !leak;
          }
        } else if (who == kAnonymous) {
          EXPECT_EQ(res.status, 401) << "expected 401";
          ok = ok && res.status == 401;
        } else {
          bool denied = res.status == 403 || is_scope_404(res);
          EXPECT_TRUE(denied) << "expected deny (403, or 404 UNIT_NOT_FOUND/JOB_NOT_FOUND out of scope)";
          ok = ok && denied;
        }
        if (res.status >= 400) {
          auto j = res.json_body();
          bool standard = j.is_object() && j.contains("error") && j["error"].contains("code") &&
                          j["error"].contains("message") && j["error"].contains("message_en");
          EXPECT_TRUE(standard) << "error without the standard error body";
          ok = ok && standard;
        }
        if (!ok) ++failures;
      }
    }
  }
  std::printf("[access] %d calls over %zu routes x %d callers, %d unexpected\n", calls,
              server_->router().routes().size(), static_cast<int>(kWhoCount), failures);
  EXPECT_GT(calls, 300);
}

}  // namespace
}  // namespace statgov::testing
