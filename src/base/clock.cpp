#include "base/clock.hpp"

#include <fmt/format.h>

namespace statgov {

namespace {
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
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                h.count(), m.count(), s.count());
  if (z) return out + fmt::format(".{:03}Z", ms.count());
  int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return out + fmt::format("{}{:02}:{:02}", offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
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
