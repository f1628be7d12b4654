#pragma once

// Internal to the job supervisor (full CAF headers): its state and the steps
// of one job, split in three files by responsibility: job_supervisor.cpp drives the job (plan,
// leases, composition, report, journal), job_attempt.cpp one generation
// attempt (generator, placement, restart) and job_component.cpp the rest of a
// component (commit, QA, merge, retry, drop).

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "actors/job_supervisor.hpp"
#include "actors/watched_request.hpp"
#include "logic/supervision.hpp"

namespace grove::actors::job_flow {

/// How long one step (a request to a worktree, the journal, QA, the
/// integrator...) may take: kept by the job's step_watch (watched_request.hpp).
constexpr auto step_timeout = std::chrono::minutes{2};

/// How long past an attempt's deadline a generator may take to report that
/// its model call timed out before it counts as hung.
constexpr auto generator_grace = std::chrono::seconds{2};

/// Where a component stands in the job.
enum class phase { queued, leasing, generating, committing, checking, merging, rebasing, resolving, closing, done };

/// Rebases of one component before it is dropped: each follows a landing of
/// another job's change of the same component while this one waited.
constexpr uint32_t max_rebases = 16;

/// One component of the job, in plan order.
struct component_slot {
  messages::component_spec spec;
  messages::component_report report;
  phase at = phase::queued;
  messages::stage outcome = messages::stage::unknown; ///< landed, cached or dropped once settled
  std::vector<messages::violation> feedback;
  bool use_cache = true;
  std::string current;  ///< the library's version being edited (action edit)
  uint64_t gen_seq = 0; ///< identifies the live attempt; stale answers are ignored
  generator_actor gen;  ///< the live generator, if any
  std::string node;     ///< where the current attempt runs
  std::optional<worktree_actor> wt;
  bool wt_opened = false;
  std::string base; ///< the main commit the worktree's branch started from (after a rebase: the one it is on)
  bool leased = false;
  uint32_t lane = 0;                  ///< its worktree and branch among parallel edits (the lease's lane)
  std::string resolution_key;         ///< the conflict its artifact resolves (git::conflict_key); empty: none
  bool resolution_from_model = false; ///< remember the resolution once it lands
  bool from_resolver = false;         ///< the artifact is a resolver's (memory or model): no retry if QA rejects it
  bool lessons_asked = false;
  std::vector<messages::lesson> lessons;       ///< given to its generations
  std::vector<messages::violation> rejections; ///< every attempt's rejections: the lessons it teaches once it lands
  std::string artifact;
  std::chrono::steady_clock::time_point deadline{}; ///< set when its first attempt starts
  bool attempt_to_deadline = false; ///< the live attempt got what was left of a deadline: its timeout is the deadline's
};

/// A job supervisor's state (CAF stateful actor).
struct job_supervisor_state {
  job_deps deps;
  messages::plan plan;
  bool fresh = false; ///< every component regenerated (`grove build --fresh`)
  std::vector<component_slot> slots;
  std::map<std::string, size_t> by_name;
  size_t next = 0;
  size_t in_flight = 0;
  size_t finished = 0;
  /// One_for_one over generators: a generator's child spec (transient) with the job's intensity and backoff.
  std::optional<logic::supervision::restart_policy> restarts;
  std::mt19937_64 rng{std::random_device{}()};
  /// A lost node takes all its generators down at once: one failure toward
  /// the restart intensity, not one per generator (node, when counted).
  std::map<std::string, std::chrono::steady_clock::time_point> node_failures;
  caf::typed_response_promise<messages::job_report> promise;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point deadline; ///< the job's wall-clock deadline
  bool deadline_passed = false;
  std::string failure;
  std::string budget_error; ///< the first call a spending limit refused: the job's error unless it failed otherwise
  bool cancelled = false;
  bool composing = false;
  bool finishing = false;
  std::string output;
  std::string composition_commit;
  step_watch watch; ///< the deadlines of the requests out (watched_request.hpp)
  static inline const char* name = "job_supervisor";
};

using self_ptr = job_supervisor_actor::stateful_pointer<job_supervisor_state>;

// Telemetry and small helpers (job_supervisor.cpp).
void emit(self_ptr self, const std::string& component, messages::stage stage, uint32_t attempt = 0,
          bool cache_hit = false, std::string detail = {});
std::string join(const std::vector<messages::violation>& vs);
bool on_main(const component_slot& s);

// The journal (job_supervisor.cpp): `next` runs once the entry is on disk; a
// failed write calls `on_fail`, by default failing the job.
void journaled(self_ptr self, messages::journal_entry e, std::function<void()> next,
               std::function<void(std::string)> on_fail = {});
void journal_note(self_ptr self, messages::journal_entry e);
messages::journal_entry component_entry(self_ptr self, const component_slot& s, const std::string& state,
                                        const std::string& commit = {});

// The job (job_supervisor.cpp).
void start(self_ptr self, messages::plan p);
void pump(self_ptr self);
void lease(self_ptr self, size_t idx);
void compose(self_ptr self);
void finish(self_ptr self);

// One attempt (job_attempt.cpp).
void spawn_attempt(self_ptr self, size_t idx);
void on_crash(self_ptr self, size_t idx, const std::string& why, bool node_lost = false);

// One component (job_component.cpp).
std::chrono::milliseconds time_left(self_ptr self, size_t idx); ///< to the component's or the job's deadline
std::string deadline_passed(self_ptr self, size_t idx);         ///< which deadline ended it, with its figure
void open_worktree(self_ptr self, size_t idx);
void commit(self_ptr self, size_t idx);
void check(self_ptr self, size_t idx, std::string commit);
void merge(self_ptr self, size_t idx, std::string commit);
/// Retries, or drops past max_attempts or a deadline (`at_deadline`: the attempt ended with one).
void reject(self_ptr self, size_t idx, std::vector<messages::violation> violations, bool at_deadline = false);
void timed_out(self_ptr self, size_t idx, std::string why);
void drop(self_ptr self, size_t idx, std::string why);
void close_slot(self_ptr self, size_t idx, messages::stage outcome);
void settle(self_ptr self, size_t idx, messages::stage outcome);
void fail_job(self_ptr self, std::string why);

// Lessons (job_lessons.cpp): what a landed component's rejections teach, and how its lessons did.
void learn_from(self_ptr self, size_t idx, messages::stage outcome);

// A branch main changed under (job_rebase.cpp): rebase it, resolve a
// conflict (memory, then the router's resolver), QA and merge again.
void rebase(self_ptr self, size_t idx);
/// After the component landed: a model's resolution is remembered.
void remember_landed_resolution(self_ptr self, size_t idx);

} // namespace grove::actors::job_flow
