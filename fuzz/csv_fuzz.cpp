// libFuzzer target: decode_text + parse_csv + write_csv round trip + trim.
// Invariant checked: whatever parse_csv accepts, write_csv output parses back to the same fields.
#include "base/csv.hpp"
#include "base/text.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the delimiter so the fuzzer explores ';', '\t' and ' ' too.
  static constexpr char kDelims[] = {',', ';', '\t', ' '};
  const char delim = kDelims[data[0] % 4];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  auto text = statgov::decode_text(bytes);
  if (text.ok() && !statgov::is_valid_utf8(*text)) std::abort();
  (void)statgov::trim(bytes);

  auto rows = statgov::parse_csv(bytes, delim);
  if (!rows.ok()) return 0;
  if (delim != ',') return 0;  // write_csv always writes ','
  std::vector<std::vector<std::string>> fields;
  for (const auto& r : *rows) fields.push_back(r.fields);
  auto back = statgov::parse_csv(statgov::write_csv(fields));
  if (!back.ok() || back->size() != fields.size()) std::abort();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if ((*back)[i].fields != fields[i]) std::abort();
  }
  return 0;
}
