#include "actors/customer_agent.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "logic/prompts.hpp"
#include "messages/codec.hpp"

namespace grove::actors {

customer_actor::behavior_type customer_agent(customer_actor::pointer self, router_actor router) {
  return {
    [self, router](const messages::plan_request& req) -> caf::result<messages::plan> {
      messages::model_request call;
      call.role = "plan";
      call.job = req.job;
      call.request = req.request;
      call.prompt = logic::prompts::plan_prompt(req.request, req.job);
      auto rp = self->make_response_promise<messages::plan>();
      self->request(router, std::chrono::minutes{5}, std::move(call))
        .then(
          [rp, req](const messages::model_reply& reply) mutable {
            auto p = messages::parse_plan(reply.text);
            if (!p) {
              rp.deliver(to_caf(p.error()));
              return;
            }
            if (p->request.empty()) p->request = req.request;
            if (!req.job.empty()) p->session_id = req.job;
            rp.deliver(std::move(*p));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace grove::actors
