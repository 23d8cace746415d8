// Client addresses behind reverse proxies (serve --trusted-proxy). A request's client address is
// the TCP peer, unless the peer is one of the configured proxies: then it is taken from
// X-Forwarded-For, reading from the right (the entry the nearest proxy appended) past every
// address that is itself a trusted proxy. A client can write anything into the header, but only
// entries right of the first untrusted one were added by our proxies, so a forged value is never
// reached. Malformed header values make the request count as coming from the peer.
//
// Plain value type: built once at start-up, then only read (by every io thread at once).
#pragma once

#include "base/result.hpp"

#include <boost/asio/ip/address.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace statgov::http {

struct Cidr {
  std::array<unsigned char, 16> bytes{};  // IPv4 in the first 4 bytes
  bool v6 = false;
  int prefix = 0;  // bits
  bool contains(const boost::asio::ip::address& a) const;
};

class TrustedProxies {
 public:
  // "10.0.0.0/8,127.0.0.1,::1/128": comma-separated CIDR ranges or single addresses. Any bad
  // entry is an error naming it (code BAD_CIDR); an empty list is an error too.
  static Result<TrustedProxies> parse(std::string_view list);

  bool empty() const { return ranges_.empty(); }
  bool trusted(const boost::asio::ip::address& a) const;
  // peer: the TCP peer's address as text; forwarded_for: every X-Forwarded-For field value of the
  // request, in order. Returns the client address as text.
  std::string client_address(const std::string& peer, const std::vector<std::string_view>& forwarded_for) const;

 private:
  std::vector<Cidr> ranges_;
};

}  // namespace statgov::http
