#pragma once

#include <filesystem>
#include <memory>

#include "actors/interfaces.hpp"
#include "messages/clock.hpp"

namespace grove::actors {

/// What the event bus has counted and who listens: kept by the node across
/// restarts of the telemetry actor, so /metrics and the sinks survive one.
struct telemetry_book;

/// An empty book.
std::shared_ptr<telemetry_book> make_telemetry_book();

/// The event bus: counts, appends each event to a JSONL log (when `log` is
/// not empty) and forwards it to every sink. Never blocks a sender. `book`
/// (made here when null) holds the counts and the sinks.
telemetry_actor spawn_telemetry(caf::actor_system& sys, std::filesystem::path log,
                                std::shared_ptr<telemetry_book> book = nullptr);

using messages::now_ms;

} // namespace grove::actors
