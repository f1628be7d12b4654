#include "logic/budget.hpp"

#include <algorithm>
#include <cstdio>

namespace grove::logic::budget {

double estimate(const scope& s) {
  return s.known ? s.largest_call : 0.0;
}

verdict admit(const scope& s) {
  if (s.limit <= 0) return verdict::go;
  if (s.spent >= s.limit) return verdict::refuse;
  if (!s.known) return s.in_flight > 0 ? verdict::wait : verdict::go;
  if (s.spent + s.reserved + estimate(s) <= s.limit) return verdict::go;
  // What is in flight may cost less than expected: decide once it settles.
  return s.in_flight > 0 ? verdict::wait : verdict::refuse;
}

double reserve(scope& s) {
  auto e = estimate(s);
  ++s.in_flight;
  s.reserved += e;
  return e;
}

void settle(scope& s, double reserved, double cost) {
  if (s.in_flight > 0) --s.in_flight;
  s.reserved = std::max(0.0, s.reserved - reserved);
  if (s.in_flight == 0) s.reserved = 0; // no drift from rounding
  s.spent += cost;
  // A call that cost nothing (it failed before any tokens) tells no price.
  if (cost > 0) {
    s.largest_call = std::max(s.largest_call, cost);
    s.known = true;
  }
}

double cost_of(uint64_t tokens_in, uint64_t tokens_out, double price_in_per_mtok, double price_out_per_mtok) {
  return (static_cast<double>(tokens_in) * price_in_per_mtok + static_cast<double>(tokens_out) * price_out_per_mtok) /
         1e6;
}

std::string dollars(double usd) {
  char buf[64];
  std::snprintf(buf, sizeof buf, usd >= 100 ? "$%.2f" : "$%.4f", usd);
  return buf;
}

std::string window_text(int64_t window_ms) {
  if (window_ms == 86'400'000) return "day";
  if (window_ms % 3'600'000 == 0) return std::to_string(window_ms / 3'600'000) + " h";
  return std::to_string((window_ms + 999) / 1000) + " s";
}

std::string frees_up(int64_t frees_at_ms, int64_t now_ms, const std::string& prefix) {
  if (frees_at_ms <= 0) return {};
  return prefix + std::to_string((std::max<int64_t>(0, frees_at_ms - now_ms) + 999) / 1000) + " s";
}

std::string refusal(const scope& s, const std::string& what) {
  return what + " of " + dollars(s.limit) + " is reached: " + dollars(s.spent) +
         " spent, the next call is expected to cost " + dollars(estimate(s));
}

} // namespace grove::logic::budget
