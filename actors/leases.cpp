#include "actors/leases.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"

namespace grove::actors {

namespace {

struct waiter {
  std::string job;
  caf::actor_addr who;
  bool shared = false;
  caf::typed_response_promise<uint32_t> rp;
};

struct holder {
  std::string job;
  caf::actor_addr who;
  bool shared = false;
  uint32_t lane = 0;
};

struct name_state {
  std::vector<holder> holders;
  std::deque<waiter> queue;
};

} // namespace

struct lease_book {
  std::map<std::string, name_state> names;
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
    for (auto& [_, n] : book->names) {
      for (auto& w : n.queue) answer_service_down(w.rp, name);
      n.queue.clear();
    }
  }
  static inline const char* name = "leases";
};

using self_ptr = lease_actor::stateful_pointer<leases_state>;

// Whether a request (shared or not) can be granted beside the current holders.
bool fits(const name_state& n, bool shared) {
  if (n.holders.empty()) return true;
  return shared && std::all_of(n.holders.begin(), n.holders.end(), [](const holder& h) { return h.shared; });
}

// The lowest lane no holder uses.
uint32_t free_lane(const name_state& n) {
  for (uint32_t lane = 0;; ++lane) {
    if (std::none_of(n.holders.begin(), n.holders.end(), [lane](const holder& h) { return h.lane == lane; })) {
      return lane;
    }
  }
}

uint32_t grant(name_state& n, std::string job, caf::actor_addr who, bool shared) {
  auto lane = free_lane(n);
  n.holders.push_back({std::move(job), std::move(who), shared, lane});
  return lane;
}

// Grants waiters in order while they fit; frees the name when nobody holds or waits.
void pass_on(self_ptr self, const std::string& name) {
  auto it = self->state.book->names.find(name);
  if (it == self->state.book->names.end()) return;
  auto& n = it->second;
  while (!n.queue.empty() && fits(n, n.queue.front().shared)) {
    auto next = std::move(n.queue.front());
    n.queue.pop_front();
    next.rp.deliver(grant(n, next.job, next.who, next.shared));
  }
  if (n.holders.empty() && n.queue.empty()) self->state.book->names.erase(it);
}

lease_actor::behavior_type leases(self_ptr self, std::shared_ptr<lease_book> book) {
  self->state.book = std::move(book);
  // A restarted table watches the holders it inherits; one already gone frees its lane.
  std::vector<std::string> touched;
  for (auto& [name, n] : self->state.book->names) {
    auto& hs = n.holders;
    auto before = hs.size();
    hs.erase(std::remove_if(hs.begin(), hs.end(),
                            [self](const holder& h) {
                              auto who = caf::actor_cast<caf::actor>(h.who);
                              if (who) self->monitor(who);
                              return !who;
                            }),
             hs.end());
    if (hs.size() != before) touched.push_back(name);
  }
  for (auto& name : touched) pass_on(self, name);
  self->set_down_handler([self](caf::down_msg& msg) {
    std::vector<std::string> touched;
    for (auto& [name, n] : self->state.book->names) {
      auto& q = n.queue;
      for (auto i = q.begin(); i != q.end();) i = i->who == msg.source ? q.erase(i) : i + 1;
      auto& hs = n.holders;
      hs.erase(std::remove_if(hs.begin(), hs.end(), [&](const holder& h) { return h.who == msg.source; }), hs.end());
      touched.push_back(name);
    }
    for (auto& name : touched) pass_on(self, name);
  });
  return {
    [self](const messages::lease_acquire& req) -> caf::result<uint32_t> {
      auto who = self->current_sender();
      auto rp = self->make_response_promise<uint32_t>();
      if (who) self->monitor(caf::actor_cast<caf::actor>(who));
      auto addr = caf::actor_cast<caf::actor_addr>(who);
      auto& n = self->state.book->names[req.component];
      // Request order is kept: nobody overtakes a waiter.
      if (n.queue.empty() && fits(n, req.shared)) {
        rp.deliver(grant(n, req.job, addr, req.shared));
      } else {
        n.queue.push_back({req.job, addr, req.shared, rp});
      }
      return rp;
    },
    [self](const messages::lease_release& req) {
      auto it = self->state.book->names.find(req.component);
      if (it == self->state.book->names.end()) return;
      auto& hs = it->second.holders;
      auto h = std::find_if(hs.begin(), hs.end(), [&](const holder& x) { return x.job == req.job; });
      if (h == hs.end()) return;
      hs.erase(h);
      pass_on(self, req.component);
    },
  };
}

} // namespace

lease_actor spawn_leases(caf::actor_system& sys, std::shared_ptr<lease_book> book) {
  return sys.spawn(leases, book ? std::move(book) : make_lease_book());
}

} // namespace grove::actors
