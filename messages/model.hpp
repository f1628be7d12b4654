#pragma once

// Model calls through the router, their usage, and generation attempts.
// Plain structs with a CAF 0.17 `inspect`, registered in registry.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/plan.hpp"

namespace grove::messages {

/// One call to a model through the router.
struct model_request {
  std::string role; ///< plan, generate, edit, review, resolve
  std::string job;
  std::string prompt;
  std::string request; ///< the user's request (role plan)
  component_spec spec; ///< the component (roles generate and edit)
  uint32_t attempt = 0;
  std::vector<violation> feedback;
  int64_t deadline_ms = 0; ///< wall clock (ms since the epoch) after which no call starts or goes on; 0: none
  std::string current{};   ///< the library's version of the component (role edit)
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
  int64_t deadline_ms = 0;       ///< the attempt's wall-clock deadline (ms since the epoch); 0: none
  std::string current{};         ///< the library's version of the component (action edit)
  std::vector<lesson> lessons{}; ///< past mistakes and their advice, for the prompt
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
  bool timed_out = false;            ///< no answer before the deadline: the attempt is spent, nothing crashed
  std::vector<violation> violations; ///< why an answer was refused where it was made (`ok == false`): secret_leak
  bool over_budget = false;          ///< the router refused the call: a spending limit is reached (no retry)
  bool operator==(const generation_result&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_request& x) {
  return f(caf::meta::type_name("model_request"), x.role, x.job, x.prompt, x.request, x.spec, x.current, x.attempt,
           x.feedback, x.deadline_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_reply& x) {
  return f(caf::meta::type_name("model_reply"), x.provider, x.text, x.tokens_in, x.tokens_out, x.corrections);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_done& x) {
  return f(caf::meta::type_name("provider_done"), x.call, x.ok, x.reply, x.error, x.http_status, x.retryable,
           x.retry_after_ms, x.latency_ms);
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
  return f(caf::meta::type_name("usage"), x.provider, x.requests, x.failures, x.tokens_in, x.tokens_out, x.cost_usd);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_usage& x) {
  return f(caf::meta::type_name("job_usage"), x.total, x.by_provider);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generate_request& x) {
  return f(caf::meta::type_name("generate_request"), x.job, x.spec, x.attempt, x.feedback, x.use_cache, x.deadline_ms,
           x.current, x.lessons);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_result& x) {
  return f(caf::meta::type_name("generation_result"), x.component, x.attempt, x.ok, x.cache_hit, x.artifact, x.prompt,
           x.provider, x.error, x.corrections, x.timed_out, x.violations, x.over_budget);
}

} // namespace grove::messages
