#include "logic/edits.hpp"

#include <cstdint>
#include <regex>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "logic/planner.hpp"
#include "logic/templates.hpp"
#include "messages/codec.hpp"
#include "messages/names.hpp"

namespace grove::logic::builtin {

using messages::errc;
using messages::make_failure;

namespace {

// Without spaces, quotes and a final full stop at either end (UTF-8 quote marks are several bytes).
std::string trim(std::string s) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view q : {" ", "\t", "\r", "\n", "\"", "'", "“", "”", "‘", "’", ".", "!"}) {
      if (s.size() >= q.size() && s.compare(0, q.size(), q) == 0) {
        s.erase(0, q.size());
        changed = true;
      }
      if (s.size() >= q.size() && s.compare(s.size() - q.size(), q.size(), q) == 0) {
        s.erase(s.size() - q.size());
        changed = true;
      }
    }
  }
  return s;
}

// The request as the edit patterns read it: one space between words, trimmed;
// nullopt past max_edit_request. std::regex backtracks recursively: a run of
// spaces between the patterns' lazy groups cost exponential time (50 s for
// "add " and 300 spaces), a long text a deep recursion.
std::optional<std::string> edit_text(std::string_view request) {
  std::string out;
  bool space = false;
  for (char c : request) {
    bool white = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
    if (!white && space && !out.empty()) out += ' ';
    if (!white) out += c;
    space = white;
    if (out.size() > max_edit_request) return std::nullopt;
  }
  return out;
}

struct pattern {
  edit_kind kind;
  std::regex re;
  int component; // capture group of the component phrase
  int value;     // capture group of the value
};

const std::vector<pattern>& patterns() {
  using std::regex;
  constexpr auto en = regex::ECMAScript | regex::icase;
  static const std::vector<pattern> items = {
    // English
    {edit_kind::add_field,
     regex{
       R"(^\s*(?:please\s+)?add\s+(?:a|an|the)?\s*(.+?)\s+(?:field|input|box|checkbox)\s+(?:to|in|on)\s+(?:the|my|our)?\s*(.+?)\s*[.!]?\s*$)",
       en},
     2, 1},
    {edit_kind::remove_field,
     regex{
       R"(^\s*(?:please\s+)?(?:remove|delete|drop)\s+(?:the|a|an)?\s*(.+?)\s+(?:field|input|box|checkbox)\s+from\s+(?:the|my|our)?\s*(.+?)\s*[.!]?\s*$)",
       en},
     2, 1},
    {edit_kind::set_title,
     regex{
       R"(^\s*(?:please\s+)?(?:change|set|rename)\s+the\s+(?:title|heading)\s+of\s+(?:the|my|our)?\s*(.+?)\s+to\s+(.+?)\s*$)",
       en},
     1, 2},
    {edit_kind::set_title,
     regex{R"(^\s*(?:please\s+)?(?:change|set)\s+(?:the|my|our)?\s*(.+?)(?:'s)?\s+(?:title|heading)\s+to\s+(.+?)\s*$)",
           en},
     1, 2},
    {edit_kind::set_button,
     regex{
       R"(^\s*(?:please\s+)?(?:change|set)\s+the\s+button(?:\s+text)?\s+(?:of|on|in)\s+(?:the|my|our)?\s*(.+?)\s+to\s+(.+?)\s*$)",
       en},
     1, 2},
    {edit_kind::set_button,
     regex{R"(^\s*(?:please\s+)?(?:change|set)\s+(?:the|my|our)?\s*(.+?)(?:'s)?\s+button(?:\s+text)?\s+to\s+(.+?)\s*$)",
           en},
     1, 2},
    {edit_kind::set_accent,
     regex{
       R"(^\s*(?:please\s+)?(?:change|set)\s+(?:the|my|our)?\s*(.+?)(?:'s)?\s+(?:accent\s+)?colou?r\s+to\s+(.+?)\s*[.!]?\s*$)",
       en},
     1, 2},
    {edit_kind::set_accent, regex{R"(^\s*(?:please\s+)?make\s+(?:the|my|our)?\s*(.+?)\s+(\S+)\s*[.!]?\s*$)", en}, 1, 2},
    // Korean: "<component>에 <field> 필드 추가해줘", "<component>에서 <field> 삭제해줘",
    // "<component> 제목을 <text>(으)로 바꿔줘", "<component> 버튼을 <text>(으)로 바꿔줘", "<component> 색을
    // <colour>(으)로 바꿔줘".
    {edit_kind::remove_field,
     regex{R"(^\s*(.+?)에서\s*(.+?)\s*(?:필드|입력란|입력칸|항목|체크박스)?\s*(?:을|를)?\s*(?:삭제|제거|빼).*$)"}, 1,
     2},
    {edit_kind::add_field,
     regex{R"(^\s*(.+?)에\s*(.+?)\s*(?:필드|입력란|입력칸|항목|체크박스)\s*(?:을|를)?\s*(?:추가|넣어).*$)"}, 1, 2},
    {edit_kind::set_title, regex{R"(^\s*(.+?)\s*(?:의\s*)?제목을\s*(.+?)\s*(?:으로|로)\s*(?:바꿔|변경|수정|해).*$)"}, 1,
     2},
    {edit_kind::set_button,
     regex{
       R"(^\s*(.+?)\s*(?:의\s*)?버튼(?:\s*(?:문구|텍스트|글자))?(?:을|를)\s*(.+?)\s*(?:으로|로)\s*(?:바꿔|변경|수정|해).*$)"},
     1, 2},
    {edit_kind::set_accent,
     regex{
       R"(^\s*(.+?)\s*(?:의\s*)?(?:색|색상|색깔|강조색)(?:을|를)\s*(.+?)\s*(?:으로|로)\s*(?:바꿔|변경|수정|해).*$)"},
     1, 2},
  };
  return items;
}

// Colour words (English and Korean) and #hex, to a CSS colour.
std::string colour(std::string word) {
  for (auto& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::vector<std::pair<std::vector<std::string>, const char*>> names = {
    {{"red", "빨간", "빨강", "붉은"}, "#dc2626"},
    {{"orange", "주황"}, "#ea580c"},
    {{"yellow", "노란", "노랑"}, "#ca8a04"},
    {{"green", "초록", "녹색", "그린"}, "#16a34a"},
    {{"teal", "청록"}, "#0d9488"},
    {{"blue", "파란", "파랑", "블루"}, "#2563eb"},
    {{"indigo", "남색"}, "#4f46e5"},
    {{"purple", "violet", "보라"}, "#7c3aed"},
    {{"pink", "분홍", "핑크"}, "#db2777"},
    {{"black", "검정", "검은", "블랙"}, "#111827"},
    {{"gray", "grey", "회색", "그레이"}, "#4b5563"},
    {{"brown", "갈색"}, "#92400e"},
  };
  static const std::regex hex{R"(^#(?:[0-9a-f]{3}|[0-9a-f]{6})$)"};
  if (std::regex_match(word, hex)) return word;
  for (auto& [words, css] : names) {
    for (auto& w : words) {
      if (word == w || word.rfind(w, 0) == 0) return css; // 빨간색, 초록색: the colour word starts it
    }
  }
  return {};
}

// A form field's name attribute and label from the words naming it.
struct field {
  std::string id;
  std::string label;
};

field field_from(const std::string& words) {
  static const std::vector<std::pair<const char*, const char*>> korean = {
    {"전화번호", "phone"},    {"전화", "phone"},     {"휴대폰", "phone"},      {"회사명", "company"},
    {"회사", "company"},      {"이름", "name"},      {"주소", "address"},      {"이메일", "email"},
    {"메일", "email"},        {"메시지", "message"}, {"내용", "message"},      {"생년월일", "birthday"},
    {"생일", "birthday"},     {"나이", "age"},       {"웹사이트", "website"},  {"홈페이지", "website"},
    {"비밀번호", "password"}, {"직책", "job_title"}, {"부서", "department"},   {"제목", "subject"},
    {"국가", "country"},      {"도시", "city"},      {"우편번호", "postcode"}, {"자동 로그인", "remember"},
  };
  field f;
  f.label = trim(words);
  if (auto n = messages::normalise_name(f.label); n && !n->empty()) {
    f.id = *n;
    if (!f.label.empty()) f.label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(f.label[0])));
    return f;
  }
  for (auto& [ko, en] : korean) {
    if (f.label.find(ko) != std::string::npos) {
      f.id = en;
      return f;
    }
  }
  // A name in a script we cannot spell in ASCII: a stable id from its bytes.
  std::uint32_t h = 2166136261u;
  for (unsigned char c : f.label) h = (h ^ c) * 16777619u;
  f.id = "field_" + std::to_string(h % 100000);
  return f;
}

// The input that suits a field's name.
std::string control_for(const field& f, const std::string& cls) {
  std::string type = "text", autocomplete;
  auto has = [&](const char* w) { return f.id.find(w) != std::string::npos; };
  if (has("phone") || has("tel") || has("mobile")) {
    type = "tel";
    autocomplete = "tel";
  } else if (has("email")) {
    type = "email";
    autocomplete = "email";
  } else if (has("website") || has("url")) {
    type = "url";
    autocomplete = "url";
  } else if (has("birthday") || has("date")) {
    type = "date";
    autocomplete = "bday";
  } else if (has("age")) {
    type = "number";
  } else if (has("company") || has("organization")) {
    autocomplete = "organization";
  } else if (has("address")) {
    autocomplete = "street-address";
  } else if (has("password")) {
    type = "password";
    autocomplete = "new-password";
  }
  auto id = cls + "-" + f.id;
  if (has("remember") || has("agree") || has("consent") || has("subscribe") || has("newsletter")) {
    return "<label class=\"check\"><input id=\"" + id + "\" name=\"" + f.id + "\" type=\"checkbox\"> " +
           html_escape(f.label) + "</label>";
  }
  std::string out = "<label for=\"" + id + "\">" + html_escape(f.label) + "</label><input id=\"" + id + "\" name=\"" +
                    f.id + "\" type=\"" + type + "\"";
  if (!autocomplete.empty()) out += " autocomplete=\"" + autocomplete + "\"";
  return out + ">";
}

// The position of the element with attribute `attr="value"`: its '<' and the end of the element.
std::optional<std::pair<size_t, size_t>> element_with(const std::string& html, const std::string& attr) {
  auto at = html.find(attr);
  if (at == std::string::npos) return std::nullopt;
  auto open = html.rfind('<', at);
  if (open == std::string::npos) return std::nullopt;
  auto tag_end = html.find('>', at);
  if (tag_end == std::string::npos) return std::nullopt;
  std::string tag;
  for (size_t i = open + 1; i < html.size() && std::isalpha(static_cast<unsigned char>(html[i])); ++i) tag += html[i];
  size_t end = tag_end + 1;
  if (tag == "textarea" || tag == "select") {
    auto close = html.find("</" + tag + ">", tag_end);
    if (close == std::string::npos) return std::nullopt;
    end = close + tag.size() + 3;
  }
  return std::pair{open, end};
}

// Removes [from, to) and a line break left empty by it.
void erase_line_aware(std::string& html, size_t from, size_t to) {
  html.erase(from, to - from);
  if (from < html.size() && html[from] == '\n' && (from == 0 || html[from - 1] == '\n')) html.erase(from, 1);
}

messages::status add_field(std::string& html, const std::string& cls, const field& f) {
  if (html.find("<form") == std::string::npos) {
    return make_failure(errc::schema_violation, "it has no form to add a field to");
  }
  if (html.find("name=\"" + f.id + "\"") != std::string::npos) {
    return make_failure(errc::schema_violation, "it already has a \"" + f.id + "\" field");
  }
  auto at = html.find("<button");
  auto form_end = html.find("</form>");
  if (at == std::string::npos || (form_end != std::string::npos && at > form_end)) at = form_end;
  if (at == std::string::npos) return make_failure(errc::schema_violation, "its form is not closed");
  // A line of its own, inserted before the line that holds the button: two edits that add
  // different fields then only add lines, which a line merge keeps both of. When that line
  // also opens the form, the field goes just before the button instead.
  auto line_start = html.rfind('\n', at);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  if (line_start > html.find("<form")) {
    html.insert(line_start, control_for(f, cls) + "\n");
  } else {
    html.insert(at, "\n" + control_for(f, cls) + "\n");
  }
  return messages::ok();
}

messages::status remove_field(std::string& html, const field& f) {
  auto control = element_with(html, "name=\"" + f.id + "\"");
  if (!control) return make_failure(errc::schema_violation, "it has no \"" + f.id + "\" field");
  // The control's id names its label (<label for=id>), or a label wraps it (a checkbox).
  auto [open, end] = *control;
  auto id_at = html.find("id=\"", open);
  std::string id;
  if (id_at != std::string::npos && id_at < end) {
    auto q = html.find('"', id_at + 4);
    id = html.substr(id_at + 4, q - id_at - 4);
  }
  auto wrap = html.rfind("<label", open);
  auto wrap_end = html.find("</label>", open);
  if (wrap != std::string::npos && wrap_end != std::string::npos && html.find("</label>", wrap) == wrap_end &&
      html.find("for=\"", wrap) > open) {
    erase_line_aware(html, wrap, wrap_end + 8);
    return messages::ok();
  }
  erase_line_aware(html, open, end);
  if (!id.empty()) {
    auto label = html.find("<label for=\"" + id + "\"");
    if (label != std::string::npos) {
      auto label_end = html.find("</label>", label);
      if (label_end != std::string::npos) erase_line_aware(html, label, label_end + 8);
    }
  }
  return messages::ok();
}

// Replaces the text inside the first <tag ...>…</tag>.
messages::status replace_text(std::string& html, const std::string& tag, const std::string& text, const char* what) {
  auto open = html.find("<" + tag);
  if (open == std::string::npos) return make_failure(errc::schema_violation, std::string{"it has no "} + what);
  auto start = html.find('>', open);
  auto close = html.find("</" + tag + ">", start);
  if (start == std::string::npos || close == std::string::npos) {
    return make_failure(errc::schema_violation, std::string{"its "} + what + " is not closed");
  }
  html.replace(start + 1, close - start - 1, html_escape(text));
  return messages::ok();
}

} // namespace

std::string edit_target(std::string_view request) {
  auto normal = edit_text(request);
  if (!normal) return {};
  if (auto e = parse_edit(*normal)) return e->component;
  using std::regex;
  constexpr auto en = regex::ECMAScript | regex::icase;
  static const std::vector<regex> english = {
    regex{
      R"(^\s*(?:please\s+)?(?:change|modify|update|edit|rewrite|rename|recolou?r|restyle|tweak|fix)\s+(?:the|my|our)\s+(.+)$)",
      en},
    regex{R"(^\s*(?:please\s+)?(?:remove|delete|drop)\s+.+?\s+from\s+(?:the|my|our)?\s*(.+)$)", en},
    regex{R"(^\s*(?:please\s+)?add\s+.+?\s+(?:to|in|on)\s+(?:the|my|our)\s+(.+)$)", en},
    regex{R"(^\s*(?:please\s+)?make\s+(?:the|my|our)\s+(.+)$)", en},
  };
  auto& text = *normal;
  for (auto& re : english) {
    std::smatch m;
    if (std::regex_match(text, m, re)) return component_for(m[1].str(), true);
  }
  for (const char* verb : {"바꿔", "바꾸", "수정", "변경", "삭제", "고쳐", "제거"}) {
    if (text.find(verb) != std::string::npos) return component_for(text);
  }
  return {};
}

std::optional<edit> parse_edit(std::string_view request) {
  auto normal = edit_text(request);
  if (!normal) return std::nullopt;
  auto& text = *normal;
  for (auto& p : patterns()) {
    std::smatch m;
    if (!std::regex_match(text, m, p.re)) continue;
    edit e;
    e.kind = p.kind;
    e.component = component_for(m[p.component].str());
    e.value = trim(m[p.value].str());
    if (e.component.empty() || e.value.empty()) continue;
    if (e.kind == edit_kind::set_accent && colour(e.value).empty())
      continue; // "make the page responsive": not a colour
    return e;
  }
  return std::nullopt;
}

messages::result<std::string> apply_edit(std::string_view artifact, std::string_view instruction) {
  auto e = parse_edit(instruction);
  if (!e) {
    return make_failure(
      errc::model,
      "the builtin provider cannot apply this edit (it adds or removes a form field, changes a title, "
      "a button's text or the accent colour); configure a model provider for others");
  }
  auto doc = nlohmann::json::parse(artifact, nullptr, false);
  if (!doc.is_object() || !doc.contains("html") || !doc["html"].is_string()) {
    return make_failure(errc::schema_violation, "the library's copy is not a component");
  }
  auto name = doc.value("component", std::string{});
  auto cls = "g-" + name;
  auto html = doc["html"].get<std::string>();
  messages::status done = messages::ok();
  switch (e->kind) {
    case edit_kind::add_field: done = add_field(html, cls, field_from(e->value)); break;
    case edit_kind::remove_field: done = remove_field(html, field_from(e->value)); break;
    case edit_kind::set_title:
      done = replace_text(html, "h2", e->value, "title");
      if (done) doc["metadata"]["title"] = e->value;
      break;
    case edit_kind::set_button: done = replace_text(html, "button", e->value, "button"); break;
    case edit_kind::set_accent: {
      auto css = doc.value("css", std::string{});
      auto rule = "." + cls + "{--a:" + colour(e->value) + "}";
      auto old = css.find("\n." + cls + "{--a:#");
      if (old != std::string::npos) css.erase(old, css.find('}', old) - old + 1);
      doc["css"] = css + "\n" + rule;
      break;
    }
  }
  if (!done) return make_failure(done.error().code, name + ": " + done.error().message);
  doc["html"] = html;
  return messages::component_to_text(doc);
}

} // namespace grove::logic::builtin
