#pragma once

// Deadlines for the requests of one actor, kept by the actor itself instead
// of a CAF request timeout on each. CAF 0.17 hands every timed request to its
// clock thread twice (set, then cancel on the answer), waking that thread
// each time: about a dozen requests per component made those wake-ups ~5% of
// a component's CPU. Here an answer settles its entry in the actor's own
// state, and one timer per actor fires only when the oldest entry is due.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace grove::actors {

class step_watch {
public:
  using clock = std::chrono::steady_clock;

  /// Watches a request due at `due`; `expire` runs if no answer settles it by then.
  uint64_t add(clock::time_point due, std::function<void()> expire) {
    auto id = next_++;
    entries_.emplace(id, entry{due, std::move(expire)});
    return id;
  }

  /// An answer (or error) for `id` arrived: true when it is the first word on
  /// it, false when the deadline already expired it (the late answer is ignored).
  bool settle(uint64_t id) { return entries_.erase(id) != 0; }

  /// Removes the entries due by `now` and returns what they run on expiry, oldest first.
  std::vector<std::function<void()>> take_due(clock::time_point now) {
    std::vector<std::function<void()>> due;
    // A scan of all: an actor has a few entries per component in flight, and
    // this runs only when one is due.
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.due > now) {
        ++it;
        continue;
      }
      due.push_back(std::move(it->second.expire));
      it = entries_.erase(it);
    }
    return due;
  }

  /// When the next entry is due; none when nothing is watched.
  std::optional<clock::time_point> next_due() const {
    std::optional<clock::time_point> at;
    for (auto& [id, e] : entries_) {
      if (!at || e.due < *at) at = e.due;
    }
    return at;
  }

  size_t size() const { return entries_.size(); }

  /// A step is due at `due`: whether the actor must set a timer for it (none
  /// set fires by then); if so it counts as set. A timer that finds nothing due is harmless.
  bool needs_timer(clock::time_point due) {
    if (timer_set_ && timer_due_ <= due) return false;
    timer_set_ = true;
    timer_due_ = due;
    return true;
  }

  /// The actor's timer fired: none is set now.
  void timer_fired() { timer_set_ = false; }

private:
  struct entry {
    clock::time_point due;
    std::function<void()> expire;
  };
  uint64_t next_ = 1;
  std::map<uint64_t, entry> entries_;
  bool timer_set_ = false;
  clock::time_point timer_due_{};
};

} // namespace grove::actors
