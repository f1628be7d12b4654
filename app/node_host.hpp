#pragma once

// The actor system a command runs its node in, and the node's options, made
// one way for grove build and grove serve. Included by those two only (CAF
// headers are heavy).

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "config/settings.hpp"
#include "runtime/node.hpp"

namespace grove::app {

/// A configured actor system and the options of a node on `repo`.
struct node_host {
  node_host(const std::filesystem::path& repo, const config::settings& settings) : sys{configured(cfg, settings)} {
    opts.repo = repo;
    opts.settings = settings;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  runtime::node_options opts;

private:
  static caf::actor_system_config& configured(caf::actor_system_config& cfg, const config::settings& settings) {
    runtime::configure(cfg, settings);
    return cfg;
  }
};

} // namespace grove::app
