#include "messages/errors.hpp"

namespace grove::messages {

const char* to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::invalid_name: return "invalid_name";
    case errc::invalid_json: return "invalid_json";
    case errc::schema_violation: return "schema_violation";
    case errc::invalid_plan: return "invalid_plan";
    case errc::invalid_config: return "invalid_config";
    case errc::git: return "git";
    case errc::workspace: return "workspace";
    case errc::io: return "io";
    case errc::model: return "model";
    case errc::generation_crashed: return "generation_crashed";
    case errc::restart_limit: return "restart_limit";
    case errc::qa_rejected: return "qa_rejected";
    case errc::timeout: return "timeout";
    case errc::cancelled: return "cancelled";
    case errc::busy: return "busy";
    case errc::not_found: return "not_found";
    case errc::shutting_down: return "shutting_down";
    case errc::service_down: return "service_down";
    case errc::stale_base: return "stale_base";
    case errc::budget: return "budget";
  }
  return "unknown";
}

} // namespace grove::messages
