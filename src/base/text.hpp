// Text encoding helpers for uploaded files: UTF-8 validation, GBK/GB18030 decoding, trimming.
// Everything downstream (CSV, rules, storage) assumes valid UTF-8; decode_text() is the one
// gate uploaded bytes pass through. Depends only on result.hpp and glibc iconv.
#pragma once

#include "base/result.hpp"

#include <string>
#include <string_view>

namespace statgov {

// Excel only recognises a UTF-8 CSV as UTF-8 when it starts with this; prepend it to exports.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Strict UTF-8: rejects overlong forms, surrogates (U+D800..U+DFFF) and code points > U+10FFFF.
bool is_valid_utf8(std::string_view bytes);

// GB18030 (a superset of GBK and GB2312) to UTF-8 via glibc iconv.
// Invalid or truncated input -> Error{invalid, "BAD_ENCODING"}.
Result<std::string> gb18030_to_utf8(std::string_view bytes);

// Uploaded text to UTF-8: strips a UTF-8 BOM, keeps valid UTF-8 as is, otherwise tries GB18030.
// NUL bytes (binary files, UTF-16) and undecodable input -> Error{invalid, "BAD_ENCODING"}.
Result<std::string> decode_text(std::string_view bytes);

// Strips ASCII whitespace, U+3000 (ideographic space) and U+00A0 (no-break space) from both
// ends; Chinese spreadsheets often pad cells with the full-width space.
std::string trim(std::string_view text);

}  // namespace statgov
