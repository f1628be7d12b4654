#include "logic/supervision.hpp"

#include <algorithm>
#include <cmath>

namespace grove::logic::supervision {

bool should_restart(restart_type type, bool abnormal_exit) {
  switch (type) {
    case restart_type::permanent: return true;
    case restart_type::transient: return abnormal_exit;
    case restart_type::temporary: return false;
  }
  return false;
}

millis backoff_delay(const backoff_policy& policy, uint32_t n, double rand01) {
  rand01 = std::clamp(rand01, 0.0, 1.0);
  auto base = static_cast<double>(policy.base.count());
  auto cap = static_cast<double>(policy.max.count());
  // 2^n overflows long before n reaches 64; the cap applies first anyway.
  double raw = n >= 62 ? cap : std::min(cap, base * std::ldexp(1.0, static_cast<int>(n)));
  double jittered = raw * (1.0 + std::max(0.0, policy.jitter) * rand01);
  return millis{static_cast<millis::rep>(std::llround(jittered))};
}

restart_intensity::restart_intensity(uint32_t max_restarts, millis period)
  : max_restarts_(max_restarts), period_(period) {}

bool restart_intensity::record(clock::time_point now) {
  expire(now);
  stamps_.push_back(now);
  return stamps_.size() <= max_restarts_;
}

uint32_t restart_intensity::in_window(clock::time_point now) const {
  uint32_t n = 0;
  for (auto t : stamps_) {
    if (now - t < period_) ++n;
  }
  return n;
}

void restart_intensity::expire(clock::time_point now) {
  while (!stamps_.empty() && now - stamps_.front() >= period_) {
    stamps_.pop_front();
  }
}

restart_policy::restart_policy(restart_type type, uint32_t intensity, millis period, backoff_policy backoff)
  : type_(type), intensity_(intensity, period), backoff_(backoff) {}

decision restart_policy::on_exit(bool abnormal, uint32_t restarts_so_far, clock::time_point now, double rand01) {
  if (!should_restart(type_, abnormal)) return {decision::leave, millis{0}};
  if (!intensity_.record(now)) return {decision::give_up, millis{0}};
  return {decision::restart, backoff_delay(backoff_, restarts_so_far, rand01)};
}

decision restart_policy::on_exit_of_counted_failure(bool abnormal, uint32_t restarts_so_far, double rand01) const {
  if (!should_restart(type_, abnormal)) return {decision::leave, millis{0}};
  return {decision::restart, backoff_delay(backoff_, restarts_so_far, rand01)};
}

} // namespace grove::logic::supervision
