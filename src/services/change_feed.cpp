#include "services/change_feed.hpp"

#include "store/repos.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace statgov::services {

Status ChangeFeed::start() {
  SG_ASSIGN_OR_RETURN(auto seq, store_.read([](store::Conn& c) { return store::current_seq(c); }));
  // Start with the recent past in the ring, not empty: a live stream that broke with another
  // process (or with this one, restarted) resumes here from its Last-Event-ID without a reset.
  // The ring holds each row in its latest state, as every poll does.
  const std::int64_t from = std::max<std::int64_t>(0, seq - kBackfill);
  latest_ = from;
  {
    std::lock_guard lock(mu_);
    floor_ = from;
  }
  SG_TRY(poll_once());
  running_ = true;
  thread_ = std::thread([this] {
    while (running_) {
      auto st = poll_once();
      if (!st.ok()) spdlog::warn("change feed: {}", st.error().message_en);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return poked_ || !running_; });
      poked_ = false;
    }
  });
  return Ok{};
}

void ChangeFeed::stop() {
  if (!running_.exchange(false)) return;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeFeed::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

Status ChangeFeed::poll_once() {
  std::lock_guard poll_lock(poll_mu_);
  for (;;) {
    std::int64_t from = latest_.load();
    SG_ASSIGN_OR_RETURN(auto rows, store_.read([&](store::Conn& c) { return store::submissions_since(c, from, 1000); }));
    if (rows.empty()) return Ok{};
    std::lock_guard lock(mu_);
    for (const auto& r : rows) {
      ring_.push_back(Change{r.seq, r.unit_id, r.form_code, r.period, r.region, r.state});
      if (ring_.size() > kRing) {
        floor_ = ring_.front().seq;
        ring_.pop_front();
      }
    }
    latest_ = rows.back().seq;
    if (rows.size() < 1000) return Ok{};
  }
}

std::vector<Change> ChangeFeed::after(std::int64_t after, bool& complete) const {
  std::lock_guard lock(mu_);
  std::vector<Change> out;
  complete = after >= floor_;
  for (auto it = ring_.rbegin(); it != ring_.rend() && it->seq > after; ++it) out.push_back(*it);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace statgov::services
