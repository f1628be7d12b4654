#pragma once

#include <chrono>
#include <string>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// How the QA gate reviews what passed its rules.
struct qa_config {
  std::string review_mode = "blocking";     ///< off, advisory or blocking (config "review")
  router_actor router;                      ///< set: a model reviews (router role review); else the builtin reviewer
  std::chrono::milliseconds timeout{60000}; ///< the model reviewer's budget; past it the builtin reviews instead
};

/// The QA gate: applies every rule of qa_rules.hpp, then (unless the review
/// mode is "off") a reviewer to what passed them: a model through the router
/// (role review, its verdict checked against messages/schemas/review.schema.json)
/// when `cfg.router` is set, else the builtin reviewer (logic/review.hpp). A
/// model reviewer that fails, answers garbage or runs out of time never
/// blocks: the builtin reviews instead and a `reviewer_unavailable` warning
/// says why. In "blocking" mode an error finding is a violation (code, and
/// message with its advice); in "advisory" mode only recorded in the
/// verdict's findings. Never edits code.
qa_actor::behavior_type qa_agent(qa_actor::pointer self, qa_config cfg);

} // namespace grove::actors
