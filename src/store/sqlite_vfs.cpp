// A VFS over SQLite's default one that gathers the writes to a WAL file into one buffer and hands
// them to the operating system together (issue #6). SQLite writes every WAL frame as two calls, its
// 24-byte header and its page, so a group commit of a few hundred changed pages cost a thousand
// pwrite calls on the writer thread, each taking the file system's locks and updating the file's
// times. Here they become one call per 124 KiB.
//
// Why nothing acknowledged can be lost or seen half-written:
// - SQLite promises a commit durable only after it has synced the WAL (synchronous=FULL, which
//   every Conn sets). Before the sync reaches the file, the buffer is written: xSync flushes first.
// - Other connections read WAL frames through their own file handles, and only frames of commits
//   published in the wal-index header. SQLite publishes a header between two copies with a memory
//   barrier (xShmBarrier on the database file) in between, after the sync; the database file's
//   xShmBarrier flushes its connection's WAL buffer too, so even a commit without a sync (another
//   synchronous setting) is in the file before it is published.
// - The connection's own reads of the WAL (xRead), and every other call on the WAL file (size,
//   truncate, file controls, close), flush first, so SQLite sees the file it wrote.
// - A failed flush is the failed write SQLite would have had, reported by the call that flushed
//   (SQLITE_FULL on a full disk). A flush cannot report from xShmBarrier (it returns nothing): the
//   error is kept and every later read, write, sync, size, truncate or file control of the WAL file
//   returns it. (With synchronous=FULL the sync has flushed before SQLite's barrier: nothing is
//   left.)
#include "store/sqlite_vfs.hpp"

#include "store/sqlite_memory.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace statgov::store {
namespace {

constexpr const char* kName = "statgov-wal";
// The most the default (unix) VFS writes in one call: it keeps only the low 17 bits of a write's
// length (seekAndWriteFd), and answers SQLITE_FULL for what it did not write. Whole pages of it.
constexpr sqlite3_int64 kBufferBytes = 0x1ffff & ~0xfff;

sqlite3_vfs* base_vfs = nullptr;

struct File {
  sqlite3_file head;   // pMethods: ours
  sqlite3_file* real;  // the default VFS's file, in the same allocation after this struct
  File* wal;           // a database file: its connection's WAL file while that is open
  File* db;            // a WAL file: its database file
  bool is_wal;
  char* buf;  // a WAL file: writes not yet handed over, for [start, start + len)
  sqlite3_int64 start;
  sqlite3_int64 len;
  int error;  // a WAL file: a flush that failed where it could not be reported
};

constexpr std::size_t kHeadBytes = (sizeof(File) + 15) & ~std::size_t{15};

File* self(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

int flush(File* f) {
  if (f->error != SQLITE_OK) return f->error;
  if (f->len == 0) return SQLITE_OK;
  int rc = f->real->pMethods->xWrite(f->real, f->buf, static_cast<int>(f->len), f->start);
  f->len = 0;
  return rc;
}

// Before any call on a WAL file but a write: the file as SQLite wrote it.
int flush_wal(File* f) { return f->is_wal ? flush(f) : SQLITE_OK; }

int x_close(sqlite3_file* file) {
  File* f = self(file);
  int rc = flush_wal(f);
  if (f->is_wal && f->db && f->db->wal == f) f->db->wal = nullptr;
  if (!f->is_wal && f->wal) f->wal->db = nullptr;
  std::free(f->buf);
  f->buf = nullptr;
  int rc2 = f->real->pMethods->xClose(f->real);
  return rc != SQLITE_OK ? rc : rc2;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (int rc = flush_wal(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (!f->is_wal) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  if (f->error != SQLITE_OK) return f->error;
  if (f->len > 0 && offset == f->start + f->len && f->len + amount <= kBufferBytes) {
    std::memcpy(f->buf + f->len, data, static_cast<std::size_t>(amount));
    f->len += amount;
    return SQLITE_OK;
  }
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (amount > kBufferBytes) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  if (!f->buf) {
    f->buf = static_cast<char*>(std::malloc(static_cast<std::size_t>(kBufferBytes)));
    if (!f->buf) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  std::memcpy(f->buf, data, static_cast<std::size_t>(amount));
  f->start = offset;
  f->len = amount;
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = self(file);
  if (int rc = flush_wal(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  File* f = self(file);
  if (int rc = flush_wal(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  File* f = self(file);
  if (int rc = flush_wal(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) {
  return self(file)->real->pMethods->xLock(self(file)->real, level);
}
int x_unlock(sqlite3_file* file, int level) {
  return self(file)->real->pMethods->xUnlock(self(file)->real, level);
}
int x_check_reserved(sqlite3_file* file, int* out) {
  return self(file)->real->pMethods->xCheckReservedLock(self(file)->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  File* f = self(file);
  if (int rc = flush_wal(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) {
  return self(file)->real->pMethods->xSectorSize(self(file)->real);
}
int x_device_characteristics(sqlite3_file* file) {
  return self(file)->real->pMethods->xDeviceCharacteristics(self(file)->real);
}

int x_shm_map(sqlite3_file* file, int page, int bytes, int extend, void volatile** out) {
  return self(file)->real->pMethods->xShmMap(self(file)->real, page, bytes, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return self(file)->real->pMethods->xShmLock(self(file)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  File* f = self(file);
  if (f->wal && f->wal->len > 0) {
    if (int rc = flush(f->wal); rc != SQLITE_OK) {
      f->wal->error = rc;
      spdlog::error(
          "SQLite WAL write failed before a shared-memory barrier (code {}); the connection's "
          "next WAL call fails",
          rc);
    }
  }
  f->real->pMethods->xShmBarrier(f->real);
}
int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  return self(file)->real->pMethods->xShmUnmap(self(file)->real, delete_flag);
}
int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = self(file);
  if (int rc = flush_wal(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}
int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return self(file)->real->pMethods->xUnfetch(self(file)->real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = self(file);
  f->head.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kHeadBytes);
  f->wal = nullptr;
  f->db = nullptr;
  f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->buf = nullptr;
  f->start = 0;
  f->len = 0;
  f->error = SQLITE_OK;
  int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    return rc;
  }
  if (!f->real->pMethods) return SQLITE_CANTOPEN;
  // Every method is ours, also for the files the default VFS opened with fewer of them.
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  if (f->is_wal && name) {
    // The database file SQLite opened this WAL for was opened through this VFS too: link both.
    sqlite3_file* db = sqlite3_database_file_object(name);
    if (db && db->pMethods == &kMethods) {
      f->db = self(db);
      f->db->wal = f;
    }
  }
  f->head.pMethods = &kMethods;
  return SQLITE_OK;
}

sqlite3_vfs vfs;

}  // namespace

const char* wal_buffering_vfs() {
  static std::once_flag once;
  static const char* registered = nullptr;
  std::call_once(once, [] {
    configure_sqlite();  // registering a VFS starts SQLite: its set-up comes first
    base_vfs = sqlite3_vfs_find(nullptr);
    if (!base_vfs || base_vfs->iVersion < 3) return;
    vfs = *base_vfs;
    vfs.szOsFile = static_cast<int>(kHeadBytes) + base_vfs->szOsFile;
    vfs.zName = kName;
    vfs.pNext = nullptr;
    vfs.pAppData = nullptr;
    vfs.xOpen = x_open;
    // The rest take the VFS as their first argument: each passes the default one on.
    vfs.xDelete = [](sqlite3_vfs*, const char* n, int sync) {
      return base_vfs->xDelete(base_vfs, n, sync);
    };
    vfs.xAccess = [](sqlite3_vfs*, const char* n, int f, int* out) {
      return base_vfs->xAccess(base_vfs, n, f, out);
    };
    vfs.xFullPathname = [](sqlite3_vfs*, const char* n, int size, char* out) {
      return base_vfs->xFullPathname(base_vfs, n, size, out);
    };
    vfs.xDlOpen = [](sqlite3_vfs*, const char* n) { return base_vfs->xDlOpen(base_vfs, n); };
    vfs.xDlError = [](sqlite3_vfs*, int n, char* out) { base_vfs->xDlError(base_vfs, n, out); };
    vfs.xDlSym = [](sqlite3_vfs*, void* h, const char* s) {
      return base_vfs->xDlSym(base_vfs, h, s);
    };
    vfs.xDlClose = [](sqlite3_vfs*, void* h) { base_vfs->xDlClose(base_vfs, h); };
    vfs.xRandomness = [](sqlite3_vfs*, int n, char* out) {
      return base_vfs->xRandomness(base_vfs, n, out);
    };
    vfs.xSleep = [](sqlite3_vfs*, int us) { return base_vfs->xSleep(base_vfs, us); };
    vfs.xCurrentTime = [](sqlite3_vfs*, double* out) {
      return base_vfs->xCurrentTime(base_vfs, out);
    };
    vfs.xGetLastError = [](sqlite3_vfs*, int n, char* out) {
      return base_vfs->xGetLastError(base_vfs, n, out);
    };
    vfs.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* out) {
      return base_vfs->xCurrentTimeInt64(base_vfs, out);
    };
    vfs.xSetSystemCall = [](sqlite3_vfs*, const char* n, sqlite3_syscall_ptr p) {
      return base_vfs->xSetSystemCall(base_vfs, n, p);
    };
    vfs.xGetSystemCall = [](sqlite3_vfs*, const char* n) {
      return base_vfs->xGetSystemCall(base_vfs, n);
    };
    vfs.xNextSystemCall = [](sqlite3_vfs*, const char* n) {
      return base_vfs->xNextSystemCall(base_vfs, n);
    };
    if (sqlite3_vfs_register(&vfs, 0) == SQLITE_OK) registered = kName;
  });
  return registered;
}

}  // namespace statgov::store
