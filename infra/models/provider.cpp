#include "infra/models/provider.hpp"

#include <nlohmann/json.hpp>

#include "infra/models/http_provider.hpp"
#include "logic/edits.hpp"
#include "logic/planner.hpp"
#include "logic/review.hpp"
#include "logic/templates.hpp"
#include "messages/codec.hpp"

namespace grove::models {

namespace {

class builtin_provider final : public provider {
public:
  std::string name() const override { return "builtin"; }

  void complete(const messages::model_request& req, const std::string& prompt, completion done) override {
    messages::provider_done out;
    out.reply.provider = name();
    if (req.role == "plan") {
      messages::plan p;
      p.session_id = req.job.empty() ? messages::new_session_id() : req.job;
      p.request = req.request;
      p.components = logic::builtin::plan_components(req.request);
      out.reply.text = messages::plan_to_text(p);
      out.ok = true;
    } else if (req.role == "generate") {
      out.reply.text = logic::builtin::component_json(req.spec.name, logic::builtin::render_component(req.spec));
      out.ok = true;
    } else if (req.role == "edit") {
      auto edited = logic::builtin::apply_edit(req.current, req.spec.instruction);
      if (edited) {
        out.reply.text = std::move(*edited);
        out.ok = true;
      } else {
        out.error = edited.error().message;
      }
    } else if (req.role == "review") {
      // The builtin reviewer's verdict, in the review schema's shape.
      nlohmann::json findings = nlohmann::json::array();
      bool pass = true;
      for (auto& f : logic::review::review_artifact(req.spec, req.current)) {
        bool error = f.level == logic::review::severity::error;
        pass = pass && !error;
        findings.push_back(
          {{"code", f.code}, {"severity", error ? "error" : "warning"}, {"message", f.message}, {"advice", f.advice}});
      }
      out.reply.text = nlohmann::json{{"pass", pass}, {"findings", findings}}.dump();
      out.ok = true;
    } else if (req.role == "resolve") {
      // Insertions on both sides were kept before a resolver was asked (git::merge_component).
      out.error =
        "the builtin resolver only keeps both sides' insertions; a conflict that changes the same "
        "lines needs a model provider (configure one for the role resolve)";
    } else {
      out.error = "builtin provider has no role \"" + req.role + "\"";
    }
    // Token counts are estimates (4 bytes a token), kept so accounting is uniform.
    out.reply.tokens_in = prompt.size() / 4;
    out.reply.tokens_out = out.reply.text.size() / 4;
    done(std::move(out));
  }
};

} // namespace

std::shared_ptr<provider> make_builtin_provider() {
  return std::make_shared<builtin_provider>();
}

std::shared_ptr<provider> make_provider(const std::string& name, const config::provider_settings& cfg,
                                        std::shared_ptr<http::client> client) {
  if (cfg.type == "builtin") return make_builtin_provider();
  return make_http_provider(name, cfg, std::move(client));
}

} // namespace grove::models
