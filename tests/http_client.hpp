// A blocking HTTP/1.1 client for the integration tests (one request per connection, loopback),
// shared by the internal server's tests and the public portal's.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <map>
#include <string>

namespace statgov::testing {

using nlohmann::json;

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined by '\n'
  std::string body;
  json json_body() const { return json::parse(body, nullptr, false); }
  std::string error_code() const {
    auto j = json_body();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// One request and its response over an open stream (a TCP socket, or a TLS stream); `buf` keeps
// what was read past the response for the next one on a kept-alive connection. A JSON
// Content-Type is set when there is a body and the headers name none.
template <typename Stream>
HttpResult exchange(Stream& stream, boost::beast::flat_buffer& buf, const std::string& method,
                    const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers, const std::string& host,
                    bool keep_alive) {
  namespace bhttp = boost::beast::http;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!headers.count("Content-Type") && !body.empty()) req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.keep_alive(keep_alive);
  req.prepare_payload();
  bhttp::write(stream, req);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  bhttp::read(stream, buf, parser);
  auto& res = parser.get();
  HttpResult r;
  r.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (r.headers.count(name)) r.headers[name] += "\n";
    r.headers[name] += std::string(f.value());
  }
  r.body = res.body();
  return r;
}

// One request on a fresh loopback connection.
HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body = "", const std::map<std::string, std::string>& headers = {});

}  // namespace statgov::testing
