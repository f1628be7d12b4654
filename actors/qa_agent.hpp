#pragma once

#include "actors/interfaces.hpp"

namespace grove::actors {

/// The QA gate: applies every rule of qa_rules.hpp, then (unless
/// `review_mode` is "off") the builtin reviewer (logic/review.hpp) to what
/// passed them: in "blocking" mode an error finding is a violation (code and
/// message with its advice), in "advisory" mode only recorded in the
/// verdict's findings. Never edits code.
qa_actor::behavior_type qa_agent(qa_actor::pointer self, std::string review_mode);

} // namespace grove::actors
