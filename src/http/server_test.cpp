#include <utility>

#include "http/http.hpp"
#include "http/raw_exchange_test_util.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

namespace statgov::http {
namespace {

// One request on a fresh connection; returns the raw response.
std::string raw(unsigned short port, const std::string& request) { return testing::raw_exchange(port, request); }

std::string get(unsigned short port, const std::string& path) {
  return raw(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

TEST(HttpServer, RoutesParamsAndErrors) {
  Router r;
  r.add("GET", "/api/v1/things/{id}", [](Request& q) { return Response::json(200, {{"id", q.params["id"]}, {"q", q.query["q"]}}); });
  Server s(r, ServerOptions{"127.0.0.1", 0, 2, 1024, "", "/api/", false, 0, 0});
  ASSERT_FALSE(s.start());
  auto ok = get(s.port(), "/api/v1/things/42?q=%E4%B8%AD+x");
  EXPECT_NE(ok.find("200 OK"), std::string::npos);
  EXPECT_NE(ok.find(R"("id":"42")"), std::string::npos);
  EXPECT_NE(ok.find(R"("q":"中 x")"), std::string::npos);
  EXPECT_NE(ok.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  EXPECT_NE(ok.find("X-Content-Type-Options: nosniff"), std::string::npos);
  EXPECT_NE(get(s.port(), "/api/v1/nothing").find("404 Not Found"), std::string::npos);
  EXPECT_NE(raw(s.port(), "POST /api/v1/things/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("405"),
            std::string::npos);
  auto big = raw(s.port(), "POST /api/v1/things/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" +
                               std::string(5000, 'x'));
  EXPECT_NE(big.find("413"), std::string::npos);
  EXPECT_NE(raw(s.port(), "NONSENSE\r\n\r\n").find("400 Bad Request"), std::string::npos);
}

// Router::match: the first route whose segments and method fit wins; parameters come only from
// that route; a path known for another method is 405, an unknown one 404; HEAD takes a GET route.
TEST(Router, MatchTakesParametersFromTheMatchingRouteOnly) {
  Router r;
  auto echo = [](std::string tag) {
    return [tag](Request& q) {
      nlohmann::json p = nlohmann::json::object();
      for (const auto& [k, v] : q.params) p[k] = v;
      return Response::json(200, {{"route", tag}, {"params", p}});
    };
  };
  r.add("GET", "/api/v1/units/{id}/forms/{code}", echo("form"));
  r.add("POST", "/api/v1/units/{unit}/forms/{form}/periods/{period}/submit", echo("submit"));
  r.add("GET", "/api/v1/units/mine/forms/{code}/periods/{period}/x", echo("literal"));
  r.add("GET", "/api/v1/units/{id}/forms/{code}/periods/{period}/x", echo("param"));
  auto call = [&](std::string method, std::string path) {
    Request q;
    q.method = std::move(method);
    q.path = std::move(path);
    auto resp = r.dispatch(q);
    return std::make_pair(resp.status, resp.status == 200 ? nlohmann::json::parse(resp.body) : nlohmann::json());
  };
  auto [st, body] = call("POST", "/api/v1/units/17/forms/B204-1/periods/2025M09/submit");
  EXPECT_EQ(st, 200);
  EXPECT_EQ(body["route"], "submit");
  EXPECT_EQ(body["params"], (nlohmann::json{{"unit", "17"}, {"form", "B204-1"}, {"period", "2025M09"}}));
  std::tie(st, body) = call("GET", "/api/v1/units/mine/forms/F/periods/P/x");
  EXPECT_EQ(body["route"], "literal");
  EXPECT_EQ(body["params"], (nlohmann::json{{"code", "F"}, {"period", "P"}}));
  std::tie(st, body) = call("GET", "/api/v1/units/9/forms/F/periods/P/x");
  EXPECT_EQ(body["route"], "param");
  EXPECT_EQ(body["params"], (nlohmann::json{{"id", "9"}, {"code", "F"}, {"period", "P"}}));
  std::tie(st, body) = call("HEAD", "//api/v1/units/5/forms/G/");
  EXPECT_EQ(st, 200);
  EXPECT_EQ(body["params"], (nlohmann::json{{"id", "5"}, {"code", "G"}}));
  EXPECT_EQ(call("GET", "/api/v1/units/17/forms/B204-1/periods/2025M09/submit").first, 405);
  EXPECT_EQ(call("GET", "/api/v1/units/17/forms").first, 404);
  EXPECT_EQ(call("GET", "/api/v1/units/17/forms/F/periods/P/y").first, 404);
  EXPECT_EQ(call("GET", "/").first, 404);
}

// POST /api/v1/later/9 through Router::dispatch, answered 201 {"id":"9"} from another thread.
Response expect_dispatched_later_9(const Router& r) {
  Request q;
  q.method = "POST";
  q.path = "/api/v1/later/9";
  auto resp = r.dispatch(q);
  EXPECT_EQ(resp.status, 201);
  EXPECT_EQ(resp.body, R"({"id":"9"})");
  return resp;
}

TEST(HttpServer, AsyncRoutesAnswerFromAnotherThread) {
  Router r;
  std::vector<std::thread> workers;
  std::mutex mu;
  // Answered later from a thread of its own, as the store's writer answers a submit.
  r.add_async(
      "POST", "/api/v1/later/{id}",
      [&](Request& q, Respond respond) {
        std::string id = q.params["id"];
        std::lock_guard lock(mu);
        workers.emplace_back([id, respond] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          respond(Response::json(201, {{"id", id}}));
        });
      },
      RunOn::io_thread);
  // Answered at once, on the pool.
  r.add_async("GET", "/api/v1/now", [](Request&, Respond respond) { respond(Response::json(200, {{"now", true}})); },
              RunOn::pool);
  {
    Server s(r, ServerOptions{"127.0.0.1", 0, 2, 1024, "", "/api/", false, 0, 0});
    ASSERT_FALSE(s.start());
    auto later = raw(s.port(), "POST /api/v1/later/7 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_NE(later.find("201 Created"), std::string::npos) << later;
    EXPECT_NE(later.find(R"({"id":"7"})"), std::string::npos) << later;
    auto now = get(s.port(), "/api/v1/now");
    EXPECT_NE(now.find("200 OK"), std::string::npos) << now;
    EXPECT_NE(now.find(R"({"now":true})"), std::string::npos) << now;
    EXPECT_NE(get(s.port(), "/api/v1/later/7").find("405"), std::string::npos);
  }
  for (auto& t : workers) t.join();
  // Router::dispatch waits for an asynchronous answer.
  expect_dispatched_later_9(r);
  for (auto& t : workers) {
    if (t.joinable()) t.join();
  }
}

TEST(HttpServer, ResponseLaterIsMadeOffTheAnsweringThread) {
  Router r;
  std::vector<std::thread> workers;
  std::mutex mu;
  std::thread::id answered_on, made_on;
  // Answered from a thread of its own (as the store's writer answers a submit), with the body
  // left to be made by the thread that writes the response.
  r.add_async(
      "POST", "/api/v1/later/{id}",
      [&](Request& q, Respond respond) {
        std::string id = q.params["id"];
        std::lock_guard lock(mu);
        workers.emplace_back([&, id, respond] {
          {
            std::lock_guard l(mu);
            answered_on = std::this_thread::get_id();
          }
          respond(Response::later([&, id] {
            std::lock_guard l(mu);
            made_on = std::this_thread::get_id();
            if (id == "boom") throw std::runtime_error("boom");
            auto resp = Response::json(201, {{"id", id}});
            resp.headers.emplace_back("X-Made", "later");
            return resp;
          }));
        });
      },
      RunOn::io_thread);
  {
    Server s(r, ServerOptions{"127.0.0.1", 0, 2, 1024, "", "/api/", false, 0, 0});
    ASSERT_FALSE(s.start());
    auto later = raw(s.port(), "POST /api/v1/later/7 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_NE(later.find("201 Created"), std::string::npos) << later;
    EXPECT_NE(later.find("X-Made: later"), std::string::npos) << later;
    EXPECT_NE(later.find(R"({"id":"7"})"), std::string::npos) << later;
    {
      std::lock_guard lock(mu);
      EXPECT_NE(made_on, std::thread::id());
      EXPECT_NE(made_on, answered_on);
    }
    // A maker that throws is a 500 with the usual error body, and the server goes on.
    auto boom = raw(s.port(), "POST /api/v1/later/boom HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_NE(boom.find("500 Internal Server Error"), std::string::npos) << boom;
    EXPECT_NE(boom.find(R"("code":"INTERNAL")"), std::string::npos) << boom;
    for (auto& t : workers) t.join();
    workers.clear();
  }
  // Router::dispatch makes it too.
  EXPECT_FALSE(expect_dispatched_later_9(r).make);
  for (auto& t : workers) t.join();
}

TEST(HttpServer, RateLimitPerAddress) {
  Router r;
  r.add("GET", "/api/ping", [](Request&) { return Response::json(200, {{"ok", true}}); });
  Server s(r, ServerOptions{"127.0.0.1", 0, 2, 1024, "", "/api/", false, 0.5, 3});
  ASSERT_FALSE(s.start());
  int ok = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto res = get(s.port(), "/api/ping");
    if (res.find("200 OK") != std::string::npos) ++ok;
    if (res.find("429") != std::string::npos) {
      ++limited;
      EXPECT_NE(res.find("Retry-After"), std::string::npos);
      EXPECT_NE(res.find("RATE_LIMITED"), std::string::npos);
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 3);
}

TEST(HttpServer, StaticFilesStayInsideTheRootAndHideDotfiles) {
  auto root = std::filesystem::temp_directory_path() / ("sg-static-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "assets");
  std::ofstream(root / "index.html") << "<html>app</html>";
  std::ofstream(root / "assets" / "a.js") << "console.log(1)";
  std::ofstream(root / ".env") << "SECRET=1";
  std::ofstream(root.parent_path() / "sg-outside.txt") << "outside";
  Router r;
  Server s(r, ServerOptions{"127.0.0.1", 0, 2, 1024, root.string(), "/api/", false, 0, 0});
  ASSERT_FALSE(s.start());
  EXPECT_NE(get(s.port(), "/assets/a.js").find("console.log"), std::string::npos);
  EXPECT_NE(get(s.port(), "/console/monitor").find("<html>app"), std::string::npos) << "single-page app fallback";
  EXPECT_EQ(get(s.port(), "/.env").find("SECRET"), std::string::npos);
  EXPECT_EQ(get(s.port(), "/../sg-outside.txt").find("outside"), std::string::npos);
  EXPECT_EQ(get(s.port(), "/%2e%2e/sg-outside.txt").find("outside"), std::string::npos);
  EXPECT_NE(get(s.port(), "/assets/missing.js").find("404"), std::string::npos);
  std::filesystem::remove_all(root);
  std::filesystem::remove(root.parent_path() / "sg-outside.txt");
}

TEST(ErrorResponse, OneMappingFromKindToStatus) {
  const std::pair<ErrorKind, int> want[] = {
      {ErrorKind::invalid, 400},       {ErrorKind::unauthenticated, 401}, {ErrorKind::forbidden, 403},
      {ErrorKind::not_found, 404},     {ErrorKind::conflict, 409},        {ErrorKind::too_large, 413},
      {ErrorKind::unprocessable, 422}, {ErrorKind::throttled, 429},       {ErrorKind::internal, 500},
      {ErrorKind::unavailable, 503}};
  for (const auto& [kind, status] : want) {
    Error e = make_error(kind, "SOME_CODE", "中文说明", "English text");
    Response r = Response::from_error(e);
    EXPECT_EQ(r.status, status);
    auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["error"]["code"], "SOME_CODE");
    EXPECT_EQ(body["error"]["message"], "中文说明");
    EXPECT_EQ(body["error"]["message_en"], "English text");
    bool retry_after = false;
    for (const auto& [k, v] : r.headers) retry_after = retry_after || (k == "Retry-After" && v == "30");
    EXPECT_EQ(retry_after, kind == ErrorKind::unavailable) << status;
  }
}

}  // namespace
}  // namespace statgov::http
