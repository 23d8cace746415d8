// SDMX 2.1 queries, negotiation and writers (see sdmx.hpp for the structure every dataset gets).
#include "publish/sdmx.hpp"

#include "base/csv.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace statgov::publish {
namespace {

constexpr const char* kNsMessage = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message";
constexpr const char* kNsStructure = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure";
constexpr const char* kNsCommon = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common";
constexpr const char* kNsGeneric = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic";
constexpr const char* kNsStructureSpecific =
    "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific";
constexpr const char* kNsXsi = "http://www.w3.org/2001/XMLSchema-instance";

constexpr const char* kAttrStatus = "OBS_STATUS";
constexpr const char* kAttrConf = "OBS_CONF";
constexpr const char* kAllDimensions = "AllDimensions";

Error bad_query(std::string zh, std::string en) {
  return make_error(ErrorKind::invalid, "BAD_QUERY", "查询无效：" + std::move(zh),
                    "Bad query: " + std::move(en));
}

// ---- identifiers and URNs -------------------------------------------------------------------

std::string ref_part(const std::string& agency, const std::string& id, const std::string& version) {
  return agency + ":" + id + "(" + version + ")";
}
std::string dsd_id(const Dataset& d) { return "DSD_" + d.id; }
std::string cs_id(const Dataset& d) { return "CS_" + d.id; }
std::string cl_id(const Dataset& d, const Dimension& dim) { return "CL_" + dim.id + "_" + d.id; }
std::string flow_urn(const Dataset& d) {
  return "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=" +
         ref_part(d.agency, d.id, d.version);
}
std::string dsd_urn(const Dataset& d) {
  return "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=" +
         ref_part(d.agency, dsd_id(d), d.version);
}
std::string component_urn(const Dataset& d, const char* cls, const std::string& id) {
  return "urn:sdmx:org.sdmx.infomodel.datastructure." + std::string(cls) + "=" +
         ref_part(d.agency, dsd_id(d), d.version) + "." + id;
}
std::string codelist_urn(const std::string& agency, const std::string& id,
                         const std::string& version) {
  return "urn:sdmx:org.sdmx.infomodel.codelist.Codelist=" + ref_part(agency, id, version);
}
std::string cs_urn(const Dataset& d) {
  return "urn:sdmx:org.sdmx.infomodel.conceptscheme.ConceptScheme=" +
         ref_part(d.agency, cs_id(d), d.version);
}
std::string concept_urn(const Dataset& d, const std::string& id) {
  return "urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=" +
         ref_part(d.agency, cs_id(d), d.version) + "." + id;
}
std::string ss_namespace(const Dataset& d, const std::string& obs_level) {
  return dsd_urn(d) + ":ObsLevelDim:" + obs_level;
}

// A message id from the dataset and the preparation time: [A-Za-z0-9_] only, as IDType wants.
std::string message_id(std::string_view base, std::string_view prepared_utc) {
  std::string id = "IREF_" + std::string(base) + "_";
  for (char c : prepared_utc) {
    if (c >= '0' && c <= '9') id += c;
  }
  return id;
}

// ---- attributes (fixed for every dataset) ---------------------------------------------------

struct AttrCode {
  const char* id;
  const char* zh;
  const char* en;
};
struct AttrDef {
  const char* id;
  const char* codelist;
  const char* zh;
  const char* en;
  const char* cl_zh;
  const char* cl_en;
  std::vector<AttrCode> codes;
};
const std::vector<AttrDef>& attribute_defs() {
  static const std::vector<AttrDef> defs = {
      {kAttrStatus,
       "CL_OBS_STATUS",
       "观测状态",
       "Observation status",
       "观测状态代码表",
       "Observation status codes",
       {{"A", "正常值", "Normal value"}, {"M", "缺失值", "Missing value"}}},
      {kAttrConf,
       "CL_OBS_CONF",
       "保密状态",
       "Confidentiality status",
       "保密状态代码表",
       "Confidentiality status codes",
       {{"F", "可公开", "Free"}, {"C", "保密（不予公布）", "Confidential (not published)"}}},
  };
  return defs;
}
// The attribute values an observation carries (nullptr = not set). Normal observations set none.
const char* obs_status_value(const Observation& o) { return o.status == 'M' ? "M" : nullptr; }
const char* obs_conf_value(const Observation& o) { return o.status == 'C' ? "C" : nullptr; }

// ---- packaging ------------------------------------------------------------------------------

struct Packaging {
  int obs_dim = -1;                 // -1: AllDimensions (flat)
  std::vector<std::size_t> series;  // the other dimensions, in DSD order
  bool flat() const { return obs_dim < 0 || series.empty(); }
};

Packaging packaging(const Dataset& d, const DataQuery& q) {
  Packaging p;
  if (d.dimensions.empty()) return p;
  if (q.dimension_at_observation == kAllDimensions) {
    p.obs_dim = -1;
  } else {
    p.obs_dim = static_cast<int>(d.dimensions.size()) - 1;
    for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
      if (d.dimensions[i].id == q.dimension_at_observation) p.obs_dim = static_cast<int>(i);
    }
  }
  for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
    if (static_cast<int>(i) != p.obs_dim) p.series.push_back(i);
  }
  if (p.obs_dim < 0) p.series.clear();
  return p;
}

struct SeriesGroup {
  std::vector<std::uint32_t> key;  // code indexes of Packaging::series
  std::vector<std::size_t> obs;    // observation indexes in dataset order
};

std::vector<SeriesGroup> group_series(const Dataset& d, const std::vector<std::size_t>& sel,
                                      const Packaging& p) {
  std::vector<SeriesGroup> out;
  std::map<std::vector<std::uint32_t>, std::size_t> index;
  for (std::size_t i : sel) {
    if (i >= d.observations.size()) continue;
    const Observation& o = d.observations[i];
    std::vector<std::uint32_t> key;
    key.reserve(p.series.size());
    for (std::size_t dim : p.series) key.push_back(o.key[dim]);
    auto [it, inserted] = index.try_emplace(key, out.size());
    if (inserted) out.push_back(SeriesGroup{std::move(key), {}});
    out[it->second].obs.push_back(i);
  }
  // Series in code-list order of their key; within a series, observations follow the code list
  // of the observation dimension (chronological for TIME_PERIOD), whatever the dataset's order.
  std::sort(out.begin(), out.end(),
            [](const SeriesGroup& a, const SeriesGroup& b) { return a.key < b.key; });
  if (p.obs_dim >= 0) {
    const auto od = static_cast<std::size_t>(p.obs_dim);
    for (SeriesGroup& g : out) {
      std::stable_sort(g.obs.begin(), g.obs.end(), [&](std::size_t a, std::size_t b) {
        return d.observations[a].key[od] < d.observations[b].key[od];
      });
    }
  }
  return out;
}

// For each dimension, the code indexes used by the selection (ascending) and their positions.
struct UsedCodes {
  std::vector<std::vector<std::uint32_t>> codes;
  std::vector<std::map<std::uint32_t, std::size_t>> pos;
};
UsedCodes used_codes(const Dataset& d, const std::vector<std::size_t>& sel) {
  UsedCodes u;
  std::vector<std::set<std::uint32_t>> sets(d.dimensions.size());
  for (std::size_t i : sel) {
    if (i >= d.observations.size()) continue;
    const Observation& o = d.observations[i];
    for (std::size_t k = 0; k < o.key.size() && k < sets.size(); ++k) sets[k].insert(o.key[k]);
  }
  for (const auto& s : sets) {
    u.codes.emplace_back(s.begin(), s.end());
    std::map<std::uint32_t, std::size_t> m;
    for (std::size_t k = 0; k < u.codes.back().size(); ++k) m[u.codes.back()[k]] = k;
    u.pos.push_back(std::move(m));
  }
  return u;
}

bool valid_observation(const Dataset& d, const Observation& o) {
  if (o.key.size() != d.dimensions.size()) return false;
  for (std::size_t k = 0; k < o.key.size(); ++k) {
    if (o.key[k] >= d.dimensions[k].codes.size()) return false;
  }
  return true;
}

// Selected indexes that point at well-formed observations (hand-built datasets stay safe).
std::vector<std::size_t> checked(const Dataset& d, const std::vector<std::size_t>& sel) {
  std::vector<std::size_t> out;
  out.reserve(sel.size());
  for (std::size_t i : sel) {
    if (i < d.observations.size() && valid_observation(d, d.observations[i])) out.push_back(i);
  }
  return out;
}

const std::string& code_id(const Dataset& d, std::size_t dim, std::uint32_t idx) {
  return d.dimensions[dim].codes[idx].id;
}

std::string iso_date(std::int64_t day, bool end_of_day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                end_of_day ? "23:59:59Z" : "00:00:00Z");
  return buf;
}

// ---- XML helpers ----------------------------------------------------------------------------

// XML 1.0 forbids most C0 controls even as character references: drop them.
std::string xml_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
    out += c;
  }
  return out;
}

struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, std::size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
};

std::string save(const pugi::xml_document& doc) {
  StringWriter w;
  doc.save(w, "  ", pugi::format_indent, pugi::encoding_utf8);
  return std::move(w.out);
}

pugi::xml_node start_document(pugi::xml_document& doc, const char* root) {
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  return doc.append_child(root);
}

void add_text(pugi::xml_node parent, const char* name, std::string_view text) {
  parent.append_child(name).text().set(xml_text(text).c_str());
}

void add_names(pugi::xml_node parent, const char* element, const std::string& zh,
               const std::string& en, const std::string& fallback) {
  bool any = false;
  for (auto [lang, text] : {std::pair{"zh", &zh}, std::pair{"en", &en}}) {
    if (text->empty()) continue;
    auto n = parent.append_child(element);
    n.append_attribute("xml:lang") = lang;
    n.text().set(xml_text(*text).c_str());
    any = true;
  }
  if (!any) {
    auto n = parent.append_child(element);
    n.append_attribute("xml:lang") = "en";
    n.text().set(xml_text(fallback).c_str());
  }
}

void add_header(pugi::xml_node root, std::string_view id, std::string_view prepared,
                const std::string& sender) {
  auto h = root.append_child("mes:Header");
  add_text(h, "mes:ID", id);
  add_text(h, "mes:Test", "false");
  add_text(h, "mes:Prepared", prepared);
  h.append_child("mes:Sender").append_attribute("id") = xml_text(sender).c_str();
}

void add_data_header(pugi::xml_node root, const Dataset& d, std::string_view prepared,
                     const std::string& obs_level, const std::string* ss_ns) {
  add_header(root, message_id(d.id, prepared), prepared, d.agency);
  auto h = root.child("mes:Header");
  auto st = h.append_child("mes:Structure");
  st.append_attribute("structureID") = dsd_id(d).c_str();
  if (ss_ns) st.append_attribute("namespace") = ss_ns->c_str();
  st.append_attribute("dimensionAtObservation") = obs_level.c_str();
  auto ref = st.append_child("com:Structure").append_child("Ref");
  ref.append_attribute("agencyID") = d.agency.c_str();
  ref.append_attribute("id") = dsd_id(d).c_str();
  ref.append_attribute("version") = d.version.c_str();
}

std::string obs_level_name(const Dataset& d, const Packaging& p) {
  if (p.obs_dim < 0) return kAllDimensions;
  return d.dimensions[static_cast<std::size_t>(p.obs_dim)].id;
}

// ---- negotiation ----------------------------------------------------------------------------

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

// "1.0.0", "1.0" and "1" name the same format version; so do "2.1" and "2.1.0".
std::string normal_version(std::string v) {
  while (v.size() > 2 && v.compare(v.size() - 2, 2, ".0") == 0) v.resize(v.size() - 2);
  return v;
}

struct MediaType {
  std::string type, subtype;
  std::map<std::string, std::string> params;  // lower-case names and values, without q
  double q = 1.0;
};

std::optional<MediaType> parse_media_type(std::string_view text) {
  auto parts = split(text, ';');
  const std::string_view full = trim_ws(parts[0]);
  const std::size_t slash = full.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == full.size()) {
    return std::nullopt;
  }
  MediaType m;
  m.type = lower(trim_ws(full.substr(0, slash)));
  m.subtype = lower(trim_ws(full.substr(slash + 1)));
  if (m.type == "*" && m.subtype != "*") return std::nullopt;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view p = trim_ws(parts[i]);
    if (p.empty()) continue;
    const std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string name = lower(trim_ws(p.substr(0, eq)));
    std::string_view value = trim_ws(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (name == "q") {
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
      if (value.empty() || value.size() > 5 || (value[0] != '0' && value[0] != '1')) {
        return std::nullopt;
      }
      if (value.size() > 1 && value[1] != '.') return std::nullopt;
      double q = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
      if (ec != std::errc() || ptr != value.data() + value.size() || q < 0 || q > 1) {
        return std::nullopt;
      }
      m.q = q;
    } else if (name != "charset") {
      m.params[name] = name == "version" ? normal_version(lower(value)) : lower(value);
    }
  }
  return m;
}

template <typename Format>
struct Offer {
  const char* media;         // as matched against Accept
  const char* content_type;  // what to send
  Format format;
};

template <typename Format>
Result<std::pair<Format, std::string>> negotiate(std::string_view accept,
                                                 const std::vector<Offer<Format>>& offers) {
  if (trim_ws(accept).empty()) {
    return std::pair<Format, std::string>{offers.front().format, offers.front().content_type};
  }
  std::vector<MediaType> ranges;
  for (std::string_view r : split(accept, ',')) {
    if (trim_ws(r).empty()) continue;
    if (auto m = parse_media_type(r)) ranges.push_back(std::move(*m));
  }
  // Score: (q, specificity of the most specific matching range, earlier range, earlier offer).
  using Score = std::tuple<double, int, int, int>;
  std::optional<Score> best;
  std::size_t best_offer = 0;
  for (std::size_t o = 0; o < offers.size(); ++o) {
    const auto offer = parse_media_type(offers[o].media);
    if (!offer) continue;
    int spec = -1;
    std::size_t range_at = 0;
    for (std::size_t r = 0; r < ranges.size(); ++r) {
      const MediaType& m = ranges[r];
      int s = -1;
      if (m.type == "*") {
        s = 0;
      } else if (m.type == offer->type && m.subtype == "*") {
        s = 1;
      } else if (m.type == offer->type && m.subtype == offer->subtype) {
        bool params_ok = true;
        for (const auto& [k, v] : m.params) {
          auto it = offer->params.find(k);
          if (it == offer->params.end() || it->second != v) params_ok = false;
        }
        if (params_ok) s = m.params.empty() ? 2 : 3;
      }
      if (s > spec) {
        spec = s;
        range_at = r;
      }
    }
    if (spec < 0) continue;
    const double q = ranges[range_at].q;
    if (q <= 0) continue;
    const Score score{q, spec, -static_cast<int>(range_at), -static_cast<int>(o)};
    if (!best || score > *best) {
      best = score;
      best_offer = o;
    }
  }
  if (!best) {
    std::string offered;
    for (const auto& o : offers) {
      if (std::string_view(o.media).find("vnd.sdmx") == std::string_view::npos) continue;
      if (!offered.empty()) offered += ", ";
      offered += o.media;
    }
    return make_error(
        ErrorKind::invalid, "NOT_ACCEPTABLE",
        "无法提供所要求的格式（Accept）。可用格式：" + offered,
        "None of the requested formats (Accept) can be served. Available: " + offered);
  }
  return std::pair<Format, std::string>{offers[best_offer].format, offers[best_offer].content_type};
}

// ---- structure model shared by the XML and JSON structure writers ---------------------------

struct CodelistRef {
  std::string agency, id, version;
  std::string name_zh, name_en;
  std::vector<Code> codes;
};

std::vector<CodelistRef> dimension_codelists(const Dataset& d) {
  std::vector<CodelistRef> out;
  for (const Dimension& dim : d.dimensions) {
    if (dim.id == "TIME_PERIOD") continue;
    out.push_back(
        CodelistRef{d.agency, cl_id(d, dim), d.version, dim.name_zh, dim.name_en, dim.codes});
  }
  return out;
}

std::vector<CodelistRef> attribute_codelists(const std::string& agency) {
  std::vector<CodelistRef> out;
  for (const AttrDef& a : attribute_defs()) {
    CodelistRef cl{agency, a.codelist, "1.0", a.cl_zh, a.cl_en, {}};
    for (const AttrCode& c : a.codes) cl.codes.push_back(Code{c.id, c.zh, c.en, "", "", ""});
    out.push_back(std::move(cl));
  }
  return out;
}

struct ConceptDef {
  std::string id, name_zh, name_en;
};
std::vector<ConceptDef> concepts(const Dataset& d) {
  std::vector<ConceptDef> out;
  for (const Dimension& dim : d.dimensions) out.push_back({dim.id, dim.name_zh, dim.name_en});
  out.push_back({"OBS_VALUE", "观测值", "Observation value"});
  for (const AttrDef& a : attribute_defs()) out.push_back({a.id, a.zh, a.en});
  return out;
}

struct StructureSet {
  std::vector<const Dataset*> flows, dsds, concept_schemes;
  std::vector<CodelistRef> codelists;
};

StructureSet collect(const std::vector<const Dataset*>& ds, StructureKind kind, bool with_children,
                     std::string_view only_id) {
  StructureSet s;
  std::set<std::pair<std::string, std::string>> seen_codelists;  // (agency, id)
  auto add_codelists = [&](const Dataset& d, bool filter) {
    std::vector<CodelistRef> all = dimension_codelists(d);
    for (CodelistRef& cl : attribute_codelists(d.agency)) all.push_back(std::move(cl));
    for (CodelistRef& cl : all) {
      if (filter && !only_id.empty() && cl.id != only_id) continue;
      if (!seen_codelists.insert({cl.agency, cl.id}).second) continue;
      s.codelists.push_back(std::move(cl));
    }
  };
  for (const Dataset* d : ds) {
    if (d == nullptr) continue;
    switch (kind) {
      case StructureKind::dataflow:
        if (!only_id.empty() && d->id != only_id) break;
        s.flows.push_back(d);
        if (with_children) s.dsds.push_back(d);
        break;
      case StructureKind::datastructure:
        if (!only_id.empty() && dsd_id(*d) != only_id) break;
        s.dsds.push_back(d);
        if (with_children) {
          add_codelists(*d, false);
          s.concept_schemes.push_back(d);
        }
        break;
      case StructureKind::codelist:
        add_codelists(*d, true);
        break;
    }
  }
  return s;
}

// ---- structure XML --------------------------------------------------------------------------

void set_maintainable(pugi::xml_node n, const std::string& id, const std::string& agency,
                      const std::string& version, const std::string& urn) {
  n.append_attribute("id") = id.c_str();
  n.append_attribute("urn") = urn.c_str();
  n.append_attribute("agencyID") = agency.c_str();
  n.append_attribute("version") = version.c_str();
  n.append_attribute("isFinal") = "true";
}

void concept_ref(pugi::xml_node parent, const Dataset& d, const std::string& concept_id) {
  auto ref = parent.append_child("str:ConceptIdentity").append_child("Ref");
  ref.append_attribute("id") = concept_id.c_str();
  ref.append_attribute("maintainableParentID") = cs_id(d).c_str();
  ref.append_attribute("maintainableParentVersion") = d.version.c_str();
  ref.append_attribute("agencyID") = d.agency.c_str();
  ref.append_attribute("package") = "conceptscheme";
  ref.append_attribute("class") = "Concept";
}

void enumeration_ref(pugi::xml_node parent, const std::string& agency, const std::string& id,
                     const std::string& version) {
  auto ref = parent.append_child("str:LocalRepresentation")
                 .append_child("str:Enumeration")
                 .append_child("Ref");
  ref.append_attribute("id") = id.c_str();
  ref.append_attribute("version") = version.c_str();
  ref.append_attribute("agencyID") = agency.c_str();
  ref.append_attribute("package") = "codelist";
  ref.append_attribute("class") = "Codelist";
}

void write_dsd_xml(pugi::xml_node parent, const Dataset& d) {
  auto n = parent.append_child("str:DataStructure");
  set_maintainable(n, dsd_id(d), d.agency, d.version, dsd_urn(d));
  add_names(n, "com:Name", d.title_zh, d.title_en, dsd_id(d));
  auto comps = n.append_child("str:DataStructureComponents");
  auto dl = comps.append_child("str:DimensionList");
  dl.append_attribute("id") = "DimensionDescriptor";
  dl.append_attribute("urn") =
      component_urn(d, "DimensionDescriptor", "DimensionDescriptor").c_str();
  for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
    const Dimension& dim = d.dimensions[i];
    const bool time = dim.id == "TIME_PERIOD";
    auto dn = dl.append_child(time ? "str:TimeDimension" : "str:Dimension");
    dn.append_attribute("id") = dim.id.c_str();
    dn.append_attribute("urn") =
        component_urn(d, time ? "TimeDimension" : "Dimension", dim.id).c_str();
    dn.append_attribute("position") = static_cast<unsigned>(i + 1);
    concept_ref(dn, d, dim.id);
    if (time) {
      dn.append_child("str:LocalRepresentation")
          .append_child("str:TextFormat")
          .append_attribute("textType") = "ObservationalTimePeriod";
    } else {
      enumeration_ref(dn, d.agency, cl_id(d, dim), d.version);
    }
  }
  auto al = comps.append_child("str:AttributeList");
  al.append_attribute("id") = "AttributeDescriptor";
  al.append_attribute("urn") =
      component_urn(d, "AttributeDescriptor", "AttributeDescriptor").c_str();
  for (const AttrDef& a : attribute_defs()) {
    auto an = al.append_child("str:Attribute");
    an.append_attribute("id") = a.id;
    an.append_attribute("urn") = component_urn(d, "DataAttribute", a.id).c_str();
    an.append_attribute("assignmentStatus") = "Conditional";
    concept_ref(an, d, a.id);
    enumeration_ref(an, d.agency, a.codelist, "1.0");
    an.append_child("str:AttributeRelationship")
        .append_child("str:PrimaryMeasure")
        .append_child("Ref")
        .append_attribute("id") = "OBS_VALUE";
  }
  auto ml = comps.append_child("str:MeasureList");
  ml.append_attribute("id") = "MeasureDescriptor";
  ml.append_attribute("urn") = component_urn(d, "MeasureDescriptor", "MeasureDescriptor").c_str();
  auto pm = ml.append_child("str:PrimaryMeasure");
  pm.append_attribute("id") = "OBS_VALUE";
  pm.append_attribute("urn") = component_urn(d, "PrimaryMeasure", "OBS_VALUE").c_str();
  concept_ref(pm, d, "OBS_VALUE");
}

std::string structure_xml(const StructureSet& s, std::string_view prepared, std::string_view base,
                          const std::string& sender) {
  pugi::xml_document doc;
  auto root = start_document(doc, "mes:Structure");
  root.append_attribute("xmlns:mes") = kNsMessage;
  root.append_attribute("xmlns:str") = kNsStructure;
  root.append_attribute("xmlns:com") = kNsCommon;
  add_header(root, message_id(base, prepared), prepared, sender);
  auto structures = root.append_child("mes:Structures");
  if (!s.flows.empty()) {
    auto flows = structures.append_child("str:Dataflows");
    for (const Dataset* d : s.flows) {
      auto n = flows.append_child("str:Dataflow");
      set_maintainable(n, d->id, d->agency, d->version, flow_urn(*d));
      add_names(n, "com:Name", d->title_zh, d->title_en, d->id);
      if (!d->description_zh.empty() || !d->description_en.empty()) {
        add_names(n, "com:Description", d->description_zh, d->description_en, "");
      }
      auto ref = n.append_child("str:Structure").append_child("Ref");
      ref.append_attribute("id") = dsd_id(*d).c_str();
      ref.append_attribute("version") = d->version.c_str();
      ref.append_attribute("agencyID") = d->agency.c_str();
      ref.append_attribute("package") = "datastructure";
      ref.append_attribute("class") = "DataStructure";
    }
  }
  if (!s.codelists.empty()) {
    auto cls = structures.append_child("str:Codelists");
    for (const CodelistRef& cl : s.codelists) {
      auto n = cls.append_child("str:Codelist");
      const std::string urn = codelist_urn(cl.agency, cl.id, cl.version);
      set_maintainable(n, cl.id, cl.agency, cl.version, urn);
      add_names(n, "com:Name", cl.name_zh, cl.name_en, cl.id);
      for (const Code& c : cl.codes) {
        auto cn = n.append_child("str:Code");
        cn.append_attribute("id") = c.id.c_str();
        cn.append_attribute("urn") =
            ("urn:sdmx:org.sdmx.infomodel.codelist.Code=" + ref_part(cl.agency, cl.id, cl.version) +
             "." + c.id)
                .c_str();
        add_names(cn, "com:Name", c.name_zh, c.name_en, c.id);
        if (!c.parent.empty()) {
          cn.append_child("str:Parent").append_child("Ref").append_attribute("id") =
              c.parent.c_str();
        }
      }
    }
  }
  if (!s.concept_schemes.empty()) {
    auto css = structures.append_child("str:Concepts");
    for (const Dataset* d : s.concept_schemes) {
      auto n = css.append_child("str:ConceptScheme");
      set_maintainable(n, cs_id(*d), d->agency, d->version, cs_urn(*d));
      add_names(n, "com:Name", d->title_zh.empty() ? "" : d->title_zh + "：概念",
                d->title_en.empty() ? "" : "Concepts: " + d->title_en, cs_id(*d));
      for (const ConceptDef& c : concepts(*d)) {
        auto cn = n.append_child("str:Concept");
        cn.append_attribute("id") = c.id.c_str();
        cn.append_attribute("urn") = concept_urn(*d, c.id).c_str();
        add_names(cn, "com:Name", c.name_zh, c.name_en, c.id);
      }
    }
  }
  if (!s.dsds.empty()) {
    auto dsds = structures.append_child("str:DataStructures");
    for (const Dataset* d : s.dsds) write_dsd_xml(dsds, *d);
  }
  return save(doc);
}

// ---- structure JSON -------------------------------------------------------------------------

json names_json(const std::string& zh, const std::string& en) {
  json n = json::object();
  if (!zh.empty()) n["zh"] = zh;
  if (!en.empty()) n["en"] = en;
  return n;
}

json maintainable_json(const std::string& id, const std::string& agency, const std::string& version,
                       const std::string& urn, const std::string& zh, const std::string& en) {
  return json{{"id", id},
              {"agencyID", agency},
              {"version", version},
              {"isFinal", true},
              {"urn", urn},
              {"name", !zh.empty() ? zh : (!en.empty() ? en : id)},
              {"names", names_json(zh, en)}};
}

json dsd_json(const Dataset& d) {
  json j = maintainable_json(dsd_id(d), d.agency, d.version, dsd_urn(d), d.title_zh, d.title_en);
  json dims = json::array(), time_dims = json::array();
  for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
    const Dimension& dim = d.dimensions[i];
    const bool time = dim.id == "TIME_PERIOD";
    json dj = {{"id", dim.id},
               {"position", i + 1},
               {"type", time ? "TimeDimension" : "Dimension"},
               {"urn", component_urn(d, time ? "TimeDimension" : "Dimension", dim.id)},
               {"conceptIdentity", concept_urn(d, dim.id)}};
    if (time) {
      dj["localRepresentation"] = {{"textFormat", {{"textType", "ObservationalTimePeriod"}}}};
      time_dims.push_back(std::move(dj));
    } else {
      dj["localRepresentation"] = {
          {"enumeration", codelist_urn(d.agency, cl_id(d, dim), d.version)}};
      dims.push_back(std::move(dj));
    }
  }
  json attrs = json::array();
  for (const AttrDef& a : attribute_defs()) {
    attrs.push_back(
        {{"id", a.id},
         {"urn", component_urn(d, "DataAttribute", a.id)},
         {"assignmentStatus", "Conditional"},
         {"attributeRelationship", {{"primaryMeasure", "OBS_VALUE"}}},
         {"conceptIdentity", concept_urn(d, a.id)},
         {"localRepresentation", {{"enumeration", codelist_urn(d.agency, a.codelist, "1.0")}}}});
  }
  j["dataStructureComponents"] = {
      {"dimensionList",
       {{"id", "DimensionDescriptor"},
        {"urn", component_urn(d, "DimensionDescriptor", "DimensionDescriptor")},
        {"dimensions", std::move(dims)},
        {"timeDimensions", std::move(time_dims)}}},
      {"attributeList",
       {{"id", "AttributeDescriptor"},
        {"urn", component_urn(d, "AttributeDescriptor", "AttributeDescriptor")},
        {"attributes", std::move(attrs)}}},
      {"measureList",
       {{"id", "MeasureDescriptor"},
        {"urn", component_urn(d, "MeasureDescriptor", "MeasureDescriptor")},
        {"primaryMeasure",
         {{"id", "OBS_VALUE"},
          {"urn", component_urn(d, "PrimaryMeasure", "OBS_VALUE")},
          {"conceptIdentity", concept_urn(d, "OBS_VALUE")}}}}}};
  return j;
}

std::string structure_json(const StructureSet& s, std::string_view prepared, std::string_view base,
                           const std::string& sender) {
  json data = json::object();
  if (!s.flows.empty()) {
    json flows = json::array();
    for (const Dataset* d : s.flows) {
      json f =
          maintainable_json(d->id, d->agency, d->version, flow_urn(*d), d->title_zh, d->title_en);
      if (!d->description_zh.empty() || !d->description_en.empty()) {
        f["description"] = !d->description_zh.empty() ? d->description_zh : d->description_en;
        f["descriptions"] = names_json(d->description_zh, d->description_en);
      }
      f["structure"] = dsd_urn(*d);
      flows.push_back(std::move(f));
    }
    data["dataflows"] = std::move(flows);
  }
  if (!s.codelists.empty()) {
    json cls = json::array();
    for (const CodelistRef& cl : s.codelists) {
      json c =
          maintainable_json(cl.id, cl.agency, cl.version,
                            codelist_urn(cl.agency, cl.id, cl.version), cl.name_zh, cl.name_en);
      json codes = json::array();
      for (const Code& code : cl.codes) {
        json cj = {{"id", code.id},
                   {"name", code_name(code, "zh")},
                   {"names", names_json(code.name_zh, code.name_en)}};
        if (!code.parent.empty()) cj["parent"] = code.parent;
        codes.push_back(std::move(cj));
      }
      c["codes"] = std::move(codes);
      cls.push_back(std::move(c));
    }
    data["codelists"] = std::move(cls);
  }
  if (!s.concept_schemes.empty()) {
    json css = json::array();
    for (const Dataset* d : s.concept_schemes) {
      json c = maintainable_json(cs_id(*d), d->agency, d->version, cs_urn(*d),
                                 d->title_zh.empty() ? "" : d->title_zh + "：概念",
                                 d->title_en.empty() ? "" : "Concepts: " + d->title_en);
      json list = json::array();
      for (const ConceptDef& cd : concepts(*d)) {
        list.push_back({{"id", cd.id},
                        {"urn", concept_urn(*d, cd.id)},
                        {"name", !cd.name_zh.empty() ? cd.name_zh : cd.id},
                        {"names", names_json(cd.name_zh, cd.name_en)}});
      }
      c["concepts"] = std::move(list);
      css.push_back(std::move(c));
    }
    data["conceptSchemes"] = std::move(css);
  }
  if (!s.dsds.empty()) {
    json dsds = json::array();
    for (const Dataset* d : s.dsds) dsds.push_back(dsd_json(*d));
    data["dataStructures"] = std::move(dsds);
  }
  json msg = {{"meta",
               {{"id", message_id(base, prepared)},
                {"test", false},
                {"prepared", prepared},
                {"contentLanguages", {"zh", "en"}},
                {"sender", {{"id", sender}}}}},
              {"data", std::move(data)}};
  return msg.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string structure_sender(const std::vector<const Dataset*>& ds) {
  for (const Dataset* d : ds) {
    if (d != nullptr && !d->agency.empty()) return d->agency;
  }
  return "STATGOV";
}

}  // namespace

// ---- public: formatting, queries ------------------------------------------------------------

std::string format_double(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";
  std::string s(buf, ptr);
  if (s == "-0") s = "0";
  return s;
}

std::vector<std::string> codelist_ids(const Dataset& d) {
  std::vector<std::string> out;
  for (const Dimension& dim : d.dimensions) {
    if (dim.id != "TIME_PERIOD") out.push_back(cl_id(d, dim));
  }
  for (const AttrDef& a : attribute_defs()) out.emplace_back(a.codelist);
  return out;
}

Result<DataQuery> parse_data_query(const Dataset& d, std::string_view key,
                                   const std::map<std::string, std::string>& params) {
  DataQuery q;
  const std::size_t n = d.dimensions.empty() ? 0 : d.dimensions.size() - 1;
  q.key.assign(n, {});
  if (key.size() > 4000) return bad_query("键过长", "key too long");
  for (char c : key) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '@' || c == '$' || c == '-' || c == '+' || c == '.';
    if (!ok) {
      return bad_query("键中含非法字符：" + std::string(key),
                       "illegal character in key: " + std::string(key));
    }
  }
  if (!key.empty() && key != "all") {
    const auto parts = split(key, '.');
    if (parts.size() != n) {
      return bad_query("键应有 " + std::to_string(n) + " 段（以 . 分隔），实有 " +
                           std::to_string(parts.size()) + " 段",
                       "key must have " + std::to_string(n) + " parts separated by '.', got " +
                           std::to_string(parts.size()));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (parts[i].empty()) continue;
      for (std::string_view code : split(parts[i], '+')) {
        if (code.empty()) {
          return bad_query("键的第 " + std::to_string(i + 1) + " 段中 + 两侧不能为空",
                           "empty code around '+' in key part " + std::to_string(i + 1));
        }
        q.key[i].emplace_back(code);
      }
    }
  }
  auto param = [&](const char* name) -> std::string {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  q.start_period = param("startPeriod");
  q.end_period = param("endPeriod");
  std::optional<PeriodSpan> start, end;
  if (!q.start_period.empty()) {
    start = parse_period(q.start_period);
    if (!start) {
      return bad_query("startPeriod 不是有效时期：" + q.start_period,
                       "startPeriod is not a valid period: " + q.start_period);
    }
  }
  if (!q.end_period.empty()) {
    end = parse_period(q.end_period);
    if (!end) {
      return bad_query("endPeriod 不是有效时期：" + q.end_period,
                       "endPeriod is not a valid period: " + q.end_period);
    }
  }
  if (start && end && start->first_day > end->last_day) {
    return bad_query("startPeriod 晚于 endPeriod", "startPeriod is after endPeriod");
  }
  if (auto dao = param("dimensionAtObservation"); !dao.empty()) {
    bool known = dao == kAllDimensions;
    for (const Dimension& dim : d.dimensions) known = known || dim.id == dao;
    if (!known) {
      return bad_query("dimensionAtObservation 无效：" + dao,
                       "unknown dimensionAtObservation: " + dao);
    }
    q.dimension_at_observation = dao;
  }
  if (auto detail = param("detail"); !detail.empty()) {
    if (detail != "full" && detail != "dataonly" && detail != "serieskeysonly" &&
        detail != "nodata") {
      return bad_query("detail 无效：" + detail, "unknown detail: " + detail);
    }
    q.detail = detail;
  }
  return q;
}

std::vector<std::size_t> select(const Dataset& d, const DataQuery& q) {
  std::vector<std::size_t> out;
  if (d.dimensions.empty()) return out;
  // allowed[dim][code]; an empty vector = all allowed.
  std::vector<std::vector<bool>> allowed(d.dimensions.size());
  for (std::size_t i = 0; i < q.key.size() && i + 1 < d.dimensions.size(); ++i) {
    if (q.key[i].empty()) continue;
    const Dimension& dim = d.dimensions[i];
    allowed[i].assign(dim.codes.size(), false);
    for (std::size_t c = 0; c < dim.codes.size(); ++c) {
      allowed[i][c] =
          std::find(q.key[i].begin(), q.key[i].end(), dim.codes[c].id) != q.key[i].end();
    }
  }
  const auto start = q.start_period.empty() ? std::nullopt : parse_period(q.start_period);
  const auto end = q.end_period.empty() ? std::nullopt : parse_period(q.end_period);
  if (!q.start_period.empty() || !q.end_period.empty()) {
    const Dimension& time = d.dimensions.back();
    std::vector<bool>& a = allowed.back();
    a.assign(time.codes.size(), false);
    for (std::size_t c = 0; c < time.codes.size(); ++c) {
      const auto span = parse_period(time.codes[c].id);
      // An unparseable bound (callers should have used parse_data_query) matches nothing.
      if (!span || (!q.start_period.empty() && !start) || (!q.end_period.empty() && !end)) continue;
      a[c] = (!start || span->first_day >= start->first_day) &&
             (!end || span->last_day <= end->last_day);
    }
  }
  for (std::size_t i = 0; i < d.observations.size(); ++i) {
    const Observation& o = d.observations[i];
    if (!valid_observation(d, o)) continue;
    bool keep = true;
    for (std::size_t k = 0; k < allowed.size() && keep; ++k) {
      if (!allowed[k].empty() && !allowed[k][o.key[k]]) keep = false;
    }
    if (keep) out.push_back(i);
  }
  return out;
}

Result<std::pair<DataFormat, std::string>> negotiate_data(std::string_view accept) {
  static const std::vector<Offer<DataFormat>> offers = {
      {"application/vnd.sdmx.data+json;version=1.0.0",
       "application/vnd.sdmx.data+json;version=1.0.0", DataFormat::sdmx_json},
      {"application/json", "application/json", DataFormat::sdmx_json},
      {"application/vnd.sdmx.data+csv;version=1.0.0", "application/vnd.sdmx.data+csv;version=1.0.0",
       DataFormat::sdmx_csv},
      {"text/csv", "text/csv; charset=utf-8", DataFormat::sdmx_csv},
      {"application/vnd.sdmx.genericdata+xml;version=2.1",
       "application/vnd.sdmx.genericdata+xml;version=2.1", DataFormat::sdmx_ml_generic},
      {"application/xml", "application/xml", DataFormat::sdmx_ml_generic},
      {"text/xml", "text/xml; charset=utf-8", DataFormat::sdmx_ml_generic},
      {"application/vnd.sdmx.structurespecificdata+xml;version=2.1",
       "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
       DataFormat::sdmx_ml_structure_specific},
  };
  return negotiate(accept, offers);
}

Result<std::pair<StructureFormat, std::string>> negotiate_structure(std::string_view accept) {
  static const std::vector<Offer<StructureFormat>> offers = {
      {"application/vnd.sdmx.structure+xml;version=2.1",
       "application/vnd.sdmx.structure+xml;version=2.1", StructureFormat::sdmx_ml},
      {"application/xml", "application/xml", StructureFormat::sdmx_ml},
      {"text/xml", "text/xml; charset=utf-8", StructureFormat::sdmx_ml},
      {"application/vnd.sdmx.structure+json;version=1.0.0",
       "application/vnd.sdmx.structure+json;version=1.0.0", StructureFormat::sdmx_json},
      {"application/json", "application/json", StructureFormat::sdmx_json},
  };
  return negotiate(accept, offers);
}

// ---- public: data writers -------------------------------------------------------------------

std::string write_sdmx_json_data(const Dataset& d, const std::vector<std::size_t>& sel_in,
                                 const DataQuery& q, std::string_view prepared_utc,
                                 std::string_view lang) {
  const std::vector<std::size_t> sel = checked(d, sel_in);
  const Packaging p = packaging(d, q);
  const UsedCodes used = used_codes(d, sel);
  const bool with_attrs = q.detail == "full" || q.detail == "nodata";
  const bool with_obs = q.detail == "full" || q.detail == "dataonly";

  auto dimension_json = [&](std::size_t k) {
    const Dimension& dim = d.dimensions[k];
    json values = json::array();
    const bool time = dim.id == "TIME_PERIOD";
    std::set<std::string_view> present;
    for (std::uint32_t c : used.codes[k]) present.insert(dim.codes[c].id);
    for (std::uint32_t c : used.codes[k]) {
      const Code& code = dim.codes[c];
      json v = {{"id", code.id}, {"name", code_name(code, lang)}};
      // Only parents that are in the message, so the reference resolves.
      if (!code.parent.empty() && present.count(code.parent)) v["parent"] = code.parent;
      if (time) {
        if (auto span = parse_period(code.id)) {
          v["start"] = iso_date(span->first_day, false);
          v["end"] = iso_date(span->last_day, true);
        }
      }
      values.push_back(std::move(v));
    }
    json j = {{"id", dim.id},
              {"name", dimension_name(dim, lang)},
              {"keyPosition", k},
              {"values", std::move(values)}};
    if (time) j["roles"] = {"TIME_PERIOD"};
    return j;
  };

  json series_dims = json::array(), obs_dims = json::array();
  std::vector<std::size_t> series_order, obs_order;  // dimensions in key order of each part
  if (p.flat()) {
    for (std::size_t k = 0; k < d.dimensions.size(); ++k) {
      if (p.obs_dim < 0 || static_cast<int>(k) == p.obs_dim) obs_order.push_back(k);
    }
  } else {
    series_order = p.series;
    obs_order.push_back(static_cast<std::size_t>(p.obs_dim));
  }
  for (std::size_t k : series_order) series_dims.push_back(dimension_json(k));
  for (std::size_t k : obs_order) obs_dims.push_back(dimension_json(k));

  json obs_attrs = json::array();
  if (with_attrs) {
    for (const AttrDef& a : attribute_defs()) {
      // Only the value that data can carry: M for OBS_STATUS, C for OBS_CONF (index 0).
      const AttrCode& code = a.codes[1];
      obs_attrs.push_back(
          {{"id", a.id},
           {"name", is_english(lang) ? a.en : a.zh},
           {"relationship", {{"primaryMeasure", "OBS_VALUE"}}},
           {"values", {{{"id", code.id}, {"name", is_english(lang) ? code.en : code.zh}}}}});
    }
  }

  auto obs_array = [&](const Observation& o) {
    json a = json::array();
    a.push_back(o.value ? json(*o.value) : json(nullptr));
    if (with_attrs) {
      a.push_back(obs_status_value(o) ? json(0) : json(nullptr));
      a.push_back(obs_conf_value(o) ? json(0) : json(nullptr));
      while (a.size() > 1 && a.back().is_null()) a.erase(a.size() - 1);
    }
    return a;
  };
  auto key_string = [&](const Observation& o, const std::vector<std::size_t>& dims) {
    std::string s;
    for (std::size_t k : dims) {
      if (!s.empty()) s += ':';
      s += std::to_string(used.pos[k].at(o.key[k]));
    }
    return s;
  };

  const json links = json::array({{{"urn", flow_urn(d)}, {"rel", "dataflow"}}});
  json ds = {{"action", "Information"}, {"links", links}};
  if (p.flat()) {
    if (with_obs) {
      json observations = json::object();
      for (std::size_t i : sel) {
        const Observation& o = d.observations[i];
        observations[key_string(o, obs_order)] = obs_array(o);
      }
      ds["observations"] = std::move(observations);
    }
  } else {
    json series = json::object();
    for (const SeriesGroup& g : group_series(d, sel, p)) {
      const Observation& first = d.observations[g.obs.front()];
      json s = json::object();
      if (q.detail == "nodata") s["attributes"] = json::array();
      if (with_obs) {
        json observations = json::object();
        for (std::size_t i : g.obs) {
          const Observation& o = d.observations[i];
          observations[key_string(o, obs_order)] = obs_array(o);
        }
        s["observations"] = std::move(observations);
      }
      series[key_string(first, series_order)] = std::move(s);
    }
    ds["series"] = std::move(series);
  }

  const std::string& title = is_english(lang) ? (d.title_en.empty() ? d.title_zh : d.title_en)
                                              : (d.title_zh.empty() ? d.title_en : d.title_zh);
  json structure = {{"links", links},
                    {"name", title.empty() ? d.id : title},
                    {"dimensions",
                     {{"dataSet", json::array()},
                      {"series", std::move(series_dims)},
                      {"observation", std::move(obs_dims)}}},
                    {"attributes",
                     {{"dataSet", json::array()},
                      {"series", json::array()},
                      {"observation", std::move(obs_attrs)}}}};
  json msg = {{"meta",
               {{"id", message_id(d.id, prepared_utc)},
                {"test", false},
                {"prepared", prepared_utc},
                {"contentLanguages", {is_english(lang) ? "en" : "zh"}},
                {"sender", {{"id", d.agency}}}}},
              {"data", {{"structure", std::move(structure)}, {"dataSets", {std::move(ds)}}}}};
  return msg.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string write_sdmx_csv(const Dataset& d, const std::vector<std::size_t>& sel_in,
                           const DataQuery& q) {
  const std::vector<std::size_t> sel = checked(d, sel_in);
  const std::string flow = ref_part(d.agency, d.id, d.version);
  std::vector<std::vector<std::string>> rows;
  if (q.detail == "serieskeysonly" || q.detail == "nodata") {
    // One row per series: the dataflow and the series key (no observation-level columns).
    const Packaging p = packaging(d, q);
    std::vector<std::size_t> dims = p.series;
    if (p.obs_dim < 0) {
      for (std::size_t k = 0; k < d.dimensions.size(); ++k) dims.push_back(k);
    }
    std::vector<std::string> header = {"DATAFLOW"};
    for (std::size_t k : dims) header.push_back(d.dimensions[k].id);
    rows.push_back(std::move(header));
    Packaging keys;
    keys.obs_dim = 0;
    keys.series = dims;
    for (const SeriesGroup& g : group_series(d, sel, keys)) {
      std::vector<std::string> row = {flow};
      for (std::size_t j = 0; j < dims.size(); ++j) row.push_back(code_id(d, dims[j], g.key[j]));
      rows.push_back(std::move(row));
    }
    return ::statgov::write_csv(rows);
  }
  const bool with_attrs = q.detail != "dataonly";
  std::vector<std::string> header = {"DATAFLOW"};
  for (const Dimension& dim : d.dimensions) header.push_back(dim.id);
  header.emplace_back("OBS_VALUE");
  if (with_attrs) {
    header.emplace_back(kAttrStatus);
    header.emplace_back(kAttrConf);
  }
  rows.push_back(std::move(header));
  for (std::size_t i : sel) {
    const Observation& o = d.observations[i];
    std::vector<std::string> row = {flow};
    for (std::size_t k = 0; k < d.dimensions.size(); ++k) row.push_back(code_id(d, k, o.key[k]));
    row.push_back(o.value ? format_double(*o.value) : "");
    if (with_attrs) {
      row.emplace_back(obs_status_value(o) ? obs_status_value(o) : "");
      row.emplace_back(obs_conf_value(o) ? obs_conf_value(o) : "");
    }
    rows.push_back(std::move(row));
  }
  return ::statgov::write_csv(rows);
}

std::string write_sdmx_ml_generic(const Dataset& d, const std::vector<std::size_t>& sel_in,
                                  const DataQuery& q, std::string_view prepared_utc) {
  const std::vector<std::size_t> sel = checked(d, sel_in);
  const Packaging p = packaging(d, q);
  const bool with_attrs = q.detail == "full" || q.detail == "nodata";
  const bool with_obs = q.detail == "full" || q.detail == "dataonly";
  pugi::xml_document doc;
  auto root = start_document(doc, "mes:GenericData");
  root.append_attribute("xmlns:mes") = kNsMessage;
  root.append_attribute("xmlns:gen") = kNsGeneric;
  root.append_attribute("xmlns:com") = kNsCommon;
  const std::string level = obs_level_name(d, p);
  add_data_header(root, d, prepared_utc, level, nullptr);
  auto dsn = root.append_child("mes:DataSet");
  dsn.append_attribute("structureRef") = dsd_id(d).c_str();
  dsn.append_attribute("action") = "Information";

  auto add_value = [](pugi::xml_node parent, const std::string& id, const std::string& value) {
    auto v = parent.append_child("gen:Value");
    v.append_attribute("id") = id.c_str();
    v.append_attribute("value") = value.c_str();
  };
  auto add_obs_body = [&](pugi::xml_node obs, const Observation& o) {
    obs.append_child("gen:ObsValue").append_attribute("value") =
        (o.value ? format_double(*o.value) : std::string("NaN")).c_str();
    if (with_attrs && (obs_status_value(o) || obs_conf_value(o))) {
      auto attrs = obs.append_child("gen:Attributes");
      if (obs_status_value(o)) add_value(attrs, kAttrStatus, obs_status_value(o));
      if (obs_conf_value(o)) add_value(attrs, kAttrConf, obs_conf_value(o));
    }
  };

  if (p.obs_dim < 0) {
    if (with_obs) {
      for (std::size_t i : sel) {
        const Observation& o = d.observations[i];
        auto obs = dsn.append_child("gen:Obs");
        auto key = obs.append_child("gen:ObsKey");
        for (std::size_t k = 0; k < d.dimensions.size(); ++k) {
          add_value(key, d.dimensions[k].id, code_id(d, k, o.key[k]));
        }
        add_obs_body(obs, o);
      }
    }
  } else {
    const auto od = static_cast<std::size_t>(p.obs_dim);
    for (const SeriesGroup& g : group_series(d, sel, p)) {
      auto s = dsn.append_child("gen:Series");
      auto key = s.append_child("gen:SeriesKey");
      for (std::size_t j = 0; j < p.series.size(); ++j) {
        add_value(key, d.dimensions[p.series[j]].id, code_id(d, p.series[j], g.key[j]));
      }
      if (!with_obs) continue;
      for (std::size_t i : g.obs) {
        const Observation& o = d.observations[i];
        auto obs = s.append_child("gen:Obs");
        obs.append_child("gen:ObsDimension").append_attribute("value") =
            code_id(d, od, o.key[od]).c_str();
        add_obs_body(obs, o);
      }
    }
  }
  return save(doc);
}

std::string write_sdmx_ml_structure_specific(const Dataset& d,
                                             const std::vector<std::size_t>& sel_in,
                                             const DataQuery& q, std::string_view prepared_utc) {
  const std::vector<std::size_t> sel = checked(d, sel_in);
  const Packaging p = packaging(d, q);
  const bool with_attrs = q.detail == "full" || q.detail == "nodata";
  const bool with_obs = q.detail == "full" || q.detail == "dataonly";
  const std::string level = obs_level_name(d, p);
  const std::string ns = ss_namespace(d, level);
  pugi::xml_document doc;
  auto root = start_document(doc, "mes:StructureSpecificData");
  root.append_attribute("xmlns:mes") = kNsMessage;
  root.append_attribute("xmlns:ss") = kNsStructureSpecific;
  root.append_attribute("xmlns:ns1") = ns.c_str();
  root.append_attribute("xmlns:com") = kNsCommon;
  root.append_attribute("xmlns:xsi") = kNsXsi;
  add_data_header(root, d, prepared_utc, level, &ns);
  auto dsn = root.append_child("mes:DataSet");
  dsn.append_attribute("ss:structureRef") = dsd_id(d).c_str();
  dsn.append_attribute("xsi:type") = "ns1:DataSetType";
  dsn.append_attribute("ss:dataScope") = "DataStructure";
  dsn.append_attribute("action") = "Information";

  auto add_obs_attrs = [&](pugi::xml_node obs, const Observation& o) {
    obs.append_attribute("OBS_VALUE") =
        (o.value ? format_double(*o.value) : std::string("NaN")).c_str();
    if (with_attrs) {
      if (obs_status_value(o)) obs.append_attribute(kAttrStatus) = obs_status_value(o);
      if (obs_conf_value(o)) obs.append_attribute(kAttrConf) = obs_conf_value(o);
    }
  };
  if (p.obs_dim < 0) {
    if (with_obs) {
      for (std::size_t i : sel) {
        const Observation& o = d.observations[i];
        auto obs = dsn.append_child("Obs");
        for (std::size_t k = 0; k < d.dimensions.size(); ++k) {
          obs.append_attribute(d.dimensions[k].id.c_str()) = code_id(d, k, o.key[k]).c_str();
        }
        add_obs_attrs(obs, o);
      }
    }
  } else {
    const auto od = static_cast<std::size_t>(p.obs_dim);
    for (const SeriesGroup& g : group_series(d, sel, p)) {
      auto s = dsn.append_child("Series");
      for (std::size_t j = 0; j < p.series.size(); ++j) {
        s.append_attribute(d.dimensions[p.series[j]].id.c_str()) =
            code_id(d, p.series[j], g.key[j]).c_str();
      }
      if (!with_obs) continue;
      for (std::size_t i : g.obs) {
        const Observation& o = d.observations[i];
        auto obs = s.append_child("Obs");
        obs.append_attribute(d.dimensions[od].id.c_str()) = code_id(d, od, o.key[od]).c_str();
        add_obs_attrs(obs, o);
      }
    }
  }
  return save(doc);
}

// ---- public: structure writers --------------------------------------------------------------

std::string write_structure_xml(const std::vector<const Dataset*>& ds, StructureKind kind,
                                bool with_children, std::string_view prepared_utc,
                                std::string_view only_id) {
  return structure_xml(collect(ds, kind, with_children, only_id), prepared_utc, "STRUCTURE",
                       structure_sender(ds));
}

std::string write_structure_json(const std::vector<const Dataset*>& ds, StructureKind kind,
                                 bool with_children, std::string_view prepared_utc,
                                 std::string_view only_id) {
  return structure_json(collect(ds, kind, with_children, only_id), prepared_utc, "STRUCTURE",
                        structure_sender(ds));
}

std::string write_structure_xml(const std::vector<const Dataset*>& ds, StructureKind kind,
                                bool with_children, std::string_view prepared_utc) {
  return write_structure_xml(ds, kind, with_children, prepared_utc, "");
}

std::string write_structure_json(const std::vector<const Dataset*>& ds, StructureKind kind,
                                 bool with_children, std::string_view prepared_utc) {
  return write_structure_json(ds, kind, with_children, prepared_utc, "");
}

}  // namespace statgov::publish
