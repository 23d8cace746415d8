// A blocking HTTP/1.1 client for the integration tests (one request per connection, loopback),
// shared by the internal server's tests and the public portal's.
#pragma once

#include <nlohmann/json.hpp>

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

// A JSON Content-Type is set when there is a body and the headers name none.
HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body = "", const std::map<std::string, std::string>& headers = {});

}  // namespace statgov::testing
