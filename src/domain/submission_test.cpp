#include "domain/submission.hpp"
#include "domain/user.hpp"

#include <gtest/gtest.h>

namespace statgov::domain {
namespace {

using S = SubmissionState;
using A = SubmissionAction;

TEST(SubmissionStateMachine, HappyPathAndReturns) {
  EXPECT_EQ(transition(S::not_started, A::save_draft).value(), S::draft);
  EXPECT_EQ(transition(S::draft, A::submit).value(), S::submitted);
  EXPECT_EQ(transition(S::submitted, A::review).value(), S::reviewed);
  EXPECT_EQ(transition(S::reviewed, A::approve).value(), S::approved);
  EXPECT_EQ(transition(S::approved, A::accept).value(), S::accepted);
  EXPECT_EQ(transition(S::reviewed, A::return_to_unit).value(), S::returned);
  EXPECT_EQ(transition(S::returned, A::save_draft).value(), S::returned);
  EXPECT_EQ(transition(S::returned, A::submit).value(), S::submitted);
}

TEST(SubmissionStateMachine, ForbiddenTransitionsAreConflicts) {
  auto r = transition(S::submitted, A::submit);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_EQ(r.error().code, "STATE_CONFLICT");
  EXPECT_FALSE(transition(S::accepted, A::save_draft).ok());
  EXPECT_FALSE(transition(S::draft, A::review).ok());
  EXPECT_FALSE(transition(S::accepted, A::return_to_unit).ok());
  EXPECT_EQ(parse_state("returned"), S::returned);
  EXPECT_FALSE(parse_state("bogus").has_value());
}

TEST(Scope, FromUser) {
  User county{1, "c", "c", Role::county, "430202000000", std::nullopt, false};
  auto s = Scope::of(county);
  EXPECT_TRUE(s.covers_region("430202001000"));
  EXPECT_FALSE(s.covers_region("430203001000"));
  EXPECT_FALSE(s.unit_id.has_value());
  User ent{2, "e", "e", Role::enterprise, "430202001000", 42, false};
  EXPECT_EQ(Scope::of(ent).unit_id, 42);
  User broken{3, "b", "b", Role::city, "xx", std::nullopt, false};
  EXPECT_FALSE(Scope::of(broken).covers_region("430202001000"));
}

}  // namespace
}  // namespace statgov::domain
