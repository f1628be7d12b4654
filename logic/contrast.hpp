#pragma once

// The builtin reviewer's contrast check (logic/review.hpp): every CSS rule that
// sets both a text colour and a background it can resolve (hex, rgb(), a few
// names; var(--x, fallback) through the component's custom properties, the
// last definition winning) must reach WCAG AA's 4.5:1, else a warning.

#include <string_view>
#include <vector>

#include "logic/review.hpp"

namespace grove::logic::review {

/// Appends a `contrast` warning per rule of `css` below 4.5:1.
void check_contrast(std::string_view css, std::vector<finding>& out);

} // namespace grove::logic::review
