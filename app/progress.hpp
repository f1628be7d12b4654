#pragma once

// Live progress on the terminal: one line per component with its stage,
// attempt and cache hit. On a TTY the table is redrawn in place; otherwise
// each change is printed as a line (logs and CI stay readable).

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace grove::app {

/// The table of components a progress view keeps; pure, for tests.
class progress_table final {
public:
  /// Applies an event; returns false when it changes nothing shown.
  bool apply(const messages::telemetry_event& ev);

  /// One line for a component: `name  stage  attempt N  [cache]  detail`.
  std::string line(const std::string& component) const;

  /// Components in the order they first appeared.
  const std::vector<std::string>& order() const { return order_; }

  /// Job-level status line (planning, composing, done ...).
  const std::string& job_line() const { return job_line_; }

  /// The job's row, folded from its events as the registry folds them.
  const messages::job_status& status() const { return js_; }

private:
  messages::job_status js_;
  std::vector<std::string> order_;
  std::string job_line_;
};

/// Prints a progress table as events arrive: redrawn in place on a TTY,
/// one line per change otherwise. Not thread-safe: one owner.
class progress_view final {
public:
  progress_view(FILE* out, bool tty) : out_(out), tty_(tty) {}
  void on_event(const messages::telemetry_event& ev);

private:
  FILE* out_;
  bool tty_;
  progress_table table_;
  size_t drawn_ = 0;
};

/// An event sink printing progress to `out`; `tty` selects in-place redraw.
actors::event_sink_actor spawn_progress_printer(caf::actor_system& sys, FILE* out, bool tty);

} // namespace grove::app
