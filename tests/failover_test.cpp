// Issue #6, fault test 2, in small: a PostgreSQL 15 primary with a synchronous standby on loopback
// ports (deploy/pg_standby.sh), the real `statgov serve` on the multi-host URL
// (target_session_attrs=read-write), 200 clients submitting with idempotency keys; every process
// of the primary is killed with SIGKILL at a random moment under load and the standby promoted.
// The same serve, never restarted, finds the promoted standby by itself. Then: every submission
// whose 2xx reached a client is on the promoted standby before any retry, and exactly once (one
// submission, version, submit event, audit entry, key row, the values sent) after every key is
// retried with the same key; a retry answers the same submission. The full-size run is
// bench/failover_bench.cpp.
//
// Runs when STATGOV_TEST_PG is set (the PostgreSQL pass of ./statgov.sh test: as root, with
// PostgreSQL 15 installed); it does not use that server but starts its own two.
#include "harness.hpp"
#include "kill9_driver.hpp"
#include "standby_pair.hpp"
#include "store/test_database.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <random>

namespace statgov::testing {
namespace {

TEST(Failover, TwoHundredClientsPrimaryKilledStandbyPromotedLoseNothing) {
  if (!store::TestDatabase::postgres_run()) {
    GTEST_SKIP() << "needs PostgreSQL 15 and root (set STATGOV_TEST_PG, as ./statgov.sh pg does): the test starts "
                    "its own primary and synchronous standby";
  }
  std::random_device rd;
  const unsigned seed = rd();
  kill9::StandbyPair pg(std::string(STATGOV_SOURCE_DIR) + "/deploy/pg_standby.sh",
                        std::filesystem::temp_directory_path() / ("statgov-failover-" + std::to_string(seed)));
  ASSERT_TRUE(pg.started()) << pg.log();
  // The precondition the whole test rests on: the primary's COMMIT waits for this standby.
  ASSERT_EQ(kill9::query_text(pg.server_url(pg.primary_port(), "postgres"),
                       "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'statgov_standby'"),
            "sync");
  {
    auto admin = store::Conn::open(pg.server_url(pg.primary_port(), "postgres"), false);
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE(admin.value()
                    .exec_script("CREATE DATABASE statgov TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
                    .ok());
  }
  kill9::Options o;
  o.statgov = STATGOV_BINARY;
  o.data = std::string(STATGOV_SOURCE_DIR) + "/data";
  o.db = pg.multi_host_url("statgov");
  o.dir = std::filesystem::temp_directory_path() / ("statgov-failover-serve-" + std::to_string(seed));
  std::filesystem::create_directories(o.dir);
  o.clients = 200;
  o.seconds = 5;
  o.kills = 1;
  o.seed = seed;
  o.fault = [&] {
    if (pg.run("kill-primary") != 0) return std::string("kill-primary failed");
    if (pg.run("promote") != 0) return std::string("promote failed");
    return std::string();
  };
  auto demo = run_statgov("--db '" + o.db + "' --data " + o.data + " demo --units 150");
  ASSERT_EQ(demo.code, 0) << demo.out;

  auto n = kill9::run(o, [](const std::string& line) { std::cout << "  " << line << "\n"; });
  std::cout << "  seed " << seed << ": acknowledged " << n.acknowledged << " (after the promotion "
            << n.acknowledged_after << "), 503 answers retried " << n.unavailable << ", interrupted "
            << n.interrupted << ", unanswered at the end " << n.unknown << ", found " << n.found << ", lost " << n.lost
            << ", duplicated " << n.duplicated << ", wrong values " << n.wrong_values << ", retry differs "
            << n.retry_differs << ", half-written " << n.half_written << ", integrity " << n.integrity << "\n";
  EXPECT_EQ(n.kills, 1);
  EXPECT_EQ(n.integrity, kill9::kIntegrityNotApplicable) << "the fault or a check query failed:\n" << pg.log();
  EXPECT_GT(n.acknowledged - n.acknowledged_after, 0) << "the primary acknowledged submissions before the kill";
  EXPECT_GT(n.acknowledged_after, 0) << "the same serve went on acknowledging on the promoted standby";
  EXPECT_GT(n.unavailable + n.interrupted, 0) << "the kill fell while requests were in flight";
  EXPECT_EQ(n.rejected, 0);
  EXPECT_EQ(n.lost, 0) << "acknowledged submissions missing on the promoted standby";
  EXPECT_EQ(n.duplicated, 0) << "a key made more than one submission, version, event or audit entry";
  EXPECT_EQ(n.wrong_values, 0);
  EXPECT_EQ(n.retry_differs, 0) << "a retry after the promotion answered another submission";
  EXPECT_EQ(n.half_written, 0);
  EXPECT_EQ(n.found, n.acknowledged + n.unknown);
  // The data is on the old standby, now a primary, and the old primary is gone.
  EXPECT_EQ(kill9::query_text(pg.server_url(pg.standby_port(), "statgov"), "SELECT pg_is_in_recovery()::text"), "false");
  EXPECT_EQ(kill9::query_text(pg.server_url(pg.primary_port(), "statgov"), "SELECT 1::text"), "");
  auto verify = run_statgov("--db '" + o.db + "' --data " + o.data + " audit verify");
  EXPECT_EQ(verify.code, 0) << verify.out;
  std::filesystem::remove_all(o.dir);
}

}  // namespace
}  // namespace statgov::testing
