// TLS in `serve` and staff identity by client certificate (issue #7, docs/tls-ca.md): a CA made
// with the real code in a temp folder, a TestServer terminating TLS with it, and a small Asio ssl
// client that can present a client certificate. The `statgov ca` commands: ca_cli_test.cpp.
#include <utility>

#include "harness.hpp"

#include "security/ca.hpp"
#include "store/repos.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

namespace statgov::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

fs::path fresh_dir(const std::string& what) {
  std::random_device rd;
  auto d = fs::temp_directory_path() / ("statgov-" + what + "-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(d);
  return d;
}

// One TLS connection to the test server; requests go over it one after another (keep-alive).
class TlsConnection {
 public:
  // cert/key empty: no client certificate. The server certificate is checked against ca_file and
  // the name "localhost", as a browser would.
  TlsConnection(unsigned short port, const fs::path& ca_file, const std::string& cert = "", const std::string& key = "")
      : ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(ca_file.string());
    if (!cert.empty()) {
      ctx_.use_certificate_chain_file(cert);
      ctx_.use_private_key_file(key, ssl::context::pem);
    }
    // NOTE: after the context is complete: a stream copies the certificate when it is made.
    stream_ = std::make_unique<ssl::stream<tcp::socket>>(ioc_, ctx_);
    stream_->set_verify_mode(ssl::verify_peer);
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
    stream_->next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    stream_->handshake(ssl::stream_base::client);
  }

  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) {
    return exchange(*stream_, buf_, method, target, body, headers, "localhost", true);
  }

 private:
  asio::io_context ioc_;
  ssl::context ctx_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;
  beast::flat_buffer buf_;
};

std::string cookie_of(const HttpResult& r) {
  auto sc = r.headers.count("set-cookie") ? r.headers.at("set-cookie") : "";
  auto start = sc.find("sg_session=");
  if (start == std::string::npos) return "";
  return sc.substr(start, sc.find(';', start) - start);
}

std::string login_body(const std::string& login) {
  return json{{"login", login}, {"password", kDemoPassword}}.dump();
}

// The bureau's CA, a server certificate for localhost and client certificates for the demo's
// staff, made once for the suite with the code `statgov ca` runs.
class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("tls").string();
    ca_ = dir_ + "/ca";
    certs_ = dir_ + "/certs";
    ASSERT_TRUE(security::ca_init(ca_, "株洲市统计局 CA", 30).ok());
    ASSERT_TRUE(security::ca_issue_server(ca_, {"localhost", "127.0.0.1"}, 30, "").ok());
    for (const char* login : {"demo-shi", "demo-quxian", "demo-qiye"}) {
      auto r = security::ca_issue_client(ca_, login, 30, certs_, "p12-secret");
      ASSERT_TRUE(r.ok()) << r.error().message_en;
      serials_[login] = r->entry.serial;
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static TestTls tls_options(services::StaffAuth mode, bool client_ca = true) {
    TestTls t;
    t.tls.cert_file = ca_ + "/server.pem";
    t.tls.key_file = ca_ + "/server.key";
    if (client_ca) {
      t.tls.client_ca_file = ca_ + "/ca.pem";
      t.tls.crl_file = ca_ + "/crl.pem";
    }
    t.tls.handshake_timeout = std::chrono::seconds(1);
    t.staff_auth = mode;
    return t;
  }
  static std::string cert(const std::string& login) { return certs_ + "/" + login + ".pem"; }
  static std::string key(const std::string& login) { return certs_ + "/" + login + ".key"; }
  static fs::path ca_pem() { return ca_ + "/ca.pem"; }

  // The last audit entry with this action, or null.
  static json last_audit(TestServer& s, const std::string& action) {
    auto rows = s.audit(action);
    return rows.empty() ? json(nullptr) : json::parse(rows.back().detail, nullptr, false);
  }

  static inline std::string dir_, ca_, certs_;
  static inline std::map<std::string, std::string> serials_;
};

TEST_F(Tls, CertModeStaffLoginWithTheRightCertificateWorksAndIsAudited) {
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  TlsConnection c(s.port(), ca_pem(), cert("demo-shi"), key("demo-shi"));
  auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["user"]["login"], "demo-shi");
  EXPECT_NE(r.headers["set-cookie"].find("Secure"), std::string::npos) << "cookies over TLS are Secure";
  EXPECT_EQ(r.headers["strict-transport-security"], "max-age=31536000; includeSubDomains");
  auto audit = last_audit(s, "login");
  EXPECT_EQ(audit["cert_serial"], serials_["demo-shi"]);
  EXPECT_EQ(audit["method"], "password");
  // Later requests of the session with the same certificate.
  auto me = c.request("GET", "/api/v1/me", "", {{"Cookie", cookie_of(r)}});
  EXPECT_EQ(me.status, 200) << me.body;
  // The certificate alone is the credential in this mode.
  TlsConnection c2(s.port(), ca_pem(), cert("demo-shi"), key("demo-shi"));
  auto cl = c2.request("POST", "/api/v1/auth/cert-login");
  ASSERT_EQ(cl.status, 200) << cl.body;
  EXPECT_EQ(cl.json_body()["user"]["login"], "demo-shi");
  EXPECT_EQ(last_audit(s, "login")["method"], "cert");
  auto units = c2.request("GET", "/api/v1/units?limit=5", "", {{"Cookie", cookie_of(cl)}});
  EXPECT_EQ(units.status, 200) << units.body;
}

// The login page asks the server what to offer: the staff mode and the certificate this connection
// presented (web/src/views/LoginView.vue shows the certificate button from it).
TEST_F(Tls, LoginMethodsTellTheModeAndThePresentedCertificate) {
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  TlsConnection with(s.port(), ca_pem(), cert("demo-shi"), key("demo-shi"));
  auto m = with.request("GET", "/api/v1/auth/methods");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.json_body()["staff"], "cert");
  EXPECT_EQ(m.json_body()["certificate"]["state"], "verified");
  EXPECT_EQ(m.json_body()["certificate"]["cn"], "demo-shi");
  EXPECT_EQ(m.headers["cache-control"], "no-store");
  TlsConnection without(s.port(), ca_pem());
  auto n = without.request("GET", "/api/v1/auth/methods");
  ASSERT_EQ(n.status, 200) << n.body;
  EXPECT_EQ(n.json_body()["certificate"]["state"], "none");
  EXPECT_FALSE(n.json_body()["certificate"].contains("cn"));
  // The mixed mode.
  TestServer p(20, {}, tls_options(services::StaffAuth::password_and_cert));
  TlsConnection c(p.port(), ca_pem(), cert("demo-quxian"), key("demo-quxian"));
  EXPECT_EQ(c.request("GET", "/api/v1/auth/methods").json_body()["staff"], "password+cert");
  // Plain password mode over plain HTTP.
  TestServer plain(20);
  auto q = http_request(plain.port(), "GET", "/api/v1/auth/methods");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.json_body()["staff"], "password");
  EXPECT_EQ(q.json_body()["certificate"]["state"], "none");
}

TEST_F(Tls, CertModeStaffWithoutCertificateIsRefused) {
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  TlsConnection c(s.port(), ca_pem());
  auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "CERT_REQUIRED");
  auto err = r.json_body()["error"];
  EXPECT_FALSE(err["message"].get<std::string>().empty());
  EXPECT_NE(err["message_en"].get<std::string>().find("certificate"), std::string::npos);
  EXPECT_TRUE(cookie_of(r).empty());
  EXPECT_EQ(last_audit(s, "login_cert_refused")["cert"], "none");
  auto cl = c.request("POST", "/api/v1/auth/cert-login");
  EXPECT_EQ(cl.status, 401);
  EXPECT_EQ(cl.error_code(), "CERT_REQUIRED");
  // The refusal comes before the password check: a wrong password gets the same answer.
  auto wrong = c.request("POST", "/api/v1/auth/login", json{{"login", "demo-shi"}, {"password", "nope-nope"}}.dump());
  EXPECT_EQ(wrong.error_code(), "CERT_REQUIRED");
}

TEST_F(Tls, CertificateOfAnotherLoginIsRefused) {
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  TlsConnection c(s.port(), ca_pem(), cert("demo-quxian"), key("demo-quxian"));
  auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "CERT_REQUIRED");
  EXPECT_EQ(r.json_body()["error"]["details"][0]["certificate_cn"], "demo-quxian");
  // The same certificate logs in its own account, and that session cannot be used as another.
  auto own = c.request("POST", "/api/v1/auth/cert-login");
  ASSERT_EQ(own.status, 200);
  EXPECT_EQ(own.json_body()["user"]["login"], "demo-quxian");
}

TEST_F(Tls, StolenCookieWithoutTheCertificateIsRefused) {
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  std::string cookie;
  {
    TlsConnection c(s.port(), ca_pem(), cert("demo-shi"), key("demo-shi"));
    auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
    ASSERT_EQ(r.status, 200);
    cookie = cookie_of(r);
  }
  TlsConnection bare(s.port(), ca_pem());
  auto me = bare.request("GET", "/api/v1/me", "", {{"Cookie", cookie}});
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(me.error_code(), "CERT_REQUIRED");
  auto tasks = bare.request("GET", "/api/v1/tasks", "", {{"Cookie", cookie}});
  EXPECT_EQ(tasks.status, 401);
  EXPECT_EQ(tasks.error_code(), "CERT_REQUIRED");
  // Another staff member's valid certificate does not make the cookie usable either.
  TlsConnection other(s.port(), ca_pem(), cert("demo-quxian"), key("demo-quxian"));
  EXPECT_EQ(other.request("GET", "/api/v1/me", "", {{"Cookie", cookie}}).error_code(), "CERT_REQUIRED");
  // Bearer use of the token is the same session: same rule.
  auto bearer = bare.request("GET", "/api/v1/me", "", {{"Authorization", "Bearer " + cookie.substr(11)}});
  EXPECT_EQ(bearer.error_code(), "CERT_REQUIRED");
  // Plain HTTP to a TLS server is not a way around it either (see PlainHttpToTheTlsPort...).
}

TEST_F(Tls, RevokedCertificateIsRefusedWithoutRestart) {
  // Its own login and certificate: the suite's others stay valid.
  auto issued = security::ca_issue_client(ca_, "demo-fabu", 30, certs_, "x");
  ASSERT_TRUE(issued.ok());
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  // A connection opened before the revocation, kept alive across it.
  TlsConnection before(s.port(), ca_pem(), cert("demo-fabu"), key("demo-fabu"));
  auto r = before.request("POST", "/api/v1/auth/login", login_body("demo-fabu"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto cookie = cookie_of(r);

  auto rv = run_statgov("ca revoke --dir " + ca_ + " --user demo-fabu");
  ASSERT_EQ(rv.code, 0) << rv.out;
  EXPECT_NE(rv.out.find(issued->entry.serial), std::string::npos) << rv.out;
  // The server looks at the CRL file at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  TlsConnection after(s.port(), ca_pem(), cert("demo-fabu"), key("demo-fabu"));
  auto again = after.request("POST", "/api/v1/auth/login", login_body("demo-fabu"));
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(again.error_code(), "CERT_REVOKED");
  EXPECT_FALSE(again.json_body()["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(after.request("POST", "/api/v1/auth/cert-login").error_code(), "CERT_REVOKED");
  EXPECT_EQ(last_audit(s, "login_cert_refused")["cert"], "revoked");
  // The kept-alive connection and the session made before: refused on their next request.
  auto me = before.request("GET", "/api/v1/me", "", {{"Cookie", cookie}});
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(me.error_code(), "CERT_REVOKED");
  // A broken CRL file does not let the certificate back in: the last good list stays.
  { std::ofstream(ca_ + "/crl.pem.broken") << "not a CRL\n"; }
  fs::path crl = ca_ + "/crl.pem", saved = ca_ + "/crl.pem.saved";
  fs::copy_file(crl, saved);
  fs::rename(ca_ + "/crl.pem.broken", crl);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  TlsConnection broken(s.port(), ca_pem(), cert("demo-fabu"), key("demo-fabu"));
  EXPECT_EQ(broken.request("POST", "/api/v1/auth/cert-login").error_code(), "CERT_REVOKED");
  // Others are unaffected meanwhile.
  TlsConnection shi(s.port(), ca_pem(), cert("demo-shi"), key("demo-shi"));
  EXPECT_EQ(shi.request("POST", "/api/v1/auth/cert-login").status, 200);
  fs::rename(saved, crl);
}

TEST_F(Tls, EnterprisePasswordLoginWorksInEveryMode) {
  for (auto mode : {services::StaffAuth::cert, services::StaffAuth::password_and_cert}) {
    TestServer s(20, {}, tls_options(mode));
    TlsConnection c(s.port(), ca_pem());
    auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-qiye"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto tasks = c.request("GET", "/api/v1/tasks", "", {{"Cookie", cookie_of(r)}});
    EXPECT_EQ(tasks.status, 200) << tasks.body;
    // A certificate does not replace an enterprise reporter's password.
    TlsConnection with_cert(s.port(), ca_pem(), cert("demo-qiye"), key("demo-qiye"));
    auto wrong = with_cert.request("POST", "/api/v1/auth/login",
                                   json{{"login", "demo-qiye"}, {"password", "wrong-password"}}.dump());
    EXPECT_EQ(wrong.error_code(), "BAD_CREDENTIALS");
  }
}

TEST_F(Tls, PasswordPlusCertNeedsBoth) {
  TestServer s(20, {}, tls_options(services::StaffAuth::password_and_cert));
  TlsConnection bare(s.port(), ca_pem());
  EXPECT_EQ(bare.request("POST", "/api/v1/auth/login", login_body("demo-shi")).error_code(), "CERT_REQUIRED");
  TlsConnection c(s.port(), ca_pem(), cert("demo-shi"), key("demo-shi"));
  auto wrong = c.request("POST", "/api/v1/auth/login", json{{"login", "demo-shi"}, {"password", "wrong-password"}}.dump());
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.error_code(), "BAD_CREDENTIALS");
  auto cl = c.request("POST", "/api/v1/auth/cert-login");
  EXPECT_EQ(cl.status, 404);
  EXPECT_EQ(cl.error_code(), "CERT_LOGIN_OFF");
  auto ok = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", cookie_of(ok)}}).status, 200);
  EXPECT_EQ(bare.request("GET", "/api/v1/me", "", {{"Cookie", cookie_of(ok)}}).error_code(), "CERT_REQUIRED");
}

TEST_F(Tls, PasswordModeOverTlsKeepsTodaysBehaviour) {
  TestServer s(20, {}, tls_options(services::StaffAuth::password, false));
  TlsConnection c(s.port(), ca_pem());
  auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["strict-transport-security"], "max-age=31536000; includeSubDomains");
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", cookie_of(r)}}).status, 200);
  EXPECT_EQ(c.request("POST", "/api/v1/auth/cert-login").error_code(), "CERT_LOGIN_OFF");
  // Bodies over TLS's 16 KiB record arrive whole, twice on one connection (a gathered write of
  // head and body once stalled after the head on TLS: the browser's bundles never loaded).
  const auto openapi_size = fs::file_size(std::string(STATGOV_SOURCE_DIR) + "/data/openapi.json");
  ASSERT_GT(openapi_size, 3u * 16384u);
  for (int i = 0; i < 2; ++i) {
    auto big = c.request("GET", "/api/v1/openapi.json");
    ASSERT_EQ(big.status, 200);
    EXPECT_EQ(big.body.size(), openapi_size);
    EXPECT_EQ(big.json_body()["openapi"], "3.0.3");
  }
  // Plain HTTP (the default) sends no HSTS.
  TestServer plain(0);
  auto p = http_request(plain.port(), "GET", "/healthz");
  EXPECT_EQ(p.headers.count("strict-transport-security"), 0u);
}

TEST_F(Tls, CertificateFromAnotherCaIsInvalid) {
  auto other = dir_ + "/other-ca";
  ASSERT_TRUE(security::ca_init(other, "Someone else", 30).ok());
  ASSERT_TRUE(security::ca_issue_client(other, "demo-shi", 30, dir_ + "/other-certs", "x").ok());
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  TlsConnection c(s.port(), ca_pem(), dir_ + "/other-certs/demo-shi.pem", dir_ + "/other-certs/demo-shi.key");
  auto r = c.request("POST", "/api/v1/auth/login", login_body("demo-shi"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "CERT_INVALID");
  EXPECT_EQ(c.request("POST", "/api/v1/auth/cert-login").error_code(), "CERT_INVALID");
  // A server certificate of the right CA is not a client certificate (no clientAuth usage).
  TlsConnection server_cert(s.port(), ca_pem(), ca_ + "/server.pem", ca_ + "/server.key");
  EXPECT_EQ(server_cert.request("POST", "/api/v1/auth/cert-login").error_code(), "CERT_INVALID");
}

TEST_F(Tls, PlainHttpToTheTlsPortFailsCleanlyAndTheServerStaysUp) {
  TestServer s(20, {}, tls_options(services::StaffAuth::cert));
  auto r = http_request(s.port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "TLS_REQUIRED");
  // Garbage that is neither HTTP nor TLS, and a client that sends nothing: the connection ends
  // (the latter after the 1 s handshake timeout) and the server goes on.
  for (std::string junk : {std::string("\x16\x03\x01\x00\x05hello", 10), std::string()}) {
    asio::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), s.port()});
    if (!junk.empty()) asio::write(sock, asio::buffer(junk));
    auto t0 = std::chrono::steady_clock::now();
    char buf[512];
    boost::system::error_code ec;
    while (!ec) sock.read_some(asio::buffer(buf), ec);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  }
  TlsConnection c(s.port(), ca_pem());
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
}

TEST_F(Tls, ServerRefusesToStartWithBadTlsFiles) {
  http::Router router;
  auto start_with = [&](http::TlsOptions t) {
    http::ServerOptions opt;
    opt.port = 0;
    opt.threads = 1;
    opt.tls = std::move(t);
    http::Server server(router, opt);
    return server.start();
  };
  auto missing = start_with({dir_ + "/nope.pem", ca_ + "/server.key", "", "", std::chrono::seconds(5)});
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->find("nope.pem"), std::string::npos) << *missing;
  auto mismatch = start_with({ca_ + "/server.pem", certs_ + "/demo-shi.key", "", "", std::chrono::seconds(5)});
  ASSERT_TRUE(mismatch.has_value());
  EXPECT_NE(mismatch->find("demo-shi.key"), std::string::npos) << *mismatch;
  auto bad_crl = start_with({ca_ + "/server.pem", ca_ + "/server.key", ca_ + "/ca.pem", ca_ + "/ca.pem", std::chrono::seconds(5)});
  ASSERT_TRUE(bad_crl.has_value());
  EXPECT_NE(bad_crl->find("CRL"), std::string::npos) << *bad_crl;
  EXPECT_FALSE(start_with({ca_ + "/server.pem", ca_ + "/server.key", ca_ + "/ca.pem", ca_ + "/crl.pem", std::chrono::seconds(5)}));
}

}  // namespace
}  // namespace statgov::testing
