#include "http/forwarded.hpp"

#include <cctype>
#include <charconv>

namespace statgov::http {
namespace {

namespace ip = boost::asio::ip;

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack socket's view of an IPv4 peer) is the
// IPv4 address for matching and reporting.
ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

bool parse_address(std::string_view s, ip::address& out) {
  if (s.empty() || s.size() > 64) return false;
  // Only what an address is made of: the parser below stops at a NUL and would accept the prefix.
  for (char ch : s) {
    if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != '.' && ch != ':') return false;
  }
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(s), ec);
  if (ec) return false;
  out = unmapped(a);
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error bad_cidr(std::string_view entry) {
  const std::string e(entry);
  return make_error(ErrorKind::invalid, "BAD_CIDR",
                    "--trusted-proxy 中的地址范围无效：“" + e + "”（应为 CIDR，例如 10.0.0.0/8、127.0.0.1 或 ::1/128）",
                    "--trusted-proxy: invalid address range \"" + e + "\" (expected CIDR, e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128)");
}

}  // namespace

bool Cidr::contains(const ip::address& raw) const {
  const ip::address a = unmapped(raw);
  if (a.is_v6() != v6) return false;
  std::array<unsigned char, 16> b{};
  if (v6) {
    b = a.to_v6().to_bytes();
  } else {
    auto v4 = a.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), b.begin());
  }
  int left = prefix;
  for (std::size_t i = 0; left > 0; ++i, left -= 8) {
    const unsigned mask = left >= 8 ? 0xffu : (0xffu << (8 - left)) & 0xffu;
    if ((b[i] & mask) != (bytes[i] & mask)) return false;
  }
  return true;
}

Result<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies t;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view entry = trim(list.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) return bad_cidr(entry);
    const std::size_t slash = entry.find('/');
    ip::address a;
    if (!parse_address(entry.substr(0, slash), a)) return bad_cidr(entry);
    // A scoped IPv6 address (fe80::1%eth0) names an interface, not a range.
    if (a.is_v6() && a.to_v6().scope_id() != 0) return bad_cidr(entry);
    Cidr c;
    c.v6 = a.is_v6();
    const int max = c.v6 ? 128 : 32;
    c.prefix = max;
    if (slash != std::string_view::npos) {
      const std::string_view bits = entry.substr(slash + 1);
      int p = -1;
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), p);
      if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || p < 0 || p > max) return bad_cidr(entry);
      c.prefix = p;
    }
    if (c.v6) {
      c.bytes = a.to_v6().to_bytes();
    } else {
      auto v4 = a.to_v4().to_bytes();
      std::copy(v4.begin(), v4.end(), c.bytes.begin());
    }
    t.ranges_.push_back(c);
    if (comma == list.size()) break;
  }
  return t;
}

bool TrustedProxies::trusted(const ip::address& a) const {
  for (const auto& r : ranges_) {
    if (r.contains(a)) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(const std::string& peer, const std::vector<std::string_view>& forwarded_for) const {
  ip::address peer_addr;
  if (ranges_.empty() || !parse_address(peer, peer_addr) || !trusted(peer_addr)) return peer;
  // All entries, in order: several header fields count as one comma-separated list (RFC 9110).
  std::vector<std::string_view> entries;
  for (auto value : forwarded_for) {
    std::size_t start = 0;
    for (;;) {
      std::size_t comma = value.find(',', start);
      entries.push_back(trim(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
      if (entries.size() > 64) return peer;  // no real proxy chain is this long
    }
  }
  ip::address client = peer_addr;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    ip::address a;
    if (!parse_address(*it, a)) return peer;  // malformed: nothing in the header is believed
    client = a;
    if (!trusted(a)) break;
  }
  return client.to_string();
}

}  // namespace statgov::http
