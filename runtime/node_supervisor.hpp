#pragma once

// The node's supervision tree, built from child_spec data: every permanent
// service of a node (telemetry, router, integrator, journal writer, leases,
// customer agent, QA agent) runs behind a stable proxy and is monitored;
// one that dies is restarted (one_for_one, backoff) within one intensity
// limit for the node. Past the limit every proxy refuses work with
// `shutting_down` naming the service, and `on_give_up` tells the front end
// to stop; jobs in flight end failed and stay in the journal, so the next
// start resumes them. Job supervisors keep their own one_for_one over
// generators.

#include <functional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "logic/supervision.hpp"

namespace grove::runtime {

/// One permanent service: what the supervisor needs to (re)start it.
struct service_spec {
  std::string name; ///< as telemetry and /metrics name it
  logic::supervision::child_spec spec{logic::supervision::restart_type::permanent};
  std::function<caf::actor()> start; ///< spawns a fresh instance (reopening what it needs)
  caf::actor proxy;                  ///< its stable address (actors::spawn_service_proxy)
};

/// How the supervisor restarts, and whom it tells.
struct node_supervisor_options {
  config::restart_settings policy;
  actors::telemetry_actor telemetry; ///< the telemetry proxy: restarts are events
  /// Called once, from the supervisor, when a service fails past the limit.
  std::function<void(const std::string& why)> on_give_up;
};

/// Starts every service (in order) behind its proxy and supervises them.
caf::actor spawn_node_supervisor(caf::actor_system& sys, std::vector<service_spec> services,
                                 node_supervisor_options opts);

} // namespace grove::runtime
