// libFuzzer target: the WebSocket protocol parser, as a client controls it.
// Every frame must come back as a command or an error with a known code;
// a build's plan must come back valid (names normalised, schema held), and
// the answer frames built from what was parsed must be valid JSON.

#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "messages/names.hpp"
#include "runtime/gateway/protocol.hpp"

namespace protocol = grove::gateway::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::set<std::string> codes{"invalid_json", "invalid_message", "unknown_type", "request_too_long",
                                           "invalid_plan"};
  std::string frame(reinterpret_cast<const char*>(data), size);
  protocol::limits lim;
  lim.max_request_bytes = 2000;
  auto parsed = protocol::parse(frame, lim);
  if (auto* e = std::get_if<protocol::error>(&parsed)) {
    if (codes.count(e->code) == 0) __builtin_trap();
    auto answer = protocol::error_frame(e->code, e->message, e->id);
    if (!nlohmann::json::accept(answer)) __builtin_trap();
    return 0;
  }
  auto& cmd = std::get<protocol::command>(parsed);
  if (cmd.kind == protocol::command::build) {
    if (cmd.start.has_plan) {
      if (!grove::messages::validate_plan(cmd.start.ready_plan)) __builtin_trap();
      for (auto& c : cmd.start.ready_plan.components) {
        if (!grove::messages::is_valid_name(c.name)) __builtin_trap();
      }
    } else if (cmd.start.request.size() > lim.max_request_bytes) {
      __builtin_trap();
    }
  }
  if (!nlohmann::json::accept(protocol::accepted(cmd.job, cmd.id))) __builtin_trap();
  return 0;
}
