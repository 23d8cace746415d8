// Writing files that must not be half-written or replaced by accident (keys, certificates).
#pragma once

#include "base/result.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace statgov {

// A new file, never an existing one replaced (O_EXCL: 409 FILE_EXISTS), with the given mode from
// the start so that a private key is never readable by others, not even for a moment; flushed to
// disk before it returns (500 FILE_IO otherwise).
Status write_new_file(const std::filesystem::path& p, const std::string& data, mode_t mode);

}  // namespace statgov
