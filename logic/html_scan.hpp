#pragma once

// A small HTML tokenizer, lenient like a browser and linear in the input:
// start tags with their attributes (quotes, `/` separators and missing
// spaces honoured), end tags and the text between them. The QA rules and the
// builtin reviewer read markup through it.

#include <string>
#include <string_view>
#include <vector>

namespace grove::logic::html {

struct attribute {
  std::string name;  ///< lower-cased
  std::string value; ///< raw, quotes removed
};

struct token {
  enum class kind { start, end, text };
  kind type = kind::text;
  std::string name; ///< lower-cased tag name (start and end tags)
  std::vector<attribute> attributes;
  std::string text; ///< kind::text: the raw text

  /// The value of attribute `n` (lower-case), or nullptr.
  const std::string* attr(std::string_view n) const;
};

/// Every start tag, end tag and text run of `markup`, in order. Comments are
/// not skipped but read through, as text with the tags inside them: a
/// browser's comment ends at `-->` and also at `--!>`, `<!-->`…, and markup
/// hidden from a checker by a comment it thought open must still be seen.
std::vector<token> tokenize(std::string_view markup);

/// Only the start tags.
std::vector<token> start_tags(std::string_view markup);

bool is_space(char c);

/// ASCII lower case (markup names, attribute values compared without case).
std::string lower(std::string_view s);

/// Without HTML whitespace at either end.
std::string trim(std::string_view s);

} // namespace grove::logic::html
