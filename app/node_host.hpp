#pragma once

// The actor system a command runs its node in, and the node's options, made
// one way for grove build, grove serve and grove node. Included by those
// only (CAF headers are heavy).

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "config/settings.hpp"
#include "runtime/cluster.hpp"
#include "runtime/node.hpp"

namespace grove::app {

/// A configured actor system (with the middleman, heartbeats and TLS when
/// `cluster`) and the options of a node on `repo`.
struct node_host {
  node_host(const std::filesystem::path& repo, const config::settings& settings, bool cluster = false)
    : sys{configured(cfg, settings, cluster, cluster_status)} {
    opts.repo = repo;
    opts.settings = settings;
  }

  caf::actor_system_config cfg;
  messages::status cluster_status = messages::ok(); ///< why the cluster could not be configured
  caf::actor_system sys;
  runtime::node_options opts;

private:
  static caf::actor_system_config& configured(caf::actor_system_config& cfg, const config::settings& settings,
                                              bool cluster, messages::status& status) {
    runtime::configure(cfg, settings);
    if (cluster) status = runtime::configure_cluster(cfg, settings.cluster);
    return cfg;
  }
};

} // namespace grove::app
