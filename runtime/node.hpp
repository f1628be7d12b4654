#pragma once

// Wiring of one node: the node-level actors around a workspace, and running
// a job to its report. Used by the CLI and by the actor tests.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/generator.hpp"
#include "actors/interfaces.hpp"
#include "actors/llm_router.hpp"
#include "infra/journal/spend.hpp"
#include "infra/models/provider.hpp"
#include "config/settings.hpp"

namespace caf {
class actor_system_config;
} // namespace caf

namespace grove::http {
class client;
} // namespace grove::http

namespace grove::runtime {

/// How a node is put together; empty optionals take the defaults.
struct node_options {
  std::filesystem::path repo;
  config::settings settings;
  std::shared_ptr<models::provider> provider; ///< set: every role goes to it (tests); else settings.models
  bool telemetry_log = true;                  ///< .grove/telemetry.jsonl
  bool journal = true;                        ///< .grove/journal.db: jobs survive a crash
  /// Called once (from an actor) when a node service failed past its restart
  /// limit: the front end stops the node and exits with the message.
  std::function<void(const std::string& why)> on_give_up;
  std::string node_name = "local"; ///< this node in reports, events and the cluster
  /// The rolling budget (settings.budget_usd_per_day); node::make opens
  /// `.grove/spend.db` when the settings ask for one and this is unset.
  std::shared_ptr<journal::spend_ledger> ledger;
};

/// Whether a job would call a priced provider (a provider with prices): its
/// planner's route is priced, or a component it plans (by the builtin
/// planner, when that plans) is not in the library, or is an edit, or is
/// regenerated, and the route for generating or editing it is priced. When
/// planning is done by a model whose plan cannot be foreseen, the generate
/// route decides.
bool needs_priced_model(const config::settings& settings, const std::filesystem::path& repo,
                        const messages::job_start& start);

/// The router of a node: `one` for every role (tests), else a provider per
/// configured model, HTTP clients shared per CA file in `http`.
actors::router_config router_setup(const config::settings& settings, std::shared_ptr<models::provider> one,
                                   actors::telemetry_actor telemetry,
                                   std::map<std::string, std::shared_ptr<http::client>>& http);

/// Every configured provider's base URL parses (a clear error before any work).
messages::status check_providers(const config::settings& settings);

/// Registers grove's messages and applies the settings (scheduler threads:
/// the core count unless configured). Call before constructing the system.
void configure(caf::actor_system_config& cfg, const config::settings& settings);

/// The node-level actors of one workspace.
class node final {
public:
  /// Spawns the node's services (telemetry, router with a provider per
  /// configured model, customer agent, QA agent, integrator, leases, journal
  /// writer) under the node supervisor, each behind a stable proxy. Fails
  /// with `invalid_config` when a configured provider cannot be built.
  static messages::result<std::unique_ptr<node>> make(caf::actor_system& sys, node_options opts);

  node(caf::actor_system& sys, node_options opts);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Stops the supervisor, every service and the registry, so the system can shut down;
  /// returns once the services have ended (their files closed, what they were told
  /// written), 10 s at most. Call it from outside the actor system's threads.
  void shutdown();

  /// The names of the supervised services, in start order.
  static const std::vector<std::string>& service_names();

  /// The instance of a service running now (tests kill it), or null while it restarts.
  caf::actor service_instance(const std::string& name);

  /// Adds a sink for every telemetry event.
  void subscribe(actors::event_sink_actor sink);

  /// Runs one job to its end; blocks the calling (non-actor) thread.
  messages::job_report run(const messages::job_start& job);

  /// A new job supervisor wired to this node's actors (not started).
  actors::job_supervisor_actor spawn_job();

  /// The node's job registry (grove serve), subscribed to telemetry, its queue
  /// journaled; made on first use.
  actors::job_registry_actor registry(uint32_t max_jobs_in_flight, uint32_t max_queued = 1024);

  /// Makes this node the serving node of a cluster (once): the cluster actor
  /// places every later job's model-bound generators by free capacity, on
  /// this node (settings.cluster.local_capacity) and on workers that join.
  /// The caller publishes it (runtime/cluster.hpp). `log` gets join and loss lines.
  actors::cluster_actor start_cluster(const std::string& address, std::function<void(const std::string&)> log);

  /// The cluster actor, if start_cluster ran.
  actors::cluster_actor cluster() const { return placement_; }

  /// What this node's generators work with (router, cache folder, timeout).
  actors::generator_config generator_setup() const;

  /// The real generator: cache, else this node's router.
  actors::generator_factory default_generator_factory() const;

  /// Replaces how generators are spawned (tests inject crashing ones).
  void set_generator_factory(actors::generator_factory f) { factory_ = std::move(f); }

  /// Telemetry counters so far.
  messages::telemetry_stats stats();

  actors::telemetry_actor telemetry() const { return telemetry_; }

  /// The node's integrator (the one writer of main; also reads composed pages).
  actors::integrator_actor integrator() const { return integrator_; }

  /// The rolling budget's ledger, or null when none is configured.
  std::shared_ptr<journal::spend_ledger> ledger() const { return opts_.ledger; }

private:
  caf::actor_system& sys_;
  node_options opts_;
  std::map<std::string, std::shared_ptr<http::client>> http_; ///< one per CA file
  caf::actor supervisor_;
  actors::telemetry_actor telemetry_;
  actors::router_actor router_;
  actors::customer_actor customer_;
  actors::qa_actor qa_;
  actors::integrator_actor integrator_;
  actors::lease_actor leases_;
  actors::lessons_actor lessons_; ///< the memory of past mistakes (settings.lessons)
  actors::journal_actor journal_;
  actors::job_registry_actor registry_;
  actors::generator_factory factory_;
  actors::cluster_actor placement_;
  bool down_ = false;
};

} // namespace grove::runtime
