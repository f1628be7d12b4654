#pragma once

// Every message grove actors exchange: plain structs with a CAF 0.17 `inspect`
// so they serialise and can cross nodes. Registered in registry.cpp.
// Only caf/meta/type_name.hpp is included here: this header is everywhere.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace grove::messages {

/// One component the customer agent asked for.
struct component_spec {
  std::string name;        ///< normalised, `[a-z0-9_]{1,48}`
  std::string description; ///< free text for the generator
  bool operator==(const component_spec&) const = default;
};

/// The customer agent's output: a validated plan.
struct plan {
  std::string session_id;
  std::string request;
  std::vector<component_spec> components;
  bool operator==(const plan&) const = default;
};

/// One QA rule broken: a stable code and a human message.
struct violation {
  std::string code;
  std::string message;
  bool operator==(const violation&) const = default;
};

/// Ask a job supervisor to run a job: from a request, or from a ready plan.
struct job_start {
  std::string request;
  bool has_plan = false;
  plan ready_plan;
  std::string job; ///< the job id to use; empty: a fresh one
  bool operator==(const job_start&) const = default;
};

/// Ask a job supervisor to stop: in-flight components are dropped and the
/// repository is left clean; the report says "cancelled".
struct job_cancel {
  std::string reason;
  bool operator==(const job_cancel&) const = default;
};

/// Ask for the exclusive use of a component name on this node; answered
/// (true) once no other job holds it. Two jobs never share a worktree.
struct lease_acquire {
  std::string component;
  std::string job;
  bool operator==(const lease_acquire&) const = default;
};

/// Give a component name back.
struct lease_release {
  std::string component;
  std::string job;
  bool operator==(const lease_release&) const = default;
};

/// Ask the customer agent for a plan.
struct plan_request {
  std::string job;
  std::string request;
  bool operator==(const plan_request&) const = default;
};

/// One call to a model through the router.
struct model_request {
  std::string role; ///< plan, generate, review, resolve
  std::string job;
  std::string prompt;
  std::string request;  ///< the user's request (role plan)
  component_spec spec;  ///< the component (role generate)
  uint32_t attempt = 0;
  std::vector<violation> feedback;
  bool operator==(const model_request&) const = default;
};

/// A model's answer.
struct model_reply {
  std::string provider;
  std::string text;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  uint32_t corrections = 0; ///< re-asks after invalid JSON or schema errors
  bool operator==(const model_reply&) const = default;
};

/// Internal to the router: what one provider call came back with.
struct provider_done {
  uint64_t call = 0;
  bool ok = false;
  model_reply reply;
  std::string error;
  int32_t http_status = 0;
  bool retryable = false;
  int64_t retry_after_ms = -1;
  int64_t latency_ms = 0;
  bool operator==(const provider_done&) const = default;
};

/// Internal to the router: a backoff elapsed, try the call again.
struct router_retry {
  uint64_t call = 0;
  bool operator==(const router_retry&) const = default;
};

/// Ask the router what a job has used.
struct usage_request {
  std::string job;
  bool operator==(const usage_request&) const = default;
};

/// Tokens, requests and estimated cost, for one provider or in total.
struct usage {
  std::string provider; ///< empty for a total
  uint64_t requests = 0;
  uint64_t failures = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  double cost_usd = 0;
  bool operator==(const usage&) const = default;
};

/// What a job used, in total and per provider.
struct job_usage {
  usage total;
  std::vector<usage> by_provider;
  bool operator==(const job_usage&) const = default;
};

/// Ask a generator for one component.
struct generate_request {
  std::string job;
  component_spec spec;
  uint32_t attempt = 1;
  std::vector<violation> feedback; ///< the previous rejection, if any
  bool use_cache = true;
  bool operator==(const generate_request&) const = default;
};

/// A generator's answer; `ok == false` is a generation failure, not a crash.
struct generation_result {
  std::string component;
  uint32_t attempt = 0;
  bool ok = false;
  bool cache_hit = false;
  std::string artifact; ///< component JSON text
  std::string prompt;   ///< what was sent to the model (empty on a cache hit)
  std::string provider;
  std::string error;
  uint32_t corrections = 0;
  bool operator==(const generation_result&) const = default;
};

/// Ask a worktree actor to create its branch and worktree.
struct worktree_open {
  std::string base_commit; ///< empty: the current `main`
  bool operator==(const worktree_open&) const = default;
};

/// Ask a worktree actor to write and commit an artifact; replies the commit id.
struct worktree_commit {
  std::string artifact;
  uint32_t attempt = 0;
  bool operator==(const worktree_commit&) const = default;
};

/// Ask a worktree actor to prune its worktree and delete its branch.
struct worktree_remove {
  bool merged = false;
  bool operator==(const worktree_remove&) const = default;
};

/// Ask the QA agent to check an artifact.
struct qa_request {
  std::string component;
  std::string artifact;
  bool operator==(const qa_request&) const = default;
};

/// The QA agent's verdict.
struct qa_verdict {
  std::string component;
  bool pass = false;
  std::vector<violation> violations;
  bool operator==(const qa_verdict&) const = default;
};

/// Ask the integrator to merge a component's commit into `main`.
struct merge_request {
  std::string component;
  std::string commit;
  std::string base; ///< the main commit the branch started from (empty: unknown)
  bool operator==(const merge_request&) const = default;
};

/// The merge commit that landed a component on `main`.
struct merge_result {
  std::string component;
  std::string merge_commit;
  uint32_t batch_size = 0;
  bool operator==(const merge_result&) const = default;
};

/// One file written by a direct commit on `main`.
struct file_entry {
  std::string path;
  std::string content;
  bool operator==(const file_entry&) const = default;
};

/// Ask the integrator to commit files on `main` (the composer's page).
struct commit_files_request {
  std::string message;
  std::vector<file_entry> files;
  bool operator==(const commit_files_request&) const = default;
};

/// The commit made, or `changed == false` when `main` already held the files.
struct commit_files_result {
  std::string commit;
  bool changed = false;
  bool operator==(const commit_files_result&) const = default;
};

/// Ask the composer to build the page from landed components, in plan order.
struct compose_request {
  std::string job;
  std::string request;
  std::vector<std::string> artifacts;
  bool operator==(const compose_request&) const = default;
};

/// Where the page is and which commit holds it.
struct compose_result {
  std::string path;
  std::string commit;
  bool changed = false;
  bool operator==(const compose_result&) const = default;
};

/// One thing that happened, for the event bus.
struct telemetry_event {
  std::string job;
  std::string component; ///< empty for job-level events
  std::string stage;
  uint32_t attempt = 0;
  bool cache_hit = false;
  std::string detail;
  int64_t ts_ms = 0;
  std::string provider;   ///< model events: which provider answered
  int32_t http_status = 0;
  int64_t latency_ms = 0; ///< model calls and merges
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  std::string node;       ///< where the work ran
  bool operator==(const telemetry_event&) const = default;
};

/// Counters kept by the telemetry actor.
struct telemetry_stats {
  uint64_t events = 0;
  uint64_t errors = 0;
  uint64_t landed = 0;
  uint64_t dropped = 0;
  uint64_t cache_hits = 0;
  uint64_t qa_retries = 0;
  uint64_t restarts = 0;
  bool operator==(const telemetry_stats&) const = default;
};

/// The outcome of one component of a job.
struct component_report {
  std::string name;
  std::string status; ///< landed, cached, dropped
  uint32_t attempts = 0;
  uint32_t restarts = 0;
  uint32_t corrections = 0; ///< schema self-corrections, apart from attempts and restarts
  bool cache_hit = false;
  std::string commit; ///< the merge commit on main (empty when cached or dropped)
  std::vector<violation> violations;
  std::string error;
  bool operator==(const component_report&) const = default;
};

/// The outcome of a job.
struct job_report {
  std::string job;
  std::string request;
  std::string status; ///< done, partial, failed
  std::vector<component_report> components;
  std::string output;
  std::string composition_commit;
  int64_t elapsed_ms = 0;
  std::string error;
  job_usage model_usage;
  bool operator==(const job_report&) const = default;
};

/// Where one component of a running job stands, for status and the dashboard.
struct component_status {
  std::string name;
  std::string stage;
  uint32_t attempt = 0;
  uint32_t restarts = 0;
  bool cache_hit = false;
  std::string detail;
  std::string node;
  int64_t started_ms = 0;
  int64_t updated_ms = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  bool operator==(const component_status&) const = default;
};

/// Where one job stands; `finished` jobs carry their report.
struct job_status {
  std::string job;
  std::string request;
  std::string state; ///< queued, planning, running, composing, done, partial, failed, cancelled
  int64_t started_ms = 0;
  int64_t updated_ms = 0;
  std::vector<component_status> components;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  std::vector<std::string> errors; ///< recent error details, newest last
  bool finished = false;
  job_report report;
  bool operator==(const job_status&) const = default;
};

/// Submit a job to the node's registry; answered with the job id, or an
/// error (`busy` beyond the jobs-in-flight limit).
struct submit_job {
  job_start start;
  bool operator==(const submit_job&) const = default;
};

/// Ask the registry about one job, or all when `job` is empty.
struct status_request {
  std::string job;
  bool operator==(const status_request&) const = default;
};

/// The registry's answer to a status_request.
struct status_reply {
  std::vector<job_status> jobs;
  bool operator==(const status_reply&) const = default;
};

/// Ask the registry to cancel a job; answered with whether it was running.
struct cancel_job {
  std::string job;
  std::string reason;
  bool operator==(const cancel_job&) const = default;
};

/// One write to the job journal. `kind`: begin (job, text = request), plan
/// (job, text = plan JSON, names), state (job, state), finish (job, state,
/// text = report JSON), component (job, names[0], state, attempts, commit).
struct journal_entry {
  std::string kind;
  std::string job;
  std::string state;
  std::string text;
  std::vector<std::string> names;
  uint32_t attempts = 0;
  std::string commit;
  bool operator==(const journal_entry&) const = default;
};

/// Internal to job_supervisor: restart a crashed generator after its backoff.
struct generator_restart {
  std::string component;
  bool operator==(const generator_restart&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_spec& x) {
  return f(caf::meta::type_name("component_spec"), x.name, x.description);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan& x) {
  return f(caf::meta::type_name("plan"), x.session_id, x.request, x.components);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, violation& x) {
  return f(caf::meta::type_name("violation"), x.code, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_start& x) {
  return f(caf::meta::type_name("job_start"), x.request, x.has_plan, x.ready_plan, x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_cancel& x) {
  return f(caf::meta::type_name("job_cancel"), x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_acquire& x) {
  return f(caf::meta::type_name("lease_acquire"), x.component, x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_release& x) {
  return f(caf::meta::type_name("lease_release"), x.component, x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_request& x) {
  return f(caf::meta::type_name("plan_request"), x.job, x.request);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_request& x) {
  return f(caf::meta::type_name("model_request"), x.role, x.job, x.prompt, x.request,
           x.spec, x.attempt, x.feedback);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_reply& x) {
  return f(caf::meta::type_name("model_reply"), x.provider, x.text, x.tokens_in,
           x.tokens_out, x.corrections);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_done& x) {
  return f(caf::meta::type_name("provider_done"), x.call, x.ok, x.reply, x.error, x.http_status,
           x.retryable, x.retry_after_ms, x.latency_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_retry& x) {
  return f(caf::meta::type_name("router_retry"), x.call);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage_request& x) {
  return f(caf::meta::type_name("usage_request"), x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage& x) {
  return f(caf::meta::type_name("usage"), x.provider, x.requests, x.failures, x.tokens_in,
           x.tokens_out, x.cost_usd);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_usage& x) {
  return f(caf::meta::type_name("job_usage"), x.total, x.by_provider);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generate_request& x) {
  return f(caf::meta::type_name("generate_request"), x.job, x.spec, x.attempt, x.feedback,
           x.use_cache);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_result& x) {
  return f(caf::meta::type_name("generation_result"), x.component, x.attempt, x.ok,
           x.cache_hit, x.artifact, x.prompt, x.provider, x.error, x.corrections);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_open& x) {
  return f(caf::meta::type_name("worktree_open"), x.base_commit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_commit& x) {
  return f(caf::meta::type_name("worktree_commit"), x.artifact, x.attempt);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_remove& x) {
  return f(caf::meta::type_name("worktree_remove"), x.merged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qa_request& x) {
  return f(caf::meta::type_name("qa_request"), x.component, x.artifact);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qa_verdict& x) {
  return f(caf::meta::type_name("qa_verdict"), x.component, x.pass, x.violations);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, merge_request& x) {
  return f(caf::meta::type_name("merge_request"), x.component, x.commit, x.base);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, merge_result& x) {
  return f(caf::meta::type_name("merge_result"), x.component, x.merge_commit, x.batch_size);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_entry& x) {
  return f(caf::meta::type_name("file_entry"), x.path, x.content);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_files_request& x) {
  return f(caf::meta::type_name("commit_files_request"), x.message, x.files);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_files_result& x) {
  return f(caf::meta::type_name("commit_files_result"), x.commit, x.changed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compose_request& x) {
  return f(caf::meta::type_name("compose_request"), x.job, x.request, x.artifacts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compose_result& x) {
  return f(caf::meta::type_name("compose_result"), x.path, x.commit, x.changed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, telemetry_event& x) {
  return f(caf::meta::type_name("telemetry_event"), x.job, x.component, x.stage, x.attempt,
           x.cache_hit, x.detail, x.ts_ms, x.provider, x.http_status, x.latency_ms, x.tokens_in,
           x.tokens_out, x.node);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, telemetry_stats& x) {
  return f(caf::meta::type_name("telemetry_stats"), x.events, x.errors, x.landed, x.dropped,
           x.cache_hits, x.qa_retries, x.restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_report& x) {
  return f(caf::meta::type_name("component_report"), x.name, x.status, x.attempts,
           x.restarts, x.corrections, x.cache_hit, x.commit, x.violations, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_report& x) {
  return f(caf::meta::type_name("job_report"), x.job, x.request, x.status, x.components,
           x.output, x.composition_commit, x.elapsed_ms, x.error, x.model_usage);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_status& x) {
  return f(caf::meta::type_name("component_status"), x.name, x.stage, x.attempt, x.restarts,
           x.cache_hit, x.detail, x.node, x.started_ms, x.updated_ms, x.tokens_in, x.tokens_out);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_status& x) {
  return f(caf::meta::type_name("job_status"), x.job, x.request, x.state, x.started_ms,
           x.updated_ms, x.components, x.tokens_in, x.tokens_out, x.errors, x.finished, x.report);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, submit_job& x) {
  return f(caf::meta::type_name("submit_job"), x.start);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_request& x) {
  return f(caf::meta::type_name("status_request"), x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_reply& x) {
  return f(caf::meta::type_name("status_reply"), x.jobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_job& x) {
  return f(caf::meta::type_name("cancel_job"), x.job, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_entry& x) {
  return f(caf::meta::type_name("journal_entry"), x.kind, x.job, x.state, x.text, x.names, x.attempts, x.commit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generator_restart& x) {
  return f(caf::meta::type_name("generator_restart"), x.component);
}

} // namespace grove::messages
