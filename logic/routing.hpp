#pragma once

// The router's policy as pure functions: difficulty tiers, the circuit
// breaker, Retry-After, answer checking (for schema self-correction),
// and cost estimates (redaction of secrets: messages/secrets.hpp).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "messages/types.hpp"

namespace grove::logic::routing {

using clock = std::chrono::steady_clock;

/// "simple" or "hard". Planning, review and conflict resolution are hard.
/// A generation is hard when it is a retry (a rejection escalates it to a
/// stronger model), when the component is data-heavy (dashboard, table,
/// chart, pricing), when no builtin template knows it (novel component), or
/// when its description is long (over 160 characters). Otherwise simple.
std::string difficulty(const messages::model_request& req);

/// A circuit breaker per provider: after `threshold` consecutive failures the
/// provider is skipped for `cooldown`; then one trial call is let through.
class breaker final {
public:
  /// Whether a call may go to the provider at `now`.
  bool allow(clock::time_point now) const { return now >= open_until_; }

  void success() { failures_ = 0; }

  /// Records a failure; true when this one opened the circuit.
  bool failure(clock::time_point now, uint32_t threshold, std::chrono::milliseconds cooldown);

  uint32_t consecutive_failures() const { return failures_; }

private:
  uint32_t failures_ = 0;
  clock::time_point open_until_{};
};

/// Jitter added on top of a provider retry's backoff (a fraction of it).
inline constexpr double retry_jitter = 0.2;

/// The longest a server's Retry-After can make a retry wait.
inline constexpr std::chrono::milliseconds retry_after_cap{60000};

/// How long to wait before retry number `retry` (1-based) of a provider call:
/// exponential backoff from `base` to `max` with `retry_jitter` scaled by
/// `rand01`, or the server's Retry-After (`retry_after_ms`, -1 when none) when
/// it asks for longer, capped at `retry_after_cap`.
std::chrono::milliseconds retry_delay(std::chrono::milliseconds base, std::chrono::milliseconds max, uint32_t retry,
                                      int64_t retry_after_ms, double rand01);

/// A Retry-After header in milliseconds (delta-seconds, possibly fractional),
/// or -1 when absent or unparsable.
int64_t parse_retry_after(std::string_view value);

/// The JSON object inside a model's text: code fences and prose around the
/// outermost braces are removed.
std::string extract_json(std::string_view text);

/// Why an answer is unusable for its role (plan: plan.schema.json with names
/// normalised; generate: component.schema.json for the right component), or
/// empty when it is fine. The exact message goes back to the model.
std::string check_answer(const messages::model_request& req, std::string_view json_text);

/// Adds a call's tokens and cost to `u`.
void account(messages::usage& u, uint64_t tokens_in, uint64_t tokens_out, double price_in_per_mtok,
             double price_out_per_mtok, bool failed);

/// Adds what a job used on another cluster node to `into`: totals summed, each
/// of that node's providers a row of its own named `provider@node` (rows kept
/// as named when `node` is empty).
void merge_usage(messages::job_usage& into, const messages::job_usage& from, const std::string& node);

} // namespace grove::logic::routing
