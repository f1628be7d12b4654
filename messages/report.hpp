#pragma once

// Telemetry, reports, job status, the registry and the journal.
// Plain structs with a CAF 0.17 `inspect`, registered in registry.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/plan.hpp"
#include "messages/model.hpp"
#include "messages/vocabulary.hpp"

namespace grove::messages {

/// One thing that happened, for the event bus.
struct telemetry_event {
  std::string job;
  std::string component; ///< empty for job-level events
  messages::stage stage = messages::stage::unknown;
  uint32_t attempt = 0;
  bool cache_hit = false;
  std::string detail;
  int64_t ts_ms = 0;
  std::string provider; ///< model events: which provider answered
  int32_t http_status = 0;
  int64_t latency_ms = 0; ///< model calls and merges
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  std::string node; ///< where the work ran
  double cost_usd = 0; ///< model events: what the call cost at its provider's prices
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
  uint64_t service_restarts = 0; ///< node services restarted by the node supervisor
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
  std::vector<std::string> nodes;         ///< the node of each attempt and restart, in order
  std::string action = "create";          ///< the plan's action for it: create or regenerate
  uint32_t version = 0;                   ///< the version that landed or was found in the library (0: none)
  uint32_t rebases = 0;                   ///< times its branch was rebased onto a main that another job changed
  std::string conflict{};                 ///< the last conflict met on a rebase (fields, the other job); empty: none
  std::string resolved_by{};              ///< who resolved it: builtin (both insertions), memory, or a provider
  std::vector<review_finding> findings{}; ///< the reviewer's findings on its last checked attempt
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
  messages::stage stage = messages::stage::unknown;
  uint32_t attempt = 0;
  uint32_t restarts = 0;
  bool cache_hit = false;
  std::string detail;
  std::string node;
  int64_t started_ms = 0;
  int64_t updated_ms = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  double cost_usd = 0;
  bool operator==(const component_status&) const = default;
};

/// Where one job stands; `finished` jobs carry their report.
struct job_status {
  std::string job;
  std::string request;
  messages::job_state state = messages::job_state::queued;
  int64_t started_ms = 0;
  int64_t updated_ms = 0;
  std::vector<component_status> components;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  double cost_usd = 0;
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
/// What a journal entry records (the journal's typed record kinds).
enum class journal_record : uint8_t {
  begin,     ///< a job was accepted (text: its request)
  plan,      ///< its plan (text: plan JSON, names: the components)
  state,     ///< a job state change (state)
  finish,    ///< the end (state: the final state, text: the report JSON)
  component, ///< a component's state (names[0], state, attempts, commit)
};

/// The record kind's name, for messages.
const char* to_string(journal_record x);

struct journal_entry {
  journal_record kind = journal_record::begin;
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
typename Inspector::result_type inspect(Inspector& f, telemetry_event& x) {
  return f(caf::meta::type_name("telemetry_event"), x.job, x.component, x.stage, x.attempt, x.cache_hit, x.detail,
           x.ts_ms, x.provider, x.http_status, x.latency_ms, x.tokens_in, x.tokens_out, x.node, x.cost_usd);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, telemetry_stats& x) {
  return f(caf::meta::type_name("telemetry_stats"), x.events, x.errors, x.landed, x.dropped, x.cache_hits, x.qa_retries,
           x.restarts, x.service_restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_report& x) {
  return f(caf::meta::type_name("component_report"), x.name, x.status, x.attempts, x.restarts, x.corrections,
           x.cache_hit, x.commit, x.violations, x.error, x.nodes, x.action, x.version, x.rebases, x.conflict,
           x.resolved_by, x.findings);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_report& x) {
  return f(caf::meta::type_name("job_report"), x.job, x.request, x.status, x.components, x.output, x.composition_commit,
           x.elapsed_ms, x.error, x.model_usage);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_status& x) {
  return f(caf::meta::type_name("component_status"), x.name, x.stage, x.attempt, x.restarts, x.cache_hit, x.detail,
           x.node, x.started_ms, x.updated_ms, x.tokens_in, x.tokens_out, x.cost_usd);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_status& x) {
  return f(caf::meta::type_name("job_status"), x.job, x.request, x.state, x.started_ms, x.updated_ms, x.components,
           x.tokens_in, x.tokens_out, x.cost_usd, x.errors, x.finished, x.report);
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
