#pragma once

// Secrets (API keys, the gateway token) that grove must never print, log,
// report or commit, in any spelling: matches are case-insensitive and any
// run of `secret_fragment` or more characters taken from a secret counts.

#include <string>
#include <string_view>
#include <vector>

namespace grove::messages {

/// Characters of a secret that, found together in a text, count as a leak.
inline constexpr size_t secret_fragment = 8;

/// `text` with every case-insensitive occurrence of a secret, or of any
/// fragment of one at least `secret_fragment` long, replaced by
/// "[redacted]". Secrets shorter than 4 characters are ignored; shorter than
/// `secret_fragment`, they must match whole. Pure.
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

/// Whether redact() would change `text`. Pure.
bool contains_secret(std::string_view text, const std::vector<std::string>& secrets);

/// Adds a secret to the process-wide list (thread-safe; empty ones are ignored).
void register_secret(std::string secret);

/// The process-wide list, for the pure functions above.
std::vector<std::string> registered_secrets();

/// redact() against the process-wide list: for every text that leaves the
/// process (telemetry, reports, protocol frames, the terminal).
std::string redact(std::string_view text);

} // namespace grove::messages
