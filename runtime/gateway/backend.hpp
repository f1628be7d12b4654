#pragma once

// The CAF side of the gateway: one session actor per WebSocket connection,
// and the dynamic HTTP routes. Business logic stays in the node's actors.

#include <filesystem>
#include <memory>

#include "actors/interfaces.hpp"
#include "infra/journal/spend.hpp"
#include "logic/rate_limit.hpp"
#include "runtime/gateway/protocol.hpp"
#include "runtime/gateway/server.hpp"

namespace grove::gateway {

/// What sessions and routes talk to.
struct backend_deps {
  actors::job_registry_actor registry;
  actors::telemetry_actor telemetry;
  /// Reads composed pages (the gateway never opens the repository). Weak:
  /// the integrator is detached, and a strong handle kept by a server that
  /// outlives the node would keep its thread, and the actor system, waiting.
  caf::weak_actor_ptr integrator;
  caf::actor cluster; ///< the cluster actor of a serving node (actors::cluster_actor), else null
  std::shared_ptr<journal::spend_ledger> ledger; ///< the rolling budget (/api/budget, /metrics), or null
  protocol::limits limits;
  uint32_t max_jobs_per_connection = 8;
  /// Job submissions per connection and per client address (grove serve
  /// --rate-limit, --rate-limit-ip); per_minute 0: no limit.
  logic::rate_limit::rate submits_per_connection;
  logic::rate_limit::rate submits_per_address;
};

/// The backend the Beast server calls into.
std::shared_ptr<backend> make_backend(caf::actor_system& sys, backend_deps deps);

/// The backend of a worker node's own port (grove node --port): /metrics of
/// its telemetry (its model calls), /healthz; no jobs, no builds.
std::shared_ptr<backend> make_worker_backend(caf::actor_system& sys, actors::telemetry_actor telemetry);

} // namespace grove::gateway
