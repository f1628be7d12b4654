#pragma once

// What the in-process runtime tests share: an actor system configured as a
// node configures it (grove's messages registered, default settings).

#include <caf/actor_system_config.hpp>

#include "config/settings.hpp"
#include "runtime/node.hpp"

namespace grove::test {

struct node_system_config : caf::actor_system_config {
  node_system_config() { runtime::configure(*this, grove::config::settings{}); }
};

} // namespace grove::test
