// `statgov ca init | issue | issue-server | revoke | crl | list` (issue #7, docs/tls-ca.md): the
// files they write, checked with OpenSSL, and a clear message with a non-zero exit for each error.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace statgov::testing {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& what) {
  std::random_device rd;
  auto d = fs::temp_directory_path() / ("statgov-" + what + "-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X509* read_cert(const fs::path& p) {
  auto text = slurp(p);
  BIO* b = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return x;
}

std::vector<std::string> crl_serials(const fs::path& p) {
  auto text = slurp(p);
  BIO* b = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  std::vector<std::string> out;
  if (!crl) return {"<unreadable>"};
  auto* list = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(list); ++i) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(list, i)), nullptr);
    char* hex = BN_bn2hex(bn);
    out.emplace_back(hex);
    OPENSSL_free(hex);
    BN_free(bn);
  }
  X509_CRL_free(crl);
  return out;
}

std::string cn_of(X509* x) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  return buf;
}

TEST(CaCli, InitIssueRevokeList) {
  auto tmp = fresh_dir("ca-cli");
  std::string d = (tmp / "ca").string(), out = (tmp / "out").string();

  auto init = run_statgov("ca init --dir " + d + " --name '株洲市统计局 CA' --days 30");
  ASSERT_EQ(init.code, 0) << init.out;
  struct stat st {};
  ASSERT_EQ(::stat((d + "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  X509* ca = read_cert(d + "/ca.pem");
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(cn_of(ca), "株洲市统计局 CA");
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_TRUE(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_key_usage(ca) & KU_CRL_SIGN);
  EXPECT_TRUE(crl_serials(d + "/crl.pem").empty());

  auto again = run_statgov("ca init --dir " + d);
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.out.find("CA_EXISTS"), std::string::npos) << again.out;

  auto issue = run_statgov("ca issue --dir " + d + " --user demo-shi --out " + out);
  ASSERT_EQ(issue.code, 0) << issue.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(issue.out, m, std::regex("serial: +([0-9A-F]+)"))) << issue.out;
  std::string serial = m[1];
  ASSERT_TRUE(std::regex_search(issue.out, m, std::regex("p12 password \\(shown once\\): (\\S+)"))) << issue.out;
  std::string p12_password = m[1];
  // The certificate: CN = login, clientAuth, issued by the CA, the serial printed.
  X509* leaf = read_cert(out + "/demo-shi.pem");
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(cn_of(leaf), "demo-shi");
  EXPECT_TRUE(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT);
  EXPECT_FALSE(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
  EXPECT_EQ(X509_check_issued(ca, leaf), X509_V_OK);
  EXPECT_EQ(::stat((out + "/demo-shi.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The browser bundle opens with the printed password and holds the same certificate.
  {
    auto bytes = slurp(out + "/demo-shi.p12");
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
    PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(bytes.size()));
    ASSERT_NE(p12, nullptr);
    EVP_PKEY* pkey = nullptr;
    X509* got = nullptr;
    EXPECT_EQ(PKCS12_parse(p12, "wrong", &pkey, &got, nullptr), 0);
    ASSERT_EQ(PKCS12_parse(p12, p12_password.c_str(), &pkey, &got, nullptr), 1);
    EXPECT_EQ(X509_cmp(got, leaf), 0);
    EXPECT_EQ(X509_check_private_key(got, pkey), 1);
    EVP_PKEY_free(pkey);
    X509_free(got);
    PKCS12_free(p12);
  }
  auto index = json::parse(slurp(d + "/index.json"));
  ASSERT_EQ(index["certs"].size(), 1u);
  EXPECT_EQ(index["certs"][0]["serial"], serial);
  EXPECT_EQ(index["certs"][0]["subject"], "demo-shi");
  EXPECT_FALSE(index["certs"][0]["not_after"].get<std::string>().empty());

  // A given password is used and not printed.
  auto issue2 = run_statgov("ca issue --dir " + d + " --user demo-quxian --out " + out + " --p12-password s3cret-pw");
  ASSERT_EQ(issue2.code, 0) << issue2.out;
  EXPECT_EQ(issue2.out.find("p12 password"), std::string::npos);
  auto dup = run_statgov("ca issue --dir " + d + " --user demo-shi --out " + out);
  EXPECT_NE(dup.code, 0);
  EXPECT_NE(dup.out.find("FILE_EXISTS"), std::string::npos) << dup.out;

  auto server = run_statgov("ca issue-server --dir " + d + " --host localhost,127.0.0.1");
  ASSERT_EQ(server.code, 0) << server.out;
  X509* srv = read_cert(d + "/server.pem");
  ASSERT_NE(srv, nullptr);
  EXPECT_TRUE(X509_get_extended_key_usage(srv) & XKU_SSL_SERVER);
  EXPECT_EQ(X509_check_host(srv, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(srv, "evil.example", 0, 0, nullptr), 1);

  auto list = run_statgov("ca list --dir " + d);
  ASSERT_EQ(list.code, 0);
  EXPECT_NE(list.out.find(serial + "  valid"), std::string::npos) << list.out;

  auto revoke = run_statgov("ca revoke --dir " + d + " --serial " + serial);
  ASSERT_EQ(revoke.code, 0) << revoke.out;
  EXPECT_EQ(crl_serials(d + "/crl.pem"), std::vector<std::string>{serial});
  EXPECT_NE(run_statgov("ca list --dir " + d).out.find(serial + "  REVOKED"), std::string::npos);
  auto twice = run_statgov("ca revoke --dir " + d + " --serial " + serial);
  EXPECT_NE(twice.code, 0);
  EXPECT_NE(twice.out.find("ALREADY_REVOKED"), std::string::npos) << twice.out;
  // Lower case and colons name the same serial.
  std::string lower;
  for (std::size_t i = 0; i < serial.size(); ++i) {
    if (i && i % 2 == 0) lower += ':';
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(serial[i])));
  }
  EXPECT_NE(run_statgov("ca revoke --dir " + d + " --serial " + lower).out.find("ALREADY_REVOKED"), std::string::npos);
  auto by_user = run_statgov("ca revoke --dir " + d + " --user demo-quxian");
  ASSERT_EQ(by_user.code, 0) << by_user.out;
  EXPECT_EQ(crl_serials(d + "/crl.pem").size(), 2u);
  EXPECT_EQ(json::parse(slurp(d + "/index.json"))["crl_number"], 3);
  auto refresh = run_statgov("ca crl --dir " + d);
  EXPECT_EQ(refresh.code, 0) << refresh.out;
  EXPECT_EQ(crl_serials(d + "/crl.pem").size(), 2u);
  // No temp files left behind by the atomic rewrites.
  for (const auto& e : fs::directory_iterator(d)) EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();

  X509_free(ca);
  X509_free(leaf);
  X509_free(srv);
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

TEST(CaCli, ErrorsAreClearAndNonZero) {
  auto tmp = fresh_dir("ca-err");
  std::string d = (tmp / "ca").string();
  struct Case {
    std::string args, code;
  };
  const std::vector<Case> before_init = {
      {"ca issue --dir " + d + " --user demo-shi --out " + tmp.string(), "CA_NOT_FOUND"},
      {"ca revoke --dir " + d + " --serial 01", "CA_NOT_FOUND"},
      {"ca list --dir " + d, "CA_NOT_FOUND"},
      {"ca init --dir " + d + " --days 0", "BAD_DAYS"},
  };
  for (const auto& c : before_init) {
    auto r = run_statgov(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.out.find(c.code), std::string::npos) << c.args << "\n" << r.out;
  }
  ASSERT_EQ(run_statgov("ca init --dir " + d).code, 0);
  const std::vector<Case> after_init = {
      {"ca revoke --dir " + d + " --serial 0123ABCD", "UNKNOWN_SERIAL"},
      {"ca revoke --dir " + d + " --serial not-hex", "BAD_SERIAL"},
      {"ca revoke --dir " + d + " --user nobody", "NO_CERTIFICATE"},
      {"ca revoke --dir " + d, "REVOKE_WHAT"},
      {"ca issue --dir " + d + " --user ../evil --out " + tmp.string(), "BAD_LOGIN"},
      {"ca issue --dir " + d + " --user .hidden --out " + tmp.string(), "BAD_LOGIN"},
      {"ca issue-server --dir " + d + " --host 'bad host'", "BAD_HOST"},
      {"ca issue-server --dir " + d + " --host ,", "HOST_REQUIRED"},
  };
  for (const auto& c : after_init) {
    auto r = run_statgov(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.out.find(c.code), std::string::npos) << c.args << "\n" << r.out;
  }
  // Both --serial and --user: CLI11 refuses before anything runs.
  auto both = run_statgov("ca revoke --dir " + d + " --serial 01 --user x");
  EXPECT_NE(both.code, 0);
  // A cert-only staff mode without a client CA cannot start.
  auto serve = run_statgov("--db " + (tmp / "x.db").string() + " serve --listen 127.0.0.1:0 --staff-auth cert");
  EXPECT_NE(serve.code, 0);
  EXPECT_NE(serve.out.find("--client-ca"), std::string::npos) << serve.out;
  EXPECT_FALSE(fs::exists(tmp / "ca" / "server.key"));
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

}  // namespace
}  // namespace statgov::testing
