#include "api/common.hpp"

#include <algorithm>
#include <charconv>

namespace statgov::api {

http::Response error_response(const Error& e) { return http::Response::from_error(e); }

http::Response ok_json(const Result<json>& r, int status) {
  if (!r.ok()) return error_response(r.error());
  return http::Response::json(status, r.value());
}

services::PeerCert peer_cert(const http::Request& req) {
  services::PeerCert c;
  switch (req.client_cert) {
    case http::ClientCert::none: c.status = services::PeerCert::Status::none; break;
    case http::ClientCert::verified: c.status = services::PeerCert::Status::verified; break;
    case http::ClientCert::revoked: c.status = services::PeerCert::Status::revoked; break;
    case http::ClientCert::untrusted: c.status = services::PeerCert::Status::untrusted; break;
  }
  c.cn = req.client_cert_cn;
  c.serial = req.client_cert_serial;
  return c;
}

Result<services::Actor> authenticate(ApiContext& ctx, const http::Request& req) {
  std::string auth = req.header("Authorization");
  bool bearer = auth.rfind("Bearer ", 0) == 0;
  std::string token = bearer ? auth.substr(7) : req.cookie("sg_session").value_or("");
  SG_ASSIGN_OR_RETURN(auto session, ctx.auth.authenticate(token, peer_cert(req)));
  bool changes_state = req.method != "GET" && req.method != "HEAD";
  if (!bearer && changes_state) {
    std::string csrf = req.header("X-CSRF-Token");
    if (csrf.empty() || csrf != session.csrf_token) {
      return make_error(ErrorKind::forbidden, "CSRF", "安全校验失败，请刷新页面后重试",
                        "CSRF token missing or wrong; reload the page and try again");
    }
  }
  return services::Actor{session.user, req.remote_ip};
}

namespace {
// Deepest nesting of arrays and objects, strings skipped. The JSON library copies and prints
// recursively, so a body nested thousands of levels deep would overflow the stack later.
int json_depth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}
}  // namespace

Result<json> parse_json_body(const http::Request& req, std::size_t max_bytes) {
  if (req.body.size() > max_bytes) {
    return make_error(ErrorKind::too_large, "TOO_LARGE", "请求内容过大", "Request body too large");
  }
  if (json_depth(req.body) > 32) {
    return make_error(ErrorKind::invalid, "BAD_JSON", "JSON 嵌套层数过多（最多32层）", "JSON nested too deeply (at most 32 levels)");
  }
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorKind::invalid, "BAD_JSON", "请求体不是有效的 JSON", "The request body is not valid JSON");
  }
  return j;
}

Result<std::int64_t> parse_id(const std::string& text, const char* what) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return make_error(ErrorKind::invalid, "BAD_ID", std::string(what) + " 应为正整数", std::string(what) + " must be a positive integer");
  }
  return v;
}

}  // namespace statgov::api
