#pragma once

#include "actors/interfaces.hpp"

namespace grove::actors {

/// The QA gate: applies every rule of qa_rules.hpp; never edits code.
qa_actor::behavior_type qa_agent(qa_actor::pointer self);

} // namespace grove::actors
