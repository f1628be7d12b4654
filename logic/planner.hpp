#pragma once

// The builtin provider's planner: request text (English or Korean) to the
// components it names. Deterministic and offline.

#include <string_view>
#include <vector>

#include "messages/types.hpp"

namespace grove::logic::builtin {

/// The components a request asks for, in the order it names them, deduplicated.
/// Known nouns map to canonical components (dashboard, login_form, navbar ...);
/// unknown nouns become generic components named after them. Empty when the
/// request names nothing.
std::vector<messages::component_spec> plan_components(std::string_view request);

/// The component a phrase names ("the contact form", "문의 폼" → contact_form;
/// "weather widget" → weather_widget), or empty. With `at_start`, only a
/// known component the phrase begins with ("navbar links" → navbar; "page
/// with a navbar" → empty).
std::string component_for(std::string_view phrase, bool at_start = false);

} // namespace grove::logic::builtin
