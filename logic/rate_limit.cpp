#include "logic/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace grove::logic::rate_limit {

rate per_minute(double n) {
  return {n, std::max(1.0, std::floor(n / 4))};
}

namespace {

void refill(bucket& b, const rate& r, int64_t now_ms) {
  if (b.tokens < 0) {
    b.tokens = r.burst;
  } else if (now_ms > b.last_ms) {
    b.tokens = std::min(r.burst, b.tokens + static_cast<double>(now_ms - b.last_ms) * r.per_minute / 60000.0);
  }
  b.last_ms = std::max(b.last_ms, now_ms);
}

} // namespace

int64_t take(bucket& b, const rate& r, int64_t now_ms) {
  if (r.per_minute <= 0) return 0;
  refill(b, r, now_ms);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - b.tokens) * 60000.0 / r.per_minute)));
}

int64_t keyed::take(const std::string& key, int64_t now_ms) {
  if (rate_.per_minute <= 0) return 0;
  if (buckets_.size() >= max_keys_ && !buckets_.count(key)) {
    // Full buckets say nothing a new one would not: forget them first.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second, rate_, now_ms);
      it = it->second.tokens >= rate_.burst ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= max_keys_) {
      auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                     [](auto& a, auto& b) { return a.second.last_ms < b.second.last_ms; });
      buckets_.erase(oldest);
    }
  }
  return rate_limit::take(buckets_[key], rate_, now_ms);
}

} // namespace grove::logic::rate_limit
