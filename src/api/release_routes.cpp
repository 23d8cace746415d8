// Handlers for the release calendar, preparation, preview, sign-off and the 政务公开 catalogue
// (docs/publication.md section 5).
#include "api/common.hpp"
#include "services/releases.hpp"

#include <fmt/format.h>

namespace statgov::api {

namespace {

// Documents carry attachments as base64 inside the JSON body.
constexpr std::size_t kDocumentBodyLimit = 48 * 1024 * 1024;

http::Response not_configured() {
  return http::Response::error(503, "RELEASES_UNAVAILABLE", "发布服务未启用",
                               "The release service is not enabled");
}

// Wraps a handler that needs the release service and the caller.
template <typename F>
http::Handler with_releases(ApiContext& ctx, F f) {
  return with_actor(ctx, [&ctx, f](http::Request& req, const services::Actor& a) {
    if (!ctx.releases) return not_configured();
    return f(req, a, *ctx.releases);
  });
}

}  // namespace

void release_routes(http::Router& r, ApiContext& ctx) {
  using services::Actor;
  using services::ReleaseService;
  r.add("GET", "/api/v1/releases",
        with_releases(ctx, [](http::Request&, const Actor& a, ReleaseService& rs) {
          return ok_json(rs.list(a));
        }));
  r.add("POST", "/api/v1/releases",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto body = parse_json_body(req, 1024 * 1024);
          if (!body.ok()) return error_response(body.error());
          return ok_json(rs.create(a, *body), 201);
        }));
  r.add("GET", "/api/v1/releases/{id}",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          return ok_json(rs.get(a, req.params.at("id")));
        }));
  r.add("PATCH", "/api/v1/releases/{id}",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto body = parse_json_body(req, 1024 * 1024);
          if (!body.ok()) return error_response(body.error());
          return ok_json(rs.update(a, req.params.at("id"), *body));
        }));
  r.add("POST", "/api/v1/releases/{id}/prepare",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          return ok_json(rs.prepare(a, req.params.at("id")));
        }));
  r.add("GET", "/api/v1/releases/{id}/preview",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto res = ok_json(rs.preview(a, req.params.at("id")));
          // Embargoed figures: no cache may keep them.
          res.headers.emplace_back("Cache-Control", "no-store");
          return res;
        }));
  r.add("POST", "/api/v1/releases/{id}/signoff",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto body = parse_json_body(req, 64 * 1024);
          if (!body.ok()) return error_response(body.error());
          return ok_json(rs.signoff(a, req.params.at("id"), *body));
        }));
  r.add("GET", "/api/v1/releases/{id}/package",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto pkg = rs.package(a, req.params.at("id"));
          if (!pkg.ok()) return error_response(pkg.error());
          http::Response resp;
          resp.content_type = "application/zip";
          resp.body = std::move(pkg->bytes);
          resp.headers.emplace_back("Content-Disposition",
                                    fmt::format("attachment; filename=\"{}\"", pkg->name));
          resp.headers.emplace_back("Cache-Control", "no-store");
          return resp;
        }));
  r.add("GET", "/api/v1/documents",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          std::string q, category;
          for (const auto& [k, v] : req.query) {
            if (k == "q")
              q = v;
            else if (k == "category")
              category = v;
            else
              return error_response(make_error(ErrorKind::invalid, "UNKNOWN_PARAMETER",
                                               "未知参数：" + k, "Unknown parameter: " + k));
          }
          return ok_json(rs.list_documents(a, q, category));
        }));
  r.add("POST", "/api/v1/documents",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto body = parse_json_body(req, kDocumentBodyLimit);
          if (!body.ok()) return error_response(body.error());
          return ok_json(rs.create_document(a, *body), 201);
        }));
  r.add("GET", "/api/v1/documents/{index_no}",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          return ok_json(rs.get_document(a, req.params.at("index_no")));
        }));
  r.add("PATCH", "/api/v1/documents/{index_no}",
        with_releases(ctx, [](http::Request& req, const Actor& a, ReleaseService& rs) {
          auto body = parse_json_body(req, kDocumentBodyLimit);
          if (!body.ok()) return error_response(body.error());
          return ok_json(rs.update_document(a, req.params.at("index_no"), *body));
        }));
}

}  // namespace statgov::api
