// Clock: the one seam for time, so deadlines, embargoes and throttling can be tested by
// moving time instead of sleeping. Shared by every thread: implementations must be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace statgov {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// For tests: time stands still until advanced.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : micros_(to_micros(start)) {}
  TimePoint now() const override { return TimePoint(std::chrono::microseconds(micros_.load())); }
  void advance(std::chrono::microseconds d) { micros_ += d.count(); }
  void set(TimePoint t) { micros_ = to_micros(t); }

 private:
  static std::int64_t to_micros(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<std::int64_t> micros_;
};

// China Standard Time has no daylight saving: every deadline and timestamp shown to users is
// UTC+08:00. Stored times are UTC ISO 8601 so that they sort as text.
inline constexpr int kBeijingOffsetMinutes = 8 * 60;

std::string format_utc(TimePoint t);                                 // 2026-11-26T04:05:06.123Z
std::string format_local(TimePoint t, int offset_minutes = kBeijingOffsetMinutes);  // ...+08:00
struct CivilDate {
  int year, month, day;
};
CivilDate local_date(TimePoint t, int offset_minutes = kBeijingOffsetMinutes);
// Local civil time -> TimePoint; month 1..12.
TimePoint from_local(int year, int month, int day, int hour, int minute,
                     int offset_minutes = kBeijingOffsetMinutes);

}  // namespace statgov
