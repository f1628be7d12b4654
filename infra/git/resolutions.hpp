#pragma once

// The memory of resolved conflicts, in the spirit of git's rerere: once a
// resolver's answer for a conflict landed, the same conflict between the same
// two changes is resolved from memory, not sent to a model again. Kept under
// the workspace's `.grove/resolutions/<key>.json` (grove's own folder; no link
// followed), one file per conflict, the resolved component without its version.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "messages/errors.hpp"

namespace grove::git {

/// The key of a conflict: a SHA-1 over the base and the two sides, their
/// "version" fields left out (each landing bumps it) and the sides in a fixed
/// order (which job lands first does not matter). Empty when a side is not JSON.
std::string conflict_key(std::string_view base, std::string_view ours, std::string_view theirs);

/// The remembered resolution of `key`, if any (a folder or file that is a link is no memory).
std::optional<std::string> recall_resolution(const std::filesystem::path& workspace, const std::string& key);

/// Remembers `resolved` (a component) for `key`.
messages::status remember_resolution(const std::filesystem::path& workspace, const std::string& key,
                                     std::string_view resolved);

} // namespace grove::git
