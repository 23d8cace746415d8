// libFuzzer target: read_xlsx must return a Result for any bytes, never crash or throw.
//
// Two modes, picked by the first byte:
//  - even: the remaining bytes are the upload as is. This exercises libzip and the size guards,
//    but mutations of the XML inside rarely survive the zip CRC check.
//  - odd: the remaining bytes are split on '\x01' into xl/workbook.xml,
//    xl/_rels/workbook.xml.rels, xl/sharedStrings.xml and xl/worksheets/sheet1.xml, which are
//    zipped (stored, valid CRCs) before reading, so the fuzzer reaches the XML handling.
#include "base/xlsx.hpp"

#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Builds a stored zip in memory; returns "" if libzip refuses.
std::string make_zip(const std::vector<std::pair<const char*, std::string_view>>& entries) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_error_fini(&err);
  if (buf == nullptr) return {};
  zip_source_keep(buf);  // keep the buffer after zip_close so the bytes can be read back
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, nullptr);
  if (za == nullptr) {
    zip_source_free(buf);
    zip_source_free(buf);
    return {};
  }
  for (const auto& [name, data] : entries) {
    zip_source_t* s = zip_source_buffer(za, data.data(), data.size(), 0);
    if (s == nullptr) continue;
    const zip_int64_t idx = zip_file_add(za, name, s, ZIP_FL_OVERWRITE);
    if (idx < 0) {
      zip_source_free(s);
      continue;
    }
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  std::string out;
  if (zip_close(za) != 0) {
    zip_discard(za);
  } else if (zip_source_open(buf) == 0) {
    char chunk[4096];
    zip_int64_t n = 0;
    while ((n = zip_source_read(buf, chunk, sizeof chunk)) > 0) {
      out.append(chunk, static_cast<std::size_t>(n));
    }
    zip_source_close(buf);
  }
  zip_source_free(buf);
  return out;
}

void check_invariants(const statgov::XlsxWorkbook& wb) {
  for (const auto& sheet : wb.sheets) {
    for (const auto& [pos, cell] : sheet.cells) {
      if (pos.first < 1 || pos.second < 1 || pos.first > sheet.max_row ||
          pos.second > sheet.max_col) {
        std::abort();
      }
      if (sheet.at(pos.first, pos.second) != &cell) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string zipped;
  std::string_view input = rest;
  if (data[0] % 2 == 1) {
    static const char* const kNames[] = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                         "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"};
    std::vector<std::pair<const char*, std::string_view>> entries;
    std::size_t start = 0;
    for (const char* name : kNames) {
      if (start > rest.size()) break;
      std::size_t end = rest.find('\x01', start);
      if (end == std::string_view::npos) end = rest.size();
      entries.emplace_back(name, rest.substr(start, end - start));
      start = end + 1;
    }
    zipped = make_zip(entries);
    input = zipped;
  }
  auto wb = statgov::read_xlsx(input);
  if (wb.ok()) check_invariants(*wb);
  return 0;
}
