#pragma once

#include <functional>
#include <optional>

#include "actors/interfaces.hpp"
#include "messages/errors.hpp"

namespace grove::actors {

/// How the registry starts a job supervisor.
using job_spawner = std::function<job_supervisor_actor()>;

/// Why a submitted job is refused before it is queued (the server's daily
/// budget is spent and the job needs a model), or none.
using job_admission = std::function<std::optional<messages::failure>(const messages::job_start&)>;

/// Limits of a node's registry.
struct registry_limits {
  uint32_t max_jobs_in_flight = 16; ///< beyond it: jobs wait in the queue
  uint32_t max_queued = 1024;       ///< waiting jobs; beyond it: submit fails with `busy`
  uint32_t history = 200;           ///< finished jobs kept for status and the dashboard
};

/// The jobs of a node (grove serve): starts each submitted job under its own
/// job supervisor, keeps where every job stands (from the event bus), fans
/// events and final reports out to subscribers (one job, or "*" for all),
/// cancels on request, and drains for a graceful shutdown. Subscribe it to
/// the telemetry actor. Jobs beyond `max_jobs_in_flight` wait in a fair
/// queue (logic::fair_queue, one line per submitting sink) and hear
/// `queued` events with their position; with a `journal` they are recorded
/// as queued, so a restart resumes them. `admit`, when set, may refuse a
/// submission (its failure's code and message go to the client).
job_registry_actor spawn_job_registry(caf::actor_system& sys, job_spawner spawn, registry_limits limits,
                                      journal_actor journal = {}, job_admission admit = {});

} // namespace grove::actors
