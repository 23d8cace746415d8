// The OpenAPI document and the router describe the same API: every route is documented and every
// documented operation is routed.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <set>

namespace statgov::testing {
namespace {

TEST(OpenApi, MatchesTheRouter) {
  TestServer server(0);
  auto r = http_request(server.port(), "GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = r.json_body();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::string> documented;
  for (auto it = doc["paths"].begin(); it != doc["paths"].end(); ++it) {
    for (auto m = it.value().begin(); m != it.value().end(); ++m) {
      std::string method = m.key();
      for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      documented.insert(method + " " + it.key());
    }
  }
  std::set<std::string> routed;
  for (const auto& route : server.router().routes()) routed.insert(route.method + " " + route.pattern);
  EXPECT_EQ(routed, documented);
  // Probe each documented operation: a routed one never answers 404 NOT_FOUND/405 from the router.
  for (const auto& op : documented) {
    auto sp = op.find(' ');
    std::string method = op.substr(0, sp), path = op.substr(sp + 1);
    for (auto [from, to] : {std::pair{"{unit}", "1"}, {"{form}", "B204-1"}, {"{period}", "2026M11"},
                            {"{code}", "B204-1"}, {"{id}", "1"}}) {
      auto at = path.find(from);
      if (at != std::string::npos) path.replace(at, std::string(from).size(), to);
    }
    auto res = http_request(server.port(), method, path);
    EXPECT_NE(res.error_code(), "NOT_FOUND") << op;
    EXPECT_NE(res.error_code(), "METHOD_NOT_ALLOWED") << op;
  }
  EXPECT_GE(documented.size(), 20u);
}

}  // namespace
}  // namespace statgov::testing
