#pragma once

// The builtin provider's component templates: accessible HTML and scoped CSS
// for common components, and a generic fallback. Deterministic and offline.

#include <string>
#include <string_view>

#include "messages/types.hpp"

namespace grove::logic::builtin {

/// A component's parts before they become JSON.
struct rendered_component {
  std::string title;
  std::string description;
  std::string role;
  std::string html;
  std::string css;
};

/// Renders `spec` with the template its name points to (`login_form`,
/// `user_login` -> login), or the generic one. Text is HTML-escaped; CSS is
/// scoped to `.g-<name>`.
rendered_component render_component(const messages::component_spec& spec);

/// Whether a builtin template knows this name (by itself or by one of its parts).
bool has_template(const std::string& name);

/// The component contract's JSON text for `name`.
std::string component_json(const std::string& name, const rendered_component& c);

/// `&`, `<`, `>`, `"`, `'` escaped for HTML text and attribute values.
std::string html_escape(std::string_view s);

} // namespace grove::logic::builtin
