#include "http/forwarded.hpp"
#include "http/http.hpp"
#include "http/raw_exchange_test_util.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>

namespace statgov::http {
namespace {

TrustedProxies proxies(std::string_view list) {
  auto t = TrustedProxies::parse(list);
  EXPECT_TRUE(t.ok()) << list;
  return t.ok() ? std::move(t).value() : TrustedProxies{};
}

TEST(TrustedProxies, ParsesRangesAndRefusesBadOnes) {
  for (const char* good : {"127.0.0.1", "10.0.0.0/8", "10.0.0.0/8, 192.168.1.0/24", "::1", "fd00::/8", "0.0.0.0/0",
                           "10.1.2.3/32,::/0"}) {
    EXPECT_TRUE(TrustedProxies::parse(good).ok()) << good;
  }
  for (const char* bad : {"", ",", "10.0.0.0/8,", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x",
                          "10.0.0/8", "300.0.0.1", "localhost", "10.0.0.1/8/8", "fe80::1%eth0", "10.0.0.1 10.0.0.2"}) {
    auto t = TrustedProxies::parse(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().code, "BAD_CIDR");
    EXPECT_NE(t.error().message_en.find("--trusted-proxy"), std::string::npos);
    EXPECT_NE(t.error().message.find("地址范围无效"), std::string::npos);
  }
}

TEST(TrustedProxies, MatchesPrefixes) {
  auto t = proxies("10.0.0.0/8,192.168.1.128/25,fd00::/8");
  auto a = [](const char* s) { return boost::asio::ip::make_address(s); };
  EXPECT_TRUE(t.trusted(a("10.255.0.1")));
  EXPECT_FALSE(t.trusted(a("11.0.0.1")));
  EXPECT_TRUE(t.trusted(a("192.168.1.200")));
  EXPECT_FALSE(t.trusted(a("192.168.1.127")));
  EXPECT_TRUE(t.trusted(a("fd12::1")));
  EXPECT_FALSE(t.trusted(a("fe80::1")));
  EXPECT_TRUE(t.trusted(a("::ffff:10.1.1.1"))) << "an IPv4-mapped peer matches its IPv4 range";
  EXPECT_FALSE(t.trusted(a("::a01:101"))) << "an IPv6 address is not an IPv4 one";
}

TEST(TrustedProxies, ClientAddressFromTheHeaderOnlyThroughTrustedPeers) {
  auto t = proxies("127.0.0.1,10.0.0.0/8");
  using V = std::vector<std::string_view>;
  // An untrusted peer: the header is ignored, whatever it says.
  EXPECT_EQ(t.client_address("203.0.113.9", V{"1.2.3.4"}), "203.0.113.9");
  // A trusted peer: the right-most address that is not a trusted proxy.
  EXPECT_EQ(t.client_address("127.0.0.1", V{"198.51.100.7"}), "198.51.100.7");
  EXPECT_EQ(t.client_address("127.0.0.1", V{"198.51.100.7, 10.0.0.5"}), "198.51.100.7");
  // The client forged an entry on the left: the proxy appended the real one on the right.
  EXPECT_EQ(t.client_address("127.0.0.1", V{"6.6.6.6, 198.51.100.7"}), "198.51.100.7");
  // Several header fields are one list.
  EXPECT_EQ(t.client_address("10.0.0.2", V{"6.6.6.6", "198.51.100.7, 10.0.0.9"}), "198.51.100.7");
  // Only proxies in the chain: the left-most of them.
  EXPECT_EQ(t.client_address("127.0.0.1", V{"10.0.0.3, 10.0.0.4"}), "10.0.0.3");
  EXPECT_EQ(t.client_address("127.0.0.1", V{}), "127.0.0.1") << "no header: the peer";
  EXPECT_EQ(t.client_address("127.0.0.1", V{" 2001:db8::1 "}), "2001:db8::1");
  EXPECT_EQ(t.client_address("::ffff:127.0.0.1", V{"198.51.100.7"}), "198.51.100.7");
  // Malformed values: the peer, never a crash or a part of the value.
  const std::string huge(100000, '1');
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "198.51.100.7,";
  for (std::string_view bad : {std::string_view(""), std::string_view("unknown"), std::string_view("198.51.100.7:443"),
                               std::string_view("[2001:db8::1]"), std::string_view("198.51.100.7,,"),
                               std::string_view("1.2.3.4, garbage"), std::string_view("\xff\xfe"),
                               std::string_view("198.51.100.7\0x", 14), std::string_view(huge), std::string_view(many)}) {
    EXPECT_EQ(t.client_address("127.0.0.1", V{bad}), "127.0.0.1") << bad.substr(0, 40);
  }
  // No trusted proxies configured: always the peer.
  EXPECT_EQ(TrustedProxies{}.client_address("127.0.0.1", V{"198.51.100.7"}), "127.0.0.1");
}


// One GET on a fresh connection with an optional X-Forwarded-For; returns the raw response.
std::string get_from(unsigned short port, const std::string& xff) {
  std::string req = "GET /api/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!xff.empty()) req += "X-Forwarded-For: " + xff + "\r\n";
  return testing::raw_exchange(port, req + "\r\n");
}

// The server applies it: the handler's remote_ip and the per-address rate limit (burst 2 here).
TEST(TrustedProxies, ServerUsesTheForwardedClientOnlyFromTrustedPeers) {
  Router r;
  r.add("GET", "/api/whoami", [](Request& q) { return Response::json(200, {{"ip", q.remote_ip}}); });
  auto serve = [&](const char* trusted) {
    ServerOptions o{"127.0.0.1", 0, 2, 1024, "", "/api/", false, 0.001, 2};
    o.trusted_proxies = proxies(trusted);
    return std::make_unique<Server>(r, o);
  };
  {
    // The test's connections come from 127.0.0.1, a trusted proxy here.
    auto s = serve("127.0.0.1/32");
    ASSERT_FALSE(s->start());
    EXPECT_NE(get_from(s->port(), "198.51.100.7").find("\"ip\":\"198.51.100.7\""), std::string::npos);
    EXPECT_NE(get_from(s->port(), "198.51.100.7").find("200 OK"), std::string::npos);
    EXPECT_NE(get_from(s->port(), "198.51.100.7").find(" 429 "), std::string::npos) << "the third from one client is limited";
    // Another client behind the same proxy has its own budget.
    EXPECT_NE(get_from(s->port(), "198.51.100.8").find("\"ip\":\"198.51.100.8\""), std::string::npos);
    // A malformed header counts as the proxy itself.
    EXPECT_NE(get_from(s->port(), "not-an-address").find("\"ip\":\"127.0.0.1\""), std::string::npos);
    s->stop();
    s->wait();
  }
  {
    // 127.0.0.1 is not trusted: a forged header changes nothing, so rotating it does not escape the limit.
    auto s = serve("10.0.0.0/8");
    ASSERT_FALSE(s->start());
    EXPECT_NE(get_from(s->port(), "198.51.100.7").find("\"ip\":\"127.0.0.1\""), std::string::npos);
    EXPECT_NE(get_from(s->port(), "198.51.100.8").find("200 OK"), std::string::npos);
    EXPECT_NE(get_from(s->port(), "198.51.100.9").find(" 429 "), std::string::npos);
    s->stop();
    s->wait();
  }
}

}  // namespace
}  // namespace statgov::http
