#pragma once

#include <filesystem>

#include "actors/interfaces.hpp"
#include "messages/clock.hpp"

namespace grove::actors {

/// The event bus: counts, appends each event to a JSONL log (when `log` is
/// not empty) and forwards it to every sink. Never blocks a sender.
telemetry_actor spawn_telemetry(caf::actor_system& sys, std::filesystem::path log);

using messages::now_ms;

} // namespace grove::actors
