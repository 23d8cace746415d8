#include "store/sqlite_memory.hpp"

#include "store/conn.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace statgov::store;

namespace {

const sqlite3_mem_methods& m() { return sqlite_memory_methods(); }

void fill(void* p, int n, unsigned char seed) {
  auto* b = static_cast<unsigned char*>(p);
  for (int i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(seed + i * 7);
}

bool holds(const void* p, int n, unsigned char seed) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (int i = 0; i < n; ++i) {
    if (b[i] != static_cast<unsigned char>(seed + i * 7)) return false;
  }
  return true;
}

// Empties the calling thread's cache of blocks of `size` (and of nothing else it can reach) by
// taking them all; the caller frees what it gets.
std::vector<void*> take_all(int size) {
  std::vector<void*> out;
  for (std::size_t i = 0; i < kSqliteCachePerClass + 1; ++i) out.push_back(m().xMalloc(size));
  return out;
}

}  // namespace

TEST(SqliteMemory, ABlockIsAtLeastItsSizeAndRoundedAsSqliteIsTold) {
  for (int n : {1, 8, 31, 32, 33, 100, 1000, 1024, 1025, 4096, 70000}) {
    void* p = m().xMalloc(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u) << n;
    EXPECT_GE(m().xSize(p), n) << n;
    EXPECT_EQ(m().xSize(p), m().xRoundup(n)) << n;
    fill(p, m().xSize(p), static_cast<unsigned char>(n));  // all of it is usable
    EXPECT_TRUE(holds(p, m().xSize(p), static_cast<unsigned char>(n)));
    m().xFree(p);
  }
  EXPECT_EQ(m().xRoundup(33), 64);
  EXPECT_EQ(m().xRoundup(1025), 1032);
  m().xFree(nullptr);  // as free(NULL)
}

TEST(SqliteMemory, ReallocKeepsTheContentsAcrossEverySizeChange) {
  // small -> small, small -> large, large -> larger, large -> small, small -> smaller
  const std::vector<int> sizes = {40, 700, 3000, 9000, 100, 20};
  void* p = m().xMalloc(sizes[0]);
  fill(p, sizes[0], 11);
  int kept = sizes[0];
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    p = m().xRealloc(p, sizes[i]);
    ASSERT_NE(p, nullptr);
    EXPECT_GE(m().xSize(p), sizes[i]);
    kept = std::min(kept, sizes[i]);
    EXPECT_TRUE(holds(p, kept, 11)) << "after the change to " << sizes[i];
    fill(p, sizes[i], 11);
    kept = sizes[i];
  }
  m().xFree(p);
}

TEST(SqliteMemory, AFreedBlockIsTakenBackByTheNextRequestOfItsSizeOnTheThread) {
  auto before = sqlite_memory_thread_cache();
  void* p = m().xMalloc(200);
  m().xFree(p);
  auto cached = sqlite_memory_thread_cache();
  EXPECT_EQ(cached.blocks, before.blocks + 1);
  EXPECT_EQ(cached.bytes, before.bytes + 224);  // 200 rounded up to a multiple of 32
  void* q = m().xMalloc(210);                   // the same size class
  EXPECT_EQ(q, p);
  EXPECT_EQ(sqlite_memory_thread_cache().blocks, before.blocks);
  m().xFree(q);

  void* big = m().xMalloc(5000);  // larger than the cached sizes: straight back to the system
  m().xFree(big);
  EXPECT_EQ(sqlite_memory_thread_cache().blocks, before.blocks + 1);
}

TEST(SqliteMemory, TheCacheIsBoundedPerSizeAndPerThread) {
  std::vector<void*> many;
  for (int i = 0; i < 1000; ++i) many.push_back(m().xMalloc(64));
  const auto before = sqlite_memory_thread_cache();
  for (void* p : many) m().xFree(p);
  const auto after = sqlite_memory_thread_cache();
  EXPECT_LE(after.blocks - before.blocks, kSqliteCachePerClass);
  EXPECT_GT(after.blocks, before.blocks);

  // Blocks of every cached size, far more bytes than a thread keeps.
  many.clear();
  for (int round = 0; round < 40; ++round) {
    for (int n = 1; n <= static_cast<int>(kSqliteCachedBlock); n += 29)
      many.push_back(m().xMalloc(n));
  }
  for (void* p : many) m().xFree(p);
  EXPECT_LE(sqlite_memory_thread_cache().bytes, kSqliteCacheBytes);
  EXPECT_GT(sqlite_memory_thread_cache().bytes, kSqliteCacheBytes / 2);
  // Taking them all back works (every cached block is whole).
  for (int n : {32, 64, 512, 1024}) {
    auto taken = take_all(n);
    for (void* p : taken) {
      fill(p, n, 3);
      m().xFree(p);
    }
  }
}

// A thread's cache goes with the thread. Under AddressSanitizer (the test command's third run)
// the leak checker reports its blocks if they are not freed.
TEST(SqliteMemory, AThreadsCacheIsFreedWhenTheThreadEnds) {
  std::size_t seen = 0;
  std::thread t([&] {
    std::vector<void*> v;
    for (int i = 0; i < 50; ++i) v.push_back(m().xMalloc(96 + i));
    for (void* p : v) m().xFree(p);
    seen = sqlite_memory_thread_cache().blocks;
  });
  t.join();
  EXPECT_GT(seen, 0u);
}

// Freed on another thread than the one that allocated: the block goes to the freeing thread's
// cache and is whole when that thread hands it out again.
TEST(SqliteMemory, ABlockFreedOnAnotherThreadIsReusedThere) {
  void* p = m().xMalloc(300);
  fill(p, 300, 5);
  void* again = nullptr;
  std::thread t([&] {
    m().xFree(p);
    again = m().xMalloc(300);
    fill(again, 300, 9);
    EXPECT_TRUE(holds(again, 300, 9));
    m().xFree(again);
  });
  t.join();
  EXPECT_EQ(again, p);
}

// SQLite itself allocates through it: a statement that reads text leaves freed blocks in this
// thread's cache.
TEST(SqliteMemory, SqliteUsesItOnceConfigured) {
  configure_sqlite();
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() / ("statgov-mem-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  {
    auto c = Conn::open((dir / "m.db").string(), false);
    ASSERT_TRUE(c.ok()) << c.error().message_en;
    ASSERT_TRUE(c->exec_script("CREATE TABLE t (s TEXT)").ok());
    // Empty this thread's cache of the sizes the rows below need.
    std::vector<std::vector<void*>> emptied;
    for (int n = 32; n <= static_cast<int>(kSqliteCachedBlock); n += 32)
      emptied.push_back(take_all(n));
    const auto before = sqlite_memory_thread_cache();
    for (int i = 0; i < 20; ++i) {
      auto st = c->prepare("INSERT INTO t (s) VALUES (:s)");
      ASSERT_TRUE(st.ok());
      st->set(":s", std::string(150 + i, 'x'));
      ASSERT_TRUE(st->exec().ok());
    }
    auto st = c->prepare("SELECT s FROM t");
    ASSERT_TRUE(st.ok());
    int rows = 0;
    while (true) {
      auto row = st->step();
      ASSERT_TRUE(row.ok());
      if (!*row) break;
      EXPECT_EQ(st->text(0).size(), static_cast<std::size_t>(150 + rows));
      ++rows;
    }
    EXPECT_EQ(rows, 20);
    EXPECT_GT(sqlite_memory_thread_cache().blocks, before.blocks);
    for (auto& v : emptied) {
      for (void* p : v) m().xFree(p);
    }
  }
  std::filesystem::remove_all(dir);
}
