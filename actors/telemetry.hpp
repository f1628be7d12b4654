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

/// The event log's bounds: past `max_bytes` the log is renamed `<log>.1`
/// (older ones shift to `.2` … `.<keep>`, the oldest removed) and a new one begun.
struct telemetry_log_limits {
  uint64_t max_bytes = 16 * 1024 * 1024;
  uint32_t keep = 3;
};

/// The event bus: counts, appends each event to a JSONL log (when `log` is
/// not empty, rotated by `limits`) and forwards it to every sink. Never blocks
/// a sender. `book` (made here when null) holds the counts and the sinks.
telemetry_actor spawn_telemetry(caf::actor_system& sys, std::filesystem::path log,
                                std::shared_ptr<telemetry_book> book = nullptr, telemetry_log_limits limits = {});

using messages::now_ms;

} // namespace grove::actors
