#include "logic/html_scan.hpp"

#include <cctype>

namespace grove::logic::html {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && is_space(s[a])) ++a;
  while (b > a && is_space(s[b - 1])) --b;
  return std::string{s.substr(a, b - a)};
}

const std::string* token::attr(std::string_view n) const {
  for (auto& a : attributes) {
    if (a.name == n) return &a.value;
  }
  return nullptr;
}

namespace {

char lower_char(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool is_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

// Reads a tag's name and attributes from `j` (just past its name's start) to its '>'; returns the index after it.
size_t read_tag(std::string_view h, size_t j, token& t) {
  size_t n = h.size();
  while (j < n && !is_space(h[j]) && h[j] != '/' && h[j] != '>') t.name += lower_char(h[j++]);
  while (j < n && h[j] != '>') {
    while (j < n && (is_space(h[j]) || h[j] == '/')) ++j;
    if (j >= n || h[j] == '>') break;
    attribute a;
    while (j < n && !is_space(h[j]) && h[j] != '/' && h[j] != '>' && h[j] != '=') a.name += lower_char(h[j++]);
    while (j < n && is_space(h[j])) ++j;
    if (j < n && h[j] == '=') {
      ++j;
      while (j < n && is_space(h[j])) ++j;
      if (j < n && (h[j] == '"' || h[j] == '\'' || h[j] == '`')) {
        char q = h[j++];
        while (j < n && h[j] != q) a.value += h[j++];
        if (j < n) ++j;
      } else {
        while (j < n && !is_space(h[j]) && h[j] != '>') a.value += h[j++];
      }
    }
    if (!a.name.empty()) {
      t.attributes.push_back(std::move(a));
    } else {
      ++j; // a stray character such as '=': step over it
    }
  }
  return j < n ? j + 1 : n;
}

} // namespace

std::vector<token> tokenize(std::string_view h) {
  std::vector<token> out;
  size_t i = 0, n = h.size(), text_from = 0;
  auto flush_text = [&](size_t to) {
    if (to > text_from) {
      token t;
      t.type = token::kind::text;
      t.text = std::string{h.substr(text_from, to - text_from)};
      out.push_back(std::move(t));
    }
  };
  while (i < n) {
    if (h[i] != '<' || i + 1 >= n) {
      ++i;
      continue;
    }
    char c = h[i + 1];
    if (is_alpha(c) || (c == '/' && i + 2 < n && is_alpha(h[i + 2]))) {
      flush_text(i);
      token t;
      t.type = c == '/' ? token::kind::end : token::kind::start;
      i = read_tag(h, i + (c == '/' ? 2 : 1), t);
      if (t.type == token::kind::end) t.attributes.clear();
      out.push_back(std::move(t));
      text_from = i;
    } else {
      ++i;
    }
  }
  flush_text(n);
  return out;
}

std::vector<token> start_tags(std::string_view markup) {
  std::vector<token> out;
  for (auto& t : tokenize(markup)) {
    if (t.type == token::kind::start) out.push_back(std::move(t));
  }
  return out;
}

} // namespace grove::logic::html
