// SQLite's memory allocator: the system's malloc behind a small cache of freed blocks per thread
// (see sqlite_memory.cpp).
#pragma once

#include <cstddef>

struct sqlite3_mem_methods;

namespace statgov::store {

// Configures SQLite once for this process, before its first use: no memory statistics and the
// allocator below. Every path that opens a SQLite database calls it first; a later call does
// nothing. If SQLite was already in use, SQLite keeps its own allocator (nothing is mixed).
void configure_sqlite();

// The allocator's methods, as handed to SQLite (for the tests).
const sqlite3_mem_methods& sqlite_memory_methods();

// What the calling thread's cache holds now.
struct SqliteMemoryCache {
  std::size_t blocks = 0;
  std::size_t bytes = 0;
};
SqliteMemoryCache sqlite_memory_thread_cache();

// Limits (sqlite_memory.cpp): blocks of up to kSqliteCachedBlock bytes are cached, rounded up to a
// multiple of kSqliteBlockStep, at most kSqliteCachePerClass of one size and kSqliteCacheBytes in
// all per thread.
inline constexpr std::size_t kSqliteBlockStep = 32;
inline constexpr std::size_t kSqliteCachedBlock = 1024;
inline constexpr std::size_t kSqliteCachePerClass = 128;
inline constexpr std::size_t kSqliteCacheBytes = 256 * 1024;

}  // namespace statgov::store
