#pragma once

// Prompts sent through the router, filled from the templates in
// config/prompts/. They carry the QA rules, and on a retry the previous
// rejection, so a model can heal its own output.

#include <string>
#include <string_view>
#include <vector>

#include "messages/types.hpp"

namespace grove::logic::prompts {

/// The system message every HTTP provider sends.
std::string system_prompt();

/// The planning prompt for a user's request.
std::string plan_prompt(std::string_view request, std::string_view session_id);

/// The generation prompt for one component; `feedback` (the previous
/// attempt's violations) is quoted verbatim when not empty.
std::string generate_prompt(const messages::component_spec& spec, uint32_t attempt,
                            const std::vector<messages::violation>& feedback,
                            const std::vector<messages::lesson>& lessons = {});

/// "Past mistakes and advice": the lessons a generation is given, each with
/// its violation code; empty when none. Appended to generate and edit prompts.
std::string lessons_section(const std::vector<messages::lesson>& lessons);

/// The edit prompt (config/prompts/edit.txt): the spec's instruction applied
/// to `current`, the library's version of the component.
std::string edit_prompt(const messages::component_spec& spec, std::string_view current, uint32_t attempt,
                        const std::vector<messages::violation>& feedback,
                        const std::vector<messages::lesson>& lessons = {});

/// The three versions of a conflict a resolver reconciles, with both sides' instructions.
struct conflict_sides {
  std::string component;
  std::string conflicts; ///< the fields that did not merge, comma separated
  std::string base, ours, theirs;
  std::string our_job, our_instruction, their_job, their_instruction;
};

/// The resolve prompt (config/prompts/resolve.txt).
std::string resolve_prompt(const conflict_sides& c);

/// The review prompt (config/prompts/review.txt) for a component that passed the rules.
std::string review_prompt(const messages::component_spec& spec, std::string_view artifact);

/// What the router appends when it re-asks after an unusable answer.
std::string correction(std::string_view error);

} // namespace grove::logic::prompts
