#include "actors/leases.hpp"

#include <deque>
#include <map>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"

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

} // namespace

struct lease_book {
  std::map<std::string, holder> names;
};

std::shared_ptr<lease_book> make_lease_book() {
  return std::make_shared<lease_book>();
}

namespace {

struct leases_state {
  std::shared_ptr<lease_book> book;
  ~leases_state() {
    if (!book) return;
    // The holders stay in the book; the waiters' promises die with this instance.
    for (auto& [_, h] : book->names) {
      for (auto& w : h.queue) answer_service_down(w.rp, name);
      h.queue.clear();
    }
  }
  static inline const char* name = "leases";
};

using self_ptr = lease_actor::stateful_pointer<leases_state>;

// Hands `name` to the next waiter still alive, or frees it.
void pass_on(self_ptr self, const std::string& name) {
  auto it = self->state.book->names.find(name);
  if (it == self->state.book->names.end()) return;
  auto& h = it->second;
  if (h.queue.empty()) {
    self->state.book->names.erase(it);
    return;
  }
  auto next = std::move(h.queue.front());
  h.queue.pop_front();
  h.job = next.job;
  h.who = next.who;
  next.rp.deliver(true);
}

lease_actor::behavior_type leases(self_ptr self, std::shared_ptr<lease_book> book) {
  self->state.book = std::move(book);
  // A restarted table watches the holders it inherits; one already gone frees its name.
  std::vector<std::string> orphaned;
  for (auto& [name, h] : self->state.book->names) {
    if (auto who = caf::actor_cast<caf::actor>(h.who)) {
      self->monitor(who);
    } else {
      orphaned.push_back(name);
    }
  }
  for (auto& name : orphaned) self->state.book->names.erase(name);
  self->set_down_handler([self](caf::down_msg& msg) {
    std::vector<std::string> freed;
    for (auto& [name, h] : self->state.book->names) {
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
      auto [it, fresh] = self->state.book->names.try_emplace(req.component);
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
      auto it = self->state.book->names.find(req.component);
      if (it == self->state.book->names.end() || it->second.job != req.job) return;
      pass_on(self, req.component);
    },
  };
}

} // namespace

lease_actor spawn_leases(caf::actor_system& sys, std::shared_ptr<lease_book> book) {
  return sys.spawn(leases, book ? std::move(book) : make_lease_book());
}

} // namespace grove::actors
