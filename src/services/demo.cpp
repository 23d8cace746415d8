#include "services/demo.hpp"

#include "domain/codes.hpp"
#include "services/releases.hpp"
#include "services/reporting.hpp"
#include "store/repos.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

namespace statgov::services {

using nlohmann::json;

Status import_shipped_forms(FormService& forms, const std::string& data_dir, const std::string& actor) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_dir + "/forms", ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  if (ec) return make_error(ErrorKind::invalid, "DATA_MISSING", "找不到表式目录：" + data_dir + "/forms", "No forms folder: " + data_dir + "/forms");
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    auto j = json::parse(in, nullptr, false);
    if (j.is_discarded()) {
      return make_error(ErrorKind::invalid, "BAD_JSON", "表式文件不是有效的 JSON：" + f.string(), "Not valid JSON: " + f.string());
    }
    auto existing = forms.get(j.value("code", ""), 0);
    if (existing.ok()) continue;
    SG_TRY(forms.import(j, actor));
  }
  return Ok{};
}

namespace {

std::string make_uscc(std::mt19937_64& rng, const std::string& county6) {
  static constexpr std::string_view digits = "0123456789";
  std::string org;
  for (int i = 0; i < 8; ++i) org += digits[rng() % 10];
  org += domain::org_code_check_char(org);
  std::string body = "91" + county6 + org;
  return body + domain::uscc_check_char(body);
}

double round1(double v) { return std::round(v * 10.0) / 10.0; }

// Monthly industrial values with consistent year-to-date sums; growth within +-15% a year so that
// the demo history passes its own rules.
struct IndustrialSeries {
  double base_output, sales_ratio, export_share, power_per_output;
};

}  // namespace

namespace {

// The release calendar of the demo year for the monthly industrial form (09:30 Beijing time on the
// 15th of the following month), three 政务公开 documents, and, given a key, the signed packages of
// the releases whose minute has passed.
Status add_demo_publication(store::Store& store, Catalog& catalog, FormService& forms, const Clock& clock,
                            const DemoOptions& opt, AuthService& auth, const std::string& city12, DemoReport& rep) {
  auto now = clock.now();
  auto now_s = format_utc(now);
  const int year = local_date(now).year;
  auto city = catalog.region(city12);
  const std::string city_name = city ? city->name : city12.substr(0, 6);
  const std::string city6 = city12.substr(0, 6);
  static constexpr std::array<std::string_view, 12> kMonthEn = {"January", "February", "March",     "April",
                                                                "May",     "June",     "July",      "August",
                                                                "September", "October", "November", "December"};
  std::vector<store::ReleaseRow> releases;
  for (int m = 1; m <= 12; ++m) {
    store::ReleaseRow r;
    r.id = fmt::format("{}-{:02}-B204-1", year, m);
    r.title_zh = fmt::format("{}年{}月{}规模以上工业生产情况", year, m, city_name);
    r.title_en = fmt::format("Industrial production above designated size, {} {}", kMonthEn[static_cast<std::size_t>(m - 1)], year);
    r.release_at = format_utc(from_local(m == 12 ? year + 1 : year, m == 12 ? 1 : m + 1, 15, 9, 30)).substr(0, 16) + ":00Z";
    r.form_code = "B204-1";
    r.period = domain::Period::month(year, m).str();
    r.tables = json::array({{{"by", "county"}, {"indicators", {"I01", "I03", "I04", "I05"}}},
                            {{"by", "section"}, {"indicators", {"I01", "I03"}}}});
    r.notes_zh = "数据为全市规模以上工业企业已验收月报汇总，增速按可比口径计算。";
    r.notes_en = "Totals of the accepted monthly reports of industrial enterprises above designated size; growth on comparable units.";
    r.city = city12;
    r.state = "planned";
    r.created_at = r.updated_at = now_s;
    r.created_by = "demo";
    releases.push_back(std::move(r));
  }
  struct Doc {
    std::string title, category, body;
  };
  const std::vector<Doc> docs = {
      {fmt::format("{}统计局{}年政府信息公开工作年度报告", city_name, year - 1), "政府信息公开年报",
       fmt::format("根据《中华人民共和国政府信息公开条例》，现公布{}统计局{}年政府信息公开工作年度报告。"
                   "本年度主动公开统计信息、统计数据发布日程和统计法规等信息，依申请公开办理均按时答复。",
                   city_name, year - 1)},
      {fmt::format("关于开展{}年统计执法检查的通知", year), "通知公告",
       fmt::format("各区县统计局：为贯彻《中华人民共和国统计法》，保障统计数据真实准确，{}统计局决定于{}年开展"
                   "统计执法检查，重点检查规模以上工业企业统计数据质量。",
                   city_name, year)},
      {fmt::format("{}年{}统计数据发布日程表", year, city_name), "统计数据发布",
       fmt::format("{}年全市规模以上工业生产情况于每月15日9时30分发布上月数据，详见附件。", year)},
  };
  std::string calendar_csv = "发布代码,标题,发布时间(北京时间)\n";
  for (const auto& r : releases) {
    calendar_csv += r.id + "," + r.title_zh + "," + r.release_at.substr(0, 10) + " 09:30\n";
  }
  SG_TRY(store.write([&](store::Conn& c) -> Status {
    for (const auto& r : releases) {
      SG_ASSIGN_OR_RETURN(auto existing, store::find_release(c, r.id));
      if (existing) continue;
      SG_TRY(store::insert_release(c, r));
      SG_TRY(store::append_audit(c, now_s, "demo", "release_create", "release:" + r.id,
                                 {{"release_at", r.release_at}, {"form", r.form_code}, {"period", r.period}}));
      ++rep.releases;
    }
    for (std::size_t i = 0; i < docs.size(); ++i) {
      store::DocumentRow d;
      d.index_no = fmt::format("{}-{}-{:06}", city6, year, i + 1);
      SG_ASSIGN_OR_RETURN(auto existing, store::find_document(c, d.index_no));
      if (existing) continue;
      d.title = docs[i].title;
      d.category = docs[i].category;
      d.publisher = city_name + "统计局";
      d.date = format_local(now).substr(0, 10);
      d.body = docs[i].body;
      d.created_at = d.updated_at = now_s;
      d.created_by = d.updated_by = "demo";
      SG_TRY(store::insert_document(c, d));
      if (i == 2) SG_TRY(store::replace_document_files(c, d.index_no, {{"calendar.csv", calendar_csv}}));
      SG_TRY(store::append_audit(c, now_s, "demo", "document_create", "document:" + d.index_no, {{"title", d.title}}));
      ++rep.documents;
    }
    return Ok{};
  }));
  if (opt.release_secret_key.empty()) return Ok{};
  ChangeFeed feed(store);
  SummaryService summary(store, forms, catalog, feed);
  ReleaseConfig cfg;
  cfg.secret_key = opt.release_secret_key;
  cfg.export_dir = opt.export_dir;
  ReleaseService rs(store, forms, catalog, summary, auth, clock, cfg);
  cfg.site_dir = opt.site_dir;
  ReleaseService last(store, forms, catalog, summary, auth, clock, cfg);  // with the site
  std::vector<std::string> due;
  for (const auto& r : releases) {
    if (r.release_at <= now_s) due.push_back(r.id);
  }
  for (std::size_t i = 0; i < due.size(); ++i) {
    ReleaseService& by = i + 1 == due.size() ? last : rs;
    SG_TRY(by.prepare_by("demo", due[i]));
    SG_TRY(by.sign_by("demo", due[i]));
    ++rep.packages;
  }
  return Ok{};
}

}  // namespace

Result<DemoReport> build_demo(store::Store& store, Catalog& catalog, FormService& forms, const Clock& clock,
                              const DemoOptions& opt) {
  SG_TRY(load_reference_data(store, opt.data_dir));
  SG_TRY(catalog.reload(store));
  SG_TRY(import_shipped_forms(forms, opt.data_dir, "demo"));
  SG_ASSIGN_OR_RETURN(auto monthly, forms.get("B204-1", 0));
  SG_ASSIGN_OR_RETURN(auto quarterly, forms.get("202-1", 0));
  SG_ASSIGN_OR_RETURN(auto existing, store.read([](store::Conn& c) { return store::count_rows(c, "units"); }));
  if (existing > 0) {
    return make_error(ErrorKind::conflict, "DEMO_EXISTS", "数据库中已有单位，演示数据只能装入空库",
                      "The database already has units; the demo loads into an empty database only");
  }

  std::vector<RegionInfo> towns;
  for (auto& r : catalog.regions_at_level(4)) {
    if (r.code.rfind(opt.city, 0) == 0) towns.push_back(r);
  }
  std::vector<IndustryInfo> classes = catalog.industries_at_level(4);
  std::vector<IndustryInfo> industrial, other;
  for (auto& c : classes) {
    if (c.section == "B" || c.section == "C" || c.section == "D") industrial.push_back(c);
    else if (c.section != "T" && c.section != "S") other.push_back(c);
  }
  if (towns.empty() || industrial.empty()) {
    return make_error(ErrorKind::invalid, "DEMO_DATA", "参考数据中没有该市的乡镇或工业行业",
                      "No townships of the city or no industrial classes in the reference data");
  }

  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  auto now = clock.now();
  auto now_s = format_utc(now);
  auto d = local_date(now);
  domain::Period cur_month = domain::Period::containing(domain::Frequency::month, d.year, d.month);
  domain::Period cur_quarter = domain::Period::containing(domain::Frequency::quarter, d.year, d.month);
  const int quarters = (opt.history_months + 2) / 3 + 1;

  static constexpr std::array<std::string_view, 12> kNamePrefix = {"湘", "株", "炎", "渌", "醴", "攸", "茶", "神农", "九方", "南方", "天元", "荷塘"};
  static constexpr std::array<std::string_view, 10> kNameMid = {"恒达", "中车", "华信", "新材", "精工", "联创", "宏远", "福瑞", "明泰", "嘉禾"};
  static constexpr std::array<std::string_view, 6> kSuffix = {"有限公司", "股份有限公司", "有限责任公司", "实业有限公司", "科技有限公司", "制造有限公司"};

  DemoReport rep;
  std::int64_t demo_unit = 0;
  std::string demo_unit_uscc;
  SG_TRY(store.write([&](store::Conn& c) -> Status {
    std::set<std::string> used;
    for (int i = 0; i < opt.units; ++i) {
      bool is_ind = i % 5 < 3;  // 60% industrial enterprises: they owe the monthly form
      const auto& town = towns[static_cast<std::size_t>(rng() % towns.size())];
      const auto& cls = is_ind ? industrial[rng() % industrial.size()] : other[rng() % other.size()];
      store::UnitRow u;
      do {
        u.uscc = make_uscc(rng, town.code.substr(0, 6));
      } while (!used.insert(u.uscc).second);
      u.name = fmt::format("株洲{}{}{}{}", kNamePrefix[rng() % kNamePrefix.size()], kNameMid[rng() % kNameMid.size()],
                           cls.name.size() <= 24 ? cls.name : std::string("工贸"), kSuffix[rng() % kSuffix.size()]);
      u.region = town.code;
      u.industry = cls.code;
      double s = u01(rng);
      u.size = s < 0.03 ? 1 : s < 0.15 ? 2 : s < 0.7 ? 3 : 4;
      u.created_at = u.updated_at = now_s;
      static constexpr std::array<std::string_view, 8> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄", "周"};
      static constexpr std::array<std::string_view, 8> kGiven = {"伟", "芳", "敏", "静", "磊", "洋", "勇", "娟"};
      u.attributes = {{"contact", fmt::format("{}{}", kSurnames[rng() % 8], kGiven[rng() % 8])},
                      {"phone", fmt::format("1{}{:09}", 3 + rng() % 7, rng() % 1000000000)},
                      {"email", fmt::format("u{}@demo.statgov.invalid", i + 1)}};
      SG_ASSIGN_OR_RETURN(std::int64_t id, store::insert_unit(c, u));
      ++rep.units;
      // The demo enterprise: the first industrial unit, with full history.
      if (is_ind && demo_unit == 0) {
        demo_unit = id;
        demo_unit_uscc = u.uscc;
      }

      auto add_accepted = [&](const CompiledForm& f, const domain::Period& p, const json& values) -> Status {
        store::SubmissionRow r;
        r.unit_id = id;
        r.form_code = f.def.code;
        r.form_version = f.def.version;
        r.period = p.str();
        r.region = u.region;
        r.state = "accepted";
        r.version = 1;
        r.values = values;
        r.updated_at = now_s;
        r.first_submitted_at = now_s;
        SG_TRY(store::save_submission(c, r));
        SG_TRY(store::add_version(c, r.id, {1, "submitted", values, json::object(), now_s, "demo"}));
        SG_TRY(store::add_event(c, r.id, {now_s, "demo", "submit", "not_started", "submitted", ""}));
        SG_TRY(store::add_event(c, r.id, {now_s, "demo", "accept", "approved", "accepted", "演示数据 demo data"}));
        ++rep.submissions;
        return Ok{};
      };

      if (is_ind) {
        double scale = u.size == 1 ? 200000 : u.size == 2 ? 40000 : u.size == 3 ? 8000 : 2500;  // 千元 a month
        IndustrialSeries ser{scale * (0.5 + u01(rng)), 0.85 + 0.15 * u01(rng), u01(rng) < 0.3 ? 0.3 * u01(rng) : 0.0,
                             0.02 + 0.05 * u01(rng)};
        double growth = 0.9 + 0.2 * u01(rng);  // a year
        domain::Period p = cur_month;
        for (int k = 0; k < opt.history_months; ++k) p = p.previous();
        // Rebuild year-to-date from January of the first history year.
        json ytd = {{"I01_YTD", 0.0}, {"I03_YTD", 0.0}, {"I04_YTD", 0.0}, {"I05_YTD", 0.0}};
        domain::Period q = domain::Period::month(p.year_number(), 1);
        for (; q < cur_month; q = q.next()) {
          if (q.month_number() == 1) ytd = {{"I01_YTD", 0.0}, {"I03_YTD", 0.0}, {"I04_YTD", 0.0}, {"I05_YTD", 0.0}};
          double t = (q.year_number() - d.year) + (q.month_number() - d.month) / 12.0;
          double season = 1.0 + 0.08 * std::sin(q.month_number() * 0.52);
          double out = round1(ser.base_output * std::pow(growth, t) * season * (0.97 + 0.06 * u01(rng)));
          double sales = round1(out * ser.sales_ratio);
          double exp = round1(sales * ser.export_share);
          double power = round1(out * ser.power_per_output / 10.0);
          json v = {{"I01", out}, {"I03", sales}, {"I04", exp}, {"I05", power}};
          for (const char* code : {"I01", "I03", "I04", "I05"}) {
            std::string y = std::string(code) + "_YTD";
            ytd[y] = round1(ytd[y].get<double>() + v[code].get<double>());
            v[y] = ytd[y];
          }
          if (!(q < p)) SG_TRY(add_accepted(*monthly, q, v));
        }
      }
      double staff = u.size == 1 ? 1500 : u.size == 2 ? 400 : u.size == 3 ? 60 : 12;
      staff = std::round(staff * (0.6 + 0.8 * u01(rng)));
      double wage = 15 + 20 * u01(rng);  // 千元 per person per quarter
      domain::Period pq = cur_quarter;
      for (int k = 0; k < quarters; ++k) pq = pq.previous();
      for (; pq < cur_quarter; pq = pq.next()) {
        double e1 = std::round(staff * (0.97 + 0.06 * u01(rng)));
        double e3 = std::round(e1 * (0.97 + 0.03 * u01(rng)));
        json v = {{"E01", e1}, {"E02", std::round(e1 * (0.3 + 0.2 * u01(rng)))}, {"E03", e3},
                  {"E04", round1(e3 * wage * (0.95 + 0.1 * u01(rng)))}};
        SG_TRY(add_accepted(*quarterly, pq, v));
      }
    }
    return Ok{};
  }));

  // One account per role. The township, county and city accounts cover the demo enterprise.
  SG_ASSIGN_OR_RETURN(auto unit, store.read([&](store::Conn& c) { return store::find_unit_by_uscc(c, demo_unit_uscc); }));
  if (!unit) return make_error(ErrorKind::internal, "DEMO", "演示企业缺失", "demo enterprise missing");
  auto town = domain::RegionCode::parse(unit->region).value();
  AuthConfig cfg;
  cfg.hash_cost = opt.hash_cost;
  AuthService auth(store, clock, cfg);
  struct Account {
    const char* login;
    const char* name;
    const char* role;
    std::string region;
  };
  std::string city12 = domain::RegionCode::parse(opt.city).value().str();
  std::vector<Account> accounts = {
      {"demo-qiye", "演示企业填表人", "enterprise", ""},
      {"demo-xiangzhen", "乡镇统计员", "township", town.str()},
      {"demo-quxian", "区县统计员", "county", town.parent().str()},
      {"demo-shi", "市统计局统计员", "city", city12},
      {"demo-lingdao", "市局领导", "leader", city12},
      {"demo-fabu", "数据发布员", "publisher", city12},
      {"demo-bumen", "部门数据报送员", "provider", city12},
      {"demo-admin", "系统管理员", "admin", city12},
  };
  for (const auto& acc : accounts) {
    AuthService::NewUser nu{acc.login, acc.name, acc.role, acc.region, opt.password,
                            std::string(acc.role) == "enterprise" ? unit->uscc : ""};
    SG_TRY(auth.add_user(nu, "demo"));
    ++rep.users;
  }
  SG_TRY(add_demo_publication(store, catalog, forms, clock, opt, auth, city12, rep));
  return rep;
}

}  // namespace statgov::services
