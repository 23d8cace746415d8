// SQLite's memory allocator. Debian's SQLite is built without lookaside memory
// (SQLITE_OMIT_LOOKASIDE, `PRAGMA compile_options`), the per-connection pool of small blocks that
// SQLite otherwise serves most of its short-lived allocations from, so every one of them (each
// text value a statement reads or binds, its cursors, its record buffers: 139 per submit counted
// by heaptrack, issue #6) is a malloc and a free. glibc's per-thread cache holds only 7 blocks of
// a size, and a statement frees more than that of one size at once, so most of them reach glibc's
// arena.
//
// This allocator keeps the system's malloc underneath and, in front of it, a cache per thread of
// freed blocks of up to 1 KiB, by size (multiples of 32 bytes): a block SQLite frees goes to the
// freeing thread's cache and the next request of its size on that thread takes it back, without a
// lock. The cache is bounded (kSqliteCachePerClass blocks of a size, kSqliteCacheBytes in all per
// thread); past that, and for larger blocks, it is malloc and free as before. A thread's cache is
// freed when the thread ends. Under AddressSanitizer a cached block is poisoned until handed out
// again, so a use after free is still reported.
#include "store/sqlite_memory.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SG_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SG_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SG_POISON(p, n) ((void)(p), (void)(n))
#define SG_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace statgov::store {
namespace {

// Before every block: its usable size (what SQLite was told) and, while cached, the next cached
// block of its size. 16 bytes keep the block at malloc's alignment.
struct Header {
  std::size_t size;
  Header* next;
};
static_assert(sizeof(Header) == 16);
static_assert(kSqliteCachedBlock % kSqliteBlockStep == 0 &&
              (kSqliteBlockStep & (kSqliteBlockStep - 1)) == 0);
constexpr std::size_t kClasses = kSqliteCachedBlock / kSqliteBlockStep;

// Constant-initialised and trivially destructible: reaching it costs no guard.
struct Cache {
  Header* head[kClasses];
  std::uint32_t count[kClasses];
  std::size_t bytes;
  bool armed;  // the thread's drain_at_exit is registered
  bool ended;  // the thread is ending: no more caching
};
thread_local Cache cache{};

void drain(Cache& c) {
  for (std::size_t k = 0; k < kClasses; ++k) {
    while (Header* h = c.head[k]) {
      SG_UNPOISON(h + 1, h->size);
      c.head[k] = h->next;
      std::free(h);
    }
    c.count[k] = 0;
  }
  c.bytes = 0;
}

// Frees the thread's cache when the thread ends; from then on (other thread-local destructors
// may still free SQLite memory) blocks go straight back to the system.
struct DrainAtExit {
  bool used = false;
  ~DrainAtExit() {
    drain(cache);
    cache.ended = true;
  }
};
thread_local DrainAtExit drain_at_exit;

std::size_t rounded(std::size_t n) {
  if (n <= kSqliteCachedBlock) return (n + kSqliteBlockStep - 1) & ~(kSqliteBlockStep - 1);
  return (n + 7) & ~std::size_t{7};
}

int x_roundup(int n) { return n <= 0 ? 0 : static_cast<int>(rounded(static_cast<std::size_t>(n))); }

void* x_malloc(int n) {
  if (n <= 0) return nullptr;
  const std::size_t size = rounded(static_cast<std::size_t>(n));
  if (size <= kSqliteCachedBlock) {
    const std::size_t k = size / kSqliteBlockStep - 1;
    if (Header* h = cache.head[k]) {
      cache.head[k] = h->next;
      --cache.count[k];
      cache.bytes -= size;
      SG_UNPOISON(h + 1, size);
      return h + 1;
    }
  }
  auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + size));
  if (!h) return nullptr;
  h->size = size;
  h->next = nullptr;
  return h + 1;
}

void x_free(void* p) {
  if (!p) return;
  Header* h = static_cast<Header*>(p) - 1;
  const std::size_t size = h->size;
  if (size <= kSqliteCachedBlock && !cache.ended) {
    const std::size_t k = size / kSqliteBlockStep - 1;
    if (cache.count[k] < kSqliteCachePerClass && cache.bytes + size <= kSqliteCacheBytes) {
      if (!cache.armed) {
        drain_at_exit.used = true;  // the first use registers its destructor for this thread
        cache.armed = true;
      }
      h->next = cache.head[k];
      cache.head[k] = h;
      ++cache.count[k];
      cache.bytes += size;
      SG_POISON(p, size);
      return;
    }
  }
  std::free(h);
}

int x_size(void* p) { return p ? static_cast<int>((static_cast<Header*>(p) - 1)->size) : 0; }

void* x_realloc(void* p, int n) {
  if (!p) return x_malloc(n);
  if (n <= 0) {
    x_free(p);
    return nullptr;
  }
  Header* h = static_cast<Header*>(p) - 1;
  const std::size_t old = h->size;
  const std::size_t size = rounded(static_cast<std::size_t>(n));
  if (size == old) return p;
  if (old > kSqliteCachedBlock && size > kSqliteCachedBlock) {
    auto* moved = static_cast<Header*>(std::realloc(h, sizeof(Header) + size));
    if (!moved) return nullptr;  // the old block is still SQLite's
    moved->size = size;
    return moved + 1;
  }
  void* q = x_malloc(n);
  if (!q) return nullptr;
  std::memcpy(q, p, std::min(old, size));
  x_free(p);
  return q;
}

int x_init(void*) { return SQLITE_OK; }
void x_shutdown(void*) {}

const sqlite3_mem_methods methods = {x_malloc,  x_free, x_realloc,  x_size,
                                     x_roundup, x_init, x_shutdown, nullptr};

}  // namespace

void configure_sqlite() {
  static const bool configured = [] {
    // No memory statistics: with them on, every allocation SQLite makes takes one mutex shared by
    // all connections (the writer's and every reader's, on different threads).
    const bool stats_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
    const bool allocator = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK;
    return stats_off && allocator;
  }();
  (void)configured;
}

const sqlite3_mem_methods& sqlite_memory_methods() { return methods; }

SqliteMemoryCache sqlite_memory_thread_cache() {
  SqliteMemoryCache out;
  for (std::size_t k = 0; k < kClasses; ++k) out.blocks += cache.count[k];
  out.bytes = cache.bytes;
  return out;
}

}  // namespace statgov::store
