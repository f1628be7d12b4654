#pragma once

// Where a component lives in the library (output/components/): one of 256
// fan-out folders named by two hex digits of a hash of its name, like git's
// own objects/ folder. A merge then rewrites one small folder's tree instead
// of a tree listing the whole library, and a worktree's index collapses every
// other folder into one entry. The hash is part of the on-disk format: never
// change it (32-bit FNV-1a of the name's bytes, its low byte).

#include <string>
#include <string_view>

namespace grove::logic::library {

/// The fan-out folder of `name`: two lowercase hex digits, "00" to "ff".
std::string shard(std::string_view name);

/// `<shard>/<name>.json`, relative to output/components/.
std::string file(std::string_view name);

/// The component name of a flat library file `<name>.json` (the layout before
/// the fan-out folders) holding `content`, or empty when it is not one of
/// grove's: a valid name and a JSON object whose "component" is that name.
std::string flat_name(std::string_view filename, std::string_view content);

/// The "version" of a component artifact; 0 when it has none (or is not JSON).
int version_of(std::string_view artifact);

/// `artifact` with its "version" set to `version` (a new version of a
/// component the library holds); unchanged when it is not a JSON object.
std::string with_version(const std::string& artifact, int version);

} // namespace grove::logic::library
