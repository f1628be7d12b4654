#include "logic/review.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "logic/contrast.hpp"
#include "logic/html_scan.hpp"

namespace grove::logic::review {

namespace {

using html::lower;
using html::trim;

using html::token;
using kind = html::token::kind;

bool has_value(const token& t, std::string_view attr) {
  auto v = t.attr(attr);
  return v != nullptr && !trim(*v).empty();
}

bool is_true(const token& t, std::string_view attr) {
  auto v = t.attr(attr);
  return v != nullptr && lower(trim(*v)) == "true";
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (html::is_space(c)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Elements that never have an end tag.
bool is_void(const std::string& name) {
  static const std::set<std::string> v = {"area",  "br",   "col",  "embed",  "hr",    "img",
                                          "input", "link", "meta", "source", "track", "wbr"};
  return v.count(name) > 0;
}

// A form control that needs a label: input (not hidden or a button), select, textarea.
bool needs_label(const token& t) {
  if (t.name == "select" || t.name == "textarea") return true;
  if (t.name != "input") return false;
  auto type = t.attr("type") ? lower(trim(*t.attr("type"))) : std::string{"text"};
  return type != "hidden" && type != "submit" && type != "button" && type != "reset" && type != "image";
}

std::string describe(const token& t) {
  std::string out = "<" + t.name;
  for (auto* a : {"type", "name", "id"}) {
    if (auto v = t.attr(a)) out += std::string{" "} + a + "=\"" + *v + "\"";
  }
  return out + ">";
}

// What a component's markup holds, read in one pass.
struct markup_facts {
  std::vector<token> starts;
  std::set<std::string> ids;
  struct control {
    token tag;
    bool labelled = false;
  };
  std::vector<control> controls;
  std::set<std::string> labelled_ids; ///< ids named by a label with text
  struct button {
    token tag;
    std::string text;
    bool hidden = false;
  };
  std::vector<button> buttons;
  std::vector<int> headings;
  bool nav_with_link = false;
  bool table_header = false;
  bool svg_title = false, svg_desc = false, figcaption = false;
};

markup_facts read_markup(std::string_view markup) {
  markup_facts f;
  struct open_label {
    std::string for_id;
    bool has_for = false;
    std::string text;
    std::vector<size_t> controls;
  };
  std::vector<open_label> labels;
  std::optional<markup_facts::button> in_button;
  int hidden_depth = 0; // inside an aria-hidden subtree of the current button
  struct open_element {
    std::string name;
    bool nav = false;    // a nav landmark
    bool hidden = false; // an aria-hidden subtree inside a button
  };
  std::vector<open_element> stack;
  int nav_depth = 0;
  for (auto& t : html::tokenize(markup)) {
    if (t.type == kind::text) {
      for (auto& l : labels) l.text += t.text;
      if (in_button && hidden_depth == 0) in_button->text += t.text;
      continue;
    }
    if (t.type == kind::end) {
      if (t.name == "label" && !labels.empty()) {
        auto l = std::move(labels.back());
        labels.pop_back();
        if (!trim(l.text).empty()) {
          if (l.has_for) {
            f.labelled_ids.insert(l.for_id);
          } else {
            for (auto i : l.controls) f.controls[i].labelled = true;
          }
        }
      }
      if (t.name == "button" && in_button) {
        f.buttons.push_back(std::move(*in_button));
        in_button.reset();
        hidden_depth = 0;
      }
      // Pop to the matching element (lenient, like a browser's "any other end tag").
      for (size_t k = stack.size(); k > 0; --k) {
        if (stack[k - 1].name != t.name) continue;
        for (size_t m = k - 1; m < stack.size(); ++m) {
          if (stack[m].nav) --nav_depth;
          if (stack[m].hidden && hidden_depth > 0) --hidden_depth;
        }
        stack.resize(k - 1);
        break;
      }
      continue;
    }
    f.starts.push_back(t);
    if (auto id = t.attr("id")) f.ids.insert(trim(*id));
    if (t.name == "label")
      labels.push_back({t.attr("for") ? trim(*t.attr("for")) : "", t.attr("for") != nullptr, {}, {}});
    if (needs_label(t)) {
      f.controls.push_back({t, false});
      for (auto& l : labels) l.controls.push_back(f.controls.size() - 1);
    }
    if (t.name == "button") in_button = markup_facts::button{t, {}, is_true(t, "aria-hidden")};
    bool hidden = in_button && t.name != "button" && is_true(t, "aria-hidden") && !is_void(t.name);
    if (hidden) ++hidden_depth;
    if (in_button && t.name == "img" && has_value(t, "alt") && hidden_depth == 0) in_button->text += *t.attr("alt");
    if (t.name.size() == 2 && t.name[0] == 'h' && t.name[1] >= '1' && t.name[1] <= '6') {
      f.headings.push_back(t.name[1] - '0');
    }
    auto role = t.attr("role") ? lower(trim(*t.attr("role"))) : std::string{};
    bool nav = (t.name == "nav" || role == "navigation") && !is_void(t.name);
    if (nav) ++nav_depth;
    if (nav_depth > 0 && t.name == "a" && t.attr("href") != nullptr) f.nav_with_link = true;
    if (t.name == "th") f.table_header = true;
    if (t.name == "title") f.svg_title = true;
    if (t.name == "desc") f.svg_desc = true;
    if (t.name == "figcaption") f.figcaption = true;
    if (!is_void(t.name)) stack.push_back({t.name, nav, hidden});
  }
  if (in_button) f.buttons.push_back(std::move(*in_button)); // never closed
  return f;
}

bool control_labelled(const markup_facts& f, const markup_facts::control& c) {
  if (c.labelled || has_value(c.tag, "aria-label")) return true;
  if (auto by = c.tag.attr("aria-labelledby")) {
    auto ids = words(*by);
    if (!ids.empty() && std::all_of(ids.begin(), ids.end(), [&](const std::string& id) { return f.ids.count(id); }))
      return true;
  }
  auto id = c.tag.attr("id");
  return id != nullptr && f.labelled_ids.count(trim(*id)) > 0;
}

// Whether the name or description names a kind: an ASCII key is one of their
// words, or its plural ("nav" is not in canvas, "graph" not in graphql: a
// generic component must not be held to a promise it never made); a Korean
// key appears anywhere (Korean words carry their particles).
bool mentions(const messages::component_spec& spec, std::initializer_list<const char*> keys) {
  auto text = lower(spec.name + " " + spec.description);
  std::vector<std::string> ascii_words;
  std::string cur;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      cur += c;
    } else if (!cur.empty()) {
      ascii_words.push_back(std::move(cur));
      cur.clear();
    }
  }
  return std::any_of(keys.begin(), keys.end(), [&](const char* k) {
    if (static_cast<unsigned char>(k[0]) >= 0x80) return text.find(k) != std::string::npos;
    return std::any_of(ascii_words.begin(), ascii_words.end(),
                       [&](const std::string& w) { return w == k || w == std::string{k} + "s"; });
  });
}

void purpose(const messages::component_spec& spec, const markup_facts& f, std::vector<finding>& out) {
  auto has = [&](auto pred) { return std::any_of(f.starts.begin(), f.starts.end(), pred); };
  auto input_of = [](const token& t, std::string_view type) {
    return t.name == "input" && t.attr("type") != nullptr && lower(trim(*t.attr("type"))) == type;
  };
  if (mentions(spec, {"login", "signin", "logon", "로그인"})) {
    if (!has([&](const token& t) { return input_of(t, "password"); })) {
      out.push_back({"purpose_login", severity::error, "a login form without a password input",
                     "add <input type=\"password\"> with its <label>"});
    }
    bool submit = has([&](const token& t) {
      if (t.name == "button") return t.attr("type") == nullptr || lower(trim(*t.attr("type"))) == "submit";
      return input_of(t, "submit") || input_of(t, "image");
    });
    if (!submit) {
      out.push_back({"purpose_login", severity::error, "a login form without a submit control",
                     "add <button type=\"submit\"> with text (e.g. \"Log in\")"});
    }
  }
  // A data table, not a pricing table (plans side by side).
  if (mentions(spec, {"table", "datatable", "datagrid", "테이블"}) && !mentions(spec, {"pricing", "price", "요금"}) &&
      !f.table_header) {
    out.push_back({"purpose_table", severity::error, "a data table without header cells",
                   "give the table a header row of <th scope=\"col\"> cells"});
  }
  if (mentions(spec, {"chart", "graph", "barchart", "linechart", "차트", "그래프"})) {
    const token* graphic = nullptr;
    for (auto& t : f.starts) {
      auto role = t.attr("role") ? lower(trim(*t.attr("role"))) : std::string{};
      if (t.name == "svg" || t.name == "canvas" || role == "img") {
        graphic = &t;
        break;
      }
    }
    if (graphic == nullptr) {
      out.push_back({"purpose_chart", severity::error, "a chart without a graphic (svg, canvas or role=\"img\")",
                     "draw the chart in an <svg role=\"img\"> with a title and a description"});
    } else {
      bool titled = has_value(*graphic, "aria-label") || has_value(*graphic, "aria-labelledby") || f.svg_title;
      bool described = has_value(*graphic, "aria-describedby") || f.svg_desc || f.figcaption;
      if (!titled || !described) {
        out.push_back({"purpose_chart", severity::error,
                       std::string{"the chart has no accessible "} + (!titled ? "title" : "description"),
                       "give the <svg role=\"img\"> aria-labelledby pointing at its heading and a <desc> (or "
                       "aria-describedby) stating the data"});
      }
    }
  }
  if (mentions(spec, {"nav", "navbar", "navigation", "menu", "menubar", "topbar", "내비게이션", "메뉴"}) &&
      !f.nav_with_link) {
    out.push_back({"purpose_nav", severity::error, "a navigation without a <nav> landmark holding links",
                   "wrap the links (<a href>) in a <nav aria-label=\"…\">"});
  }
  if (mentions(spec, {"search", "searchbar", "검색"})) {
    bool found = false, labelled = false;
    for (auto& c : f.controls) {
      if (input_of(c.tag, "search")) {
        found = true;
        labelled = labelled || control_labelled(f, c);
      }
    }
    if (!found || !labelled) {
      out.push_back({"purpose_search", severity::error,
                     found ? "the search input has no label" : "a search bar without <input type=\"search\">",
                     "use <input type=\"search\"> with a <label for> naming it (visible or visually hidden)"});
    }
  }
}

void usability(const messages::component_spec& spec, const markup_facts& f, std::vector<finding>& out) {
  for (auto& c : f.controls) {
    if (!control_labelled(f, c)) {
      out.push_back({"input_label", severity::error, describe(c.tag) + " has no label",
                     "give it a <label for=\"its id\"> with text, or wrap it in a <label> with text; a placeholder "
                     "is not a label"});
    }
  }
  for (auto& t : f.starts) {
    if (t.name != "img") continue;
    auto role = t.attr("role") ? lower(trim(*t.attr("role"))) : std::string{};
    if (t.attr("alt") == nullptr && role != "presentation" && role != "none") {
      out.push_back({"img_alt", severity::error, describe(t) + " has no alt attribute",
                     "describe the image in alt=\"…\", or alt=\"\" if it is decoration"});
    }
  }
  for (auto& b : f.buttons) {
    if (b.hidden) {
      out.push_back(
        {"button_text", severity::error, "a <button> hidden with aria-hidden=\"true\"",
         "remove aria-hidden from the button: it stays focusable but has no name for assistive technology"});
    } else if (trim(b.text).empty() && !has_value(b.tag, "aria-label") && !has_value(b.tag, "aria-labelledby") &&
               !has_value(b.tag, "title")) {
      out.push_back({"button_text", severity::error, "a <button> without text",
                     "put visible text in the button, or aria-label=\"…\" for an icon button"});
    }
  }
  for (size_t i = 1; i < f.headings.size(); ++i) {
    if (f.headings[i] > f.headings[i - 1] + 1) {
      out.push_back(
        {"heading_order", severity::warning,
         "heading level skips from h" + std::to_string(f.headings[i - 1]) + " to h" + std::to_string(f.headings[i]),
         "use h" + std::to_string(f.headings[i - 1] + 1) + " (style it with CSS if it must look smaller)"});
      break;
    }
  }
  auto cls = "g-" + spec.name;
  bool root_ok = false;
  if (!f.starts.empty()) {
    if (auto c = f.starts.front().attr("class")) {
      auto ws = words(*c);
      root_ok = std::find(ws.begin(), ws.end(), cls) != ws.end();
    }
  }
  if (!root_ok) {
    out.push_back({"root_class", severity::error, "the root element does not carry the class " + cls,
                   "put class=\"" + cls + "\" on the outermost element: every CSS rule is scoped to it"});
  }
}

} // namespace

std::vector<finding> review(const messages::component_spec& spec, std::string_view markup, std::string_view css) {
  std::vector<finding> out;
  auto facts = read_markup(markup);
  purpose(spec, facts, out);
  usability(spec, facts, out);
  check_contrast(css, out);
  return out;
}

std::vector<finding> review_artifact(const messages::component_spec& spec, std::string_view artifact) {
  auto doc = nlohmann::json::parse(artifact, nullptr, false);
  if (!doc.is_object() || !doc.contains("html") || !doc["html"].is_string()) {
    return {{"not_a_component", severity::error, "the answer is not a component", "answer one component JSON object"}};
  }
  auto css = doc.contains("css") && doc["css"].is_string() ? doc["css"].get<std::string>() : std::string{};
  return review(spec, doc["html"].get<std::string>(), css);
}

} // namespace grove::logic::review
