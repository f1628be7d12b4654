#pragma once

// The network side of a cluster: CAF's middleman (BASP) between nodes, TLS
// through caf::openssl, heartbeats so a frozen or cut-off peer is found.
// The serving node publishes its cluster actor; a worker node joins it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "infra/models/provider.hpp"
#include "messages/errors.hpp"

namespace caf {
class actor_system_config;
} // namespace caf

namespace grove::runtime {

/// Loads CAF's middleman (and caf::openssl when TLS is configured) and sets
/// the heartbeat and connection timeout; call before the system is made.
/// TLS needs certificate, key and CA file together, each readable.
messages::status configure_cluster(caf::actor_system_config& cfg, const config::cluster_settings& c);

/// Publishes the serving node's cluster actor on host:port (0: any free
/// port); the port. With TLS, peers must present a certificate of the CA.
messages::result<uint16_t> publish_cluster(caf::actor_system& sys, const actors::cluster_actor& cluster,
                                           const std::string& host, uint16_t port, bool tls);

/// What a worker node is.
struct worker_options {
  std::string join_host;
  uint16_t join_port = 0;
  std::string name;    ///< unique in the cluster
  std::string address; ///< where it runs, for people
  config::settings settings;
  std::shared_ptr<models::provider> provider;  ///< set: every role goes to it (tests)
  std::function<void(const std::string&)> log; ///< one line per join, loss, rejoin and refusal
};

/// A worker node: its own router (its providers, its keys), a generator host,
/// a relay that carries its model events to the serving node, and a client
/// that joins the serving node asynchronously, retries with backoff
/// (250 ms doubling to 5 s), and rejoins after losing it.
class worker_node final {
public:
  static messages::result<std::unique_ptr<worker_node>> make(caf::actor_system& sys, worker_options opts);
  worker_node(caf::actor_system& sys, worker_options opts);
  ~worker_node();
  worker_node(const worker_node&) = delete;
  worker_node& operator=(const worker_node&) = delete;

  /// The node's event bus (its model calls; also relayed to the serving node).
  actors::telemetry_actor telemetry() const;

  /// Stops the client, the host, the router and telemetry.
  void shutdown();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace grove::runtime
