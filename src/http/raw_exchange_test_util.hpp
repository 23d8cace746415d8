// For the http tests: one raw HTTP/1.1 request on a fresh loopback connection, the whole response
// read until the server closes it (send `Connection: close`).
#pragma once

#include <boost/asio.hpp>

#include <string>

namespace statgov::http::testing {

inline std::string raw_exchange(unsigned short port, const std::string& request) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(request));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace statgov::http::testing
