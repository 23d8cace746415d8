#include "store/store.hpp"

#include "store/migrations.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

namespace statgov::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("statgov-store-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    auto s = Store::open((dir_ / "s.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message_en;
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Status add_region(const std::string& code) {
    return store_->write([&](Conn& c) { return upsert_region(c, {code, "r" + code, 4, "", "2023", ""}); });
  }
  std::int64_t regions() {
    return store_->read([](Conn& c) { return count_rows(c, "regions"); }).value();
  }
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, MigratesOnceAndReopens) {
  EXPECT_EQ(store_->schema_version(), sqlite_migrations().back().version);
  store_.reset();
  auto again = Store::open((dir_ / "s.db").string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), sqlite_migrations().back().version);
}

TEST_F(StoreTest, FailedWriteRollsBackOnlyItself) {
  ASSERT_TRUE(add_region("430202001000").ok());
  auto bad = store_->write([&](Conn& c) -> Status {
    SG_TRY(upsert_region(c, {"430202002000", "x", 4, "", "2023", ""}));
    return make_error(ErrorKind::invalid, "NOPE", "不", "no");
  });
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "NOPE");
  EXPECT_EQ(regions(), 1);
}

TEST_F(StoreTest, ConcurrentWritesAreGroupCommittedWithIndependentOutcomes) {
  // Hold the writer in one job while 40 others queue up: they must share few commits, and the
  // failing ones (odd) must leave nothing behind.
  std::atomic<bool> release{false};
  std::thread slow([&] {
    (void)store_->write([&](Conn& c) -> Status {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return upsert_region(c, {"430202999000", "slow", 4, "", "2023", ""});
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto before = store_->commits();
  std::vector<std::thread> ts;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 40; ++i) {
    ts.emplace_back([&, i] {
      auto r = store_->write([&](Conn& c) -> Status {
        SG_TRY(upsert_region(c, {"430202" + std::to_string(100 + i) + "000", "t", 4, "", "2023", ""}));
        if (i % 2) return make_error(ErrorKind::invalid, "ODD", "奇数", "odd");
        return Ok{};
      });
      (r.ok() ? ok : failed)++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  release = true;
  slow.join();
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, 20);
  EXPECT_EQ(failed, 20);
  EXPECT_EQ(regions(), 21);
  EXPECT_LE(store_->commits() - before, 3u) << "queued writes share a commit";
}

TEST_F(StoreTest, OnlineBackupIsConsistent) {
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(add_region("4302021" + std::to_string(10 + i) + "000").ok());
  auto target = (dir_ / "backup.db").string();
  ASSERT_TRUE(store_->backup_to(target).ok());
  auto copy = Store::open(target);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ((*copy)->read([](Conn& c) { return count_rows(c, "regions"); }).value(), 30);
  EXPECT_FALSE(store_->backup_to((dir_ / "no/such/dir/x.db").string()).ok());
}

}  // namespace
}  // namespace statgov::store
