#include "base/xlsx.hpp"

#include <pugixml.hpp>
#include <unistd.h>
#include <xlsxwriter.h>
#include <zip.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <new>
#include <string_view>

namespace statgov {

const XlsxCell* XlsxSheet::at(int row, int col) const {
  const auto it = cells.find({row, col});
  return it == cells.end() ? nullptr : &it->second;
}

const XlsxSheet* XlsxWorkbook::find(std::string_view name) const {
  for (const auto& sheet : sheets) {
    if (sheet.name == name) return &sheet;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------
namespace {

constexpr int kMaxRow = 1'048'576;  // Excel's grid; anything beyond is a corrupt reference
constexpr int kMaxCol = 16'384;

Error bad_xlsx(std::string_view reason) {
  return make_error(ErrorKind::invalid, "BAD_XLSX", "不是有效的 Excel (xlsx) 文件",
                    "Not a valid Excel (xlsx) file",
                    nlohmann::json::array({{{"reason", std::string(reason)}}}));
}

Error xlsx_too_large(std::string_view reason) {
  return make_error(ErrorKind::too_large, "XLSX_TOO_LARGE", "Excel 文件过大",
                    "The Excel file is too large",
                    nlohmann::json::array({{{"reason", std::string(reason)}}}));
}

// Read-only archive over caller-owned bytes; zip_discard because nothing is ever written.
class ZipReader {
 public:
  ZipReader() = default;
  ~ZipReader() {
    if (za_ != nullptr) zip_discard(za_);
  }
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  Status open(std::string_view bytes) {
    zip_error_t err;
    zip_error_init(&err);
    // freep = 0: the buffer stays owned by the caller and outlives this reader.
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src == nullptr) {
      zip_error_fini(&err);
      return bad_xlsx("zip source");
    }
    za_ = zip_open_from_source(src, ZIP_RDONLY, &err);
    if (za_ == nullptr) {
      zip_source_free(src);  // on failure the source is still ours
      std::string reason = std::string("not a zip archive: ") + zip_error_strerror(&err);
      zip_error_fini(&err);
      return bad_xlsx(reason);
    }
    zip_error_fini(&err);
    return Ok{};
  }

  // Inflates one entry; std::nullopt when absent. Sizes are enforced while inflating, because
  // the sizes in the zip directory are attacker-controlled and may lie.
  Result<std::optional<std::string>> read(const std::string& name) {
    const zip_int64_t idx = zip_name_locate(za_, name.c_str(), ZIP_FL_NOCASE);
    if (idx < 0) return std::optional<std::string>();
    const auto index = static_cast<zip_uint64_t>(idx);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za_, index, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) != 0 &&
        st.size > kXlsxMaxEntryBytes) {
      return xlsx_too_large(name + " exceeds the per-entry limit");
    }
    zip_file_t* file = zip_fopen_index(za_, index, 0);
    if (file == nullptr) return bad_xlsx("cannot open " + name);
    std::string out;
    char buf[64 * 1024];
    while (true) {
      const zip_int64_t got = zip_fread(file, buf, sizeof buf);
      if (got < 0) {
        zip_fclose(file);
        return bad_xlsx("cannot inflate " + name);
      }
      if (got == 0) break;
      const auto n = static_cast<std::size_t>(got);
      if (out.size() + n > kXlsxMaxEntryBytes) {
        zip_fclose(file);
        return xlsx_too_large(name + " exceeds the per-entry limit");
      }
      if (total_ + n > kXlsxMaxTotalBytes) {
        zip_fclose(file);
        return xlsx_too_large("the archive exceeds the total size limit");
      }
      total_ += n;
      out.append(buf, n);
    }
    if (zip_fclose(file) != 0) return bad_xlsx("checksum error in " + name);
    return std::optional<std::string>(std::move(out));
  }

 private:
  zip_t* za_ = nullptr;
  std::size_t total_ = 0;
};

// OOXML may prefix element names (x:sheet); pugixml does no namespace processing, so match on
// the local part.
std::string_view local_name(const char* qname) {
  std::string_view s(qname);
  const auto colon = s.find(':');
  return colon == std::string_view::npos ? s : s.substr(colon + 1);
}

pugi::xml_node child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && local_name(c.name()) == local) return c;
  }
  return {};
}

// The relationship id is r:id (transitional) or another prefix in strict OOXML.
const char* relationship_id(pugi::xml_node node) {
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    std::string_view name(a.name());
    if (name.find(':') != std::string_view::npos && local_name(a.name()) == "id") return a.value();
  }
  return nullptr;
}

// Concatenated character data of an element (pcdata and CDATA children).
void append_text(pugi::xml_node node, std::string& out) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Excel writes characters XML cannot carry (control characters, a literal "_x" sequence) as
// _xHHHH_; undo that so a CR typed in a cell comes back as a CR.
std::string unescape_ooxml(std::string s) {
  if (s.find("_x") == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 7 <= s.size() && s[i] == '_' && s[i + 1] == 'x' && s[i + 6] == '_') {
      unsigned value = 0;
      const auto r = std::from_chars(s.data() + i + 2, s.data() + i + 6, value, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 6 && (value < 0xD800 || value > 0xDFFF)) {
        append_utf8(static_cast<char32_t>(value), out);
        i += 7;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

// Text of a shared string <si> or an inline <is>: a plain <t> or rich-text runs <r><t>;
// phonetic runs (<rPh>) are annotations, not content.
std::string string_item_text(pugi::xml_node item) {
  std::string out;
  for (pugi::xml_node c = item.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    const auto name = local_name(c.name());
    if (name == "t") {
      append_text(c, out);
    } else if (name == "r") {
      if (pugi::xml_node t = child(c, "t")) append_text(t, out);
    }
  }
  return unescape_ooxml(std::move(out));
}

Result<std::unique_ptr<pugi::xml_document>> parse_xml(std::string& text, std::string_view part) {
  auto doc = std::make_unique<pugi::xml_document>();
  // parse_ws_pcdata_single keeps <t xml:space="preserve"> </t>: a cell holding only spaces.
  const pugi::xml_parse_result r = doc->load_buffer_inplace(
      text.data(), text.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
      pugi::encoding_auto);
  if (!r) return bad_xlsx(std::string(part) + ": " + r.description());
  return doc;
}

std::string dir_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash + 1));
}

// A relationship target relative to the part's folder (or absolute from the package root),
// with "." and ".." folded.
std::string resolve_target(std::string_view base_dir, std::string_view target) {
  std::string joined =
      target.starts_with('/') ? std::string(target.substr(1)) : std::string(base_dir) + std::string(target);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= joined.size()) {
    std::size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    const std::string seg = joined.substr(start, end - start);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back('/');
    out += p;
  }
  return out;
}

struct Relationship {
  std::string type;    // full type URI
  std::string target;  // resolved package path
};

bool type_is(const Relationship& rel, std::string_view suffix) {
  return std::string_view(rel.type).ends_with(suffix);
}

// Parses <part dir>/_rels/<part name>.rels; a missing .rels file means no relationships.
Result<std::map<std::string, Relationship>> read_relationships(ZipReader& zip,
                                                               const std::string& part) {
  const std::string dir = dir_of(part);
  const std::string rels_path = dir + "_rels/" + part.substr(dir.size()) + ".rels";
  std::map<std::string, Relationship> rels;
  SG_ASSIGN_OR_RETURN(auto text, zip.read(rels_path));
  if (!text) return rels;
  SG_ASSIGN_OR_RETURN(auto doc, parse_xml(*text, rels_path));
  const pugi::xml_node root = doc->document_element();
  if (local_name(root.name()) != "Relationships") return bad_xlsx(rels_path + ": no Relationships");
  for (pugi::xml_node r = root.first_child(); r; r = r.next_sibling()) {
    if (r.type() != pugi::node_element || local_name(r.name()) != "Relationship") continue;
    if (std::string_view(r.attribute("TargetMode").value()) == "External") continue;
    rels[r.attribute("Id").value()] =
        Relationship{r.attribute("Type").value(), resolve_target(dir, r.attribute("Target").value())};
  }
  return rels;
}

// "B3" -> (3, 2). Excel writes upper case; lower case is accepted since it is unambiguous.
bool parse_cell_ref(std::string_view ref, int& row, int& col) {
  std::size_t i = 0;
  int c = 0;
  while (i < ref.size() && i < 4) {
    char ch = ref[i];
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (ch < 'A' || ch > 'Z') break;
    c = c * 26 + (ch - 'A' + 1);
    ++i;
  }
  if (i == 0 || c > kMaxCol) return false;
  int r = 0;
  const auto res = std::from_chars(ref.data() + i, ref.data() + ref.size(), r);
  if (res.ec != std::errc() || res.ptr != ref.data() + ref.size() || r < 1 || r > kMaxRow) {
    return false;
  }
  row = r;
  col = c;
  return true;
}

// Excel's General format shows up to 15 significant digits, which also hides binary noise
// such as 0.30000000000000004 from a formula result.
std::string format_number(double v) {
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));  // also turns -0 into "0"
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 15);
  return std::string(buf, r.ptr);
}

struct ReadState {
  ZipReader zip;
  std::vector<std::string> shared_strings;
  std::size_t cells = 0;
};

Status read_shared_strings(ReadState& st, const std::string& path) {
  SG_ASSIGN_OR_RETURN(auto text, st.zip.read(path));
  if (!text) return Ok{};  // a workbook without any text cells may omit the part
  SG_ASSIGN_OR_RETURN(auto doc, parse_xml(*text, path));
  const pugi::xml_node sst = doc->document_element();
  if (local_name(sst.name()) != "sst") return bad_xlsx(path + ": no sst");
  for (pugi::xml_node si = sst.first_child(); si; si = si.next_sibling()) {
    if (si.type() == pugi::node_element && local_name(si.name()) == "si") {
      st.shared_strings.push_back(string_item_text(si));
    }
  }
  return Ok{};
}

Status read_sheet(ReadState& st, const std::string& path, XlsxSheet& sheet) {
  SG_ASSIGN_OR_RETURN(auto text, st.zip.read(path));
  if (!text) return bad_xlsx("missing " + path);
  SG_ASSIGN_OR_RETURN(auto doc, parse_xml(*text, path));
  const pugi::xml_node ws = doc->document_element();
  if (local_name(ws.name()) != "worksheet") return bad_xlsx(path + ": no worksheet");
  const pugi::xml_node data = child(ws, "sheetData");
  int row_no = 0;
  for (pugi::xml_node row = data.first_child(); row; row = row.next_sibling()) {
    if (row.type() != pugi::node_element || local_name(row.name()) != "row") continue;
    // Rows and cells without an r attribute follow the previous one (allowed by the spec and
    // written by some generators).
    if (pugi::xml_attribute r = row.attribute("r")) {
      const std::string_view rv(r.value());
      int parsed = 0;
      const auto res = std::from_chars(rv.data(), rv.data() + rv.size(), parsed);
      if (res.ec != std::errc() || res.ptr != rv.data() + rv.size() || parsed < 1 ||
          parsed > kMaxRow) {
        return bad_xlsx(path + ": bad row number");
      }
      row_no = parsed;
    } else {
      if (row_no >= kMaxRow) return bad_xlsx(path + ": too many rows");
      ++row_no;
    }
    int col_no = 0;
    for (pugi::xml_node c = row.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element || local_name(c.name()) != "c") continue;
      int cell_row = row_no;
      if (pugi::xml_attribute ref = c.attribute("r")) {
        if (!parse_cell_ref(ref.value(), cell_row, col_no)) {
          return bad_xlsx(path + ": bad cell reference");
        }
      } else {
        if (col_no >= kMaxCol) return bad_xlsx(path + ": too many columns");
        ++col_no;
      }
      const std::string_view type(c.attribute("t").value());
      const pugi::xml_node v = child(c, "v");
      XlsxCell cell;
      if (type == "inlineStr") {
        if (const pugi::xml_node is = child(c, "is")) {
          cell.text = string_item_text(is);
        } else if (v) {
          append_text(v, cell.text);
        } else {
          continue;
        }
      } else {
        if (!v) continue;  // styled but empty
        std::string value;
        append_text(v, value);
        if (type == "s") {
          std::size_t index = 0;
          const auto res = std::from_chars(value.data(), value.data() + value.size(), index);
          if (res.ec != std::errc() || res.ptr != value.data() + value.size() ||
              index >= st.shared_strings.size()) {
            return bad_xlsx(path + ": bad shared string index");
          }
          cell.text = st.shared_strings[index];
        } else if (type == "b") {
          cell.text = value == "1" ? "TRUE" : "FALSE";
        } else if (type == "str" || type == "e" || type == "d") {
          cell.text = unescape_ooxml(std::move(value));
        } else {
          // "n" or no type. A value that is not a finite number is kept as text rather than
          // failing the whole upload.
          double number = 0;
          const char* first = value.data();
          const char* last = value.data() + value.size();
          while (first < last && *first == ' ') ++first;
          if (first < last && *first == '+') ++first;
          const auto res = std::from_chars(first, last, number);
          if (res.ec == std::errc() && res.ptr == last && std::isfinite(number)) {
            cell.number = number;
            cell.text = format_number(number);
          } else {
            cell.text = std::move(value);
          }
        }
      }
      if (++st.cells > kXlsxMaxCells) return xlsx_too_large("more than 2,000,000 cells");
      sheet.max_row = std::max(sheet.max_row, cell_row);
      sheet.max_col = std::max(sheet.max_col, col_no);
      sheet.cells[{cell_row, col_no}] = std::move(cell);
    }
  }
  return Ok{};
}

Result<XlsxWorkbook> read_xlsx_impl(std::string_view bytes) {
  ReadState st;
  SG_TRY(st.zip.open(bytes));

  // The package root names the workbook part; xl/workbook.xml is the universal default.
  std::string workbook_path = "xl/workbook.xml";
  {
    SG_ASSIGN_OR_RETURN(auto root_rels, read_relationships(st.zip, ""));
    for (const auto& [id, rel] : root_rels) {
      if (type_is(rel, "/officeDocument")) workbook_path = rel.target;
    }
  }
  SG_ASSIGN_OR_RETURN(auto wb_text, st.zip.read(workbook_path));
  if (!wb_text) return bad_xlsx("missing " + workbook_path);
  SG_ASSIGN_OR_RETURN(auto wb_doc, parse_xml(*wb_text, workbook_path));
  const pugi::xml_node wb = wb_doc->document_element();
  if (local_name(wb.name()) != "workbook") return bad_xlsx("no workbook element");
  const pugi::xml_node sheets = child(wb, "sheets");
  if (!sheets) return bad_xlsx("no sheets element");

  SG_ASSIGN_OR_RETURN(auto rels, read_relationships(st.zip, workbook_path));
  for (const auto& [id, rel] : rels) {
    if (type_is(rel, "/sharedStrings")) SG_TRY(read_shared_strings(st, rel.target));
  }

  XlsxWorkbook out;
  for (pugi::xml_node s = sheets.first_child(); s; s = s.next_sibling()) {
    if (s.type() != pugi::node_element || local_name(s.name()) != "sheet") continue;
    const char* rid = relationship_id(s);
    if (rid == nullptr) return bad_xlsx("sheet without relationship id");
    const auto it = rels.find(rid);
    if (it == rels.end()) return bad_xlsx(std::string("no target for sheet ") + rid);
    // Chart sheets, dialog sheets and macro sheets hold no cell data we can use.
    if (!type_is(it->second, "/worksheet")) continue;
    XlsxSheet sheet;
    sheet.name = s.attribute("name").value();
    SG_TRY(read_sheet(st, it->second.target, sheet));
    out.sheets.push_back(std::move(sheet));
  }
  return out;
}

}  // namespace

Result<XlsxWorkbook> read_xlsx(std::string_view bytes) {
  if (bytes.size() > kXlsxMaxInputBytes) return xlsx_too_large("the upload exceeds 32 MiB");
  // pugixml and the containers report exhaustion by throwing; nothing may escape this module.
  try {
    return read_xlsx_impl(bytes);
  } catch (const std::bad_alloc&) {
    return xlsx_too_large("out of memory while reading");
  } catch (const std::exception& e) {
    return bad_xlsx(e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

XlsxWriter::XlsxWriter() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                     "/statgov-xlsx-XXXXXX";
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    fail("cannot create a temporary file");
    return;
  }
  ::close(fd);
  path_ = tmpl;
  // libxlsxwriter only opens the file in workbook_close(); until then it keeps the name.
  wb_ = workbook_new(path_.c_str());
  if (wb_ == nullptr) fail("workbook_new failed");
}

XlsxWriter::~XlsxWriter() {
  if (wb_ != nullptr) lxw_workbook_free(wb_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

void XlsxWriter::fail(std::string what) {
  if (!error_) error_ = std::move(what);
}

lxw_worksheet* XlsxWriter::sheet_at(int sheet, std::string_view what) {
  if (finished_) {
    fail(std::string(what) + " after finish()");
    return nullptr;
  }
  if (sheet < 0 || static_cast<std::size_t>(sheet) >= sheets_.size()) {
    fail(std::string(what) + ": no sheet " + std::to_string(sheet));
    return nullptr;
  }
  return sheets_[static_cast<std::size_t>(sheet)].ws;  // nullptr if add_sheet failed (recorded)
}

lxw_format* XlsxWriter::format_for(CellStyle style) {
  if (style == CellStyle::plain || style == CellStyle::locked || wb_ == nullptr) return nullptr;
  auto& slot = formats_[style];
  if (slot != nullptr) return slot;
  lxw_format* f = workbook_add_format(wb_);
  if (f == nullptr) {
    fail("workbook_add_format failed");
    return nullptr;
  }
  switch (style) {
    case CellStyle::bold:
      format_set_bold(f);
      break;
    case CellStyle::header:
      format_set_bold(f);
      format_set_bg_color(f, 0xD9D9D9);
      format_set_border(f, LXW_BORDER_THIN);
      break;
    case CellStyle::unlocked:
      format_set_unlocked(f);
      break;
    case CellStyle::unlocked_text:
      format_set_unlocked(f);
      format_set_num_format(f, "@");
      break;
    case CellStyle::plain:
    case CellStyle::locked:
      break;
  }
  slot = f;
  return f;
}

int XlsxWriter::add_sheet(std::string_view name) {
  const int index = static_cast<int>(sheets_.size());
  sheets_.emplace_back();
  if (wb_ == nullptr || finished_) return index;
  const std::string n(name);
  if (!n.empty()) {
    // Validate first: workbook_add_worksheet only says NULL, this says why.
    const lxw_error err = workbook_validate_sheet_name(wb_, n.c_str());
    if (err != LXW_NO_ERROR) {
      fail("sheet name '" + n + "': " + lxw_strerror(err));
      return index;
    }
  }
  lxw_worksheet* ws = workbook_add_worksheet(wb_, n.empty() ? nullptr : n.c_str());
  if (ws == nullptr) fail("cannot add sheet '" + n + "'");
  sheets_.back().ws = ws;
  return index;
}

namespace {
bool in_grid(int row, int col) { return row >= 0 && row < kMaxRow && col >= 0 && col < kMaxCol; }
}  // namespace

void XlsxWriter::write_string(int sheet, int row, int col, std::string_view text,
                              CellStyle style) {
  lxw_worksheet* ws = sheet_at(sheet, "write_string");
  if (ws == nullptr) return;
  // libxlsxwriter takes unsigned row/col types; a negative int would wrap silently.
  if (!in_grid(row, col)) return fail("write_string: cell out of range");
  const std::string s(text);
  const lxw_error err = worksheet_write_string(ws, static_cast<lxw_row_t>(row),
                                               static_cast<lxw_col_t>(col), s.c_str(),
                                               format_for(style));
  if (err != LXW_NO_ERROR) fail(std::string("write_string: ") + lxw_strerror(err));
}

void XlsxWriter::write_number(int sheet, int row, int col, double value, CellStyle style) {
  lxw_worksheet* ws = sheet_at(sheet, "write_number");
  if (ws == nullptr) return;
  if (!in_grid(row, col)) return fail("write_number: cell out of range");
  // Excel has no NaN or infinity; libxlsxwriter would write a file Excel refuses to open.
  if (!std::isfinite(value)) return fail("write_number: non-finite value");
  const lxw_error err = worksheet_write_number(ws, static_cast<lxw_row_t>(row),
                                               static_cast<lxw_col_t>(col), value,
                                               format_for(style));
  if (err != LXW_NO_ERROR) fail(std::string("write_number: ") + lxw_strerror(err));
}

void XlsxWriter::write_blank(int sheet, int row, int col, CellStyle style) {
  lxw_worksheet* ws = sheet_at(sheet, "write_blank");
  if (ws == nullptr) return;
  if (!in_grid(row, col)) return fail("write_blank: cell out of range");
  lxw_format* f = format_for(style);
  if (f == nullptr) return;  // an unstyled blank cell is no cell at all
  const lxw_error err = worksheet_write_blank(ws, static_cast<lxw_row_t>(row),
                                              static_cast<lxw_col_t>(col), f);
  if (err != LXW_NO_ERROR) fail(std::string("write_blank: ") + lxw_strerror(err));
}

// Column properties are collected and applied in finish(): libxlsxwriter keeps one options
// record per call, so a width followed by a hide on the same column would lose the width.
void XlsxWriter::set_column_width(int sheet, int col, double width) {
  if (sheet_at(sheet, "set_column_width") == nullptr) return;
  if (!in_grid(0, col) || !(width >= 0 && width <= 255)) {
    return fail("set_column_width: bad column or width");
  }
  sheets_[static_cast<std::size_t>(sheet)].columns[col].width = width;
}

void XlsxWriter::set_column_style(int sheet, int col, CellStyle style) {
  if (sheet_at(sheet, "set_column_style") == nullptr) return;
  if (!in_grid(0, col)) return fail("set_column_style: bad column");
  sheets_[static_cast<std::size_t>(sheet)].columns[col].style = style;
}

void XlsxWriter::hide_column(int sheet, int col) {
  if (sheet_at(sheet, "hide_column") == nullptr) return;
  if (!in_grid(0, col)) return fail("hide_column: bad column");
  sheets_[static_cast<std::size_t>(sheet)].columns[col].hidden = true;
}

void XlsxWriter::hide_row(int sheet, int row) {
  if (sheet_at(sheet, "hide_row") == nullptr) return;
  if (!in_grid(row, 0)) return fail("hide_row: bad row");
  sheets_[static_cast<std::size_t>(sheet)].hidden_rows.push_back(row);
}

void XlsxWriter::hide_sheet(int sheet) {
  if (lxw_worksheet* ws = sheet_at(sheet, "hide_sheet")) worksheet_hide(ws);
}

void XlsxWriter::protect_sheet(int sheet) {
  if (lxw_worksheet* ws = sheet_at(sheet, "protect_sheet")) worksheet_protect(ws, nullptr, nullptr);
}

Result<std::string> XlsxWriter::finish() {
  auto write_error = [](const std::string& reason) {
    return make_error(ErrorKind::internal, "XLSX_WRITE", "生成 Excel 文件失败",
                      "Failed to write the Excel file: " + reason,
                      nlohmann::json::array({{{"reason", reason}}}));
  };
  if (finished_) return write_error("finish() called twice");
  finished_ = true;
  if (!error_) {
    for (auto& s : sheets_) {
      for (const auto& [col, props] : s.columns) {
        lxw_row_col_options opt{};
        opt.hidden = props.hidden ? 1 : 0;
        const auto c = static_cast<lxw_col_t>(col);
        const lxw_error err = worksheet_set_column_opt(
            s.ws, c, c, props.width < 0 ? LXW_DEF_COL_WIDTH : props.width,
            format_for(props.style), &opt);
        if (err != LXW_NO_ERROR) fail(std::string("set_column: ") + lxw_strerror(err));
      }
      for (const int row : s.hidden_rows) {
        lxw_row_col_options opt{};
        opt.hidden = 1;
        const lxw_error err = worksheet_set_row_opt(s.ws, static_cast<lxw_row_t>(row),
                                                    LXW_DEF_ROW_HEIGHT, nullptr, &opt);
        if (err != LXW_NO_ERROR) fail(std::string("hide_row: ") + lxw_strerror(err));
      }
    }
  }
  if (error_) return write_error(*error_);
  // workbook_close frees the workbook whatever it returns.
  const lxw_error err = workbook_close(wb_);
  wb_ = nullptr;
  if (err != LXW_NO_ERROR) return write_error(std::string("workbook_close: ") + lxw_strerror(err));
  std::ifstream in(path_, std::ios::binary);
  if (!in) return write_error("cannot reopen the temporary file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return write_error("cannot read the temporary file");
  return bytes;
}

}  // namespace statgov
