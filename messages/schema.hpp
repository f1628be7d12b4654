#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace grove::messages {

/// The schemas in messages/schemas/, embedded at build time.
enum class schema_id { plan, component, review };

/// The text of a schema file, exactly as in messages/schemas/.
std::string_view schema_text(schema_id id);

/// Validates `doc` against a schema; returns one "path: problem" line per
/// violation, empty when valid. Supports the JSON Schema keywords our schema
/// files use (type, required, properties, additionalProperties, items,
/// minItems, maxItems, minLength, maxLength, pattern, enum, const, minimum,
/// maximum) plus `uniqueItemsBy` (array items unique by one property).
/// Thread-safe.
std::vector<std::string> validate(const nlohmann::json& doc, schema_id id);

/// Validates `doc` against a schema given as JSON (for tests and tools).
/// Throws std::invalid_argument when the schema uses an unsupported keyword.
std::vector<std::string> validate(const nlohmann::json& doc, const nlohmann::json& schema);

} // namespace grove::messages
