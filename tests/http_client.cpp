#include <utility>

#include "http_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>


namespace statgov::testing {

namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body, const std::map<std::string, std::string>& headers) {
  boost::asio::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  beast::flat_buffer buf;
  HttpResult r = exchange(sock, buf, method, target, body, headers, "127.0.0.1", true);
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

}  // namespace statgov::testing
