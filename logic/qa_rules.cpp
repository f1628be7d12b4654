#include "logic/qa_rules.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "logic/html_scan.hpp"
#include "messages/schema.hpp"
#include "messages/secrets.hpp"

namespace grove::logic::qa {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

using html::is_space;

const std::vector<std::pair<std::string_view, char32_t>>& named_refs() {
  static const std::vector<std::pair<std::string_view, char32_t>> refs = {
    {"colon", ':'}, {"tab", '\t'}, {"newline", '\n'}, {"lpar", '('},   {"rpar", ')'},
    {"sol", '/'},   {"lt", '<'},   {"gt", '>'},       {"amp", '&'},    {"quot", '"'},
    {"apos", '\''}, {"semi", ';'}, {"comma", ','},    {"period", '.'}, {"nbsp", ' '},
  };
  return refs;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A URL as the browser's scheme parser sees it: entities decoded, ASCII
// whitespace and control characters removed, lower-cased.
std::string url_key(std::string_view raw) {
  std::string decoded = decode_entities(raw);
  std::string out;
  for (unsigned char c : decoded) {
    if (c <= 0x20 || c == 0x7f) continue;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

bool dangerous_url(const std::string& key) {
  return key.rfind("javascript:", 0) == 0 || key.rfind("vbscript:", 0) == 0 || key.rfind("data:text/html", 0) == 0 ||
         key.rfind("data:image/svg", 0) == 0 || key.rfind("data:application/xhtml", 0) == 0;
}

} // namespace

std::string decode_entities(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '&') {
      out += s[i++];
      continue;
    }
    size_t j = i + 1;
    if (j < s.size() && s[j] == '#') {
      ++j;
      bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
      if (hex) ++j;
      char32_t cp = 0;
      size_t digits = 0;
      while (j < s.size() &&
             (hex ? std::isxdigit(static_cast<unsigned char>(s[j])) : std::isdigit(static_cast<unsigned char>(s[j])))) {
        cp =
          cp * (hex ? 16 : 10) + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(s[j]))
                                                         ? s[j] - '0'
                                                         : (std::tolower(static_cast<unsigned char>(s[j])) - 'a' + 10));
        if (cp > 0x10FFFF) cp = 0xFFFD;
        ++j;
        ++digits;
      }
      if (digits > 0) {
        if (j < s.size() && s[j] == ';') ++j;
        append_utf8(out, cp);
        i = j;
        continue;
      }
    } else {
      size_t k = j;
      while (k < s.size() && std::isalnum(static_cast<unsigned char>(s[k]))) ++k;
      auto name = lower(s.substr(j, k - j));
      bool found = false;
      for (auto& [ref, cp] : named_refs()) {
        if (name == ref) {
          append_utf8(out, cp);
          i = (k < s.size() && s[k] == ';') ? k + 1 : k;
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    out += s[i++];
  }
  return out;
}

namespace {

// The first tag among `names` in `html`, as a browser would read `<name`,
// `</name`, `< / name` (any case, whitespace around the slash), or `<!doctype`
// when `names` holds "!doctype"; empty when there is none. One pass: it
// replaced std::regex searches that a model's answer of "<" and 10,000
// spaces kept busy for 9 s, and 60,000 spaces crashed by stack overflow
// (libstdc++'s regex executor recurses per character).
std::string find_tag(std::string_view html, std::initializer_list<std::string_view> names) {
  size_t n = html.size();
  auto skip_space = [&](size_t j) {
    while (j < n && is_space(html[j])) ++j;
    return j;
  };
  for (size_t i = html.find('<'); i != std::string_view::npos; i = html.find('<', i + 1)) {
    size_t j = skip_space(i + 1);
    bool bang = j < n && html[j] == '!';
    if (j < n && (html[j] == '/' || bang)) j = skip_space(j + 1);
    std::string name = bang ? "!" : "";
    while (j < n && name.size() < 16 && std::isalpha(static_cast<unsigned char>(html[j]))) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[j++])));
    }
    for (auto want : names) {
      if (want == "!doctype" ? name.rfind("!doctype", 0) == 0
                             : name == want && (j == n || is_space(html[j]) || html[j] == '/' || html[j] == '>')) {
        return std::string{want};
      }
    }
  }
  return {};
}

} // namespace

std::vector<violation> check_document_structure(std::string_view html) {
  std::vector<violation> out;
  if (auto tag = find_tag(html, {"html", "body", "head"}); !tag.empty()) {
    out.push_back(
      {"document_structure", "component contains a <" + tag + "> tag; emit a fragment, not a whole document"});
  }
  if (!find_tag(html, {"!doctype"}).empty()) {
    out.push_back({"document_structure", "component contains a <!doctype>; emit a fragment, not a whole document"});
  }
  return out;
}

std::vector<violation> check_active_elements(std::string_view html) {
  static const std::vector<std::string> embedders = {"iframe", "object",   "embed",  "base",  "meta",
                                                     "frame",  "frameset", "applet", "portal"};
  std::vector<violation> out;
  if (!find_tag(html, {"script"}).empty()) {
    out.push_back({"script_tag", "component contains a <script> element; components carry no script"});
  }
  for (auto& t : html::start_tags(html)) {
    if (std::find(embedders.begin(), embedders.end(), t.name) != embedders.end()) {
      out.push_back(
        {"embedded_content", "component contains an <" + t.name + "> element, which can load or run foreign content"});
    }
  }
  return out;
}

std::vector<violation> check_event_handlers(std::string_view html) {
  std::vector<violation> out;
  for (auto& t : html::start_tags(html)) {
    for (auto& a : t.attributes) {
      if (a.name.size() > 2 && a.name.rfind("on", 0) == 0) {
        out.push_back(
          {"event_handler", "<" + t.name + "> has an event-handler attribute \"" + a.name + "\"; no inline script"});
      }
    }
  }
  return out;
}

std::vector<violation> check_urls(std::string_view html) {
  std::vector<violation> out;
  for (auto& t : html::start_tags(html)) {
    for (auto& a : t.attributes) {
      auto key = url_key(a.value);
      if (dangerous_url(key)) {
        out.push_back({"javascript_url", "<" + t.name + " " + a.name + "> holds a script URL (" +
                                           key.substr(0, key.find(':') + 1) + ")"});
      } else if (a.name == "style") {
        for (auto& v : check_css(decode_entities(a.value))) {
          out.push_back({"css_injection", "<" + t.name + " style> " + v.message});
        }
      }
    }
  }
  return out;
}

std::vector<violation> check_css(std::string_view css) {
  std::vector<violation> out;
  // Decode CSS escapes (`\73 ` is 's', `\r` is 'r') and drop whitespace and
  // comments, which can all hide a keyword from a naive search.
  std::string key;
  for (size_t i = 0; i < css.size(); ++i) {
    auto c = static_cast<unsigned char>(css[i]);
    if (c == '/' && i + 1 < css.size() && css[i + 1] == '*') {
      auto end = css.find("*/", i + 2);
      i = end == std::string_view::npos ? css.size() : end + 1;
      continue;
    }
    if (c == '\\' && i + 1 < css.size()) {
      size_t j = i + 1;
      uint32_t cp = 0;
      size_t digits = 0;
      while (j < css.size() && digits < 6 && std::isxdigit(static_cast<unsigned char>(css[j]))) {
        cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(css[j]))
                                               ? css[j] - '0'
                                               : std::tolower(static_cast<unsigned char>(css[j])) - 'a' + 10);
        ++j;
        ++digits;
      }
      if (digits > 0) {
        if (j < css.size() && is_space(css[j])) ++j;
        if (cp < 0x80 && cp > 0x20) key += static_cast<char>(std::tolower(static_cast<int>(cp)));
        i = j - 1;
      } else {
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(css[j])));
        i = j;
      }
      continue;
    }
    if (c <= 0x20) continue;
    key += static_cast<char>(std::tolower(c));
  }
  if (css.find('<') != std::string_view::npos) {
    out.push_back({"css_injection", "css contains '<', which could close the <style> element"});
  }
  for (const char* bad : {"expression(", "javascript:", "vbscript:", "behavior:", "-moz-binding", "@import"}) {
    if (key.find(bad) != std::string::npos) {
      out.push_back({"css_injection", std::string{"css contains \""} + bad + "\""});
    }
  }
  return out;
}

std::vector<violation> check_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  if (secrets.empty()) return {};
  if (messages::contains_secret(text, secrets) || messages::contains_secret(decode_entities(text), secrets)) {
    return {{"secret_leak",
             "the component contains an API key or a fragment of one; a component must never carry "
             "credentials: leave them out entirely"}};
  }
  return {};
}

std::vector<violation> check_artifact(std::string_view artifact, std::string_view expected_name,
                                      const std::vector<std::string>& secrets, artifact_parts* parts) {
  std::vector<violation> out = check_secrets(artifact, secrets);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(artifact);
  } catch (const nlohmann::json::exception& e) { // parse errors, and numbers out of range (1e999)
    out.push_back({"invalid_json", std::string{"artifact is not valid JSON: "} + e.what()});
    return out;
  }
  // The same text once JSON escapes (\u0073k-...) are decoded.
  if (out.empty()) out = check_secrets(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), secrets);
  for (auto& e : messages::validate(doc, messages::schema_id::component)) {
    out.push_back({"schema", e});
  }
  if (doc.is_object() && doc.contains("component") && doc["component"].is_string() &&
      doc["component"].get<std::string>() != expected_name) {
    out.push_back({"name_mismatch", "artifact is for \"" + doc["component"].get<std::string>() + "\", expected \"" +
                                      std::string{expected_name} + "\""});
  }
  auto text = [&](const char* key) -> std::string {
    return doc.is_object() && doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : std::string{};
  };
  auto html = text("html");
  auto css = text("css");
  if (html.find('\0') != std::string::npos || css.find('\0') != std::string::npos) {
    out.push_back({"control_character", "artifact contains NUL characters"});
  }
  for (auto&& found : {check_document_structure(html), check_active_elements(html), check_event_handlers(html),
                       check_urls(html), check_css(css)}) {
    out.insert(out.end(), found.begin(), found.end());
  }
  if (parts != nullptr) *parts = {std::move(html), std::move(css)};
  return out;
}

} // namespace grove::logic::qa
