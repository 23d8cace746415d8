#include "base/text.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace statgov {
namespace {

Error bad_encoding() {
  return make_error(ErrorKind::invalid, "BAD_ENCODING",
                    "文件编码无法识别（支持 UTF-8 与 GBK/GB18030）",
                    "Unrecognised text encoding (UTF-8 and GBK/GB18030 are supported)");
}

// Owns an iconv descriptor; iconv_t is stateful, so each call opens its own (thread safety).
class IconvHandle {
 public:
  IconvHandle(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
  ~IconvHandle() {
    if (valid()) iconv_close(cd_);
  }
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;
  bool valid() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    // Second-byte bounds encode the overlong, surrogate and > U+10FFFF exclusions (RFC 3629 §4).
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if (c >= 0xE1 && c <= 0xEC) {
      len = 3;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c >= 0xEE && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

Result<std::string> gb18030_to_utf8(std::string_view bytes) {
  IconvHandle cd("UTF-8", "GB18030");
  if (!cd.valid()) {
    return make_error(ErrorKind::internal, "ICONV_UNAVAILABLE", "系统不支持 GB18030 编码转换",
                      "GB18030 conversion is not available on this system");
  }
  std::string out;
  // Every GB18030 sequence of k bytes yields at most 4 UTF-8 bytes, and k >= 1, so 4x suffices;
  // the E2BIG branch below still grows the buffer rather than trusting that arithmetic.
  out.resize(bytes.size() * 2 + 16);
  // iconv's API takes char** even for input it does not modify.
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  std::size_t used = 0;
  while (in_left > 0) {
    char* dst = out.data() + used;
    std::size_t out_left = out.size() - used;
    const std::size_t rc = iconv(cd.get(), &in, &in_left, &dst, &out_left);
    used = out.size() - out_left;
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    return bad_encoding();  // EILSEQ (invalid) or EINVAL (truncated at end)
  }
  out.resize(used);
  return out;
}

Result<std::string> decode_text(std::string_view bytes) {
  if (bytes.starts_with(kUtf8Bom)) bytes.remove_prefix(kUtf8Bom.size());
  // No GB18030 multi-byte sequence contains 0x00, so a NUL means binary or UTF-16 input.
  if (bytes.find('\0') != std::string_view::npos) {
    return make_error(ErrorKind::invalid, "BAD_ENCODING",
                      "文件包含空字节，不是文本文件（支持 UTF-8 与 GBK/GB18030）",
                      "The file contains NUL bytes and is not text (UTF-8 and GBK/GB18030 are "
                      "supported)");
  }
  if (is_valid_utf8(bytes)) return std::string(bytes);
  auto decoded = gb18030_to_utf8(bytes);
  if (!decoded.ok()) return bad_encoding();
  std::string text = std::move(decoded).value();
  // GB18030 has its own BOM (84 31 95 33), which decodes to U+FEFF.
  if (std::string_view(text).starts_with(kUtf8Bom)) text.erase(0, kUtf8Bom.size());
  return text;
}

std::string trim(std::string_view text) {
  auto strip_front = [](std::string_view& s) {
    if (s.empty()) return false;
    const char c = s.front();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      s.remove_prefix(1);
      return true;
    }
    if (s.starts_with("\xE3\x80\x80")) {
      s.remove_prefix(3);
      return true;
    }
    if (s.starts_with("\xC2\xA0")) {
      s.remove_prefix(2);
      return true;
    }
    return false;
  };
  auto strip_back = [](std::string_view& s) {
    if (s.empty()) return false;
    const char c = s.back();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      s.remove_suffix(1);
      return true;
    }
    // A suffix match is a whole character: 0x80/0xA0 continuation bytes cannot end a lead.
    if (s.ends_with("\xE3\x80\x80")) {
      s.remove_suffix(3);
      return true;
    }
    if (s.ends_with("\xC2\xA0")) {
      s.remove_suffix(2);
      return true;
    }
    return false;
  };
  while (strip_front(text)) {
  }
  while (strip_back(text)) {
  }
  return std::string(text);
}

}  // namespace statgov
