// Handlers for e-signature keys, signature re-verification and the staff TOTP second factor
// (issue #7). The services are stateless over the store and clock in the context.
#include "api/common.hpp"
#include "services/signatures.hpp"

namespace statgov::api {

namespace {

Result<std::string> code_field(const http::Request& req) {
  SG_ASSIGN_OR_RETURN(auto body, parse_json_body(req, 4 * 1024));
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string() ||
      body.size() != 1) {
    return make_error(ErrorKind::invalid, "BAD_REQUEST", "请求应为 {\"code\": \"6位动态口令\"}",
                      "The body must be {\"code\": \"6-digit one-time code\"}");
  }
  return body["code"].get<std::string>();
}

}  // namespace

void security_routes(http::Router& r, ApiContext& ctx) {
  r.add("GET", "/api/v1/units/{id}/keys",
        with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
          auto id = parse_id(req.params.at("id"), "id");
          if (!id.ok()) return error_response(id.error());
          return ok_json(services::SignatureService(ctx.store, ctx.clock).list_keys(a, *id));
        }));
  r.add("POST", "/api/v1/units/{id}/keys",
        with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
          auto id = parse_id(req.params.at("id"), "id");
          if (!id.ok()) return error_response(id.error());
          auto body = parse_json_body(req, 16 * 1024);
          if (!body.ok()) return error_response(body.error());
          return ok_json(
              services::SignatureService(ctx.store, ctx.clock).register_key(a, *id, *body), 201);
        }));
  r.add("DELETE", "/api/v1/units/{id}/keys/{key_id}",
        with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
          auto id = parse_id(req.params.at("id"), "id");
          if (!id.ok()) return error_response(id.error());
          return ok_json(services::SignatureService(ctx.store, ctx.clock)
                             .revoke_key(a, *id, req.params.at("key_id")));
        }));
  r.add("GET", "/api/v1/submissions/{id}/signature",
        with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
          auto id = parse_id(req.params.at("id"), "id");
          if (!id.ok()) return error_response(id.error());
          return ok_json(services::SignatureService(ctx.store, ctx.clock).status(a, *id));
        }));

  r.add("GET", "/api/v1/me/totp", with_actor(ctx, [&ctx](http::Request&, const services::Actor& a) {
          return ok_json(ctx.auth.totp_status(a.user));
        }));
  r.add("POST", "/api/v1/me/totp",
        with_actor(ctx, [&ctx](http::Request&, const services::Actor& a) {
          auto resp = ok_json(ctx.auth.totp_enrol(a.user, a.ip), 201);
          resp.headers.emplace_back("Cache-Control", "no-store");
          return resp;
        }));
  r.add("POST", "/api/v1/me/totp/confirm",
        with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
          auto code = code_field(req);
          if (!code.ok()) return error_response(code.error());
          return ok_json(ctx.auth.totp_confirm(a.user, *code, a.ip));
        }));
  r.add("POST", "/api/v1/me/totp/disable",
        with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
          auto code = code_field(req);
          if (!code.ok()) return error_response(code.error());
          return ok_json(ctx.auth.totp_disable(a.user, *code, a.ip));
        }));
}

}  // namespace statgov::api
