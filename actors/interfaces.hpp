#pragma once

// Typed interfaces of every grove actor: one line per handler. Included by
// actor implementations and the runtime wiring only (CAF headers are heavy).

#include <functional>
#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/types.hpp"

namespace grove::actors {

using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using make_gen_atom = caf::atom_constant<caf::atom("makegen")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
using step_timer_atom = caf::atom_constant<caf::atom("steptimer")>;

/// Receives telemetry events (CLI progress printer, gateway sessions).
using event_sink_actor = caf::typed_actor<caf::reacts_to<messages::telemetry_event>>; // one event, never answered

/// The event bus.
using telemetry_actor =
  caf::typed_actor<caf::reacts_to<messages::telemetry_event>,                    // record and fan out
                   caf::reacts_to<subscribe_atom, event_sink_actor>,             // add a sink
                   caf::replies_to<stats_atom>::with<messages::telemetry_stats>, // counters so far
                   caf::replies_to<metrics_atom>::with<std::string>>;            // Prometheus text

/// The only path to a model.
using router_actor =
  caf::typed_actor<caf::replies_to<messages::model_request>::with<messages::model_reply>, // route, call, answer
                   caf::reacts_to<messages::provider_done>,                               // a provider call came back
                   caf::reacts_to<messages::router_retry>,                                // a backoff elapsed
                   caf::replies_to<messages::usage_request>::with<messages::job_usage>>;  // what a job used

/// Request text to a validated plan.
using customer_actor = caf::typed_actor<caf::replies_to<messages::plan_request>::with<messages::plan>>;

/// One attempt at one component: cache, else the router.
using generator_actor =
  caf::typed_actor<caf::replies_to<messages::generate_request>::with<messages::generation_result>,
                   caf::reacts_to<step_timer_atom>>; // its model call may be due (watched_request.hpp)

/// Owns one component's branch and worktree.
using worktree_actor =
  caf::typed_actor<caf::replies_to<messages::worktree_open>::with<std::string>,   // create; its base commit
                   caf::replies_to<messages::worktree_commit>::with<std::string>, // commit; the commit id
                   caf::replies_to<messages::worktree_rebase>::with<messages::rebase_outcome>, // over main
                   caf::replies_to<messages::worktree_remove>::with<bool>>; // prune and delete branch

/// The memory of past mistakes (infra/journal/lessons.hpp).
using lessons_actor =
  caf::typed_actor<caf::replies_to<messages::lessons_request>::with<std::vector<messages::lesson>>, // for a spec
                   caf::reacts_to<messages::lesson_learned>,                                        // learn one
                   caf::reacts_to<messages::lesson_outcome>>; // how a generation given lessons did

/// The QA gate.
using qa_actor = caf::typed_actor<caf::replies_to<messages::qa_request>::with<messages::qa_verdict>>;

/// The only writer of main: queues merges, commits files on main, lands the
/// queue on flush, and reads a composed page back for the gateway.
using integrator_actor =
  caf::typed_actor<caf::replies_to<messages::merge_request>::with<messages::merge_result>,
                   caf::replies_to<messages::commit_files_request>::with<messages::commit_files_result>,
                   caf::replies_to<messages::page_request>::with<std::string>, caf::reacts_to<flush_atom>>;

/// Builds the page of one job.
using composer_actor = caf::typed_actor<caf::replies_to<messages::compose_request>::with<messages::compose_result>>;

/// Receives a job's events and, at the end, its report (gateway sessions).
using job_sink_actor = caf::typed_actor<caf::reacts_to<messages::telemetry_event>, // progress
                                        caf::reacts_to<messages::job_report>>;     // the end

/// The jobs of a node: submit, follow, cancel.
using job_registry_actor = caf::typed_actor<
  caf::replies_to<messages::submit_job, job_sink_actor>::with<std::string>, // start, the sink (may be null) follows it;
                                                                            // the job id
  caf::replies_to<subscribe_atom, std::string, job_sink_actor>::with<bool>, // follow one job ("*": all)
  caf::replies_to<messages::status_request>::with<messages::status_reply>,  // where jobs stand
  caf::replies_to<messages::cancel_job>::with<bool>,                        // stop one
  caf::reacts_to<messages::telemetry_event>,                                // from the event bus
  caf::reacts_to<messages::job_status>,                                     // remember a job finished before a restart
  caf::reacts_to<flush_atom, std::string>,        // send a held report whose last event did not come
  caf::replies_to<drain_atom, bool>::with<bool>>; // stop taking jobs (cancel the rest?); answered when idle

/// The job journal (SQLite, detached): acknowledges each write once durable.
using journal_actor = caf::typed_actor<caf::replies_to<messages::journal_entry>::with<bool>, // write; true when on disk
                                       caf::reacts_to<flush_atom>>; // commit the queued writes as one transaction

/// Exclusive use of component names across the jobs of a node.
using lease_actor = caf::typed_actor<caf::replies_to<messages::lease_acquire>::with<uint32_t>, // once granted: the lane
                                     caf::reacts_to<messages::lease_release>>;                 // give it back

/// Drives one job through its lifecycle.
using job_supervisor_actor =
  caf::typed_actor<caf::replies_to<messages::job_start>::with<messages::job_report>, // run; the report at the end
                   caf::reacts_to<messages::generator_restart>,                      // backoff elapsed
                   caf::reacts_to<messages::job_cancel>,                             // stop, leave the repository clean
                   caf::reacts_to<step_timer_atom>>; // a step may be due (watched_request.hpp)

/// A node's generator host: spawns generators on its node, each calling that
/// node's own router (its providers, its keys). Handles cross nodes as
/// `caf::actor` (a generator_actor).
using worker_actor =
  caf::typed_actor<caf::replies_to<make_gen_atom>::with<caf::actor>,                     // a new generator
                   caf::replies_to<probe_atom>::with<uint32_t>,                          // alive; generators running
                   caf::replies_to<messages::usage_request>::with<messages::job_usage>>; // what a job used here

/// The serving node's view of the cluster: who joined, and where the next
/// generator runs (by free capacity; cached attempts never come here).
using cluster_actor = caf::typed_actor<
  caf::replies_to<messages::node_hello, caf::actor>::with<std::string, caf::actor>, // join with a worker_actor;
                                                                                    // serving node's name, telemetry
  caf::replies_to<messages::placement_request>::with<caf::actor, std::string>,      // a generator and its node
  caf::replies_to<nodes_atom>::with<std::vector<messages::node_info>>,              // every node, for people
  caf::replies_to<messages::usage_request>::with<messages::job_usage>,              // what a job used on the workers
  caf::reacts_to<probe_atom>>;                                                      // its own tick

/// Spawns one generator for an attempt (a child spec's start function);
/// tests substitute generators that crash.
using generator_factory = std::function<generator_actor(caf::local_actor* parent)>;

} // namespace grove::actors
