#include "api/common.hpp"
#include "base/crypto.hpp"
#include "security/policy.hpp"

#include <algorithm>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace statgov::api {

namespace {

std::string session_cookie(const std::string& token, int max_age, bool secure) {
  return fmt::format("sg_session={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", token, max_age,
                     secure ? "; Secure" : "");
}

json user_json(const domain::User& u) {
  return {{"id", u.id},
          {"login", u.login},
          {"name", u.name},
          {"role", domain::role_name(u.role)},
          {"region", u.region},
          {"unit_id", u.unit_id ? json(*u.unit_id) : json(nullptr)}};
}


struct SubmissionKey {
  std::int64_t unit;
  std::string form, period;
};

Result<SubmissionKey> submission_key(const http::Request& req) {
  SG_ASSIGN_OR_RETURN(auto unit, parse_id(req.params.at("unit"), "unit"));
  return SubmissionKey{unit, req.params.at("form"), req.params.at("period")};
}

http::Response login_response(ApiContext& ctx, const Result<services::Session>& s) {
  if (!s.ok()) return error_response(s.error());
  auto resp = http::Response::json(200, {{"user", user_json(s->user)}, {"csrf_token", s->csrf_token}});
  int max_age = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(ctx.auth.config().session_lifetime).count());
  resp.headers.emplace_back("Set-Cookie", session_cookie(s->token, max_age, ctx.secure_cookies));
  resp.headers.emplace_back("Cache-Control", "no-store");
  return resp;
}

void auth_routes(http::Router& r, ApiContext& ctx) {
  r.add("POST", "/api/v1/auth/login", [&ctx](http::Request& req) {
    auto body = parse_json_body(req, 64 * 1024);
    if (!body.ok()) return error_response(body.error());
    const json& b = *body;
    // "totp": the one-time code of an account with a second factor (optional otherwise).
    bool totp_ok = !b.is_object() || !b.contains("totp") || b["totp"].is_string();
    std::size_t fields = 2 + (b.is_object() && b.contains("totp") ? 1 : 0);
    if (!b.is_object() || !b.contains("login") || !b.contains("password") || !b["login"].is_string() ||
        !b["password"].is_string() || !totp_ok || b.size() != fields) {
      return error_response(make_error(ErrorKind::invalid, "BAD_REQUEST", "请求应为 {\"login\",\"password\"[,\"totp\"]}",
                                       "The body must be {\"login\", \"password\"[, \"totp\"]}"));
    }
    std::string totp = b.contains("totp") ? b["totp"].get<std::string>() : std::string();
    if (totp.size() > 16) totp.resize(16);
    auto s = ctx.auth.login(b["login"], b["password"], req.remote_ip, totp, peer_cert(req));
    return login_response(ctx, s);
  });
  // Staff auth mode `cert` (docs/tls-ca.md): the TLS client certificate is the credential.
  r.add("POST", "/api/v1/auth/cert-login", [&ctx](http::Request& req) {
    std::string totp;
    if (!req.body.empty()) {
      auto body = parse_json_body(req, 4 * 1024);
      if (!body.ok()) return error_response(body.error());
      const json& b = *body;
      bool shape = b.is_object() && (b.empty() || (b.size() == 1 && b.contains("totp") && b["totp"].is_string()));
      if (!shape) {
        return error_response(make_error(ErrorKind::invalid, "BAD_REQUEST", "请求应为空或 {\"totp\"}",
                                         "The body must be empty or {\"totp\"}"));
      }
      if (b.contains("totp")) totp = b["totp"].get<std::string>();
      if (totp.size() > 16) totp.resize(16);
    }
    return login_response(ctx, ctx.auth.login_with_cert(peer_cert(req), req.remote_ip, totp));
  });
  // What the login page offers: the staff mode, and whether this connection presented a client
  // certificate (and whose). Public: it says nothing the TLS handshake did not already tell the client.
  r.add("GET", "/api/v1/auth/methods", [&ctx](http::Request& req) {
    auto cert = peer_cert(req);
    json c = {{"state", services::cert_status_name(cert.status)}};
    if (cert.status == services::PeerCert::Status::verified) c["cn"] = cert.cn;
    auto resp = http::Response::json(
        200, {{"staff", services::staff_auth_name(ctx.auth.config().staff_auth)}, {"certificate", c}});
    resp.headers.emplace_back("Cache-Control", "no-store");
    return resp;
  });
  r.add("POST", "/api/v1/auth/logout", with_actor(ctx, [&ctx](http::Request& req, const services::Actor&) {
    std::string auth = req.header("Authorization");
    std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : req.cookie("sg_session").value_or("");
    auto st = ctx.auth.logout(token);
    if (!st.ok()) return error_response(st.error());
    auto resp = http::Response::no_content();
    resp.headers.emplace_back("Set-Cookie", session_cookie("", 0, ctx.secure_cookies));
    return resp;
  }));
  r.add("POST", "/api/v1/auth/logout-all", with_actor(ctx, [&ctx](http::Request&, const services::Actor& a) {
    auto st = ctx.auth.logout_everywhere(a.user.id, a.user.login);
    if (!st.ok()) return error_response(st.error());
    auto resp = http::Response::no_content();
    resp.headers.emplace_back("Set-Cookie", session_cookie("", 0, ctx.secure_cookies));
    return resp;
  }));
  r.add("GET", "/api/v1/me", [&ctx](http::Request& req) {
    std::string auth = req.header("Authorization");
    std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : req.cookie("sg_session").value_or("");
    auto s = ctx.auth.authenticate(token, peer_cert(req));
    if (!s.ok()) return error_response(s.error());
    auto resp = http::Response::json(200, {{"user", user_json(s->user)}, {"csrf_token", s->csrf_token}});
    resp.headers.emplace_back("Cache-Control", "no-store");
    return resp;
  });
}

void reporting_routes(http::Router& r, ApiContext& ctx) {
  const std::string base = "/api/v1/submissions/{unit}/{form}/{period}";
  r.add("GET", "/api/v1/tasks", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    std::optional<std::int64_t> unit;
    if (auto it = req.query.find("unit"); it != req.query.end()) {
      auto id = parse_id(it->second, "unit");
      if (!id.ok()) return error_response(id.error());
      unit = *id;
    }
    return ok_json(ctx.reporting.tasks(a, unit));
  }));
  r.add("GET", base, with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto k = submission_key(req);
    if (!k.ok()) return error_response(k.error());
    return ok_json(ctx.reporting.get(a, k->unit, k->form, k->period));
  }));
  r.add("POST", base + "/validate", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto k = submission_key(req);
    if (!k.ok()) return error_response(k.error());
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.reporting.validate(a, k->unit, k->form, k->period, *body));
  }));
  r.add("PUT", base + "/draft", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto k = submission_key(req);
    if (!k.ok()) return error_response(k.error());
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.reporting.save_draft(a, k->unit, k->form, k->period, *body));
  }));
  // A submit is answered from the store's writer once its commit is durable, so no thread waits
  // for the commit. On SQLite its checks and edit rules (local reads of microseconds) run on the
  // io thread that read the request, saving two thread hand-offs per submit (issue #6); on
  // PostgreSQL, whose reads are network round trips, they run on the handler pool.
  r.add_async(
      "POST", base + "/submit",
      [&ctx](http::Request& req, http::Respond respond) {
        auto a = authenticate(ctx, req);
        if (!a.ok()) return respond(error_response(a.error()));
        auto k = submission_key(req);
        if (!k.ok()) return respond(error_response(k.error()));
        auto body = parse_json_body(req);
        if (!body.ok()) return respond(error_response(body.error()));
        std::optional<services::IdempotencyKey> idem;
        std::string key = req.header("Idempotency-Key");
        if (req.headers.count("Idempotency-Key")) {
          bool printable = !key.empty() && key.size() <= 128 &&
                           std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
          if (!printable) {
            return respond(error_response(make_error(ErrorKind::invalid, "BAD_IDEMPOTENCY_KEY",
                                                     "Idempotency-Key 应为1-128个可见 ASCII 字符",
                                                     "Idempotency-Key must be 1-128 visible ASCII characters")));
          }
          idem = services::IdempotencyKey{key, sha256_hex(req.method + " " + req.path + "\n" + body->dump())};
        }
        ctx.reporting.submit_async(*a, k->unit, k->form, k->period, *body, idem,
                                   [respond](services::ReportingService::SubmitAnswer answer) {
                                     // Built and serialised on the io thread, not the writer's.
                                     respond(http::Response::later([answer = std::move(answer)] {
                                       auto text = answer();
                                       if (!text.ok()) return error_response(text.error());
                                       http::Response r;
                                       r.body = std::move(*text);
                                       return r;
                                     }));
                                   });
      },
      ctx.store.dialect() == store::Dialect::sqlite ? http::RunOn::io_thread : http::RunOn::pool);
  r.add("GET", base + "/versions", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto k = submission_key(req);
    if (!k.ok()) return error_response(k.error());
    return ok_json(ctx.reporting.versions(a, k->unit, k->form, k->period));
  }));
  r.add("GET", base + "/template.xlsx", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto k = submission_key(req);
    if (!k.ok()) return error_response(k.error());
    auto bytes = ctx.reporting.template_xlsx(a, k->unit, k->form, k->period);
    if (!bytes.ok()) return error_response(bytes.error());
    http::Response resp;
    resp.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    resp.body = std::move(*bytes);
    resp.headers.emplace_back("Content-Disposition",
                              fmt::format("attachment; filename=\"{}_{}.xlsx\"", k->form, k->period));
    return resp;
  }));
  r.add("POST", base + "/upload", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto k = submission_key(req);
    if (!k.ok()) return error_response(k.error());
    return ok_json(ctx.reporting.upload_xlsx(a, k->unit, k->form, k->period, req.body));
  }));
}

void unit_routes(http::Router& r, ApiContext& ctx) {
  r.add("GET", "/api/v1/units", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    store::UnitFilter f;
    for (const auto& [k, v] : req.query) {
      if (k == "q") f.q = v;
      else if (k == "region") f.region = v;
      else if (k == "industry") f.industry = v;
      else if (k == "limit" || k == "cursor") {
        auto n = parse_id(v, k.c_str());
        if (!n.ok()) return error_response(n.error());
        if (k == "limit") f.limit = static_cast<int>(std::min<std::int64_t>(*n, 500));
        else f.after_id = *n;
      } else {
        return error_response(make_error(ErrorKind::invalid, "UNKNOWN_PARAMETER", "未知参数：" + k, "Unknown parameter: " + k));
      }
    }
    return ok_json(ctx.units.list(a, f));
  }));
  r.add("GET", "/api/v1/units/{id}", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto id = parse_id(req.params.at("id"), "id");
    if (!id.ok()) return error_response(id.error());
    return ok_json(ctx.units.get(a, *id));
  }));
  r.add("PATCH", "/api/v1/units/{id}", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto id = parse_id(req.params.at("id"), "id");
    if (!id.ok()) return error_response(id.error());
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    return ok_json(ctx.units.update(a, *id, *body));
  }));
  r.add("POST", "/api/v1/units/import", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    services::ImportOptions opt;
    opt.partial = req.query.count("partial") && req.query.at("partial") == "true";
    return ok_json(ctx.units.import(a, req.body, opt));
  }));
}

json form_summary(const services::CompiledForm& f) {
  return {{"code", f.def.code}, {"version", f.def.version}, {"name", f.def.name}, {"name_en", f.def.name_en},
          {"frequency", domain::frequency_name(f.def.frequency)}};
}

void form_routes(http::Router& r, ApiContext& ctx) {
  r.add("GET", "/api/v1/forms", with_actor(ctx, [&ctx](http::Request&, const services::Actor&) {
    auto forms = ctx.forms.latest();
    if (!forms.ok()) return error_response(forms.error());
    json items = json::array();
    for (const auto& f : *forms) items.push_back(form_summary(*f));
    return http::Response::json(200, {{"items", items}});
  }));
  r.add("GET", "/api/v1/forms/{code}", with_actor(ctx, [&ctx](http::Request& req, const services::Actor&) {
    int version = 0;
    if (auto it = req.query.find("version"); it != req.query.end()) {
      auto v = parse_id(it->second, "version");
      if (!v.ok()) return error_response(v.error());
      version = static_cast<int>(*v);
    }
    auto f = ctx.forms.get(req.params.at("code"), version);
    if (!f.ok()) return error_response(f.error());
    return http::Response::json(200, domain::form_to_json((*f)->def));
  }));
  r.add("POST", "/api/v1/forms", with_actor(ctx, [&ctx](http::Request& req, const services::Actor& a) {
    auto allowed = security::authorize(a.user, security::Action::manage_forms);
    if (!allowed.ok()) return error_response(allowed.error());
    auto body = parse_json_body(req);
    if (!body.ok()) return error_response(body.error());
    auto f = ctx.forms.import(*body, a.user.login);
    if (!f.ok()) return error_response(f.error());
    return http::Response::json(201, form_summary(**f));
  }));
}

}  // namespace

void monitor_routes(http::Router& r, ApiContext& ctx);
void release_routes(http::Router& r, ApiContext& ctx);
void security_routes(http::Router& r, ApiContext& ctx);

void register_routes(http::Router& r, ApiContext& ctx) {
  r.add("GET", "/healthz", [&ctx](http::Request&) {
    int v = ctx.store.schema_version();
    if (v <= 0) return http::Response::error(503, "UNHEALTHY", "数据库不可用", "Database unavailable");
    return http::Response::json(200, {{"status", "ok"}, {"schema_version", v}});
  });
  r.add("GET", "/api/v1/openapi.json", [&ctx](http::Request&) {
    std::ifstream in(ctx.openapi_path, std::ios::binary);
    if (!in) return http::Response::error(404, "NOT_FOUND", "未找到 OpenAPI 文档", "OpenAPI document not found");
    std::stringstream ss;
    ss << in.rdbuf();
    http::Response resp;
    resp.body = ss.str();
    return resp;
  });
  auth_routes(r, ctx);
  reporting_routes(r, ctx);
  unit_routes(r, ctx);
  form_routes(r, ctx);
  monitor_routes(r, ctx);
  release_routes(r, ctx);
  security_routes(r, ctx);
}

}  // namespace statgov::api
