#include "http/http.hpp"

#include <algorithm>
#include <cctype>
#include <future>
#include <memory>
#include <strings.h>

#include <spdlog/spdlog.h>

namespace statgov::http {

bool CaseLess::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string Request::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  std::string all = header("Cookie");
  std::string_view rest(all);
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return std::nullopt;
}

Response Response::later(std::function<Response()> make) {
  Response r;
  r.make = std::move(make);
  return r;
}

void Response::finish() {
  if (!make) return;
  auto m = std::move(make);
  make = nullptr;
  try {
    *this = m();
  } catch (const std::exception& e) {
    spdlog::error("building a response failed: {}", e.what());
    *this = error(500, "INTERNAL", "服务器内部错误", "Internal server error");
  }
}

Response Response::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::error(int status, std::string_view code, std::string_view zh, std::string_view en,
                         nlohmann::json details) {
  return json(status, {{"error", {{"code", code}, {"message", zh}, {"message_en", en}, {"details", std::move(details)}}}});
}

int status_for(ErrorKind k) {
  switch (k) {
    case ErrorKind::invalid: return 400;
    case ErrorKind::unauthenticated: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::not_found: return 404;
    case ErrorKind::conflict: return 409;
    case ErrorKind::too_large: return 413;
    case ErrorKind::unprocessable: return 422;
    case ErrorKind::throttled: return 429;
    case ErrorKind::internal: return 500;
    case ErrorKind::unavailable: return 503;
  }
  return 500;
}

Response Response::from_error(const Error& e) {
  Response r = error(status_for(e.kind), e.code, e.message, e.message_en, e.details);
  if (e.kind == ErrorKind::unavailable) r.headers.emplace_back("Retry-After", "30");
  return r;
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

namespace {
// The non-empty segments of a path, as views into it.
std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') {
      ++i;
      continue;
    }
    auto j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.emplace_back(p.substr(i, j - i));
    i = j;
  }
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string k = url_decode(kv.substr(0, eq), true);
    std::string v = eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1), true);
    out.emplace(std::move(k), std::move(v));
  }
  return out;
}

void Router::add(std::string method, std::string pattern, Handler h) {
  auto segs = split_path(pattern);
  Route r{std::move(method), pattern, {segs.begin(), segs.end()}, std::move(h), {}, RunOn::pool};
  routes_.push_back(std::move(r));
}

void Router::add_async(std::string method, std::string pattern, AsyncHandler h, RunOn where) {
  auto segs = split_path(pattern);
  Route r{std::move(method), pattern, {segs.begin(), segs.end()}, {}, std::move(h), where};
  routes_.push_back(std::move(r));
}

const Router::Route* Router::match(Request& req, Response& miss) const {
  // The path's segments as views into req.path; parameters are copied out only for the route
  // that matches (issue #6: building them for every candidate route showed in the profile).
  const std::vector<std::string_view> segs = split_path(req.path);
  auto is_param = [](const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; };
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) ok = is_param(r.segments[i]) || r.segments[i] == segs[i];
    if (!ok) continue;
    path_matched = true;
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) continue;
    std::map<std::string, std::string> params;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      const auto& seg = r.segments[i];
      if (is_param(seg)) params[seg.substr(1, seg.size() - 2)] = std::string(segs[i]);
    }
    req.params = std::move(params);
    return &r;
  }
  if (path_matched) {
    miss = Response::error(405, "METHOD_NOT_ALLOWED", "不支持此请求方法", "Method not allowed");
  } else {
    miss = Response::error(404, "NOT_FOUND", "请求的资源不存在", "No such resource");
  }
  return nullptr;
}

Response Router::dispatch(Request& req) const {
  Response miss;
  const Route* r = match(req, miss);
  if (!r) return miss;
  if (r->handler) return r->handler(req);
  std::promise<Response> answer;
  auto got = answer.get_future();
  auto shared = std::make_shared<std::promise<Response>>(std::move(answer));
  r->async(req, [shared](Response resp) { shared->set_value(std::move(resp)); });
  Response resp = got.get();
  resp.finish();
  return resp;
}

}  // namespace statgov::http
