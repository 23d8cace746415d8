// The SQLite VFS the writing connections open their database through (see sqlite_vfs.cpp).
#pragma once

namespace statgov::store {

// Registers the VFS once (not as the default) and answers its name for sqlite3_open_v2, or nullptr
// if SQLite's default VFS cannot be wrapped (then connections use the default one as it is).
const char* wal_buffering_vfs();

}  // namespace statgov::store
