#include "actors/qa_agent.hpp"

#include <caf/all.hpp>

#include "logic/qa_rules.hpp"
#include "logic/review.hpp"
#include "messages/secrets.hpp"

namespace grove::actors {

qa_actor::behavior_type qa_agent(qa_actor::pointer, std::string review_mode) {
  return {
    [review_mode](const messages::qa_request& req) {
      messages::qa_verdict v;
      v.component = req.component;
      v.violations = logic::qa::check_artifact(req.artifact, req.component, messages::registered_secrets());
      // The reviewer reads what passed the rules: a component it can trust to be one.
      if (v.violations.empty() && review_mode != "off") {
        v.reviewer = "builtin";
        messages::component_spec spec{req.component, req.description};
        for (auto& f : logic::review::review_artifact(spec, req.artifact)) {
          bool error = f.level == logic::review::severity::error;
          if (error && review_mode == "blocking") {
            // A rejection like a rule's: its advice goes into the retry's prompt.
            v.violations.push_back({f.code, f.message + ". Advice: " + f.advice});
          }
          v.findings.push_back({f.code, error ? "error" : "warning", f.message, f.advice});
        }
      }
      v.pass = v.violations.empty();
      return v;
    },
  };
}

} // namespace grove::actors
