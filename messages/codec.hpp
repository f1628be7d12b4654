#pragma once

// JSON at the boundary: plans, components and reports to and from text.
// Parse errors are caught here and become failures.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "messages/errors.hpp"
#include "messages/types.hpp"

namespace grove::messages {

/// A fresh random session id (16 hex digits).
std::string new_session_id();

/// Parses a plan: names normalised (a name that cannot be is an error),
/// a missing session id filled in, then validated against plan.schema.json.
result<plan> parse_plan(std::string_view text);

/// Validates an in-memory plan against plan.schema.json.
status validate_plan(const plan& p);

/// A plan as JSON text.
std::string plan_to_text(const plan& p);

/// Parses a component artifact and validates it against component.schema.json.
result<nlohmann::json> parse_component(std::string_view text);

/// A component as the library stores it: indented JSON and a final newline
/// (invalid UTF-8 replaced), the one form every writer of components uses.
std::string component_to_text(const nlohmann::json& doc);

/// A job report as JSON (the `--json` output).
nlohmann::json report_to_json(const job_report& r);

/// A job report read back from report_to_json's output (missing fields default).
job_report report_from_json(const nlohmann::json& j);

} // namespace grove::messages
