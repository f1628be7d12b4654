#pragma once

#include <filesystem>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"

namespace grove::actors {

/// What a job supervisor works with: node-level actors and the settings.
struct job_deps {
  customer_actor customer;
  router_actor router;
  qa_actor qa;
  integrator_actor integrator;
  telemetry_actor telemetry;
  lease_actor leases;                ///< optional: without it, names are not coordinated across jobs
  journal_actor journal;             ///< optional: without it, nothing survives a crash
  lessons_actor lessons;             ///< optional: the memory of past mistakes given to new generations
  generator_factory spawn_generator; ///< attempts answered from the cache, and every attempt without a cluster
  cluster_actor placement;           ///< optional: model-bound attempts get their generator on a node it picks
  std::string node_name = "local";   ///< this node, in reports and events
  std::filesystem::path repo;
  config::settings settings;
};

/// Drives one job: plan (unless given), then for every component (at most
/// `parallel` at once) generator -> worktree commit -> QA -> integrator, with
/// QA rejections retried with feedback up to `max_attempts` and crashed
/// generators restarted (one_for_one, backoff with jitter, at most
/// `restart.intensity` restarts per `restart.period_ms`, else the job fails
/// cleanly). Composes the page from what landed, answers the job_start
/// request with the report, and quits. Does no git and no model calls.
job_supervisor_actor spawn_job_supervisor(caf::actor_system& sys, job_deps deps);

} // namespace grove::actors
