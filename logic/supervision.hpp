#pragma once

// Supervision as data and pure functions, modelled on Erlang/OTP: restart
// types, an intensity limit and exponential backoff with jitter. The
// job_supervisor actor wires these to CAF monitors; nothing here knows CAF.

#include <chrono>
#include <cstdint>
#include <deque>

namespace grove::logic::supervision {

using clock = std::chrono::steady_clock;
using millis = std::chrono::milliseconds;

/// When a child is restarted (OTP semantics).
enum class restart_type {
  permanent, ///< always
  transient, ///< only after an abnormal exit
  temporary, ///< never
};

/// How children of one supervisor are restarted.
enum class strategy {
  one_for_one, ///< only the child that died
};

/// Whether a child that exited should be restarted.
bool should_restart(restart_type type, bool abnormal_exit);

/// Exponential backoff parameters.
struct backoff_policy {
  millis base{20};
  millis max{2000};
  double jitter = 0.2; ///< fraction added on top, scaled by a random draw
};

/// Delay before restart number `n` (0-based):
/// `min(max, base * 2^n) * (1 + jitter * rand01)`, rand01 in [0, 1].
/// Pure: the caller supplies the random draw.
millis backoff_delay(const backoff_policy& policy, uint32_t n, double rand01);

/// A child spec: what the supervisor needs to know to restart a child.
struct child_spec {
  restart_type restart = restart_type::transient;
  strategy how = strategy::one_for_one;
};

/// Restart intensity: at most `max_restarts` restarts within `period`;
/// one more means the supervisor gives up (escalates).
class restart_intensity final {
public:
  restart_intensity(uint32_t max_restarts, millis period);

  /// Records a restart at `now`; false when it exceeds the limit.
  bool record(clock::time_point now);

  /// Restarts recorded inside the current window ending at `now`.
  uint32_t in_window(clock::time_point now) const;

private:
  void expire(clock::time_point now);

  uint32_t max_restarts_;
  millis period_;
  std::deque<clock::time_point> stamps_;
};

/// What a supervisor does about a child that exited.
struct decision {
  enum kind_t : uint8_t {
    restart, ///< start it again after `delay`
    leave,   ///< its restart type says no restart (the exit is final, not a failure)
    give_up, ///< one restart too many within the period: the supervisor escalates
  };
  kind_t kind = leave;
  millis delay{0};
};

/// A child spec's restart type with its supervisor's intensity limit and
/// backoff: the one question a supervisor asks when a child exits. Pure,
/// but for the restarts it remembers; the random draw is passed in.
class restart_policy final {
public:
  restart_policy(restart_type type, uint32_t intensity, millis period, backoff_policy backoff);

  /// The decision for an exit at `now` of a child restarted `restarts_so_far`
  /// times before (the backoff grows with it).
  decision on_exit(bool abnormal, uint32_t restarts_so_far, clock::time_point now, double rand01);

  /// The same for a child that went down with others in one failure already
  /// counted (a cluster node lost with all its generators): restarted after
  /// its backoff, not counted again toward the intensity.
  decision on_exit_of_counted_failure(bool abnormal, uint32_t restarts_so_far, double rand01) const;

private:
  restart_type type_;
  restart_intensity intensity_;
  backoff_policy backoff_;
};

} // namespace grove::logic::supervision
