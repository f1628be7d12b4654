#include "logic/prompts.hpp"

#include "config/prompt_files.hpp"
#include "messages/names.hpp"
#include "messages/schema.hpp"

namespace grove::logic::prompts {

namespace {

using config::prompt_file;
using config::prompt_text;

std::string fill(std::string_view text, std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  std::string out{text};
  for (auto& [key, value] : values) {
    out = messages::replace_all(out, "{{" + std::string{key} + "}}", value);
  }
  return out;
}

// The previous attempt's violations, quoted verbatim; empty on a first attempt.
std::string feedback_section(const std::vector<messages::violation>& feedback) {
  if (feedback.empty()) return {};
  std::string lines;
  for (auto& v : feedback) lines += "- [" + v.code + "] " + v.message + "\n";
  return fill(prompt_text(prompt_file::feedback), {{"violations", lines}});
}

} // namespace

std::string system_prompt() {
  return std::string{prompt_text(prompt_file::system)};
}

std::string plan_prompt(std::string_view request, std::string_view session_id) {
  return fill(prompt_text(prompt_file::plan), {{"plan_schema", messages::schema_text(messages::schema_id::plan)},
                                               {"session_id", session_id},
                                               {"request", request}});
}

std::string lessons_section(const std::vector<messages::lesson>& lessons) {
  if (lessons.empty()) return {};
  std::string out = "\nPast mistakes and advice (lessons from earlier components; do not repeat them):\n";
  for (auto& l : lessons) out += "- [" + l.code + "] on a " + l.kind + ": " + l.what + " Advice: " + l.advice + "\n";
  return out;
}

std::string generate_prompt(const messages::component_spec& spec, uint32_t attempt,
                            const std::vector<messages::violation>& feedback,
                            const std::vector<messages::lesson>& lessons) {
  auto feedback_text = lessons_section(lessons) + feedback_section(feedback);
  return fill(prompt_text(prompt_file::generate),
              {{"component_schema", messages::schema_text(messages::schema_id::component)},
               {"component", spec.name},
               {"description", spec.description},
               {"attempt", std::to_string(attempt)},
               {"feedback", feedback_text}});
}

std::string edit_prompt(const messages::component_spec& spec, std::string_view current, uint32_t attempt,
                        const std::vector<messages::violation>& feedback,
                        const std::vector<messages::lesson>& lessons) {
  auto feedback_text = lessons_section(lessons) + feedback_section(feedback);
  return fill(prompt_text(prompt_file::edit),
              {{"component_schema", messages::schema_text(messages::schema_id::component)},
               {"component", spec.name},
               {"instruction", spec.instruction},
               {"current", current},
               {"attempt", std::to_string(attempt)},
               {"feedback", feedback_text}});
}

std::string resolve_prompt(const conflict_sides& c) {
  auto or_unknown = [](const std::string& s) -> std::string_view { return s.empty() ? "(not recorded)" : s; };
  return fill(prompt_text(prompt_file::resolve),
              {{"component_schema", messages::schema_text(messages::schema_id::component)},
               {"component", c.component},
               {"conflicts", c.conflicts},
               {"base", c.base},
               {"ours", c.ours},
               {"theirs", c.theirs},
               {"our_job", or_unknown(c.our_job)},
               {"our_instruction", or_unknown(c.our_instruction)},
               {"their_job", or_unknown(c.their_job)},
               {"their_instruction", or_unknown(c.their_instruction)}});
}

std::string review_prompt(const messages::component_spec& spec, std::string_view artifact) {
  return fill(prompt_text(prompt_file::review), {{"review_schema", messages::schema_text(messages::schema_id::review)},
                                                 {"component", spec.name},
                                                 {"description", spec.description},
                                                 {"artifact", artifact}});
}

std::string correction(std::string_view error) {
  return fill(prompt_text(prompt_file::correction), {{"error", error}});
}

} // namespace grove::logic::prompts
