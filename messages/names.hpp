#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"

namespace grove::messages {

/// Longest component name; keeps refs and paths short.
inline constexpr size_t max_name_length = 48;

/// True when `name` matches `[a-z0-9_]{1,48}`.
bool is_valid_name(std::string_view name);

/// Maps any text to a safe component name: ASCII letters lower-cased, digits
/// kept, every other byte sequence (spaces, `/`, `.`, shell characters,
/// non-ASCII) becomes one `_`, edges trimmed, cut to 48 characters.
/// Fails with `errc::invalid_name` when nothing is left.
result<std::string> normalise_name(std::string_view raw);

/// `raw` made safe to print in an error message: control bytes escaped, cut to 64.
std::string printable(std::string_view raw);

/// The non-empty pieces of `s` between `sep` characters.
std::vector<std::string> split(std::string_view s, char sep);

/// `s` with every occurrence of `from` replaced by `to`.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

/// `s` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

/// At most `max_chars` code points of valid UTF-8 `s`, never cutting one in two.
std::string truncate_utf8(std::string_view s, size_t max_chars);

} // namespace grove::messages
