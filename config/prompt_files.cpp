#include "config/prompt_files.hpp"

namespace grove::config {

namespace embedded {
extern const char* const system_prompt;
extern const char* const plan_prompt;
extern const char* const generate_prompt;
extern const char* const feedback_prompt;
extern const char* const correction_prompt;
extern const char* const edit_prompt;
extern const char* const resolve_prompt;
extern const char* const review_prompt;
} // namespace embedded

std::string_view prompt_text(prompt_file f) {
  switch (f) {
    case prompt_file::system: return embedded::system_prompt;
    case prompt_file::plan: return embedded::plan_prompt;
    case prompt_file::generate: return embedded::generate_prompt;
    case prompt_file::feedback: return embedded::feedback_prompt;
    case prompt_file::correction: return embedded::correction_prompt;
    case prompt_file::edit: return embedded::edit_prompt;
    case prompt_file::resolve: return embedded::resolve_prompt;
    case prompt_file::review: return embedded::review_prompt;
  }
  return {};
}

} // namespace grove::config
