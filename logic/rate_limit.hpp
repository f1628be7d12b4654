#pragma once

// Rate limits on job submissions (grove serve --rate-limit, --rate-limit-ip):
// token buckets, one per connection and one per client address. Pure: the
// caller passes the time and holds any lock.

#include <cstdint>
#include <map>
#include <string>

namespace grove::logic::rate_limit {

/// A rate: `per_minute` submissions on average, at most `burst` at once; per_minute 0: no limit.
struct rate {
  double per_minute = 0;
  double burst = 1;
};

/// The rate grove serve uses for `per_minute` (a burst of a quarter minute's worth, at least 1).
rate per_minute(double n);

struct bucket {
  double tokens = -1; ///< < 0: new (full)
  int64_t last_ms = 0;
};

/// Takes one token at `now_ms`: 0 when allowed, else the milliseconds until one is free.
int64_t take(bucket& b, const rate& r, int64_t now_ms);

/// Buckets by key (client addresses), at most `max_keys`: past it, the buckets that have
/// refilled (they carry nothing) are forgotten first, then the least recently used.
class keyed {
public:
  explicit keyed(rate r, size_t max_keys = 10000) : rate_(r), max_keys_(max_keys) {}
  int64_t take(const std::string& key, int64_t now_ms);
  size_t size() const { return buckets_.size(); }
  const rate& limit() const { return rate_; }

private:
  rate rate_;
  size_t max_keys_;
  std::map<std::string, bucket> buckets_;
};

} // namespace grove::logic::rate_limit
