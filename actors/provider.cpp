#include "actors/provider.hpp"

#include "actors/planner.hpp"
#include "actors/templates.hpp"
#include "messages/codec.hpp"

namespace grove::actors {

namespace {

class builtin_provider final : public provider {
public:
  std::string name() const override { return "builtin"; }

  messages::result<messages::model_reply> complete(const messages::model_request& req) override {
    messages::model_reply reply;
    reply.provider = name();
    if (req.role == "plan") {
      messages::plan p;
      p.session_id = req.job.empty() ? messages::new_session_id() : req.job;
      p.request = req.request;
      p.components = builtin::plan_components(req.request);
      reply.text = messages::plan_to_text(p);
    } else if (req.role == "generate") {
      reply.text = builtin::component_json(req.spec.name, builtin::render_component(req.spec));
    } else {
      return messages::make_failure(messages::errc::model, "builtin provider has no role \"" + req.role + "\"");
    }
    // Token counts are estimates (4 bytes a token), kept so accounting is uniform.
    reply.tokens_in = req.prompt.size() / 4;
    reply.tokens_out = reply.text.size() / 4;
    return reply;
  }
};

} // namespace

std::shared_ptr<provider> make_builtin_provider() {
  return std::make_shared<builtin_provider>();
}

} // namespace grove::actors
