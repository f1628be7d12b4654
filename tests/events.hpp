#pragma once

// A telemetry event for tests of the folds that count events.

#include <string>

#include "messages/report.hpp"

namespace grove::test {

inline messages::telemetry_event event(const std::string& component, messages::stage s, uint32_t attempt = 1,
                                       std::string detail = {}) {
  messages::telemetry_event e;
  e.job = "j1";
  e.component = component;
  e.stage = s;
  e.attempt = attempt;
  e.detail = std::move(detail);
  return e;
}

} // namespace grove::test
