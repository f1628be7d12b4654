#pragma once

// The composer's layout as pure functions: landed components in, one HTML5
// page out. Layout only (grid and flex); a component's inside is untouched.

#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"

namespace grove::logic::layout {

/// One landed component, as the page embeds it.
struct part {
  std::string name;
  std::string title;
  std::string role;
  std::string html;
  std::string css;
};

/// Reads a component artifact (already through QA) into a part.
messages::result<part> part_from_artifact(std::string_view artifact);

/// Whether a part spans the full width of the grid.
bool is_wide(const part& p);

/// A complete HTML5 page: a responsive grid of the parts in plan order
/// (navigation first and footer last visually, via CSS `order`), each in a
/// slot labelled with its name. Deterministic: same parts, same bytes.
std::string compose_page(std::string_view request, const std::vector<part>& parts);

} // namespace grove::logic::layout
