#include "infra/models/http_provider.hpp"

#include <cstdlib>

#include "logic/prompts.hpp"
#include "logic/routing.hpp"
#include "messages/secrets.hpp"
#include "logic/wire_formats.hpp"
#include "messages/clock.hpp"
#include "infra/http/http_client.hpp"

namespace grove::models {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string{v} : std::string{};
}

std::string key_variable(const config::provider_settings& cfg) {
  if (!cfg.api_key_env.empty()) return cfg.api_key_env;
  if (cfg.type == "openai") return "OPENAI_API_KEY";
  if (cfg.type == "gemini") return "GEMINI_API_KEY";
  if (cfg.type == "anthropic") return "ANTHROPIC_API_KEY";
  return {};
}

std::string excerpt(std::string_view body) {
  std::string out{body.substr(0, 200)};
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return body.size() > 200 ? out + "..." : out;
}

class http_provider final : public provider {
public:
  http_provider(std::string name, config::provider_settings cfg, logic::wire::format fmt,
                std::shared_ptr<http::client> client)
    : name_(std::move(name)), cfg_(std::move(cfg)), format_(fmt), client_(std::move(client)) {
    base_url_ = resolve_base_url(cfg_);
    auto var = key_variable(cfg_);
    if (!var.empty()) key_ = env(var.c_str());
    // Every text leaving the process is redacted against it from now on.
    messages::register_secret(key_);
  }

  std::string name() const override { return name_ + ":" + cfg_.model; }

  std::vector<std::string> secrets() const override {
    return key_.empty() ? std::vector<std::string>{} : std::vector<std::string>{key_};
  }

  void complete(const messages::model_request& call, const std::string& prompt, completion done) override {
    auto out = logic::wire::make_request(format_, base_url_, cfg_.model, key_, logic::prompts::system_prompt(), prompt);
    http::request req;
    req.url = out.url;
    req.headers = std::move(out.headers);
    req.body = std::move(out.body);
    req.timeout = std::chrono::milliseconds{cfg_.timeout_ms};
    if (call.deadline_ms > 0) {
      // Never past the caller's deadline: a model that hangs or drips is cut there.
      req.timeout =
        std::min(req.timeout, std::chrono::milliseconds{std::max<int64_t>(1, call.deadline_ms - messages::now_ms())});
    }
    req.max_response_bytes = cfg_.max_response_bytes;
    auto fmt = format_;
    auto secrets = this->secrets();
    auto who = name();
    client_->send(std::move(req), [fmt, secrets, who, done = std::move(done)](http::response r) {
      messages::provider_done d;
      d.latency_ms = r.latency.count();
      d.http_status = r.status;
      d.reply.provider = who;
      if (!r.error.empty()) {
        d.error = r.error;
        d.retryable = !r.too_large;
      } else if (r.status < 200 || r.status >= 300) {
        d.error = "HTTP " + std::to_string(r.status) + ": " + excerpt(r.body);
        d.retryable = r.status == 429 || r.status == 408 || r.status >= 500;
        if (auto ra = r.headers.find("retry-after"); ra != r.headers.end()) {
          d.retry_after_ms = logic::routing::parse_retry_after(ra->second);
        }
      } else if (auto a = logic::wire::parse_response(fmt, r.body); !a) {
        d.error = a.error().message;
      } else {
        d.ok = true;
        d.reply.text = std::move(a->text);
        d.reply.tokens_in = a->tokens_in;
        d.reply.tokens_out = a->tokens_out;
      }
      d.error = messages::redact(std::move(d.error), secrets);
      done(std::move(d));
    });
  }

private:
  std::string name_;
  config::provider_settings cfg_;
  logic::wire::format format_;
  std::shared_ptr<http::client> client_;
  std::string base_url_;
  std::string key_;
};

} // namespace

std::string resolve_base_url(const config::provider_settings& cfg) {
  if (!cfg.base_url.empty()) return cfg.base_url;
  if (cfg.type == "openai") {
    auto v = env("OPENAI_BASE_URL");
    return v.empty() ? "https://api.openai.com/v1" : v;
  }
  if (cfg.type == "ollama") {
    auto v = env("OLLAMA_HOST");
    if (v.empty()) return "http://127.0.0.1:11434";
    return v.find("://") == std::string::npos ? "http://" + v : v;
  }
  if (cfg.type == "gemini") {
    auto v = env("GEMINI_BASE_URL");
    return v.empty() ? "https://generativelanguage.googleapis.com/v1beta" : v;
  }
  if (cfg.type == "anthropic") {
    auto v = env("ANTHROPIC_BASE_URL");
    return v.empty() ? "https://api.anthropic.com" : v;
  }
  return {};
}

std::shared_ptr<provider> make_http_provider(const std::string& name, const config::provider_settings& cfg,
                                             std::shared_ptr<http::client> client) {
  auto fmt = logic::wire::format_from(cfg.type);
  if (!fmt) return nullptr;
  return std::make_shared<http_provider>(name, cfg, *fmt, std::move(client));
}

} // namespace grove::models
