#include "actors/qa_agent.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/service_call.hpp"
#include "logic/prompts.hpp"
#include "logic/qa_rules.hpp"
#include "logic/review.hpp"
#include "messages/clock.hpp"
#include "messages/secrets.hpp"

namespace grove::actors {

namespace {

// Records a finding; in blocking mode an error one is also a violation.
void add(messages::qa_verdict& v, const std::string& mode, messages::review_finding f) {
  if (f.severity == "error" && mode == "blocking") {
    v.violations.push_back({f.code, f.message + ". Advice: " + f.advice}); // its advice reaches the retry's prompt
  }
  v.findings.push_back(std::move(f));
}

// `parts`: what the rules checked (they passed, so the artifact is a component with its html).
void builtin_review(messages::qa_verdict& v, const std::string& mode, const messages::qa_request& req,
                    const logic::qa::artifact_parts& parts) {
  if (v.reviewer.empty()) v.reviewer = "builtin";
  messages::component_spec spec{req.component, req.description};
  for (auto& f : logic::review::review(spec, parts.html, parts.css)) {
    add(v, mode, {f.code, f.level == logic::review::severity::error ? "error" : "warning", f.message, f.advice});
  }
}

// A model's verdict (already checked against the review schema by the router).
void model_review(messages::qa_verdict& v, const std::string& mode, const messages::model_reply& reply) {
  v.reviewer = reply.provider;
  auto doc = nlohmann::json::parse(reply.text, nullptr, false);
  for (auto& f : doc.value("findings", nlohmann::json::array())) {
    add(v, mode,
        {f.value("code", ""), f.value("severity", ""), messages::redact(f.value("message", "")),
         messages::redact(f.value("advice", ""))});
  }
  // "pass": false with no error finding still fails in blocking mode, with a reason.
  if (!doc.value("pass", true) && mode == "blocking" && v.violations.empty()) {
    add(v, mode,
        {"review_failed", "error", "the reviewer failed the component without an error finding",
         "follow the reviewer's warnings"});
  }
}

} // namespace

qa_actor::behavior_type qa_agent(qa_actor::pointer self, qa_config cfg) {
  return {
    [self, cfg](const messages::qa_request& req) -> caf::result<messages::qa_verdict> {
      messages::qa_verdict v;
      v.component = req.component;
      logic::qa::artifact_parts parts;
      v.violations = logic::qa::check_artifact(req.artifact, req.component, messages::registered_secrets(), &parts);
      // The reviewer reads what passed the rules: a component it can trust to be one.
      if (!v.violations.empty() || cfg.review_mode == "off") {
        v.pass = v.violations.empty();
        return v;
      }
      if (!cfg.router) {
        builtin_review(v, cfg.review_mode, req, parts);
        v.pass = v.violations.empty();
        return v;
      }
      messages::model_request call;
      call.role = "review";
      call.job = req.job;
      call.spec = {req.component, req.description};
      call.current = req.artifact;
      call.deadline_ms = messages::now_ms() + cfg.timeout.count();
      call.prompt = logic::prompts::review_prompt(call.spec, req.artifact);
      auto rp = self->make_response_promise<messages::qa_verdict>();
      auto mode = cfg.review_mode;
      ask_service(
        self, cfg.router, cfg.timeout, std::move(call),
        [rp, v, mode](const messages::model_reply& reply) mutable {
          model_review(v, mode, reply);
          v.pass = v.violations.empty();
          rp.deliver(std::move(v));
        },
        [self, rp, v, mode, req, parts = std::move(parts), timeout = cfg.timeout](caf::error& err) mutable {
          // Bounded and reported, never blocking: the builtin reviews instead.
          auto why = err == caf::sec::request_timeout ? "no verdict within " + std::to_string(timeout.count()) + " ms"
                                                      : self->system().render(err);
          v.reviewer = "builtin (model reviewer unavailable)";
          v.findings.push_back({"reviewer_unavailable", "warning", "the model reviewer gave no usable verdict: " + why,
                                "check the review route's provider; the builtin reviewer reviewed instead"});
          builtin_review(v, mode, req, parts);
          v.pass = v.violations.empty();
          rp.deliver(std::move(v));
        });
      return rp;
    },
  };
}

} // namespace grove::actors
