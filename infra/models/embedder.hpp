#pragma once

// Embeddings of short texts from an HTTP endpoint (OpenAI-compatible
// /embeddings or Ollama's /api/embed), for recalling lessons by meaning.

#include <memory>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "messages/errors.hpp"

namespace grove::http {
class client;
} // namespace grove::http

namespace grove::models {

class embedder final {
public:
  /// An embedder for `cfg` (enabled) over `client`; the key is read once from
  /// the environment and registered for redaction. A base URL that does not
  /// parse is an `invalid_config` error.
  static messages::result<std::unique_ptr<embedder>> make(const config::embedding_settings& cfg,
                                                          std::shared_ptr<http::client> client);

  /// "type:model": embeddings of one model are only ever compared with each other.
  std::string model() const;

  /// One vector per text, in order. Blocks the calling thread (a detached
  /// actor's) for at most the configured timeout; any failure (transport,
  /// status, envelope) is an `errc::model` error whose text never holds the key.
  messages::result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) const;

  ~embedder();

private:
  embedder() = default;
  config::embedding_settings cfg_;
  std::shared_ptr<http::client> client_;
  std::string base_url_;
  std::string key_;
};

} // namespace grove::models
