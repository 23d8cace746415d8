// The live feed of submission changes that monitoring screens follow (server-sent events).
// Every committed submission write carries a sequence number (store change_seq); the feed reads
// forward from the last number it saw, so it also picks up writes by other processes on the same
// database, and a restart or a gap loses nothing.
//
// NOTE: reading forward from the last number seen is only complete because numbers become
// visible in order: a reader never sees seq 11 committed while seq 10 is still to come (it would
// never look back for 10). The store writer's batch reads change_seq once, after taking the
// database's write lock (SQLite's BEGIN IMMEDIATE; on PostgreSQL the advisory lock that every
// statgov process's batch takes), hands the numbers out in memory and writes the last one back
// before its COMMIT (store.cpp, WriteCache); save_submission takes its number nowhere else. So the
// next number can only be taken after the previous transaction committed or rolled back, and both
// SQLite and PostgreSQL make a commit visible before the lock is released. Any new way of writing
// submissions must keep taking the number through save_submission, inside the writer's batch.
//
// Thread safety: one background thread (start/stop) polls the store and appends to ring_ under
// mu_; request threads read with after() and wake the poller with poke() after their own commits.
#pragma once

#include "store/store.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace statgov::services {

struct Change {
  std::int64_t seq = 0;
  std::int64_t unit_id = 0;
  std::string form, period, region, state;
};

class ChangeFeed {
 public:
  explicit ChangeFeed(store::Store& store) : store_(store) {}
  ~ChangeFeed() { stop(); }
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  Status start();  // reads the current sequence, then follows it
  void stop();
  void poke();
  Status poll_once();

  std::int64_t latest() const { return latest_.load(); }
  // Changes with seq > after, oldest first. `complete` is false if older changes fell out of the
  // ring (the client should refetch everything).
  std::vector<Change> after(std::int64_t after, bool& complete) const;

 private:
  store::Store& store_;
  mutable std::mutex mu_;
  std::mutex poll_mu_;  // one poll at a time, so that no change is appended twice
  std::deque<Change> ring_;  // guarded by mu_
  std::int64_t floor_ = 0;    // guarded by mu_: every change after floor_ is in ring_
  std::condition_variable cv_;
  bool poked_ = false;  // guarded by mu_
  std::atomic<std::int64_t> latest_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
  static constexpr std::size_t kRing = 20000;
  static constexpr std::int64_t kBackfill = 5000;  // sequence numbers read back at start
};

}  // namespace statgov::services
