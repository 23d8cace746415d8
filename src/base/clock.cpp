#include "base/clock.hpp"

namespace statgov {

namespace {
// Writes v as exactly `width` decimal digits ending just before `end`.
void put_digits(char* end, unsigned v, int width) {
  for (int i = 0; i < width; ++i, v /= 10) *--end = static_cast<char>('0' + v % 10);
}

// NOTE: by hand, not with fmt: every request formats the time a few times (authentication,
// the submit's timestamps), and two fmt::format calls and a concatenation cost about 4,700
// instructions against about 350 here, allocation included (callgrind, issue #6).
std::string format_with_offset(TimePoint t, int offset_minutes, bool z) {
  using namespace std::chrono;
  auto shifted = t + minutes(offset_minutes);
  auto day = floor<days>(shifted);
  year_month_day ymd{day};
  auto tod = shifted - day;
  auto h = duration_cast<hours>(tod);
  auto m = duration_cast<minutes>(tod - h);
  auto s = duration_cast<seconds>(tod - h - m);
  auto ms = duration_cast<milliseconds>(tod - h - m - s);
  // A TimePoint (nanoseconds in 64 bits) lies in the years 1677 to 2262: four digits.
  const auto year = static_cast<unsigned>(static_cast<int>(ymd.year()));
  const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;  // hours < 100
  // 2026-11-26T04:05:06 then .123Z or +08:00
  char buf[26] = "0000-00-00T00:00:00";
  put_digits(buf + 4, year, 4);
  put_digits(buf + 7, static_cast<unsigned>(ymd.month()), 2);
  put_digits(buf + 10, static_cast<unsigned>(ymd.day()), 2);
  put_digits(buf + 13, static_cast<unsigned>(h.count()), 2);
  put_digits(buf + 16, static_cast<unsigned>(m.count()), 2);
  put_digits(buf + 19, static_cast<unsigned>(s.count()), 2);
  if (z) {
    buf[19] = '.';
    put_digits(buf + 23, static_cast<unsigned>(ms.count()), 3);
    buf[23] = 'Z';
    return std::string(buf, 24);
  }
  buf[19] = offset_minutes < 0 ? '-' : '+';
  put_digits(buf + 22, static_cast<unsigned>(off / 60), 2);
  buf[22] = ':';
  put_digits(buf + 25, static_cast<unsigned>(off % 60), 2);
  return std::string(buf, 25);
}
}  // namespace

std::string format_utc(TimePoint t) { return format_with_offset(t, 0, true); }

std::string format_local(TimePoint t, int offset_minutes) {
  return format_with_offset(t, offset_minutes, false);
}

CivilDate local_date(TimePoint t, int offset_minutes) {
  using namespace std::chrono;
  year_month_day ymd{floor<days>(t + minutes(offset_minutes))};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

TimePoint from_local(int year, int month, int day, int hour, int minute, int offset_minutes) {
  using namespace std::chrono;
  sys_days d{std::chrono::year(year) / std::chrono::month(static_cast<unsigned>(month)) /
             std::chrono::day(static_cast<unsigned>(day))};
  return TimePoint(d) + hours(hour) + minutes(minute) - minutes(offset_minutes);
}

}  // namespace statgov
