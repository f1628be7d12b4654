#pragma once

// The cluster's actors that are not about the network: the serving node's
// membership and placement, a node's generator host, and the relay that
// carries a worker's telemetry to the serving node.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "actors/generator.hpp"
#include "actors/interfaces.hpp"

namespace grove::actors {

/// What the serving node's cluster actor starts with.
struct cluster_config {
  std::string name;                               ///< the serving node's name
  std::string address;                            ///< where it runs, for people
  uint32_t local_capacity = 0;                    ///< generations it runs itself (0: only workers)
  worker_actor local;                             ///< its own generator host (unused when local_capacity is 0)
  std::vector<std::string> providers;             ///< the serving node's providers
  telemetry_actor telemetry;                      ///< node_joined / node_lost events; workers relay model events here
  std::chrono::milliseconds probe_interval{1000}; ///< how often an idle node's last_seen is refreshed
  std::function<void(const std::string&)> log;    ///< one line per join, loss and rejoin
};

/// Membership and placement. A worker joins with node_hello (again after
/// every reconnect: the entry is replaced). A placement request gets a new
/// generator on the up node with the most free capacity (a retry prefers a
/// node other than `avoid_node`, and a node advertising `prefer_provider`),
/// or waits in FIFO order for one until its deadline. A generator counts
/// against its node until it ends (monitored). A node whose connection ends
/// (killed, frozen past the heartbeat timeout, partitioned) is lost: an event
/// and a log line; its generators' monitors tell their job supervisors.
cluster_actor spawn_cluster(caf::actor_system& sys, cluster_config cfg);

/// A node's generator host: a new generator (`generator_config`) per request.
worker_actor spawn_worker_host(caf::actor_system& sys, generator_config cfg);

/// Sets the target of a relay (null: drop events until the next).
using relay_target_atom = caf::atom_constant<caf::atom("relayto")>;

/// Forwards telemetry events to a telemetry actor on another node, stamping
/// them with this node's name; drops them while there is no target.
using relay_actor =
  caf::typed_actor<caf::reacts_to<messages::telemetry_event>, caf::reacts_to<relay_target_atom, caf::actor>>;
relay_actor spawn_relay(caf::actor_system& sys, std::string node_name);

} // namespace grove::actors
