#pragma once

namespace caf {
class actor_system_config;
} // namespace caf

namespace grove::messages {

/// Registers every message type and grove's error category with `cfg`.
/// Every node must call it, or remote_actor fails with
/// `unexpected_actor_messaging_interface`.
void register_messages(caf::actor_system_config& cfg);

} // namespace grove::messages
