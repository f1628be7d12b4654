#pragma once

// Requests to node services that survive a restart of the service. Include
// from actor implementations only (it needs the full CAF headers).

#include <utility>

#include <caf/all.hpp>

#include "actors/service_proxy.hpp"

namespace grove::actors {

/// Asks a node service through its proxy and, when the instance went away
/// before answering (killed and being restarted: `is_service_down`), asks
/// again, at most `again` times, once the proxy has a running instance. `ok` gets the answer; `fail` any other error,
/// or the last.
template <class Self, class Handle, class Timeout, class Msg, class Ok, class Fail>
void ask_service(Self self, const Handle& dest, const Timeout& timeout, Msg msg, Ok ok, Fail fail, int again = 2) {
  self->request(dest, timeout, msg).then(ok, [self, dest, timeout, msg, ok, fail, again](caf::error& err) mutable {
    if (again > 0 && is_service_down(err)) {
      // Ask again once the proxy has a running instance (it may not have heard of the death yet).
      self->request(caf::actor_cast<caf::actor>(dest), timeout, svc_wait_atom::value)
        .then([self, dest, timeout, msg, ok, fail,
               again](bool) mutable { ask_service(self, dest, timeout, std::move(msg), ok, fail, again - 1); },
              [fail](caf::error& e) mutable { fail(e); });
      return;
    }
    fail(err);
  });
}

} // namespace grove::actors
