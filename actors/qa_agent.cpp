#include "actors/qa_agent.hpp"

#include <caf/all.hpp>

#include "logic/qa_rules.hpp"
#include "messages/secrets.hpp"

namespace grove::actors {

qa_actor::behavior_type qa_agent(qa_actor::pointer) {
  return {
    [](const messages::qa_request& req) {
      messages::qa_verdict v;
      v.component = req.component;
      v.violations = logic::qa::check_artifact(req.artifact, req.component, messages::registered_secrets());
      v.pass = v.violations.empty();
      return v;
    },
  };
}

} // namespace grove::actors
