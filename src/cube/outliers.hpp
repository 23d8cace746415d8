// Outlier scores for the review queue, suited to skewed business data: Hidiroglou-Berthelot on
// period-to-period ratios, and a robust median/MAD z-score on levels. Pure functions over values;
// the cube helper picks the values of one indicator from a pair of cubes.
#pragma once

#include "cube/cube.hpp"

#include <vector>

namespace statgov::cube {

struct UnitValue {
  UnitId id = 0;
  double value = 0;
};

struct UnitPair {
  UnitId id = 0;
  double previous = 0;
  double current = 0;
};

struct OutlierScore {
  UnitId id = 0;
  double score = 0;  // HB: distance outside the centre in units of the quartile spread; MAD: |z|
  double statistic = 0;  // HB: the effect E; MAD: the signed z
  bool outlier = false;
};

struct HbParams {
  double u = 0.5;   // size-effect exponent, 0..1
  double a = 0.05;  // guards against a tiny quartile spread
  double c = 4.0;   // width of the acceptance zone (4 or 7 are usual)
};

// Units with both values > 0 are scored (a ratio needs them); the rest are left out.
// Ranked by score, largest first.
std::vector<OutlierScore> hidiroglou_berthelot(const std::vector<UnitPair>& units,
                                               const HbParams& p = {});

struct MadParams {
  double threshold = 3.5;  // Iglewicz-Hoaglin's cut-off on the modified z-score
};

// Modified z = 0.6745 (x - median) / MAD; when MAD is 0, the mean absolute deviation (x 1.2533)
// stands in. NaN values are left out. Ranked by |z|, largest first.
std::vector<OutlierScore> mad_scores(const std::vector<UnitValue>& units, const MadParams& p = {});

// The pairs of indicator k for units of `group` present with values in both cubes.
std::vector<UnitPair> pairs_of(const Cube& current, const Cube& previous, int k, StateGroup group);
// The values of indicator k for units of `group`.
std::vector<UnitValue> values_of(const Cube& cube, int k, StateGroup group);

}  // namespace statgov::cube
