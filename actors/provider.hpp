#pragma once

// A model provider owns one wire format. The router (llm_router) is the only
// caller; generators and the customer agent never see a provider.

#include <memory>
#include <string>

#include "messages/errors.hpp"
#include "messages/types.hpp"

namespace grove::actors {

/// One configured model. Implementations must be safe to call from the
/// router's thread only; they never retry on their own.
class provider {
public:
  virtual ~provider() = default;

  /// The name used in routes and telemetry (`builtin`, `openai:gpt-4o` ...).
  virtual std::string name() const = 0;

  /// Answers one request: for role `plan` a plan as JSON text, for role
  /// `generate` a component as JSON text.
  virtual messages::result<messages::model_reply> complete(const messages::model_request& req) = 0;
};

/// The offline default: the builtin planner and templates; no network.
std::shared_ptr<provider> make_builtin_provider();

} // namespace grove::actors
