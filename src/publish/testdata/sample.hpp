// Loads the sample datasets in this folder for the publish tests.
#pragma once

#include "publish/dataset.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace statgov::publish::testing {

inline std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(STATGOV_SOURCE_DIR) + "/src/publish/testdata/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline json sample_json() { return json::parse(read_testdata("sample.json")); }

// REGION (430200 > 430202, 430203) x INDICATOR (I01, I01_YOY %) x TIME_PERIOD (2026-09..11),
// 8 observations: #3 (430202, I01, 2026-11) is suppressed (C), #6 (430203, I01_YOY, 2026-11) is
// missing (M).
inline Dataset sample() {
  auto r = dataset_from_json(sample_json());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message_en);
  return r.ok() ? std::move(r).value() : Dataset{};
}

}  // namespace statgov::publish::testing
