// Hidiroglou-Berthelot (1986) and median/MAD scores.
#include "cube/outliers.hpp"

#include <algorithm>
#include <cmath>

namespace statgov::cube {

namespace {

// Quantile with linear interpolation between order statistics (type 7); `v` is sorted.
double quantile(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const double h = (static_cast<double>(v.size()) - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

void rank(std::vector<OutlierScore>& s) {
  std::stable_sort(s.begin(), s.end(), [](const OutlierScore& a, const OutlierScore& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.id < b.id;
  });
}

}  // namespace

std::vector<OutlierScore> hidiroglou_berthelot(const std::vector<UnitPair>& units,
                                               const HbParams& p) {
  std::vector<UnitPair> ok;
  for (const auto& u : units)
    if (u.previous > 0 && u.current > 0 && std::isfinite(u.previous) && std::isfinite(u.current))
      ok.push_back(u);
  std::vector<OutlierScore> out;
  if (ok.empty()) return out;
  std::vector<double> ratios;
  for (const auto& u : ok) ratios.push_back(u.current / u.previous);
  std::sort(ratios.begin(), ratios.end());
  const double r_med = quantile(ratios, 0.5);
  std::vector<double> e;
  for (const auto& u : ok) {
    const double r = u.current / u.previous;
    // Centring makes a halving and a doubling equally far from the median ratio.
    const double s = r < r_med ? 1.0 - r_med / r : r / r_med - 1.0;
    // The size effect gives a large unit's change more weight than a small one's.
    e.push_back(s * std::pow(std::max(u.current, u.previous), p.u));
  }
  std::vector<double> sorted = e;
  std::sort(sorted.begin(), sorted.end());
  const double q1 = quantile(sorted, 0.25), med = quantile(sorted, 0.5),
               q3 = quantile(sorted, 0.75);
  const double d1 = std::max(med - q1, std::fabs(p.a * med));
  const double d3 = std::max(q3 - med, std::fabs(p.a * med));
  for (std::size_t i = 0; i < ok.size(); ++i) {
    OutlierScore s;
    s.id = ok[i].id;
    s.statistic = e[i];
    const double below = d1 > 0 ? (med - e[i]) / d1 : (e[i] < med ? INFINITY : 0);
    const double above = d3 > 0 ? (e[i] - med) / d3 : (e[i] > med ? INFINITY : 0);
    s.score = std::max({below, above, 0.0});
    s.outlier = e[i] < med - p.c * d1 || e[i] > med + p.c * d3;
    out.push_back(s);
  }
  rank(out);
  return out;
}

std::vector<OutlierScore> mad_scores(const std::vector<UnitValue>& units, const MadParams& p) {
  std::vector<UnitValue> ok;
  for (const auto& u : units)
    if (std::isfinite(u.value)) ok.push_back(u);
  std::vector<OutlierScore> out;
  if (ok.empty()) return out;
  std::vector<double> v;
  for (const auto& u : ok) v.push_back(u.value);
  std::sort(v.begin(), v.end());
  const double med = quantile(v, 0.5);
  std::vector<double> dev;
  double mean_dev = 0;
  for (const auto& u : ok) {
    dev.push_back(std::fabs(u.value - med));
    mean_dev += dev.back();
  }
  mean_dev /= static_cast<double>(dev.size());
  std::sort(dev.begin(), dev.end());
  const double mad = quantile(dev, 0.5);
  // z = (x - med) / scale; 0.6745 makes MAD consistent with a normal sigma, 1.2533 the mean
  // deviation.
  const double scale = mad > 0 ? mad / 0.6745 : mean_dev * 1.2533;
  for (const auto& u : ok) {
    OutlierScore s;
    s.id = u.id;
    const double d = u.value - med;
    s.statistic = scale > 0 ? d / scale : (d == 0 ? 0 : std::copysign(INFINITY, d));
    s.score = std::fabs(s.statistic);
    s.outlier = s.score > p.threshold;
    out.push_back(s);
  }
  rank(out);
  return out;
}

std::vector<UnitPair> pairs_of(const Cube& current, const Cube& previous, int k, StateGroup group) {
  const int max_band = group == StateGroup::accepted ? 0 : 1;
  std::vector<UnitPair> out;
  for (std::uint32_t r = 0; r < current.units(); ++r) {
    if (band_of(current.row_state(r)) > max_band) continue;
    auto q = previous.find(current.row_id(r));
    if (!q || band_of(previous.row_state(*q)) > max_band) continue;
    const double v = current.value(r, k), w = previous.value(*q, k);
    if (std::isnan(v) || std::isnan(w)) continue;
    out.push_back({current.row_id(r), w, v});
  }
  return out;
}

std::vector<UnitValue> values_of(const Cube& cube, int k, StateGroup group) {
  const int max_band = group == StateGroup::accepted ? 0 : 1;
  std::vector<UnitValue> out;
  for (std::uint32_t r = 0; r < cube.units(); ++r) {
    if (band_of(cube.row_state(r)) > max_band) continue;
    const double v = cube.value(r, k);
    if (!std::isnan(v)) out.push_back({cube.row_id(r), v});
  }
  return out;
}

}  // namespace statgov::cube
