#include "store/store.hpp"

#include "store/migrations.hpp"
#include "store/repos.hpp"
#include "store/test_database.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
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
    db_ = std::make_unique<TestDatabase>(dir_ / "s.db");
    auto s = Store::open(db_->target());
    ASSERT_TRUE(s.ok()) << s.error().message_en;
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  const std::vector<Migration>& migrations() const {
    return store_->dialect() == Dialect::postgres ? postgres_migrations() : sqlite_migrations();
  }
  Status add_region(const std::string& code) {
    return store_->write([&](Conn& c) { return upsert_region(c, {code, "r" + code, 4, "", "2023", ""}); });
  }
  std::int64_t regions() {
    return store_->read([](Conn& c) { return count_rows(c, "regions"); }).value();
  }
  // A unit of industry C1311 in region 430202001000 (both added here), size 2; its id.
  std::int64_t add_unit(const std::string& uscc, const std::string& name, json attributes = json::object()) {
    EXPECT_TRUE(add_region("430202001000").ok());
    std::int64_t unit = 0;
    EXPECT_TRUE(store_->write([&](Conn& c) -> Status {
      SG_TRY(upsert_industry(c, {"C1311", 4, "grain", "C", "", ""}));
      UnitRow u;
      u.uscc = uscc;
      u.name = name;
      u.region = "430202001000";
      u.industry = "C1311";
      u.size = 2;
      u.attributes = std::move(attributes);
      u.created_at = u.updated_at = "2026-11-27T00:00:00Z";
      SG_ASSIGN_OR_RETURN(unit, insert_unit(c, u));
      return Ok{};
    }).ok());
    return unit;
  }
  // Occupies the writer with one job (it writes region 430202999000) until `release`, then waits
  // 50 ms so that the writes started next queue up behind it and share a batch. Join the thread.
  std::thread hold_writer(std::atomic<bool>& release) {
    std::thread slow([this, &release] {
      (void)store_->write([&](Conn& c) -> Status {
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return upsert_region(c, {"430202999000", "slow", 4, "", "2023", ""});
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return slow;
  }
  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, MigratesOnceAndReopens) {
  EXPECT_EQ(store_->schema_version(), migrations().back().version);
  EXPECT_EQ(sqlite_migrations().size(), postgres_migrations().size()) << "one migration per version per dialect";
  const int newest = migrations().back().version;
  store_.reset();
  auto again = Store::open(db_->target());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), newest);
  EXPECT_EQ((*again)->read([](Conn& c) { return count_rows(c, "schema_version"); }).value(), newest)
      << "each version recorded once";
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
  std::thread slow = hold_writer(release);
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

TEST_F(StoreTest, WriteAsyncCompletesAfterTheCommitWithItsOwnOutcome) {
  // Hold the writer so that both asynchronous jobs queue behind it and share a batch.
  std::atomic<bool> release{false};
  std::thread slow = hold_writer(release);
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<int>> good, bad;
  std::int64_t regions_seen_by_good = -1;
  const auto caller = std::this_thread::get_id();
  std::thread::id good_thread;
  store_->write_async(
      [](Conn& c) -> Result<int> {
        SG_TRY(upsert_region(c, {"430202100000", "a", 4, "", "2023", ""}));
        return 7;
      },
      [&](Result<int> r) {
        // Read with a fresh connection: the write must already be committed when we are told.
        auto probe = Store::open(db_->target());
        std::int64_t n = probe.ok() ? (*probe)->read([](Conn& c) { return count_rows(c, "regions"); }).value() : -1;
        std::lock_guard lock(mu);
        regions_seen_by_good = n;
        good_thread = std::this_thread::get_id();
        good = std::move(r);
        cv.notify_all();
      });
  store_->write_async(
      [](Conn& c) -> Result<int> {
        SG_TRY(upsert_region(c, {"430202200000", "b", 4, "", "2023", ""}));
        return make_error(ErrorKind::invalid, "NOPE", "不", "no");
      },
      [&](Result<int> r) {
        std::lock_guard lock(mu);
        bad = std::move(r);
        cv.notify_all();
      });
  release = true;
  slow.join();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return good && bad; }));
  ASSERT_TRUE(good->ok()) << good->error().message_en;
  EXPECT_EQ(good->value(), 7);
  EXPECT_EQ(regions_seen_by_good, 2) << "the slow write and this one, committed before the completion ran";
  EXPECT_NE(good_thread, caller) << "completed on the store's completion or writer thread";
  ASSERT_FALSE(bad->ok());
  EXPECT_EQ(bad->error().code, "NOPE");
  lock.unlock();
  EXPECT_EQ(regions(), 2) << "the failing job rolled back alone";
}

TEST_F(StoreTest, ReadSnapshotSeesOneStateOfTheDatabase) {
  ASSERT_TRUE(add_region("430202001000").ok());
  std::int64_t first = 0, again = 0;
  bool wrote = false;
  store_->read_snapshot([&](Conn& c) {
    first = count_rows(c, "regions").value();
    // Committed (durably) while the snapshot is open; the snapshot must not see it.
    wrote = add_region("430202002000").ok();
    again = count_rows(c, "regions").value();
  });
  ASSERT_TRUE(wrote);
  if (store_->dialect() == Dialect::sqlite) {
    EXPECT_EQ(again, first);  // PostgreSQL: read_snapshot is read() (statement-level snapshots)
  }
  // The connection went back to the pool without its old snapshot: every later read sees the row.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(regions(), first + 1);
  EXPECT_EQ(store_->read_snapshot([](Conn& c) { return count_rows(c, "regions").value(); }), first + 1);
}

TEST_F(StoreTest, OnlineBackupIsConsistent) {
  if (store_->dialect() == Dialect::postgres) {
    auto r = store_->backup_to((dir_ / "backup.db").string());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "UNSUPPORTED");
    EXPECT_NE(r.error().message_en.find("pg_basebackup"), std::string::npos) << r.error().message_en;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "backup.db"));
    return;
  }
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(add_region("4302021" + std::to_string(10 + i) + "000").ok());
  auto target = (dir_ / "backup.db").string();
  ASSERT_TRUE(store_->backup_to(target).ok());
  auto copy = Store::open(target);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ((*copy)->read([](Conn& c) { return count_rows(c, "regions"); }).value(), 30);
  EXPECT_FALSE(store_->backup_to((dir_ / "no/such/dir/x.db").string()).ok());
}

// SQLite: the WAL is copied into the database file once it holds 1,000 frames (SQLite's own
// threshold), by the store's checkpointer thread rather than the writer. Without a checkpoint the
// database file would not grow at all: every page written would stay in the WAL. (The first
// checkpoint copies the first 1,000 frames, some of them index pages: at least 500 new pages.)
TEST_F(StoreTest, SqliteWalIsCheckpointedWhileWritesGoOn) {
  if (store_->dialect() == Dialect::postgres) GTEST_SKIP() << "SQLite's WAL only";
  const auto db_file = dir_ / "s.db";
  const auto before = std::filesystem::file_size(db_file);
  const auto page = static_cast<std::uintmax_t>(store_->read([](Conn& c) -> std::int64_t {
    auto st = c.prepare("PRAGMA page_size");
    if (!st.ok()) return 0;
    auto row = st->step();
    return row.ok() && *row ? st->int64(0) : 0;
  }));
  ASSERT_GE(page, 512u);
  const std::string long_name(page * 3 / 4, 'x');  // about one page per row
  for (int batch = 0; batch < 30; ++batch) {
    ASSERT_TRUE(store_->write([&](Conn& c) -> Status {
      for (int i = 0; i < 50; ++i) {
        const std::string code = std::to_string(430200000000 + batch * 100 + i);
        SG_TRY(upsert_region(c, {code, long_name, 4, "", "2023", ""}));
      }
      return Ok{};
    }).ok());
  }
  // 1,500 rows of about a page each: more than 1,000 pages, all still in the WAL unless checkpointed.
  const auto want = before + 500 * page;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::file_size(db_file) < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(std::filesystem::file_size(db_file), want) << "the WAL was not checkpointed into the database file";
  EXPECT_EQ(regions(), 1500);
}

// Values travel unchanged both ways on both backends: bytes with NULs, 64-bit integers, doubles,
// UTF-8 text, NULL; and what PostgreSQL returns as NUMERIC (SUM of BIGINT) or BOOLEAN reads as
// an integer.
TEST_F(StoreTest, ValuesRoundTrip) {
  const std::string bytes("PK\x03\x04\0\xff\0zip", 10);
  const std::int64_t big = 9007199254740993;  // not exact as a double
  auto w = store_->write([&](Conn& c) -> Status {
    SG_TRY(c.exec_script("CREATE TABLE rt (b BYTEA, n BIGINT, r DOUBLE PRECISION, s TEXT, z TEXT)"));
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("INSERT INTO rt (b, n, r, s, z) VALUES (:b, :n, :r, :s, :z)"));
    st.set_blob(":b", bytes).set(":n", big).set(":r", 0.1).set(":s", std::string("统计 'q' :x ?")).bind_null(5);
    SG_TRY(st.exec());
    EXPECT_EQ(c.changes(), 1);
    return Ok{};
  });
  ASSERT_TRUE(w.ok()) << w.error().message_en;
  auto r = store_->read([&](Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT b, n, r, s, z, ':not_a_param ?', CAST(n AS TEXT) FROM rt WHERE n = ?1"));
    st.bind(1, big);
    SG_ASSIGN_OR_RETURN(bool row, st.step());
    EXPECT_TRUE(row);
    if (!row) return Ok{};
    EXPECT_EQ(st.text(0), bytes);
    EXPECT_EQ(st.int64(1), big);
    EXPECT_EQ(st.real(2), 0.1);
    EXPECT_EQ(st.text(3), "统计 'q' :x ?");
    EXPECT_TRUE(st.is_null(4));
    EXPECT_FALSE(st.opt_int64(4).has_value());
    EXPECT_EQ(st.text(5), ":not_a_param ?");
    EXPECT_EQ(st.text(6), std::to_string(big));
    SG_ASSIGN_OR_RETURN(bool more, st.step());
    EXPECT_FALSE(more);
    SG_ASSIGN_OR_RETURN(auto sum, c.prepare("SELECT SUM(n), COUNT(*) > 0 FROM rt"));
    SG_ASSIGN_OR_RETURN(bool srow, sum.step());
    EXPECT_TRUE(srow);
    EXPECT_EQ(sum.int64(0), big);
    EXPECT_EQ(sum.int64(1), 1);
    return Ok{};
  });
  ASSERT_TRUE(r.ok()) << r.error().message_en;
}

TEST_F(StoreTest, DuplicateKeyIsAConflict) {
  ASSERT_TRUE(add_region("430202001000").ok());
  auto dup = store_->write([&](Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("INSERT INTO regions (code, name, level, vintage) VALUES (?, 'x', 4, '2023')"));
    st.bind(1, "430202001000");
    return st.exec();
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().kind, ErrorKind::conflict);
  EXPECT_EQ(dup.error().code, "CONFLICT");
  EXPECT_TRUE(add_region("430202002000").ok()) << "the writer goes on after a failed write";
  EXPECT_EQ(regions(), 2);
}

// Two Stores on one database (two `serve` processes): the audit chain, which each write extends
// from the last entry it reads, stays one chain. SQLite serializes with BEGIN IMMEDIATE,
// PostgreSQL with the advisory lock each batch takes.
TEST_F(StoreTest, TwoStoresOnOneDatabaseSerializeWrites) {
  auto other = Store::open(db_->target(), 1);
  ASSERT_TRUE(other.ok()) << other.error().message_en;
  std::vector<std::thread> ts;
  std::atomic<int> failed{0};
  for (Store* s : {store_.get(), other->get()}) {
    for (int t = 0; t < 3; ++t) {
      ts.emplace_back([&, s, t] {
        for (int i = 0; i < 15; ++i) {
          auto r = s->write([&](Conn& c) {
            return append_audit(c, "2026-11-26T10:00:00Z", "t" + std::to_string(t), "test", "x", json{{"i", i}});
          });
          if (!r.ok()) ++failed;
        }
      });
    }
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed, 0);
  auto rows = store_->read([](Conn& c) { return list_audit(c); }).value();
  ASSERT_EQ(rows.size(), 90u);
  std::string prev(64, '0');
  for (const auto& r : rows) {
    EXPECT_EQ(r.prev_hash, prev) << "entry " << r.id << " does not follow the one before it";
    EXPECT_EQ(r.hash, audit_hash(r));
    prev = r.hash;
  }
}

// A submit's combined read (find_unit_submissions) gives the unit without its attributes, which
// no caller of it reads; the unit's own read still has them.
TEST_F(StoreTest, UnitSubmissionsGiveTheUnitWithoutItsAttributes) {
  const std::int64_t unit =
      add_unit("91430200MA4L000003", "有限公司", {{"contact", "张三"}, {"email", "a@example.com"}});
  ASSERT_NE(unit, 0);
  auto found = store_->read([&](Conn& c) {
    return find_unit_submissions(c, domain::Scope{}, unit, "F", {"2025M09", "2025M08", "2024M09"});
  });
  ASSERT_TRUE(found.ok()) << found.error().message_en;
  ASSERT_TRUE(found->unit);
  EXPECT_EQ(found->unit->id, unit);
  EXPECT_EQ(found->unit->uscc, "91430200MA4L000003");
  EXPECT_EQ(found->unit->name, "有限公司");
  EXPECT_EQ(found->unit->region, "430202001000");
  EXPECT_EQ(found->unit->industry, "C1311");
  EXPECT_EQ(found->unit->size, 2);
  EXPECT_EQ(found->unit->created_at, "2026-11-27T00:00:00Z");
  EXPECT_EQ(found->unit->attributes, json::object());
  EXPECT_TRUE(found->submissions.empty());
  auto full = store_->read([&](Conn& c) { return find_unit(c, domain::Scope{}, unit); });
  ASSERT_TRUE(full.ok() && *full);
  EXPECT_EQ((*full)->attributes, (json{{"contact", "张三"}, {"email", "a@example.com"}}));
}

// The audit chain's head and the change sequence, which the writer keeps in memory for a batch
// (conn.hpp, WriteCache): a job rolled back (its own error, or a pipelined statement that failed)
// must give back what it took, and another store on the same database (another process) writing
// between two batches must be seen by the next one.
TEST_F(StoreTest, AuditChainAndChangeSequenceFollowRollbacksAndOtherWriters) {
  const std::int64_t unit = add_unit("91430200MA4L000001", "u");
  ASSERT_NE(unit, 0);
  // An audit entry and a new submission row for `period`.
  auto write_one = [&](Conn& c, const std::string& action, const std::string& period) -> Status {
    SG_TRY(append_audit(c, "2026-11-27T00:00:00Z", "t", action, "x", json::object()));
    SubmissionRow r;
    r.unit_id = unit;
    r.form_code = "F";
    r.form_version = 1;
    r.period = period;
    r.region = "430202001000";
    r.state = "submitted";
    r.version = 1;
    r.updated_at = "2026-11-27T00:00:00Z";
    return save_submission(c, r).ok() ? Status(Ok{}) : Status(make_error(ErrorKind::internal, "SAVE", "存", "save"));
  };
  std::atomic<bool> release{false};
  std::thread slow = hold_writer(release);
  std::vector<std::thread> ts;
  std::vector<Status> out(4, Ok{});
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&, i] {
      out[i] = store_->write([&](Conn& c) -> Status {
        SG_TRY(write_one(c, "a" + std::to_string(i), "2026M0" + std::to_string(i + 1)));
        if (i == 1) return make_error(ErrorKind::invalid, "NOPE", "不", "no");
        if (i == 2) {  // a duplicate unit: fails when its answer is read (RELEASE on PostgreSQL)
          UnitRow dup;
          dup.uscc = "91430200MA4L000001";
          dup.name = "dup";
          dup.region = "430202001000";
          dup.industry = "C1311";
          return insert_unit(c, dup).ok() ? Status(Ok{}) : Status(make_error(ErrorKind::conflict, "CONFLICT", "冲突", "conflict"));
        }
        return Ok{};
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // queue them in this order
  }
  release = true;
  slow.join();
  for (auto& t : ts) t.join();
  EXPECT_TRUE(out[0].ok());
  EXPECT_FALSE(out[1].ok());
  EXPECT_FALSE(out[2].ok());
  EXPECT_TRUE(out[3].ok());
  {
    auto other = Store::open(db_->target(), 1);
    ASSERT_TRUE(other.ok()) << other.error().message_en;
    EXPECT_TRUE((*other)->write([&](Conn& c) { return write_one(c, "b", "2026M05"); }).ok());
  }
  EXPECT_TRUE(store_->write([&](Conn& c) { return write_one(c, "c", "2026M06"); }).ok());

  auto rows = store_->read([](Conn& c) { return list_audit(c); }).value();
  std::vector<std::string> actions;
  std::string prev(64, '0');
  for (const auto& r : rows) {
    actions.push_back(r.action);
    EXPECT_EQ(r.prev_hash, prev) << "entry " << r.id << " (" << r.action << ") does not follow the one before it";
    EXPECT_EQ(r.hash, audit_hash(r));
    prev = r.hash;
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"a0", "a3", "b", "c"}));
  // One number per kept write, in commit order, none lost to the rolled-back jobs.
  std::vector<std::pair<std::string, std::int64_t>> seqs;
  for (const char* p : {"2026M01", "2026M04", "2026M05", "2026M06"}) {
    auto r = store_->read([&](Conn& c) { return find_submission(c, domain::Scope{}, unit, "F", p); }).value();
    ASSERT_TRUE(r.has_value()) << p;
    seqs.emplace_back(p, r->seq);
  }
  EXPECT_EQ(seqs, (std::vector<std::pair<std::string, std::int64_t>>{
                      {"2026M01", 1}, {"2026M04", 2}, {"2026M05", 3}, {"2026M06", 4}}));
  EXPECT_EQ(store_->read([](Conn& c) { return current_seq(c); }).value(), 4);
  for (const char* p : {"2026M02", "2026M03"}) {
    EXPECT_FALSE(store_->read([&](Conn& c) { return find_submission(c, domain::Scope{}, unit, "F", p); }).value())
        << p << " was rolled back";
  }
}

// save_submission and append_audit hand out the change sequence and the audit chain's next link,
// which only a writer batch keeps in order with the batches of other processes: on a connection of
// its own, outside any batch, both refuse and change nothing.
TEST_F(StoreTest, SubmissionAndAuditWritesOutsideAWriterBatchAreRefused) {
  const std::int64_t unit = add_unit("91430200MA4L000001", "u");
  ASSERT_NE(unit, 0);
  const auto audit_entries = [&] {
    return store_->read([](Conn& c) { return list_audit(c); }).value().size();
  };
  const std::size_t entries = audit_entries();
  auto c = Conn::open(db_->target(), false);
  ASSERT_TRUE(c.ok()) << c.error().message_en;
  SubmissionRow r;
  r.unit_id = unit;
  r.form_code = "F";
  r.form_version = 1;
  r.period = "2026M01";
  r.region = "430202001000";
  r.state = "submitted";
  r.version = 1;
  r.updated_at = "2026-11-27T00:00:00Z";
  auto saved = save_submission(*c, r);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, "STORAGE");
  Status audited = append_audit(*c, "2026-11-27T00:00:00Z", "t", "a", "x", json::object());
  ASSERT_FALSE(audited.ok());
  EXPECT_EQ(audited.error().code, "STORAGE");
  EXPECT_EQ(store_->read([](Conn& c) { return current_seq(c); }).value(), 0);
  EXPECT_FALSE(
      store_
          ->read([&](Conn& c) { return find_submission(c, domain::Scope{}, unit, "F", "2026M01"); })
          .value());
  EXPECT_EQ(audit_entries(), entries);
}

// A cached statement's named parameters bind by name whatever the order they are set in (the
// lookup starts after the last name found), a name that is the start of another is not taken for
// it, a name the statement lacks binds nothing, and each use of the statement starts with every
// parameter unbound (NULL).
TEST_F(StoreTest, NamedParametersBindByNameInAnyOrderOnACachedStatement) {
  auto c = Conn::open(db_->target(), false);
  ASSERT_TRUE(c.ok()) << c.error().message_en;
  const std::string sql =
      "SELECT CAST(:a AS TEXT) || '-' || CAST(:ab AS TEXT) || '-' || CAST(:b AS TEXT) || '-' || "
      "CAST(:a AS TEXT), CAST(:ab AS TEXT)";
  auto run = [&](const std::vector<std::pair<const char*, std::string>>& params)
      -> std::optional<std::string> {
    auto st = c->prepare(sql);
    EXPECT_TRUE(st.ok());
    if (!st.ok()) return std::nullopt;
    for (const auto& [name, value] : params) st->set(name, value);
    st->set(":missing", std::string("m"));
    auto row = st->step();
    EXPECT_TRUE(row.ok() && *row);
    if (!row.ok() || !*row || st->is_null(0)) return std::nullopt;
    return st->text(0);
  };
  EXPECT_EQ(run({{":a", "1"}, {":ab", "2"}, {":b", "3"}}), "1-2-3-1");
  EXPECT_EQ(run({{":b", "x"}, {":a", "y"}, {":ab", "z"}}), "y-z-x-y");
  EXPECT_EQ(run({{":ab", "p"}, {":b", "q"}, {":ab", "s"}, {":a", "r"}}), "r-s-q-r");
  // The last use ended with :a, so this lookup of :a starts at :ab.
  EXPECT_EQ(run({{":a", "1"}, {":ab", "2"}, {":b", "3"}}), "1-2-3-1");
  EXPECT_EQ(run({{":a", "1"}, {":b", "3"}}), std::nullopt);  // :ab unbound since the last use
}

// A statement is found by its text, not by where the text is: a buffer rewritten in place (same
// address, same length) asks for another statement and gets it.
TEST_F(StoreTest, ACachedStatementIsFoundByItsTextNotItsAddress) {
  auto c = Conn::open(db_->target(), false);
  ASSERT_TRUE(c.ok()) << c.error().message_en;
  std::string sql = "SELECT 1 + 0";
  auto value = [&]() -> std::int64_t {
    auto st = c->prepare(sql);
    EXPECT_TRUE(st.ok());
    if (!st.ok()) return -1;
    auto row = st->step();
    EXPECT_TRUE(row.ok() && *row);
    return row.ok() && *row ? st->int64(0) : -1;
  };
  EXPECT_EQ(value(), 1);
  EXPECT_EQ(value(), 1);
  const char* at = sql.data();
  for (char d : {'2', '3', '1', '2'}) {
    sql[7] = d;
    ASSERT_EQ(sql.data(), at);
    EXPECT_EQ(value(), d - '0') << sql;
  }
}

// A text with no statement in it (empty, a null view, only a comment) is an error, on a fresh
// connection and after others were cached, not a statement that fails later or a crash.
TEST_F(StoreTest, PreparingNoStatementIsAnError) {
  if (store_->dialect() != Dialect::sqlite) GTEST_SKIP() << "SQLite's statement cache";
  auto c = Conn::open(db_->target(), false);
  ASSERT_TRUE(c.ok()) << c.error().message_en;
  for (int round = 0; round < 2; ++round) {
    for (std::string_view sql :
         {std::string_view(), std::string_view(""), std::string_view("-- nothing")}) {
      auto st = c->prepare(sql);
      ASSERT_FALSE(st.ok()) << "'" << sql << "'";
      EXPECT_EQ(st.error().code, "STORAGE");
    }
    auto ok = c->prepare("SELECT 1");
    ASSERT_TRUE(ok.ok());
  }
}

// ---- PostgreSQL only: the connection going away ------------------------------------------------

// Ends every other session on the test database, as a server restart or failover does.
void drop_connections(const std::string& target) {
  auto c = Conn::open(target, false);
  ASSERT_TRUE(c.ok()) << c.error().message_en;
  ASSERT_TRUE(c->exec_script("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()").ok());
}

TEST_F(StoreTest, PostgresReconnectsAfterTheServerDropsTheConnections) {
  if (store_->dialect() != Dialect::postgres) GTEST_SKIP() << "PostgreSQL connections only";
  ASSERT_TRUE(add_region("430202001000").ok());
  drop_connections(db_->target());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Nothing was in flight: the next write and the next reads find new connections by themselves.
  auto w = add_region("430202002000");
  EXPECT_TRUE(w.ok()) << w.error().message_en;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(regions(), 2);
}

TEST_F(StoreTest, PostgresWriteWhoseConnectionDiesIsNotAcknowledged) {
  if (store_->dialect() != Dialect::postgres) GTEST_SKIP() << "PostgreSQL connections only";
  ASSERT_TRUE(add_region("430202001000").ok());
  auto w = store_->write([&](Conn& c) -> Status {
    SG_TRY(upsert_region(c, {"430202002000", "lost", 4, "", "2023", ""}));
    SG_ASSIGN_OR_RETURN(auto pid, c.prepare("SELECT pg_backend_pid()"));
    SG_ASSIGN_OR_RETURN(bool row, pid.step());
    EXPECT_TRUE(row);
    // The server ends this very session before the commit; the function itself saw no error.
    auto admin = Conn::open(db_->target(), false);
    if (!admin.ok()) return std::move(admin).error();
    SG_TRY(admin->exec_script("SELECT pg_terminate_backend(" + std::to_string(pid.int64(0)) + ")"));
    return Ok{};
  });
  ASSERT_FALSE(w.ok()) << "a write whose transaction died must not be acknowledged";
  EXPECT_EQ(w.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(regions(), 1);
  EXPECT_TRUE(add_region("430202003000").ok()) << "the next write reconnects";
  EXPECT_EQ(regions(), 2);
}

TEST_F(StoreTest, PostgresFunctionThatIgnoresAFailedStatementIsRolledBack) {
  if (store_->dialect() != Dialect::postgres) GTEST_SKIP() << "PostgreSQL transactions only";
  auto w = store_->write([&](Conn& c) -> Status {
    SG_TRY(upsert_region(c, {"430202001000", "a", 4, "", "2023", ""}));
    (void)c.exec_script("SELECT no_such_column FROM regions");  // fails; the function goes on
    return Ok{};
  });
  EXPECT_FALSE(w.ok()) << "PostgreSQL aborted the transaction: nothing of it may be reported saved";
  EXPECT_EQ(regions(), 0);
  EXPECT_TRUE(add_region("430202002000").ok());
}

// A write's INSERTs are sent without waiting for their answers (postgres.cpp, pipeline mode): the
// error of one must still fail that job alone, whichever call of the job's function (none, a
// later read, last_insert_id) first waits for the answers.
TEST_F(StoreTest, PostgresFailedPipelinedStatementFailsOnlyItsJob) {
  if (store_->dialect() != Dialect::postgres) GTEST_SKIP() << "PostgreSQL pipeline mode only";
  ASSERT_TRUE(add_region("430202001000").ok());
  auto insert_dup = [](Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("INSERT INTO regions (code, name, level, vintage) VALUES (?, 'x', 4, '2023')"));
    st.bind(1, "430202001000");
    return st.exec();
  };
  std::atomic<bool> release{false};
  std::thread slow = hold_writer(release);
  const auto before = store_->commits();
  std::vector<std::thread> ts;
  std::vector<std::optional<Status>> out(8);
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&, i] {
      out[i] = store_->write([&](Conn& c) -> Status {
        SG_TRY(upsert_region(c, {"430202" + std::to_string(100 + i) + "000", "t", 4, "", "2023", ""}));
        if (i == 2) {  // the failing INSERT is the job's last statement: RELEASE finds it
          return insert_dup(c);
        }
        if (i == 4) {  // a read after it reports it
          SG_TRY(insert_dup(c));
          SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT COUNT(*) FROM regions"));
          SG_ASSIGN_OR_RETURN(bool row, st.step());
          return row ? Status(Ok{}) : Status(make_error(ErrorKind::internal, "NO_ROW", "无", "no row"));
        }
        if (i == 6) {  // last_insert_id can't report it; the next statement does
          SG_TRY(insert_dup(c));
          (void)c.last_insert_id();
          return upsert_region(c, {"430202999001", "after", 4, "", "2023", ""});
        }
        return Ok{};
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // queue them in this order
  }
  release = true;
  slow.join();
  for (auto& t : ts) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(out[i].has_value());
    if (i == 2 || i == 4 || i == 6) {
      ASSERT_FALSE(out[i]->ok()) << "job " << i;
      EXPECT_EQ(out[i]->error().code, "CONFLICT") << "job " << i << ": the failed INSERT's own error";
    } else {
      EXPECT_TRUE(out[i]->ok()) << "job " << i << ": " << out[i]->error().message_en;
    }
  }
  EXPECT_LE(store_->commits() - before, 3u) << "the jobs shared a batch";
  // The first region, the slow job's, and the five good jobs'; nothing of the failed ones.
  EXPECT_EQ(regions(), 7);
  EXPECT_EQ(store_->read([](Conn& c) { return count_rows(c, "regions WHERE code = '430202999001'"); }).value(), 0);
  EXPECT_TRUE(add_region("430202002000").ok()) << "the writer goes on";
}

// The connection dies while a job's INSERTs are queued and unanswered: nothing of that batch may
// be acknowledged (each job in it reports failure), the jobs queued behind it run in the next
// batch on a new connection.
TEST_F(StoreTest, PostgresConnectionDyingMidPipelineAcknowledgesNothing) {
  if (store_->dialect() != Dialect::postgres) GTEST_SKIP() << "PostgreSQL pipeline mode only";
  ASSERT_TRUE(add_region("430202001000").ok());
  std::atomic<bool> release{false};
  std::thread slow = hold_writer(release);
  std::optional<Status> before_it, dying;
  std::thread a([&] { before_it = add_region("430202002000"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::thread b([&] {
    dying = store_->write([&](Conn& c) -> Status {
      SG_ASSIGN_OR_RETURN(auto pid, c.prepare("SELECT pg_backend_pid()"));
      SG_ASSIGN_OR_RETURN(bool row, pid.step());
      EXPECT_TRUE(row);
      SG_TRY(upsert_region(c, {"430202003000", "queued", 4, "", "2023", ""}));
      auto admin = Conn::open(db_->target(), false);
      if (!admin.ok()) return std::move(admin).error();
      SG_TRY(admin->exec_script("SELECT pg_terminate_backend(" + std::to_string(pid.int64(0)) + ")"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      // Queued on a dead connection: libpq may or may not notice before the Sync.
      (void)upsert_region(c, {"430202004000", "queued", 4, "", "2023", ""});
      return Ok{};
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release = true;
  slow.join();
  a.join();
  b.join();
  ASSERT_TRUE(dying.has_value());
  ASSERT_FALSE(dying->ok()) << "a write whose connection died before its RELEASE must not be acknowledged";
  EXPECT_EQ(dying->error().kind, ErrorKind::unavailable);
  ASSERT_TRUE(before_it.has_value());
  EXPECT_FALSE(before_it->ok()) << "the job before it in the same batch was undone too";
  EXPECT_EQ(regions(), 2) << "nothing of the batch was committed (the first region and the slow job's)";
  EXPECT_TRUE(add_region("430202005000").ok()) << "the next write reconnects";
  EXPECT_EQ(regions(), 3);
}

TEST_F(StoreTest, PostgresReadOnlySessionAnswersUnavailable) {
  if (store_->dialect() != Dialect::postgres) GTEST_SKIP() << "PostgreSQL sessions only";
  ASSERT_TRUE(store_->exec_on_writer_alone("SET default_transaction_read_only = on").ok());
  auto w = add_region("430202001000");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(w.error().code, "STORAGE_READ_ONLY");
  ASSERT_TRUE(store_->exec_on_writer_alone("SET default_transaction_read_only = off").ok());
  EXPECT_TRUE(add_region("430202001000").ok());
}

}  // namespace
}  // namespace statgov::store
