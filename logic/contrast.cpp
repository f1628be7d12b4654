// The reviewer's contrast check: the colours a component's CSS sets, resolved
// through its custom properties, measured by the WCAG 2 contrast ratio.

#include "logic/contrast.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>

#include "logic/html_scan.hpp"

namespace grove::logic::review {

namespace {

using html::lower;
using html::trim;

double luminance(uint32_t rgb) {
  auto channel = [](uint32_t c) {
    double v = static_cast<double>(c) / 255.0;
    return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * channel((rgb >> 16) & 0xff) + 0.7152 * channel((rgb >> 8) & 0xff) + 0.0722 * channel(rgb & 0xff);
}

// CSS colours: #rgb, #rrggbb, rgb(r,g,b), a few names; var(--x[, fallback]) through the component's custom properties.
std::optional<uint32_t> parse_colour(std::string v) {
  v = lower(trim(v));
  if (auto bang = v.find("!important"); bang != std::string::npos) v = trim(v.substr(0, bang));
  static const std::map<std::string, uint32_t> names = {{"white", 0xffffff}, {"black", 0x000000}, {"red", 0xff0000},
                                                        {"green", 0x008000}, {"blue", 0x0000ff},  {"gray", 0x808080},
                                                        {"grey", 0x808080},  {"yellow", 0xffff00}};
  if (auto i = names.find(v); i != names.end()) return i->second;
  auto hex = [](const std::string& h) -> std::optional<uint32_t> {
    if (h.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    if (h.size() == 3) {
      uint32_t out = 0;
      for (char c : h) {
        auto d = static_cast<uint32_t>(std::stoul(std::string(1, c), nullptr, 16));
        out = (out << 8) | (d << 4 | d);
      }
      return out;
    }
    if (h.size() == 6) return static_cast<uint32_t>(std::stoul(h, nullptr, 16));
    return std::nullopt;
  };
  if (!v.empty() && v[0] == '#') return hex(v.substr(1));
  if (v.rfind("rgb(", 0) == 0 && v.back() == ')') {
    uint32_t out = 0;
    int n = 0;
    std::string part;
    for (char c : v.substr(4, v.size() - 5) + ",") {
      if (c == ',' || c == ' ') {
        if (part.empty()) continue;
        if (part.find_first_not_of("0123456789") != std::string::npos || part.size() > 3) return std::nullopt;
        out = (out << 8) | std::min(255u, static_cast<uint32_t>(std::stoul(part)));
        ++n;
        part.clear();
      } else {
        part += c;
      }
    }
    if (n == 3) return out;
  }
  return std::nullopt;
}

std::optional<uint32_t> resolve(const std::string& value, const std::map<std::string, std::string>& vars,
                                int depth = 0) {
  auto v = trim(value);
  if (depth > 8) return std::nullopt;
  if (v.rfind("var(", 0) == 0 && v.back() == ')') {
    auto inner = v.substr(4, v.size() - 5);
    auto comma = inner.find(',');
    auto name = trim(inner.substr(0, comma));
    if (auto i = vars.find(name); i != vars.end()) {
      if (auto c = resolve(i->second, vars, depth + 1)) return c;
    }
    if (comma != std::string::npos) return resolve(inner.substr(comma + 1), vars, depth + 1);
    return std::nullopt;
  }
  return parse_colour(v);
}

struct css_rule {
  std::string selector;
  std::vector<std::pair<std::string, std::string>> declarations;
};

std::vector<css_rule> parse_css(std::string_view css) {
  std::vector<css_rule> out;
  size_t i = 0;
  while (i < css.size()) {
    auto open = css.find('{', i);
    if (open == std::string_view::npos) break;
    auto close = css.find('}', open);
    if (close == std::string_view::npos) break;
    css_rule r;
    r.selector = trim(css.substr(i, open - i));
    auto body = css.substr(open + 1, close - open - 1);
    size_t k = 0;
    while (k < body.size()) {
      // A declaration ends at ';' outside parentheses.
      size_t end = k;
      int depth = 0;
      while (end < body.size() && (body[end] != ';' || depth > 0)) {
        if (body[end] == '(') ++depth;
        if (body[end] == ')') --depth;
        ++end;
      }
      auto decl = body.substr(k, end - k);
      if (auto colon = decl.find(':'); colon != std::string_view::npos) {
        r.declarations.emplace_back(lower(trim(decl.substr(0, colon))), std::string{decl.substr(colon + 1)});
      }
      k = end + 1;
    }
    out.push_back(std::move(r));
    i = close + 1;
  }
  return out;
}

} // namespace

void check_contrast(std::string_view css, std::vector<finding>& out) {
  auto rules = parse_css(css);
  std::map<std::string, std::string> vars; // the last definition wins, as in the cascade of equal specificity
  for (auto& r : rules) {
    for (auto& [k, v] : r.declarations) {
      if (k.rfind("--", 0) == 0) vars[k] = v;
    }
  }
  for (auto& r : rules) {
    std::optional<std::string> fg, bg;
    for (auto& [k, v] : r.declarations) {
      if (k == "color") fg = v;
      if (k == "background-color" || k == "background") bg = v;
    }
    if (!fg || !bg) continue;
    auto a = resolve(*fg, vars), b = resolve(*bg, vars);
    if (!a || !b) continue;
    auto ratio = contrast_ratio(*a, *b);
    if (ratio < 4.5) {
      char figure[16];
      std::snprintf(figure, sizeof figure, "%.2f", ratio);
      out.push_back({"contrast", severity::warning,
                     "text on \"" + r.selector + "\" has a contrast ratio of " + figure + ":1 (WCAG AA asks 4.5:1)",
                     "darken the background or the text (or lighten one) until the ratio is at least 4.5:1"});
    }
  }
}

double contrast_ratio(uint32_t a, uint32_t b) {
  auto la = luminance(a), lb = luminance(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

} // namespace grove::logic::review
