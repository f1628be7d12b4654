#pragma once

#include <cstdint>
#include <string>

#include "messages/errors.hpp"

namespace grove::config {

/// Restart policy for crashed generators.
struct restart_settings {
  uint32_t intensity = 5;        ///< at most this many restarts ...
  uint32_t period_ms = 10000;    ///< ... within this window, else the job fails
  uint32_t backoff_base_ms = 20;
  uint32_t backoff_max_ms = 2000;
  double jitter = 0.2;
};

/// Everything a run can be configured with; defaults are sane for a laptop.
struct settings {
  uint32_t max_attempts = 3;   ///< QA attempts per component
  uint32_t parallel = 16;      ///< components in flight per job
  uint32_t threads = 0;        ///< CAF scheduler threads; 0 = one per core
  uint32_t generator_timeout_ms = 120000;
  std::string provider = "builtin";
  restart_settings restart;
};

/// Reads a JSON config file over the defaults. Unknown keys, wrong types and
/// out-of-range values are errors (`errc::invalid_config`) naming the key.
messages::result<settings> load_settings(const std::string& path);

/// Applies a JSON config text over `base` (the file-free core of load_settings).
messages::result<settings> apply_settings(const std::string& text, settings base);

} // namespace grove::config
