#pragma once

// The words that mean states, as types: a telemetry stage, a job state, and
// the folds from events to counts and rows that every view shares, so the
// report, the registry, the terminal, telemetry statistics and /metrics
// agree by construction.

#include <cstdint>
#include <optional>
#include <string_view>

namespace grove::messages {

/// What a telemetry event says happened. Job level: started .. cancelled;
/// component level: generating .. dropped; model calls: model ..
/// model_cooldown. `unknown` only comes from text this build does not know.
enum class stage : uint8_t {
  // job
  queued, ///< waiting for a place (--max-jobs); attempt carries its position in the line
  started,
  planning,
  planned,
  composing,
  error,
  done,
  partial,
  failed,
  cancelled,
  // component
  generating,
  generated,
  worktree_opened,
  committing,
  qa,
  reviewed, ///< the reviewer's verdict; provider: the reviewer; detail: "code:severity" per finding, comma separated
  lessons_given, ///< lessons from past mistakes given to a generation; detail: "code (kind)" per lesson, "; " separated
  rejected,
  timed_out,
  crashed,
  restarting,
  cache_rejected,
  merging,
  merged,
  rebasing, ///< main changed the component since the branch's base: its change is laid over main's
  conflict, ///< a rebase found fields both sides changed; detail: which, and the other job
  resolved, ///< a conflict resolved; provider: the resolver (builtin, memory or a model provider)
  worktree_removed,
  landed,
  cached,
  dropped,
  // model calls
  model,
  model_failed,
  model_retry,
  model_skipped,
  model_cooldown,
  correcting,
  // node services (job empty, component = the service)
  service_restarted,
  service_failed,
  // cluster nodes (job empty, component = the node's name)
  node_joined, ///< a worker joined or rejoined; detail: its address
  node_lost,   ///< a node's connection ended or stopped answering; detail: why
  node_status, ///< a node's capacity and load changed; detail: JSON of messages::node_info
  unknown,
};

/// The stage's stable lower-case name (the wire and log spelling).
const char* to_string(stage x);

/// The stage named `text`, or stage::unknown.
stage stage_from_string(std::string_view text);

/// A job's state, as the registry, the journal and the protocol know it.
enum class job_state : uint8_t { queued, planning, running, composing, done, partial, failed, cancelled };

const char* to_string(job_state x);

/// The state named `text`, if it is one.
std::optional<job_state> job_state_from_string(std::string_view text);

/// done, partial, failed or cancelled: the job is over.
bool is_final(job_state x);

/// The same for a state's name; false for names that are not states.
bool is_final_state(std::string_view text);

/// The job state a job-level stage ends in (done .. cancelled), if it is one.
std::optional<job_state> final_state_of(stage x);

/// service_restarted, service_failed or a cluster node's event: an event of the node, not of a job.
bool is_node_event(stage x);

/// A component's outcome: stage::landed, cached or dropped.
bool is_component_outcome(stage x);

/// Whether an event is a model call's record rather than a step of its component.
bool is_model_call(stage x);

struct telemetry_event;
struct job_status;

/// The one fold from a job's events to its row (state, components with
/// their stage, attempt, restarts and tokens, recent errors), used by the
/// registry and the terminal progress alike. The job's final event is the
/// registry's to apply (with the report); here it only updates the time.
void apply_event(job_status& js, const telemetry_event& ev);

/// Counts over a stream of events: the one definition of what counts as
/// what. A restart is counted per crash (`crashed`), whether or not the
/// generator was restarted, as the job report's `restarts` does.
struct event_counts {
  uint64_t events = 0;
  uint64_t attempts = 0; ///< generating
  uint64_t landed = 0;
  uint64_t cached = 0;
  uint64_t dropped = 0;
  uint64_t rejections = 0;       ///< rejected (QA or a timed-out attempt)
  uint64_t restarts = 0;         ///< crashed
  uint64_t corrections = 0;      ///< correcting
  uint64_t errors = 0;           ///< dropped, crashed, error, or a job that failed
  uint64_t service_restarts = 0; ///< service_restarted: a node service restarted by the node supervisor

  /// Adds one event.
  void add(const telemetry_event& ev);
};

} // namespace grove::messages
