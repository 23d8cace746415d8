// Submission states and the review state machine (DESIGN.md section 3). Pure logic.
#pragma once

#include "base/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace statgov::domain {

enum class SubmissionState { not_started, draft, submitted, reviewed, approved, accepted, returned };
std::string_view state_name(SubmissionState s);
std::optional<SubmissionState> parse_state(std::string_view s);

enum class SubmissionAction { save_draft, submit, review, approve, accept, return_to_unit, revise };
std::string_view action_name(SubmissionAction a);

// The state after `action`, or a CONFLICT error naming the current state.
Result<SubmissionState> transition(SubmissionState from, SubmissionAction action);

// Whether the enterprise may still edit its values (draft, returned, not started).
bool editable_by_unit(SubmissionState s);

}  // namespace statgov::domain
