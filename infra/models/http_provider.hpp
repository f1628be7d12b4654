#pragma once

#include <memory>
#include <string>

#include "infra/models/provider.hpp"

namespace grove::models {

/// A provider speaking one HTTP wire format (openai, ollama, gemini, anthropic)
/// through the shared async client. The key is read once from the environment
/// (`api_key_env`, else OPENAI_API_KEY / GEMINI_API_KEY / ANTHROPIC_API_KEY);
/// the base URL from the config, else OPENAI_BASE_URL / OLLAMA_HOST /
/// GEMINI_BASE_URL / ANTHROPIC_BASE_URL, else the public default. Failures are classified: 429, 408 and 5xx, timeouts and
/// broken connections are retryable (Retry-After honoured); other statuses,
/// malformed envelopes and oversized bodies are not. Error text never holds
/// the key.
std::shared_ptr<provider> make_http_provider(const std::string& name, const config::provider_settings& cfg,
                                             std::shared_ptr<http::client> client);

/// The base URL a provider of `cfg` will use (config, environment, default).
std::string resolve_base_url(const config::provider_settings& cfg);

} // namespace grove::models
