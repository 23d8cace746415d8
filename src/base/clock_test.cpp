#include "base/clock.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>

namespace statgov {
namespace {

using namespace std::chrono;

// The same text made another way: the C library's calendar (gmtime_r) and printf.
std::string reference(TimePoint t, int offset_minutes, bool z) {
  const auto shifted = t + minutes(offset_minutes);
  const auto secs = floor<seconds>(shifted);
  const std::time_t tt = secs.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (z) {
    std::snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(duration_cast<milliseconds>(shifted - secs).count()));
  } else {
    const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
  }
  return out + buf;
}

TEST(Clock, FormatsKnownMoments) {
  const TimePoint t = from_local(2026, 11, 26, 12, 5, 0) + seconds(6) + milliseconds(123);
  EXPECT_EQ(format_utc(t), "2026-11-26T12:05:06.123Z");
  EXPECT_EQ(format_local(t), "2026-11-26T20:05:06+08:00");
  EXPECT_EQ(format_local(t, -(3 * 60 + 30)), "2026-11-26T08:35:06-03:30");
  EXPECT_EQ(format_local(from_local(2026, 12, 31, 23, 59, 0) + seconds(59), 0), "2026-12-31T23:59:59+00:00");
  // Local midnight in Beijing is the previous day in UTC.
  EXPECT_EQ(format_utc(from_local(2027, 1, 1, 0, 0)), "2026-12-31T16:00:00.000Z");
  EXPECT_EQ(format_utc(TimePoint{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc(TimePoint{} - milliseconds(1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_utc(from_local(2024, 2, 29, 8, 0)), "2024-02-29T00:00:00.000Z");
}

TEST(Clock, FormatsAsTheCLibraryDoes) {
  std::mt19937_64 rng(20261127);
  // 1900 to 2199, to the microsecond, with offsets from -12:00 to +14:00.
  std::uniform_int_distribution<std::int64_t> micros(-2208988800LL * 1000000, 7258118400LL * 1000000);
  std::uniform_int_distribution<int> offset(-12 * 60, 14 * 60);
  for (int i = 0; i < 20000; ++i) {
    const TimePoint t{microseconds(micros(rng))};
    const int off = offset(rng);
    ASSERT_EQ(format_utc(t), reference(t, 0, true)) << i;
    ASSERT_EQ(format_local(t, off), reference(t, off, false)) << i << " offset " << off;
    ASSERT_EQ(format_local(t), reference(t, kBeijingOffsetMinutes, false)) << i;
  }
}

}  // namespace
}  // namespace statgov
