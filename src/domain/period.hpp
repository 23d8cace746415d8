// Reporting periods: 2026M10, 2026Q3, 2026. Pure value type.
#pragma once

#include "base/clock.hpp"
#include "base/result.hpp"

#include <string>
#include <string_view>

namespace statgov::domain {

enum class Frequency { month, quarter, year };
Result<Frequency> parse_frequency(std::string_view s);  // "month" | "quarter" | "year"
std::string_view frequency_name(Frequency f);

class Period {
 public:
  static Result<Period> parse(std::string_view text);
  static Period month(int year, int month) { return Period(Frequency::month, year, month); }
  static Period quarter(int year, int q) { return Period(Frequency::quarter, year, q); }
  static Period year(int year) { return Period(Frequency::year, year, 0); }
  // The period of frequency f that contains the civil date (local time).
  static Period containing(Frequency f, int year, int month);

  Frequency frequency() const { return freq_; }
  int year_number() const { return year_; }
  int sub() const { return sub_; }  // month 1-12, quarter 1-4, 0 for a year
  int month_number() const { return freq_ == Frequency::month ? sub_ : 0; }
  int quarter_number() const;
  std::string str() const;
  Period previous() const;
  Period next() const;
  Period same_last_year() const { return Period(freq_, year_ - 1, sub_); }
  // Last civil month of the period (12 for a year, 3/6/9/12 for quarters).
  int last_month() const;
  // Deadline: `day` of the month after the period ends, at `hour`:00 local time.
  TimePoint deadline(int day, int hour) const;

  bool operator==(const Period&) const = default;
  auto operator<=>(const Period&) const = default;

 private:
  Period(Frequency f, int y, int s) : freq_(f), year_(y), sub_(s) {}
  Frequency freq_;
  int year_;
  int sub_;
};

}  // namespace statgov::domain
