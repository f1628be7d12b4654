#include "infra/models/embedder.hpp"

#include <cstdlib>
#include <future>

#include "infra/http/http_client.hpp"
#include "infra/models/http_provider.hpp"
#include "logic/wire_formats.hpp"
#include "messages/secrets.hpp"

namespace grove::models {

using messages::errc;
using messages::make_failure;

embedder::~embedder() = default;

messages::result<std::unique_ptr<embedder>> embedder::make(const config::embedding_settings& cfg,
                                                           std::shared_ptr<http::client> client) {
  std::unique_ptr<embedder> e{new embedder()};
  e->cfg_ = cfg;
  e->client_ = std::move(client);
  config::provider_settings as_provider;
  as_provider.type = cfg.type;
  as_provider.base_url = cfg.base_url;
  e->base_url_ = resolve_base_url(as_provider);
  if (auto u = http::parse_url(e->base_url_); !u) {
    return make_failure(errc::invalid_config, "embeddings: base URL: " + u.error().message);
  }
  auto var = !cfg.api_key_env.empty() ? cfg.api_key_env : cfg.type == "openai" ? "OPENAI_API_KEY" : "";
  if (!var.empty()) {
    if (const char* v = std::getenv(var.c_str())) e->key_ = v;
  }
  messages::register_secret(e->key_);
  return e;
}

std::string embedder::model() const {
  return cfg_.type + ":" + cfg_.model;
}

messages::result<std::vector<std::vector<float>>> embedder::embed(const std::vector<std::string>& texts) const {
  if (texts.empty()) return std::vector<std::vector<float>>{};
  auto fmt = logic::wire::format_from(cfg_.type);
  if (!fmt) return fmt.error();
  auto out = logic::wire::make_embed_request(*fmt, base_url_, cfg_.model, key_, texts);
  http::request req;
  req.url = out.url;
  req.headers = std::move(out.headers);
  req.body = std::move(out.body);
  req.timeout = std::chrono::milliseconds{cfg_.timeout_ms};
  req.max_response_bytes = 16 * 1024 * 1024; // a few thousand floats a text
  // The callback runs on the client's I/O thread; the promise hands the answer over.
  auto done = std::make_shared<std::promise<http::response>>();
  auto answer = done->get_future();
  client_->send(std::move(req), [done](http::response r) { done->set_value(std::move(r)); });
  // The client's own deadline ends the exchange; the margin covers its last callback.
  if (answer.wait_for(std::chrono::milliseconds{cfg_.timeout_ms} + std::chrono::seconds{1}) !=
      std::future_status::ready) {
    return make_failure(errc::model, "embeddings: no answer within " + std::to_string(cfg_.timeout_ms) + " ms");
  }
  auto r = answer.get();
  std::vector<std::string> secrets;
  if (!key_.empty()) secrets.push_back(key_);
  if (!r.error.empty()) {
    return make_failure(errc::model, messages::redact("embeddings: " + r.error, secrets));
  }
  if (r.status < 200 || r.status >= 300) {
    return make_failure(errc::model, messages::redact("embeddings: HTTP " + std::to_string(r.status) + ": " +
                                                        r.body.substr(0, 200),
                                                      secrets));
  }
  auto vectors = logic::wire::parse_embed_response(*fmt, r.body, texts.size());
  if (!vectors) return make_failure(errc::model, messages::redact("embeddings: " + vectors.error().message, secrets));
  return vectors;
}

} // namespace grove::models
