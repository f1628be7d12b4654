#include "actors/generator.hpp"

#include <fstream>
#include <sstream>

#include <caf/all.hpp>

#include "logic/library.hpp"
#include "logic/prompts.hpp"
#include "logic/qa_rules.hpp"
#include "messages/secrets.hpp"
#include "actors/telemetry.hpp"
#include "actors/caf_error.hpp"
#include "actors/watched_request.hpp"

namespace grove::actors {

namespace {

bool read_cache(const std::filesystem::path& file, std::string& out) {
  std::ifstream in{file, std::ios::binary};
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  out = buf.str();
  return !out.empty();
}

} // namespace

generator_actor::behavior_type generator(generator_actor::stateful_pointer<generator_state> self,
                                         generator_config cfg) {
  return {
    [self, cfg](const messages::generate_request& req) -> caf::result<messages::generation_result> {
      messages::generation_result res;
      res.component = req.spec.name;
      res.attempt = req.attempt;
      if (req.use_cache && !cfg.cache_dir.empty() &&
          read_cache(cfg.cache_dir / logic::library::file(req.spec.name), res.artifact)) {
        res.ok = true;
        res.cache_hit = true;
        self->quit();
        return res;
      }
      messages::model_request call;
      bool editing = req.spec.action == "edit";
      call.role = editing ? "edit" : "generate";
      call.job = req.job;
      call.spec = req.spec;
      call.current = req.current;
      call.attempt = req.attempt;
      call.feedback = req.feedback;
      call.deadline_ms = req.deadline_ms;
      call.prompt = editing ? logic::prompts::edit_prompt(req.spec, req.current, req.attempt, req.feedback, req.lessons)
                            : logic::prompts::generate_prompt(req.spec, req.attempt, req.feedback, req.lessons);
      res.prompt = call.prompt;
      auto rp = self->make_response_promise<messages::generation_result>();
      // The attempt's deadline bounds the whole model call, retries and fallbacks included.
      auto budget = cfg.timeout;
      if (req.deadline_ms > 0) {
        budget = std::min(budget, std::chrono::milliseconds{std::max<int64_t>(1, req.deadline_ms - now_ms())});
      }
      watched_service(
        self, budget, cfg.router, std::move(call),
        [self, rp, res](const messages::model_reply& reply) mutable {
          // A key of this node must not leave it, even inside an answer (on a
          // worker, the serving node does not know this node's keys).
          if (auto leak = logic::qa::check_secrets(reply.text, messages::registered_secrets()); !leak.empty()) {
            res.ok = false;
            res.provider = reply.provider;
            res.error = "the model's answer contains a secret of this node";
            res.violations = std::move(leak);
            rp.deliver(std::move(res));
            self->quit();
            return;
          }
          res.ok = true;
          res.artifact = reply.text;
          res.provider = reply.provider;
          res.corrections = reply.corrections;
          rp.deliver(std::move(res));
          self->quit();
        },
        [self, rp, res, budget](caf::error& err) mutable {
          res.ok = false;
          res.timed_out = err == caf::sec::request_timeout;
          auto grove_err = from_caf(err);
          res.over_budget = grove_err && grove_err->code == messages::errc::budget;
          res.error = res.timed_out     ? "no answer from the model within " + std::to_string(budget.count()) + " ms"
                      : res.over_budget ? "budget: " + grove_err->message
                                        : self->system().render(err);
          rp.deliver(std::move(res));
          self->quit();
        });
      return rp;
    },
    [self](step_timer_atom) { on_watch_timer(self); },
  };
}

} // namespace grove::actors
