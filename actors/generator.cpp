#include "actors/generator.hpp"

#include <fstream>
#include <sstream>

#include <caf/all.hpp>

#include "actors/prompts.hpp"

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

generator_actor::behavior_type generator(generator_actor::pointer self, generator_config cfg) {
  return {
    [self, cfg](const messages::generate_request& req) -> caf::result<messages::generation_result> {
      messages::generation_result res;
      res.component = req.spec.name;
      res.attempt = req.attempt;
      if (req.use_cache && read_cache(cfg.cache_dir / (req.spec.name + ".json"), res.artifact)) {
        res.ok = true;
        res.cache_hit = true;
        self->quit();
        return res;
      }
      messages::model_request call;
      call.role = "generate";
      call.job = req.job;
      call.spec = req.spec;
      call.attempt = req.attempt;
      call.feedback = req.feedback;
      call.prompt = prompts::generate_prompt(req.spec, req.attempt, req.feedback);
      res.prompt = call.prompt;
      auto rp = self->make_response_promise<messages::generation_result>();
      self->request(cfg.router, cfg.timeout, std::move(call))
        .then(
          [self, rp, res](const messages::model_reply& reply) mutable {
            res.ok = true;
            res.artifact = reply.text;
            res.provider = reply.provider;
            res.corrections = reply.corrections;
            rp.deliver(std::move(res));
            self->quit();
          },
          [self, rp, res](caf::error& err) mutable {
            res.ok = false;
            res.error = self->system().render(err);
            rp.deliver(std::move(res));
            self->quit();
          });
      return rp;
    },
  };
}

} // namespace grove::actors
