#pragma once

// The WebSocket protocol as pure functions: client frames in, server frames
// out, all JSON text. Documented in README.md ("WebSocket protocol").

#include <map>
#include <optional>
#include <variant>
#include <string>
#include <string_view>

#include "messages/types.hpp"

namespace grove::gateway::protocol {

/// Limits a session enforces on what clients send.
struct limits {
  size_t max_request_bytes = 8000; ///< a build's request text
};

/// One command from a client. `id` is the client's own correlation id,
/// echoed in every direct answer.
struct command {
  enum kind_t { build, status, cancel, subscribe, ping } kind = ping;
  std::string id;
  std::string job;           ///< status (optional), cancel, subscribe ("*": all)
  messages::job_start start; ///< build
};

/// A protocol error: a stable code and a human message.
struct error {
  std::string code;
  std::string message;
  std::string id;
};

/// Parses a text frame: a command, or the error frame to answer with.
/// Codes: invalid_json, invalid_message, unknown_type, request_too_long, invalid_plan.
std::variant<command, error> parse(std::string_view frame, const limits& lim);

std::string accepted(const std::string& job, const std::string& id);
std::string event(const messages::telemetry_event& ev);
std::string result(const messages::job_report& report);
std::string error_frame(const std::string& code, const std::string& message, const std::string& id = {},
                        const std::string& job = {});
std::string status(const messages::status_reply& reply, const std::string& id);
std::string subscribed(const std::string& job, const std::string& id);
std::string cancelled(const std::string& job, bool was_running, const std::string& id);
std::string pong(const std::string& id);

/// The job-status JSON used by status frames and the dashboard's /api/jobs.
std::string jobs_json(const messages::status_reply& reply);

/// GET /api/budget: the server's rolling budget ({"configured": false} without one).
struct budget_view {
  bool configured = false;
  double limit_usd = 0;
  int64_t window_ms = 0;
  std::map<std::string, double> spent_by_provider; ///< within the window
  int64_t frees_at_ms = 0;                         ///< when the oldest spend leaves the window (0: nothing spent)
};
std::string budget_json(const budget_view& b);

/// GET /api/nodes: the cluster's nodes as a JSON array (empty without a cluster).
std::string nodes_json(const std::vector<messages::node_info>& nodes);

} // namespace grove::gateway::protocol
