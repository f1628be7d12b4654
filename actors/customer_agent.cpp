#include "actors/customer_agent.hpp"

#include <chrono>
#include <map>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/service_call.hpp"
#include "logic/prompts.hpp"
#include "messages/codec.hpp"

namespace grove::actors {

namespace {

// Plans asked of the router and not yet answered, so a customer agent that
// goes away answers them (`service_down`) rather than leaving jobs waiting.
struct customer_state {
  std::map<uint64_t, caf::typed_response_promise<messages::plan>> pending;
  uint64_t next = 1;
  ~customer_state() {
    for (auto& [_, rp] : pending) answer_service_down(rp, name);
  }
  static inline const char* name = "customer_agent";
};

using self_ptr = customer_actor::stateful_pointer<customer_state>;

void answer(self_ptr self, uint64_t id, caf::expected<messages::plan> plan) {
  auto it = self->state.pending.find(id);
  if (it == self->state.pending.end()) return;
  if (plan) {
    it->second.deliver(std::move(*plan));
  } else {
    it->second.deliver(std::move(plan.error()));
  }
  self->state.pending.erase(it);
}

customer_actor::behavior_type customer_agent(self_ptr self, router_actor router) {
  return {
    [self, router](const messages::plan_request& req) -> caf::result<messages::plan> {
      messages::model_request call;
      call.role = "plan";
      call.job = req.job;
      call.request = req.request;
      call.prompt = logic::prompts::plan_prompt(req.request, req.job);
      auto id = self->state.next++;
      auto rp = self->make_response_promise<messages::plan>();
      self->state.pending.emplace(id, rp);
      ask_service(
        self, router, std::chrono::minutes{5}, std::move(call),
        [self, id, req](const messages::model_reply& reply) {
          auto p = messages::parse_plan(reply.text);
          if (!p) return answer(self, id, to_caf(p.error()));
          if (p->request.empty()) p->request = req.request;
          if (!req.job.empty()) p->session_id = req.job;
          answer(self, id, std::move(*p));
        },
        [self, id](caf::error& err) { answer(self, id, std::move(err)); });
      return rp;
    },
  };
}

} // namespace

customer_actor spawn_customer_agent(caf::actor_system& sys, router_actor router) {
  return sys.spawn(customer_agent, std::move(router));
}

} // namespace grove::actors
