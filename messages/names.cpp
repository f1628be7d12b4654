#include "messages/names.hpp"

#include <cstdio>

namespace grove::messages {

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > max_name_length) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

result<std::string> normalise_name(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool pending_sep = false;
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    char mapped = 0;
    if (c >= 'A' && c <= 'Z') {
      mapped = static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      mapped = static_cast<char>(c);
    }
    if (mapped == 0) {
      pending_sep = true;
      continue;
    }
    bool sep = pending_sep && !out.empty();
    if (out.size() + (sep ? 2 : 1) > max_name_length) {
      break;
    }
    if (sep) {
      out.push_back('_');
    }
    pending_sep = false;
    out.push_back(mapped);
  }
  while (!out.empty() && out.back() == '_') {
    out.pop_back();
  }
  if (out.empty()) {
    return make_failure(errc::invalid_name, "component name \"" + printable(raw) +
                                              "\" has no ASCII letters or digits to build a name from");
  }
  return out;
}

std::string printable(std::string_view raw) {
  std::string out;
  for (char ch : raw.substr(0, 64)) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else {
      out += ch;
    }
  }
  if (raw.size() > 64) {
    out += "...";
  }
  return out;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (valid && len == 2) valid = c >= 0xC2;
    if (valid && len == 3) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (valid && len == 4) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      valid = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      if (i > start) out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string{s};
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t p = s.find(from); p != std::string_view::npos; p = s.find(from, pos)) {
    out.append(s.substr(pos, p - pos));
    out.append(to);
    pos = p + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

std::string truncate_utf8(std::string_view s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return std::string{s.substr(0, i)};
      ++chars;
    }
  }
  return std::string{s};
}

} // namespace grove::messages
