#pragma once

// Plans and jobs: what the customer agent produces and what starts or stops a job.
// Plain structs with a CAF 0.17 `inspect`, registered in registry.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace grove::messages {

/// One component the customer agent asked for.
struct component_spec {
  std::string name;        ///< normalised, `[a-z0-9_]{1,48}`
  std::string description; ///< free text for the generator
  /// `create`: the library's copy when it has one (a cache hit); `regenerate`: a new version whatever the
  /// library holds; `edit`: `instruction` applied to the library's current version.
  std::string action = "create";
  std::string instruction{}; ///< what to change (action edit)
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

/// One finding of the reviewer in the QA gate (logic/review.hpp).
struct review_finding {
  std::string code; ///< stable: purpose_login, input_label, img_alt, button_text, heading_order, root_class, contrast
  std::string severity; ///< error or warning
  std::string message;
  std::string advice;
  bool operator==(const review_finding&) const = default;
};
/// A lesson from past mistakes (infra/journal/lessons.hpp), as a generator's prompt carries it.
struct lesson {
  int64_t id = 0;
  std::string kind;   ///< the kind of component it was learned on ("login form")
  std::string code;   ///< the violation code
  std::string what;   ///< what went wrong
  std::string advice; ///< what fixed it
  int64_t strength = 0;
  bool retired = false;
  std::string matched; ///< how it was recalled: "words" (FTS5) or "embeddings 0.87"; empty in listings
  bool operator==(const lesson&) const = default;
};

/// Ask a job supervisor to run a job: from a request, or from a ready plan.
struct job_start {
  std::string request;
  bool has_plan = false;
  plan ready_plan;
  std::string job;    ///< the job id to use; empty: a fresh one
  bool fresh = false; ///< every component of the plan regenerated (`grove build --fresh`)
  bool operator==(const job_start&) const = default;
};

/// Ask a job supervisor to stop: in-flight components are dropped and the
/// repository is left clean; the report says "cancelled".
struct job_cancel {
  std::string reason;
  bool deadline = false; ///< the job's own deadline passed: it ends partial or failed, not cancelled
  bool operator==(const job_cancel&) const = default;
};

/// Ask the customer agent for a plan.
struct plan_request {
  std::string job;
  std::string request;
  bool operator==(const plan_request&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_spec& x) {
  return f(caf::meta::type_name("component_spec"), x.name, x.description, x.action, x.instruction);
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
typename Inspector::result_type inspect(Inspector& f, lesson& x) {
  return f(caf::meta::type_name("lesson"), x.id, x.kind, x.code, x.what, x.advice, x.strength, x.retired,
           x.matched);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, review_finding& x) {
  return f(caf::meta::type_name("review_finding"), x.code, x.severity, x.message, x.advice);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_start& x) {
  return f(caf::meta::type_name("job_start"), x.request, x.has_plan, x.ready_plan, x.job, x.fresh);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_cancel& x) {
  return f(caf::meta::type_name("job_cancel"), x.reason, x.deadline);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_request& x) {
  return f(caf::meta::type_name("plan_request"), x.job, x.request);
}

} // namespace grove::messages
