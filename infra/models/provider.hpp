#pragma once

// A model provider owns one wire format. The router (llm_router) is the only
// caller; generators and the customer agent never see a provider.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "messages/types.hpp"

namespace grove::http {
class client;
} // namespace grove::http

namespace grove::models {

/// Receives the outcome of one call, exactly once, on any thread (the router
/// turns it into a message to itself). `call` is left for the router to fill.
using completion = std::function<void(messages::provider_done)>;

/// One configured model. Providers never retry on their own: retries,
/// fallbacks and cooldowns are the router's policy.
class provider {
public:
  virtual ~provider() = default;

  /// The name used in routes, telemetry and usage (`builtin`, `openai:gpt-4o-mini` ...).
  virtual std::string name() const = 0;

  /// Sends `prompt` for `req` (role plan: a plan as JSON; generate: a component
  /// as JSON). Errors say whether a retry may help and honour Retry-After.
  virtual void complete(const messages::model_request& req, const std::string& prompt, completion done) = 0;

  /// Strings that must never leave the process (API keys), for redaction.
  virtual std::vector<std::string> secrets() const { return {}; }
};

/// The offline default: the builtin planner and templates; no network.
std::shared_ptr<provider> make_builtin_provider();

/// A provider for `cfg` (any type); HTTP providers share `client`.
/// Keys come from the environment only.
std::shared_ptr<provider> make_provider(const std::string& name, const config::provider_settings& cfg,
                                        std::shared_ptr<http::client> client);

} // namespace grove::models
