#pragma once

// A node service's stable address. Every actor of a node talks to a service
// (telemetry, router, integrator, journal, leases, ...) through its proxy,
// so a service restarted by the node supervisor keeps its address: the
// proxy forwards each message to the service's current instance (the
// original sender stays the sender, and the instance answers it directly),
// holds messages while the service restarts, and answers them with
// `errc::shutting_down` once the supervisor gives the service up.

#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>

namespace grove::actors {

using svc_set_atom = caf::atom_constant<caf::atom("svc_set")>;   // (svc_set, actor): the instance to forward to
using svc_hold_atom = caf::atom_constant<caf::atom("svc_hold")>; // (svc_hold): instance down, hold messages
using svc_stop_atom = caf::atom_constant<caf::atom("svc_stop")>; // (svc_stop, why): given up, refuse everything
using svc_wait_atom = caf::atom_constant<caf::atom("svc_wait")>; // -> bool once an instance runs (after a settle time)

/// Messages held while a service restarts; past this, senders get `busy`.
inline constexpr size_t proxy_hold_limit = 10000;

/// A proxy for the service called `name`, holding messages until the first
/// `svc_set`. Cast it to the service's typed handle with `caf::actor_cast`.
caf::actor spawn_service_proxy(caf::actor_system& sys, std::string name);

/// Whether `err` says a service went away before answering (the request may
/// be asked again through the service's proxy): `errc::service_down`, or CAF's
/// `request_receiver_down` for a message left in a killed instance's mailbox.
bool is_service_down(const caf::error& err);

} // namespace grove::actors
