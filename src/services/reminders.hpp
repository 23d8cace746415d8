// Reminders (催报) through the notification outbox: every reminder writes one outbox row per unit
// and channel in the same transaction; a worker sends due rows (in-app notices at once, e-mail over
// SMTP, SMS through a webhook), records every attempt and retries failures with exponential
// back-off (1, 2, 4, 8 minutes), giving up after kMaxAttempts.
//
// Thread safety: remind()/history()/notices() run on request threads; process_due() runs on the
// worker thread (start/stop). process_due() claims the rows it sends in one UPDATE ... RETURNING
// (store::claim_due_outbox), so any number of workers, in one process or in several processes on
// one PostgreSQL database, send each row once.
#pragma once

#include "notify/senders.hpp"
#include "services/monitor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <thread>

namespace statgov::services {

struct NotifyConfig {
  std::unique_ptr<notify::MessageSender> email;  // null = e-mail not configured
  std::unique_ptr<notify::MessageSender> sms;    // null = SMS not configured
};

class ReminderService {
 public:
  static constexpr int kMaxAttempts = 5;
  // How long a claimed row stays away from other workers while it is being sent.
  static constexpr std::chrono::minutes kClaimLease{10};

  ReminderService(store::Store& store, MonitorService& monitor, const Clock& clock, NotifyConfig config)
      : store_(store), monitor_(monitor), clock_(clock), config_(std::move(config)) {}
  ~ReminderService() { stop(); }

  // body: {"form","period","region"?,"message"?}
  Result<json> remind(const Actor& a, const json& body);
  Result<json> history(const Actor& a, const std::string& form, const std::string& period);
  Result<json> notices(const Actor& a);
  // Sends what is due now; returns how many rows were attempted.
  Result<int> process_due();

  void start();
  void stop();
  void poke();

 private:
  store::Store& store_;
  MonitorService& monitor_;
  const Clock& clock_;
  NotifyConfig config_;
  std::thread worker_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;  // guarded by mu_
};

}  // namespace statgov::services
