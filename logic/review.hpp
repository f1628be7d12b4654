#pragma once

// The builtin reviewer (issue 14): what the QA rules cannot see. Offline and
// deterministic: does the component do what its name and description promise
// (a login form has a password input and a submit control, a data table
// header cells, a chart an accessible title and description, a navbar a nav
// landmark with links, a search bar a labelled search input), and is it
// usable (every control labelled, images with alt text, buttons with text,
// heading levels in order, the root carrying the class its CSS is scoped to,
// colours it can resolve meeting WCAG AA contrast). Each finding has a
// stable code, a severity and advice a generator can act on. Not wired into
// the QA gate yet.

#include <string>
#include <string_view>
#include <vector>

#include "messages/types.hpp"

namespace grove::logic::review {

enum class severity { warning, error };

struct finding {
  std::string code; ///< stable: purpose_login, input_label, img_alt, button_text, heading_order, root_class, contrast …
  severity level = severity::error;
  std::string message; ///< what is wrong, naming the element
  std::string advice;  ///< what to do about it
};

/// The findings for a component's markup and CSS.
std::vector<finding> review(const messages::component_spec& spec, std::string_view html, std::string_view css);

/// The same for a component's JSON (its "html" and "css"); JSON that is not
/// a component is one error finding (the QA rules report it in detail).
std::vector<finding> review_artifact(const messages::component_spec& spec, std::string_view artifact);

/// WCAG 2 contrast ratio of two sRGB colours given as 0xRRGGBB (1 to 21).
double contrast_ratio(uint32_t a, uint32_t b);

} // namespace grove::logic::review
