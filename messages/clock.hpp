#pragma once

// The one clock messages are stamped with: event times and deadlines
// (`deadline_ms`) are milliseconds since the epoch, comparable across nodes.

#include <cstdint>

namespace grove::messages {

/// Milliseconds since the epoch (system clock).
int64_t now_ms();

} // namespace grove::messages
