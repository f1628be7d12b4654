#include "actors/leases.hpp"

#include <deque>
#include <map>

#include <caf/all.hpp>

namespace grove::actors {

namespace {

struct waiter {
  std::string job;
  caf::actor_addr who;
  caf::typed_response_promise<bool> rp;
};

struct holder {
  std::string job;
  caf::actor_addr who;
  std::deque<waiter> queue;
};

struct leases_state {
  std::map<std::string, holder> names;
  static inline const char* name = "leases";
};

using self_ptr = lease_actor::stateful_pointer<leases_state>;

// Hands `name` to the next waiter still alive, or frees it.
void pass_on(self_ptr self, const std::string& name) {
  auto it = self->state.names.find(name);
  if (it == self->state.names.end()) return;
  auto& h = it->second;
  if (h.queue.empty()) {
    self->state.names.erase(it);
    return;
  }
  auto next = std::move(h.queue.front());
  h.queue.pop_front();
  h.job = next.job;
  h.who = next.who;
  next.rp.deliver(true);
}

lease_actor::behavior_type leases(self_ptr self) {
  self->set_down_handler([self](caf::down_msg& msg) {
    std::vector<std::string> freed;
    for (auto& [name, h] : self->state.names) {
      auto& q = h.queue;
      for (auto i = q.begin(); i != q.end();) i = i->who == msg.source ? q.erase(i) : i + 1;
      if (h.who == msg.source) freed.push_back(name);
    }
    for (auto& name : freed) pass_on(self, name);
  });
  return {
    [self](const messages::lease_acquire& req) -> caf::result<bool> {
      auto who = self->current_sender();
      auto rp = self->make_response_promise<bool>();
      if (who) self->monitor(caf::actor_cast<caf::actor>(who));
      auto [it, fresh] = self->state.names.try_emplace(req.component);
      if (fresh) {
        it->second.job = req.job;
        it->second.who = caf::actor_cast<caf::actor_addr>(who);
        rp.deliver(true);
      } else {
        it->second.queue.push_back({req.job, caf::actor_cast<caf::actor_addr>(who), rp});
      }
      return rp;
    },
    [self](const messages::lease_release& req) {
      auto it = self->state.names.find(req.component);
      if (it == self->state.names.end() || it->second.job != req.job) return;
      pass_on(self, req.component);
    },
  };
}

} // namespace

lease_actor spawn_leases(caf::actor_system& sys) {
  return sys.spawn(leases);
}

} // namespace grove::actors
