// The connection types moved to conn.hpp when PostgreSQL joined SQLite (issue #6); this name
// stays so that code written before then still builds.
#pragma once

#include "store/conn.hpp"
