#pragma once

// The prompt templates in config/prompts/, embedded at build time. The files
// are reviewable text with {{placeholders}}; actors/prompts.cpp fills them.

#include <string_view>

namespace grove::config {

enum class prompt_file { system, plan, generate, feedback, correction, edit, resolve, review };

/// The text of a prompt file, exactly as in config/prompts/.
std::string_view prompt_text(prompt_file f);

} // namespace grove::config
