// What every `statgov` subcommand does with an error: both messages on stderr, exit status 1.
#pragma once

#include "base/result.hpp"

#include <string>

namespace statgov::app {

int fail(const Error& e);                              // message, message_en [code], details
int fail(const std::string& zh, const std::string& en);

}  // namespace statgov::app
