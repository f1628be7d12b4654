#pragma once

// Spending limits in money, decided before each priced model call: a job's
// max_cost_usd and a server's rolling daily budget are each a scope. A call
// is let through only when what is spent, plus what calls already in flight
// are expected to cost, plus what this call is expected to cost, stays within
// the limit; so a limit is not overshot by parallel calls. A call's expected
// cost is the largest call settled so far in the scope; until one has
// settled, only one call at a time goes through. Pure: no clock, no I/O.

#include <cstdint>
#include <string>

namespace grove::logic::budget {

struct scope {
  double limit = 0;    ///< US dollars; 0: no limit
  double spent = 0;    ///< settled calls
  double reserved = 0; ///< expected cost of the calls in flight
  uint32_t in_flight = 0;
  double largest_call = 0; ///< the dearest call settled so far
  bool known = false;      ///< a call has settled, so largest_call is an estimate
};

enum class verdict {
  go,     ///< call now (then reserve())
  wait,   ///< ask again when a call in flight settles
  refuse, ///< the budget is reached: no more calls in this scope
};

/// Whether one more call may start in `s`.
verdict admit(const scope& s);

/// What the next call is expected to cost.
double estimate(const scope& s);

/// A call admitted by admit() starts: returns the estimate it reserved.
double reserve(scope& s);

/// A call that reserved `reserved` finished and cost `cost` (a cost of 0 sets no estimate).
void settle(scope& s, double reserved, double cost);

/// A call's cost from its tokens and the provider's prices per million tokens.
double cost_of(uint64_t tokens_in, uint64_t tokens_out, double price_in_per_mtok, double price_out_per_mtok);

/// "$0.0123": dollars with enough digits to tell small budgets apart.
std::string dollars(double usd);

/// A rolling window's length for people: "day", "6 h", "90 s".
std::string window_text(int64_t window_ms);

/// `prefix` + "N s" until `frees_at_ms` (rounded up), or empty when nothing frees up (0).
std::string frees_up(int64_t frees_at_ms, int64_t now_ms, const std::string& prefix);

/// Why `s` refuses: "<what> of $L is reached: $S spent, the next call is expected to cost $E".
std::string refusal(const scope& s, const std::string& what);

} // namespace grove::logic::budget
