#include "domain/submission.hpp"

#include <array>
#include <utility>

namespace statgov::domain {

namespace {
constexpr std::array<std::pair<SubmissionState, std::string_view>, 7> kStates = {{
    {SubmissionState::not_started, "not_started"},
    {SubmissionState::draft, "draft"},
    {SubmissionState::submitted, "submitted"},
    {SubmissionState::reviewed, "reviewed"},
    {SubmissionState::approved, "approved"},
    {SubmissionState::accepted, "accepted"},
    {SubmissionState::returned, "returned"},
}};

std::string_view state_zh(SubmissionState s) {
  switch (s) {
    case SubmissionState::not_started: return "未填报";
    case SubmissionState::draft: return "草稿";
    case SubmissionState::submitted: return "已上报";
    case SubmissionState::reviewed: return "已审核";
    case SubmissionState::approved: return "已核准";
    case SubmissionState::accepted: return "已验收";
    case SubmissionState::returned: return "已退回";
  }
  return "";
}
}  // namespace

std::string_view state_name(SubmissionState s) {
  for (const auto& [st, name] : kStates) {
    if (st == s) return name;
  }
  return "";
}

std::optional<SubmissionState> parse_state(std::string_view s) {
  for (const auto& [st, name] : kStates) {
    if (name == s) return st;
  }
  return std::nullopt;
}

std::string_view action_name(SubmissionAction a) {
  switch (a) {
    case SubmissionAction::save_draft: return "save_draft";
    case SubmissionAction::submit: return "submit";
    case SubmissionAction::review: return "review";
    case SubmissionAction::approve: return "approve";
    case SubmissionAction::accept: return "accept";
    case SubmissionAction::return_to_unit: return "return";
    case SubmissionAction::revise: return "revise";
  }
  return "";
}

bool editable_by_unit(SubmissionState s) {
  return s == SubmissionState::not_started || s == SubmissionState::draft || s == SubmissionState::returned;
}

Result<SubmissionState> transition(SubmissionState from, SubmissionAction action) {
  using S = SubmissionState;
  using A = SubmissionAction;
  std::optional<S> to;
  switch (action) {
    case A::save_draft:
      if (editable_by_unit(from)) to = from == S::returned ? S::returned : S::draft;
      break;
    case A::submit:
      if (editable_by_unit(from)) to = S::submitted;
      break;
    case A::review:
      if (from == S::submitted) to = S::reviewed;
      break;
    case A::approve:
      if (from == S::reviewed) to = S::approved;
      break;
    case A::accept:
      if (from == S::approved) to = S::accepted;
      break;
    case A::return_to_unit:
      if (from == S::submitted || from == S::reviewed || from == S::approved) to = S::returned;
      break;
    case A::revise:
      if (from == S::accepted) to = S::accepted;
      break;
  }
  if (to) return *to;
  return make_error(ErrorKind::conflict, "STATE_CONFLICT",
                    std::string("当前状态为“") + std::string(state_zh(from)) + "”，不能执行此操作",
                    std::string("The submission is ") + std::string(state_name(from)) + "; " +
                        std::string(action_name(action)) + " is not allowed",
                    nlohmann::json::array({{{"state", state_name(from)}, {"action", action_name(action)}}}));
}

}  // namespace statgov::domain
