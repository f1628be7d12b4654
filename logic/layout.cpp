#include "logic/layout.hpp"

#include <nlohmann/json.hpp>

#include "logic/templates.hpp"
#include "messages/codec.hpp"

namespace grove::logic::layout {

namespace {

const char* page_css =
  R"(:root{--g-accent:#4f46e5;--g-surface:#fff;--g-text:#111827;--g-muted:#6b7280;--g-border:#e5e7eb;--g-radius:12px;--g-bg:#f5f6fb}
@media (prefers-color-scheme:dark){:root{--g-surface:#161b2e;--g-text:#e5e7eb;--g-muted:#9ca3af;--g-border:#2a3150;--g-bg:#0d1020;--g-accent:#818cf8}}
*,*::before,*::after{box-sizing:border-box}
body{margin:0;background:var(--g-bg);color:var(--g-text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans KR",sans-serif}
.g-page{max-width:80rem;margin:0 auto;padding:clamp(1rem,3vw,2rem);display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:clamp(1rem,2vw,1.5rem);align-items:start}
.g-slot{min-width:0}
.g-slot--wide{grid-column:1/-1}
.g-slot--navigation{order:-2}
.g-slot--banner{order:-1}
.g-slot--footer{order:1}
.g-page-title{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
)";

} // namespace

messages::result<part> part_from_artifact(std::string_view artifact) {
  auto doc = messages::parse_component(artifact);
  if (!doc) return doc.error();
  auto& d = *doc;
  return part{d["component"].get<std::string>(), d["metadata"]["title"].get<std::string>(),
              d["metadata"]["role"].get<std::string>(), d["html"].get<std::string>(), d["css"].get<std::string>()};
}

bool is_wide(const part& p) {
  return p.role == "navigation" || p.role == "banner" || p.role == "footer" || p.role == "data" || p.role == "chart" ||
         p.role == "content";
}

std::string compose_page(std::string_view request, const std::vector<part>& parts) {
  std::string title = request.empty() ? std::string{"grove page"} : std::string{request};
  std::string out;
  out += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"grove\">\n";
  out += "<title>" + builtin::html_escape(title) + "</title>\n<style>\n";
  out += page_css;
  for (auto& p : parts) {
    out += "/* " + p.name + " */\n" + p.css + "\n";
  }
  out += "</style>\n</head>\n<body>\n<main class=\"g-page\">\n";
  out += "<h1 class=\"g-page-title\">" + builtin::html_escape(title) + "</h1>\n";
  for (auto& p : parts) {
    out += "<div class=\"g-slot g-slot--" + p.role + (is_wide(p) ? " g-slot--wide" : "") + "\" data-component=\"" +
           p.name + "\">\n" + p.html + "\n</div>\n";
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

} // namespace grove::logic::layout
