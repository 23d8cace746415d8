#include "base/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace statgov {

Status write_new_file(const std::filesystem::path& p, const std::string& data, mode_t mode) {
  auto io_error = [&] {
    return make_error(ErrorKind::internal, "FILE_IO", "无法写入文件：" + p.string(), "Cannot write file: " + p.string());
  };
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return make_error(ErrorKind::conflict, "FILE_EXISTS", "文件已存在，不会覆盖：" + p.string(),
                        "File exists; not overwriting: " + p.string());
    }
    return io_error();
  }
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      return io_error();
    }
    off += static_cast<std::size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return io_error();
  return Ok{};
}

}  // namespace statgov
