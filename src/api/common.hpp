// Shared pieces of the handlers: authentication, CSRF, JSON bodies, parameters.
#pragma once

#include "api/api.hpp"

#include <optional>

namespace statgov::api {

using nlohmann::json;

// The caller: from the session cookie (browser; CSRF checked on state-changing methods) or from
// "Authorization: Bearer <session token>" (machine clients; no ambient credentials, so no CSRF).
Result<services::Actor> authenticate(ApiContext& ctx, const http::Request& req);
// The request's TLS client certificate as the auth service sees it.
services::PeerCert peer_cert(const http::Request& req);
Result<json> parse_json_body(const http::Request& req, std::size_t max_bytes = 4 * 1024 * 1024);
Result<std::int64_t> parse_id(const std::string& text, const char* what);
http::Response ok_json(const Result<json>& r, int status = 200);

// Wraps a handler that needs the authenticated caller; answers 401/403 itself otherwise.
template <typename F>
http::Handler with_actor(ApiContext& ctx, F f) {
  return [&ctx, f](http::Request& req) -> http::Response {
    auto actor = authenticate(ctx, req);
    if (!actor.ok()) return error_response(actor.error());
    return f(req, *actor);
  };
}

}  // namespace statgov::api
