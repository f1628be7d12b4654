#include "actors/service_proxy.hpp"

#include <deque>
#include <map>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"

namespace grove::actors {

namespace {

using svc_wake_atom = caf::atom_constant<caf::atom("svc_wake")>;

// How long a caller that saw the instance go away waits before asking again:
// CAF bounces a dead actor's mailbox before it tells monitors, so the proxy
// may not know yet; this gives the down message time to arrive.
constexpr auto settle = std::chrono::milliseconds{20};

struct held {
  caf::response_promise rp;
  caf::message msg;
};

struct proxy_state {
  std::string service;
  caf::actor current;
  std::deque<held> waiting;
  std::map<uint64_t, caf::response_promise> settling; ///< svc_wait callers, answered once an instance runs
  uint64_t next_wait = 1;
  std::string given_up; ///< set once the supervisor gave the service up
  ~proxy_state() {
    auto why = make_caf_error(messages::errc::shutting_down, service + " stopped");
    for (auto& h : waiting) h.rp.deliver(why);
    for (auto& [_, rp] : settling) rp.deliver(why);
  }
  static inline const char* name = "service_proxy";
};

using self_ptr = caf::stateful_actor<proxy_state>*;

// Answers the svc_wait callers whose settle time passed, if an instance runs.
void wake(self_ptr self, uint64_t only = 0) {
  auto& st = self->state;
  if (!st.current) return;
  for (auto it = st.settling.begin(); it != st.settling.end();) {
    if (only == 0 || it->first == only) {
      it->second.deliver(true);
      it = st.settling.erase(it);
    } else {
      ++it;
    }
  }
}

caf::behavior service_proxy(self_ptr self, std::string service) {
  self->state.service = std::move(service);
  // Anything that is not a control message belongs to the service.
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
    auto& st = self->state;
    if (st.current) return self->delegate(st.current, x.move_content_to_message());
    // A refusal answers requests only: an error sent back for a one-way message
    // (an event, a release) would reach its sender as an error message and,
    // unhandled, stop it.
    auto refuse = [self](caf::error err) -> caf::result<caf::message> {
      if (self->current_mailbox_element()->mid.is_request()) return err;
      return caf::delegated<caf::message>{};
    };
    if (!st.given_up.empty()) return refuse(make_caf_error(messages::errc::shutting_down, st.given_up));
    if (st.waiting.size() >= proxy_hold_limit) {
      return refuse(make_caf_error(
        messages::errc::busy,
        st.service + " is restarting and " + std::to_string(proxy_hold_limit) + " messages already wait for it"));
    }
    st.waiting.push_back({self->make_response_promise(), x.move_content_to_message()});
    return caf::delegated<caf::message>{};
  });
  // The proxy watches the instance too, so it holds messages as soon as it learns of a death.
  self->set_down_handler([self](caf::down_msg& msg) {
    if (self->state.current && self->state.current.address() == msg.source) self->state.current = nullptr;
  });
  return {
    [self](svc_set_atom, caf::actor instance) {
      auto& st = self->state;
      st.current = std::move(instance);
      self->monitor(st.current);
      // Held messages go first, in the order they came.
      for (auto& h : st.waiting) h.rp.delegate(st.current, std::move(h.msg));
      st.waiting.clear();
      wake(self);
    },
    [self](svc_hold_atom) { self->state.current = nullptr; },
    [self](svc_stop_atom, std::string why) {
      auto& st = self->state;
      st.current = nullptr;
      st.given_up = why.empty() ? st.service + " stopped" : std::move(why);
      auto err = make_caf_error(messages::errc::shutting_down, st.given_up);
      for (auto& h : st.waiting) h.rp.deliver(err);
      st.waiting.clear();
      for (auto& [_, rp] : st.settling) rp.deliver(err);
      st.settling.clear();
    },
    [self](svc_wait_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.given_up.empty()) return make_caf_error(messages::errc::shutting_down, st.given_up);
      auto id = st.next_wait++;
      auto rp = self->make_response_promise();
      st.settling.emplace(id, rp);
      self->delayed_send(self, settle, svc_wake_atom::value, id);
      return caf::delegated<bool>{};
    },
    [self](svc_wake_atom, uint64_t id) { wake(self, id); },
  };
}

} // namespace

caf::actor spawn_service_proxy(caf::actor_system& sys, std::string name) {
  return sys.spawn(service_proxy, std::move(name));
}

bool is_service_down(const caf::error& err) {
  if (err == caf::sec::request_receiver_down) return true;
  auto f = from_caf(err);
  return f && f->code == messages::errc::service_down;
}

} // namespace grove::actors
