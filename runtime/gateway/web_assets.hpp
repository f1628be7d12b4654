#pragma once

// The dashboard's static files (web/), embedded at build time.

#include <optional>
#include <string_view>

namespace grove::gateway::web {

struct asset {
  std::string_view content_type;
  std::string_view body;
};

/// The asset served at `path` ("/index.html", "/app.js", "/style.css").
std::optional<asset> find(std::string_view path);

} // namespace grove::gateway::web
