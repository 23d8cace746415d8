// The portal's URLs (docs/publication.md section 4): JSON API, SDMX REST 2.1 and the site.
// Every handler takes one View snapshot and builds its answer from it, so a release appears
// whole on the first request after its minute and never partly.
#include "portal/portal.hpp"

#include "publish/jsonstat.hpp"
#include "publish/sdmx.hpp"
#include "publish/tabular.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace statgov::portal {

namespace {

using http::Request;
using http::Response;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split(std::string_view s, std::string_view seps) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    const auto j = s.find_first_of(seps, i);
    out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

// ?lang=en|zh, else the first zh or en tag of Accept-Language, else zh.
std::string lang_of(const Request& req) {
  if (auto it = req.query.find("lang"); it != req.query.end()) {
    if (it->second == "en" || it->second == "zh") return it->second;
  }
  for (const auto& tag : split(lower(req.header("Accept-Language")), ",")) {
    std::string t = tag.substr(0, tag.find(';'));
    t.erase(0, t.find_first_not_of(' '));
    if (t.rfind("zh", 0) == 0) return "zh";
    if (t.rfind("en", 0) == 0) return "en";
  }
  return "zh";
}

Response not_found(std::string_view code, std::string_view zh, std::string_view en) {
  return Response::error(404, code, zh, en);
}

Response too_large(std::size_t bytes, std::size_t cap) {
  return Response::error(413, "TOO_LARGE",
               "结果过大（" + std::to_string(bytes) + " 字节，上限 " + std::to_string(cap) +
                   " 字节），请缩小查询范围（按维度、时间筛选）",
               "The result is too large (" + std::to_string(bytes) + " bytes, limit " +
                   std::to_string(cap) + "); narrow the query (filter by dimension or period)");
}

Response json_ok(const json& body) {
  auto r = Response::json(200, body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

std::string mime_for(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string_view::npos ? "" : lower(std::string(path.substr(dot)));
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".xml", "application/xml; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
      {".pdf", "application/pdf"},
      {".doc", "application/msword"},
      {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {".xls", "application/vnd.ms-excel"},
      {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {".zip", "application/zip"},
      {".ofd", "application/ofd"},
  };
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

// RFC 5987 filename for downloads whose names may be Chinese.
std::string content_disposition(const std::string& name) {
  std::string enc;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      enc += static_cast<char>(c);
    } else {
      enc += '%';
      enc += hex[c >> 4];
      enc += hex[c & 15];
    }
  }
  return "attachment; filename*=UTF-8''" + enc;
}

bool wildcard(std::string_view s) { return s == "all" || s == "*"; }

// SDMX REST agency / id matching: "all", "*", or one or more values joined by '+' or ','.
bool matches(std::string_view pattern, std::string_view value) {
  if (pattern.empty() || wildcard(pattern)) return true;
  for (const auto& p : split(pattern, "+,")) {
    if (p == value) return true;
  }
  return false;
}

bool version_matches(std::string_view pattern, std::string_view value) {
  if (pattern.empty() || wildcard(pattern) || pattern == "latest" || pattern == "+" ||
      pattern == "~") {
    return true;
  }
  return matches(pattern, value);
}

const char* kNoSitePage = R"(<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>统计数据发布门户 / Statistics portal</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.6">
<h1>统计数据发布门户</h1>
<p>门户网站尚未发布。开放数据接口已可使用：<a href="/api/v1/releases">/api/v1/releases</a>、
<a href="/api/v1/datasets">/api/v1/datasets</a>、<a href="/rest/dataflow">/rest/dataflow</a>。</p>
<h2 lang="en">Statistics portal</h2>
<p lang="en">The portal's web site has not been published yet. The open-data interfaces work:
<a href="/api/v1/releases">/api/v1/releases</a>, <a href="/api/v1/datasets">/api/v1/datasets</a>,
<a href="/rest/dataflow">/rest/dataflow</a>.</p>
</body></html>
)";

class Routes {
 public:
  explicit Routes(Portal& p) : portal_(p) {}

  // Common wrapping: CORS on every API answer (open data), Vary on the SDMX ones.
  http::Handler api(Response (Routes::*fn)(Request&)) {
    return [this, fn](Request& req) {
      Response r = (this->*fn)(req);
      r.headers.emplace_back("Access-Control-Allow-Origin", "*");
      return r;
    };
  }
  http::Handler rest(Response (Routes::*fn)(Request&)) {
    return [this, fn](Request& req) {
      Response r = (this->*fn)(req);
      r.headers.emplace_back("Access-Control-Allow-Origin", "*");
      r.headers.emplace_back("Vary", "Accept");
      return r;
    };
  }

  Response releases(Request&) {
    auto v = portal_.view();
    return json_ok({{"releases", v->releases}});
  }

  Response calendar(Request&) {
    auto v = portal_.view();
    return json_ok({{"calendar", v->calendar}});
  }

  static json catalogue_entry(const View::DatasetEntry& e) {
    const auto& d = e.current->dataset;
    json dims = json::array();
    for (const auto& dim : d.dimensions) {
      dims.push_back({{"id", dim.id},
                      {"name_zh", dim.name_zh},
                      {"name_en", dim.name_en},
                      {"role", dim.role},
                      {"codes", dim.codes.size()}});
    }
    return {{"id", d.id},
            {"agency", d.agency},
            {"version", d.version},
            {"title_zh", d.title_zh},
            {"title_en", d.title_en},
            {"unit_zh", d.unit_zh},
            {"unit_en", d.unit_en},
            {"updated", d.updated},
            {"release_id", e.current->release_id},
            {"dimensions", std::move(dims)},
            {"observations", d.observations.size()},
            {"revisions", e.revisions}};
  }

  Response datasets(Request&) {
    auto v = portal_.view();
    json out = json::array();
    for (const auto& [id, e] : v->datasets) out.push_back(catalogue_entry(e));
    return json_ok({{"datasets", std::move(out)}});
  }

  Response dataset(Request& req) {
    auto v = portal_.view();
    auto it = v->datasets.find(req.params.at("id"));
    if (it == v->datasets.end()) return no_dataset();
    json body = it->second.current->published;
    body["release_id"] = it->second.current->release_id;
    body["revisions"] = it->second.revisions;
    return json_ok(body);
  }

  static Response no_dataset() {
    return not_found("NO_SUCH_DATASET", "没有这个数据集（或尚未发布）",
                     "No such dataset (or not yet released)");
  }

  // GET /api/v1/datasets/{id}/data?format=...&DIM=code,code
  Response data(Request& req) {
    auto v = portal_.view();
    auto it = v->datasets.find(req.params.at("id"));
    if (it == v->datasets.end()) return no_dataset();
    const auto& version = *it->second.current;
    const auto& d = version.dataset;
    std::string format = "jsonstat";
    if (auto f = req.query.find("format"); f != req.query.end()) format = f->second;
    if (format != "jsonstat" && format != "csv" && format != "xlsx" && format != "sdmx-csv") {
      return Response::error(400, "BAD_FORMAT", "format 应为 jsonstat、csv、xlsx 或 sdmx-csv",
                   "format must be jsonstat, csv, xlsx or sdmx-csv");
    }
    const std::string lang = lang_of(req);
    // One allowed-code set per dimension; empty = all.
    std::vector<std::vector<bool>> allowed(d.dimensions.size());
    std::string filter_key;
    for (const auto& [k, val] : req.query) {
      if (k == "format" || k == "lang") continue;
      auto dim = std::find_if(d.dimensions.begin(), d.dimensions.end(),
                              [&](const auto& x) { return x.id == k; });
      if (dim == d.dimensions.end()) {
        return Response::error(400, "UNKNOWN_DIMENSION", "数据集没有维度 " + k,
                     "The dataset has no dimension " + k, json::array({{{"dimension", k}}}));
      }
      auto& mask = allowed[static_cast<std::size_t>(dim - d.dimensions.begin())];
      mask.assign(dim->codes.size(), false);
      for (const auto& code : split(val, ",")) {
        auto c = std::find_if(dim->codes.begin(), dim->codes.end(),
                              [&](const auto& x) { return x.id == code; });
        if (c == dim->codes.end()) {
          return Response::error(404, "UNKNOWN_CODE", "维度 " + k + " 没有代码 " + code,
                       "Dimension " + k + " has no code " + code,
                       json::array({{{"dimension", k}, {"code", code}}}));
        }
        mask[static_cast<std::size_t>(c - dim->codes.begin())] = true;
      }
      filter_key += k + "=" + val + "&";
    }
    // The sequence and the number of earlier versions: a merged series changes with either.
    const std::string key = "api|" + std::to_string(version.sequence) + "." +
                            std::to_string(it->second.revisions.size()) + "|" + d.id + "|" + format +
                            "|" + lang + "|" + filter_key;
    if (auto hit = portal_.cache().get(key)) return *hit;
    std::vector<std::size_t> sel;
    for (std::size_t i = 0; i < d.observations.size(); ++i) {
      const auto& o = d.observations[i];
      bool keep = true;
      for (std::size_t k = 0; k < allowed.size() && keep; ++k) {
        keep = allowed[k].empty() || allowed[k][o.key[k]];
      }
      if (keep) sel.push_back(i);
    }
    Response r;
    if (sel.empty()) {
      r = not_found("NO_DATA", "所选范围没有数据", "No data for this selection");
    } else if (format == "jsonstat") {
      r = Response::json(200, publish::write_jsonstat(d, sel, lang));
    } else if (format == "csv") {
      r.content_type = "text/csv; charset=utf-8";
      r.body = publish::write_csv(d, sel, lang);
      r.headers.emplace_back("Content-Disposition", content_disposition(d.id + ".csv"));
    } else if (format == "xlsx") {
      r.content_type = mime_for(".xlsx");
      r.body = publish::write_xlsx(d, sel, lang);
      r.headers.emplace_back("Content-Disposition", content_disposition(d.id + ".xlsx"));
    } else {
      r.content_type = "application/vnd.sdmx.data+csv; charset=utf-8";
      r.body = publish::write_sdmx_csv(d, sel, publish::DataQuery{});
      r.headers.emplace_back("Content-Disposition", content_disposition(d.id + ".sdmx.csv"));
    }
    return finish(key, std::move(r), true);
  }

  // Cap, cache headers, store.
  Response finish(const std::string& key, Response r, bool vary_language) {
    if (r.status == 200 && r.body.size() > portal_.options().max_response_bytes) {
      r = too_large(r.body.size(), portal_.options().max_response_bytes);
    }
    if (r.status == 200) r.headers.emplace_back("Cache-Control", "no-cache");
    if (vary_language) r.headers.emplace_back("Vary", "Accept-Language");
    portal_.cache().put(key, std::make_shared<const Response>(r));
    return r;
  }

  static json document_summary(const json& doc) {
    json s = json::object();
    for (const char* k : {"index_no", "title", "category", "publisher", "date"}) {
      if (doc.contains(k)) s[k] = doc[k];
    }
    json names = json::array();
    for (const auto& a : doc["attachments"]) names.push_back(a["name"]);
    s["attachments"] = std::move(names);
    return s;
  }

  Response documents(Request& req) {
    auto v = portal_.view();
    const std::string q = lower(req.query.count("q") ? req.query.at("q") : "");
    const std::string category = req.query.count("category") ? req.query.at("category") : "";
    std::vector<const json*> hits;
    for (const auto& [no, e] : v->documents) {
      const json& doc = e.document;
      if (!category.empty() && doc.value("category", "") != category) continue;
      if (!q.empty()) {
        const std::string hay =
            lower(no + "\n" + doc.value("title", "") + "\n" + doc.value("body", ""));
        if (hay.find(q) == std::string::npos) continue;
      }
      hits.push_back(&doc);
    }
    std::stable_sort(hits.begin(), hits.end(), [](const json* a, const json* b) {
      return a->value("date", "") > b->value("date", "");
    });
    json out = json::array();
    for (const json* d : hits) out.push_back(document_summary(*d));
    return json_ok({{"documents", std::move(out)}});
  }

  static Response no_document() {
    return not_found("NO_SUCH_DOCUMENT", "没有这份公开文件", "No such document");
  }

  Response document(Request& req) {
    auto v = portal_.view();
    auto it = v->documents.find(req.params.at("index_no"));
    if (it == v->documents.end()) return no_document();
    return json_ok(it->second.document);
  }

  Response document_file(Request& req) {
    auto v = portal_.view();
    auto it = v->documents.find(req.params.at("index_no"));
    if (it == v->documents.end()) return no_document();
    const std::string& name = req.params.at("name");
    for (const auto& a : it->second.document["attachments"]) {
      if (a["name"] != name) continue;
      const auto& files = it->second.package->verified.files;
      auto f = files.find(a["path"].get<std::string>());
      if (f == files.end()) break;
      Response r;
      r.content_type = mime_for(name);
      r.body = f->second;
      r.headers.emplace_back("Content-Disposition", content_disposition(name));
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    return not_found("NO_SUCH_FILE", "没有这个附件", "No such attachment");
  }

  Response healthz(Request&) {
    auto r = Response::json(200, portal_.health());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  // ---- SDMX REST ----------------------------------------------------------------------------

  Response structure(Request& req, publish::StructureKind kind) {
    auto neg = publish::negotiate_structure(req.header("Accept"));
    if (!neg.ok()) return not_acceptable(neg.error());
    const std::string agency = param(req, "agency"), id = param(req, "id"),
                      version = param(req, "version");
    const std::string refs = req.query.count("references") ? req.query.at("references") : "none";
    const bool children = refs == "children" || refs == "descendants" || refs == "all";
    auto v = portal_.view();
    std::vector<const publish::Dataset*> hits;
    for (const auto& [did, e] : v->datasets) {
      const auto& d = e.current->dataset;
      if (!matches(agency, d.agency) || !version_matches(version, d.version)) continue;
      bool ok = false;
      switch (kind) {
        case publish::StructureKind::dataflow:
          ok = matches(id, d.id);
          break;
        case publish::StructureKind::datastructure:
          ok = matches(id, "DSD_" + d.id);
          break;
        case publish::StructureKind::codelist:
          for (const auto& cl : publish::codelist_ids(d)) ok = ok || matches(id, cl);
          break;
      }
      if (ok) hits.push_back(&d);
    }
    if (hits.empty()) {
      return not_found("NO_RESULTS", "没有符合条件的结构", "No structure matches the query");
    }
    const std::string only = kind == publish::StructureKind::codelist && !id.empty() &&
                                     !wildcard(id) && id.find_first_of("+,") == std::string::npos
                                 ? id
                                 : "";
    const std::string key = "rest|" + v->key + "|" + req.target + "|" + neg->second;
    if (auto hit = portal_.cache().get(key)) return *hit;
    const std::string prepared = publish::format_iso_seconds(portal_.clock().now());
    Response r;
    r.content_type = neg->second;
    r.body = neg->first == publish::StructureFormat::sdmx_ml
                 ? publish::write_structure_xml(hits, kind, children, prepared, only)
                 : publish::write_structure_json(hits, kind, children, prepared, only);
    return finish(key, std::move(r), false);
  }

  Response dataflow(Request& req) { return structure(req, publish::StructureKind::dataflow); }
  Response datastructure(Request& req) {
    return structure(req, publish::StructureKind::datastructure);
  }
  Response codelist(Request& req) { return structure(req, publish::StructureKind::codelist); }

  static Response not_acceptable(const Error& e) {
    return Response::error(406, "NOT_ACCEPTABLE", e.message.empty() ? "不提供所请求的格式" : e.message,
                 e.message_en.empty() ? "The requested format is not offered" : e.message_en);
  }

  static std::string param(const Request& req, const char* name) {
    auto it = req.params.find(name);
    return it == req.params.end() ? "" : it->second;
  }

  // Browsers and simple scripts can't set Accept: ?format= picks the same formats.
  static std::string data_accept(const Request& req) {
    auto f = req.query.find("format");
    if (f == req.query.end()) return req.header("Accept");
    static const std::map<std::string, std::string> by_name = {
        {"jsondata", "application/vnd.sdmx.data+json;version=1.0.0"},
        {"sdmx-json", "application/vnd.sdmx.data+json;version=1.0.0"},
        {"csv", "application/vnd.sdmx.data+csv;version=1.0.0"},
        {"sdmx-csv", "application/vnd.sdmx.data+csv;version=1.0.0"},
        {"genericdata", "application/vnd.sdmx.genericdata+xml;version=2.1"},
        {"structurespecificdata", "application/vnd.sdmx.structurespecificdata+xml;version=2.1"},
    };
    auto it = by_name.find(f->second);
    return it == by_name.end() ? "unknown/unknown" : it->second;
  }

  // GET /rest/data/{flow}[/{key}[/{provider}]], flow = ID or AGENCY,ID[,VERSION]
  Response sdmx_data(Request& req) {
    const std::string flow = param(req, "flow");
    const auto parts = split(flow, ",");
    if (parts.size() > 3 ||
        std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); })) {
      return Response::error(400, "BAD_QUERY", "数据流应为 ID 或 机构,ID,版本：" + flow,
                   "The flow must be ID or AGENCY,ID,VERSION: " + flow);
    }
    const std::string id = parts.size() == 1 ? parts[0] : parts[1];
    const std::string agency = parts.size() >= 2 ? parts[0] : "all";
    const std::string version = parts.size() == 3 ? parts[2] : "latest";
    auto v = portal_.view();
    auto it = v->datasets.find(id);
    if (it == v->datasets.end() || !matches(agency, it->second.current->dataset.agency) ||
        !version_matches(version, it->second.current->dataset.version)) {
      return not_found("NO_DATA", "没有这个数据流：" + flow, "No such dataflow: " + flow);
    }
    auto neg = publish::negotiate_data(data_accept(req));
    if (!neg.ok()) return not_acceptable(neg.error());
    const auto& ver = *it->second.current;
    const auto& d = ver.dataset;
    const std::string key_text = param(req, "key");
    auto q = publish::parse_data_query(d, key_text, req.query);
    if (!q.ok()) return Response::from_error(q.error());
    const std::string lang = lang_of(req);
    const std::string key = "sdmx|" + std::to_string(ver.sequence) + "." +
                            std::to_string(it->second.revisions.size()) + "|" + d.id + "|" + req.target +
                            "|" + neg->second + "|" + lang;
    if (auto hit = portal_.cache().get(key)) return *hit;
    const auto sel = publish::select(d, *q);
    Response r;
    if (sel.empty()) {
      r = not_found("NO_DATA", "所选范围没有数据", "No data for this selection");
      return finish(key, std::move(r), false);
    }
    const std::string prepared = publish::format_iso_seconds(portal_.clock().now());
    r.content_type = neg->second;
    switch (neg->first) {
      case publish::DataFormat::sdmx_json:
        r.body = publish::write_sdmx_json_data(d, sel, *q, prepared, lang);
        break;
      case publish::DataFormat::sdmx_csv:
        r.body = publish::write_sdmx_csv(d, sel, *q);
        break;
      case publish::DataFormat::sdmx_ml_generic:
        r.body = publish::write_sdmx_ml_generic(d, sel, *q, prepared);
        break;
      case publish::DataFormat::sdmx_ml_structure_specific:
        r.body = publish::write_sdmx_ml_structure_specific(d, sel, *q, prepared);
        break;
    }
    return finish(key, std::move(r), neg->first == publish::DataFormat::sdmx_json);
  }

  // ---- the site -----------------------------------------------------------------------------

  Response site(Request& req) {
    const std::string& path = req.path;
    if (path.rfind("/api/", 0) == 0 || path.rfind("/rest/", 0) == 0 || path == "/api" ||
        path == "/rest") {
      auto r = not_found("NOT_FOUND", "请求的资源不存在", "No such resource");
      r.headers.emplace_back("Access-Control-Allow-Origin", "*");
      if (path.rfind("/rest", 0) == 0) r.headers.emplace_back("Vary", "Accept");
      return r;
    }
    auto v = portal_.view();
    std::string rel = path.size() > 1 ? path.substr(1) : "index.html";
    const bool has_ext =
        rel.rfind('.') != std::string::npos &&
        rel.rfind('.') > (rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/'));
    const bool asset = rel.rfind("assets/", 0) == 0;
    if (!v->site) {
      if (has_ext && rel != "index.html") {
        return not_found("NOT_FOUND", "请求的资源不存在", "No such resource");
      }
      Response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = kNoSitePage;
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    const auto& files = v->site->verified.files;
    auto f = publish::safe_package_path(rel) ? files.find("site/" + rel) : files.end();
    if (f == files.end()) {
      if (asset || has_ext) return not_found("NOT_FOUND", "请求的资源不存在", "No such resource");
      f = files.find("site/index.html");  // single-page app: the client routes the path
      if (f == files.end()) return not_found("NOT_FOUND", "请求的资源不存在", "No such resource");
    }
    Response r;
    r.content_type = mime_for(f->first);
    r.body = f->second;
    // Vite names assets by content hash; everything else may change with the next package.
    r.headers.emplace_back("Cache-Control",
                           asset ? "public, max-age=31536000, immutable" : "no-cache");
    return r;
  }

 private:
  Portal& portal_;
};

}  // namespace

void Portal::register_routes(http::Router& router) {
  // NOTE: the Routes object lives as long as the handlers that capture it: the router's.
  auto routes = std::make_shared<Routes>(*this);
  auto bind = [routes](Response (Routes::*fn)(Request&), bool sdmx) {
    http::Handler h = sdmx ? routes->rest(fn) : routes->api(fn);
    return [routes, h](Request& req) { return h(req); };
  };
  router.add("GET", "/healthz", bind(&Routes::healthz, false));
  router.add("GET", "/api/v1/releases", bind(&Routes::releases, false));
  router.add("GET", "/api/v1/calendar", bind(&Routes::calendar, false));
  router.add("GET", "/api/v1/datasets", bind(&Routes::datasets, false));
  router.add("GET", "/api/v1/datasets/{id}", bind(&Routes::dataset, false));
  router.add("GET", "/api/v1/datasets/{id}/data", bind(&Routes::data, false));
  router.add("GET", "/api/v1/documents", bind(&Routes::documents, false));
  router.add("GET", "/api/v1/documents/{index_no}", bind(&Routes::document, false));
  router.add("GET", "/api/v1/documents/{index_no}/files/{name}",
             bind(&Routes::document_file, false));
  for (const char* kind : {"dataflow", "datastructure", "codelist"}) {
    auto fn = std::string(kind) == "dataflow"        ? &Routes::dataflow
              : std::string(kind) == "datastructure" ? &Routes::datastructure
                                                     : &Routes::codelist;
    const std::string base = std::string("/rest/") + kind;
    router.add("GET", base, bind(fn, true));
    router.add("GET", base + "/{agency}", bind(fn, true));
    router.add("GET", base + "/{agency}/{id}", bind(fn, true));
    router.add("GET", base + "/{agency}/{id}/{version}", bind(fn, true));
  }
  router.add("GET", "/rest/data/{flow}", bind(&Routes::sdmx_data, true));
  router.add("GET", "/rest/data/{flow}/{key}", bind(&Routes::sdmx_data, true));
  router.add("GET", "/rest/data/{flow}/{key}/{provider}", bind(&Routes::sdmx_data, true));
  // The site last: any other GET path up to 16 segments (the router has no wildcard).
  std::string pattern;
  router.add("GET", "/", [routes](Request& req) { return routes->site(req); });
  for (int i = 0; i < 16; ++i) {
    pattern += "/{s" + std::to_string(i) + "}";
    router.add("GET", pattern, [routes](Request& req) { return routes->site(req); });
  }
}

}  // namespace statgov::portal
