#include "config/settings.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace grove::config {

using messages::errc;
using messages::make_failure;
using json = nlohmann::json;

namespace {

struct reader {
  const json& obj;
  std::string prefix;
  std::string error;

  template <class T>
  void read(const char* key, T& out, double lo, double hi) {
    auto i = obj.find(key);
    if (i == obj.end() || !error.empty()) return;
    if (!i->is_number() || (std::is_integral_v<T> && !i->is_number_integer())) {
      error = prefix + key + ": expected " + (std::is_integral_v<T> ? "an integer" : "a number");
      return;
    }
    auto v = i->get<double>();
    if (v < lo || v > hi) {
      error = prefix + key + ": " + i->dump() + " is outside [" + json(lo).dump() + ", " + json(hi).dump() + "]";
      return;
    }
    out = static_cast<T>(v);
  }

  void read(const char* key, std::string& out) {
    auto i = obj.find(key);
    if (i == obj.end() || !error.empty()) return;
    if (!i->is_string()) {
      error = prefix + key + ": expected a string";
      return;
    }
    out = i->get<std::string>();
  }

  void read(const char* key, bool& out) {
    auto i = obj.find(key);
    if (i == obj.end() || !error.empty()) return;
    if (!i->is_boolean()) {
      error = prefix + key + ": expected true or false";
      return;
    }
    out = i->get<bool>();
  }

  void only(std::initializer_list<const char*> keys) {
    for (auto& [k, _] : obj.items()) {
      bool known = false;
      for (auto* key : keys) known = known || k == key;
      if (!known && error.empty()) error = prefix + k + ": unknown setting";
    }
  }
};

const std::vector<std::string> provider_types = {"builtin", "openai", "ollama", "gemini", "anthropic"};

std::string read_provider(const std::string& name, const json& obj, provider_settings& p) {
  if (!obj.is_object()) return "providers." + name + ": expected an object";
  reader r{obj, "providers." + name + ".", ""};
  r.only({"type", "model", "base_url", "api_key_env", "ca_file", "timeout_ms", "max_concurrency", "max_retries",
          "backoff_base_ms", "backoff_max_ms", "failure_threshold", "cooldown_ms", "max_response_bytes",
          "price_in_per_mtok", "price_out_per_mtok"});
  r.read("type", p.type);
  r.read("model", p.model);
  r.read("base_url", p.base_url);
  r.read("api_key_env", p.api_key_env);
  r.read("ca_file", p.ca_file);
  r.read("timeout_ms", p.timeout_ms, 1, 3600000);
  r.read("max_concurrency", p.max_concurrency, 1, 100000);
  r.read("max_retries", p.max_retries, 0, 100);
  r.read("backoff_base_ms", p.backoff_base_ms, 0, 600000);
  r.read("backoff_max_ms", p.backoff_max_ms, 0, 600000);
  r.read("failure_threshold", p.failure_threshold, 1, 100000);
  r.read("cooldown_ms", p.cooldown_ms, 0, 86400000);
  r.read("max_response_bytes", p.max_response_bytes, 1024, 1e10);
  r.read("price_in_per_mtok", p.price_in_per_mtok, 0, 1e6);
  r.read("price_out_per_mtok", p.price_out_per_mtok, 0, 1e6);
  if (!r.error.empty()) return r.error;
  if (std::find(provider_types.begin(), provider_types.end(), p.type) == provider_types.end()) {
    return "providers." + name + ".type: \"" + p.type + "\" is not one of builtin, openai, ollama, gemini, anthropic";
  }
  if (p.model.empty()) p.model = default_model(p.type);
  return {};
}

std::string read_models(const json& doc, model_settings& m) {
  if (auto ps = doc.find("providers"); ps != doc.end()) {
    if (!ps->is_object()) return "providers: expected an object";
    for (auto& [name, obj] : ps->items()) {
      provider_settings p;
      if (auto err = read_provider(name, obj, p); !err.empty()) return err;
      m.providers[name] = p;
    }
  }
  if (auto rs = doc.find("routes"); rs != doc.end()) {
    if (!rs->is_object()) return "routes: expected an object";
    for (auto& [key, list] : rs->items()) {
      auto dot = key.find('.');
      auto role = key.substr(0, dot);
      static const std::vector<std::string> roles = {"default", "plan", "generate", "review", "resolve"};
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
        return "routes." + key + ": unknown role (plan, generate, review, resolve, default)";
      }
      if (dot != std::string::npos && key.substr(dot + 1) != "simple" && key.substr(dot + 1) != "hard") {
        return "routes." + key + ": unknown difficulty tier (simple, hard)";
      }
      if (!list.is_array() || list.empty()) return "routes." + key + ": expected a non-empty list of provider names";
      std::vector<std::string> names;
      for (auto& n : list) {
        if (!n.is_string()) return "routes." + key + ": expected provider names";
        if (!m.providers.count(n.get<std::string>())) {
          return "routes." + key + ": unknown provider \"" + n.get<std::string>() + "\"";
        }
        names.push_back(n.get<std::string>());
      }
      m.routes[key] = names;
    }
  }
  if (auto rp = doc.find("retry_prefer"); rp != doc.end()) {
    if (!rp->is_object()) return "retry_prefer: expected an object";
    for (auto& [role, name] : rp->items()) {
      if (role != "plan" && role != "generate" && role != "review" && role != "resolve") {
        return "retry_prefer." + role + ": unknown role (plan, generate, review, resolve)";
      }
      if (!name.is_string() || name.get<std::string>().empty()) {
        return "retry_prefer." + role + ": expected a provider name";
      }
      m.retry_prefer[role] = name.get<std::string>();
    }
  }
  reader top{doc, "", ""};
  top.read("self_correction_attempts", m.self_correction_attempts, 0, 10);
  top.read("max_tokens_per_job", m.max_tokens_per_job, 0, 1e15);
  top.read("max_cost_usd", m.max_cost_usd, 0, 1e9);
  return top.error;
}

} // namespace

std::string default_model(const std::string& type) {
  if (type == "openai") return "gpt-4o-mini";
  if (type == "ollama") return "qwen2.5-coder";
  if (type == "gemini") return "gemini-1.5-flash";
  if (type == "anthropic") return "claude-sonnet-4-5";
  return "builtin";
}

std::vector<std::string> route_for(const model_settings& m, const std::string& role, const std::string& tier) {
  for (auto key : {role + "." + tier, role, std::string{"default"}}) {
    if (auto i = m.routes.find(key); i != m.routes.end()) return i->second;
  }
  return {"builtin"};
}

std::vector<std::string> review_route(const model_settings& m) {
  if (auto i = m.routes.find("review"); i != m.routes.end()) {
    if (i->second.size() == 1 && i->second[0] == "builtin") return {};
    return i->second;
  }
  auto generator = route_for(m, "generate", "");
  for (auto& [name, p] : m.providers) {
    if (p.type == "builtin" || name == "builtin") continue;
    if (!generator.empty() && generator.front() == name) continue;
    return {name};
  }
  return {};
}

std::string check_review_mode(const std::string& mode, const std::string& what) {
  for (auto* m : review_modes) {
    if (mode == m) return {};
  }
  return what + ": \"" + mode + "\" is not a review mode (off, advisory, blocking)";
}

settings defaults() {
  return settings{};
}

messages::result<settings> apply_provider_flag(settings base, const std::string& flag) {
  auto colon = flag.find(':');
  auto name = flag.substr(0, colon);
  auto model = colon == std::string::npos ? std::string{} : flag.substr(colon + 1);
  if (name.empty()) return make_failure(errc::invalid_config, "--provider needs NAME[:MODEL]");
  auto& providers = base.models.providers;
  if (!providers.count(name)) {
    if (std::find(provider_types.begin(), provider_types.end(), name) == provider_types.end()) {
      return make_failure(
        errc::invalid_config,
        "--provider: \"" + name + "\" is neither a configured provider nor a type (builtin, openai, ollama, gemini, anthropic)");
    }
    provider_settings p;
    p.type = name;
    p.model = default_model(name);
    providers[name] = p;
  }
  if (!model.empty()) providers[name].model = model;
  base.models.routes.clear();
  base.models.routes["default"] = {name};
  return base;
}

messages::result<settings> apply_settings(const std::string& text, settings base) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) { // parse errors, and numbers out of range (1e999)
    return make_failure(errc::invalid_config, std::string{"config is not valid JSON: "} + e.what());
  }
  if (!doc.is_object()) {
    return make_failure(errc::invalid_config, "config must be a JSON object");
  }
  reader top{doc, "", ""};
  top.only({"max_attempts", "parallel", "threads", "generator_timeout_ms", "component_timeout_ms", "job_timeout_ms",
            "restart", "service_restart", "providers", "routes", "retry_prefer", "self_correction_attempts",
            "max_tokens_per_job", "cluster", "review", "lessons", "lessons_injected", "embeddings",
            "telemetry_log_max_mb", "telemetry_log_keep", "max_cost_usd", "budget_usd_per_day", "budget_window_ms"});
  top.read("max_attempts", base.max_attempts, 1, 20);
  top.read("parallel", base.parallel, 1, 10000);
  top.read("threads", base.threads, 0, 256);
  top.read("generator_timeout_ms", base.generator_timeout_ms, 1, 3600000);
  top.read("component_timeout_ms", base.component_timeout_ms, 1, 86400000);
  top.read("job_timeout_ms", base.job_timeout_ms, 1, 86400000);
  top.read("review", base.review);
  top.read("lessons", base.lessons);
  top.read("lessons_injected", base.lessons_injected, 0, 10);
  top.read("telemetry_log_max_mb", base.telemetry_log_max_mb, 1, 65536);
  top.read("telemetry_log_keep", base.telemetry_log_keep, 0, 100);
  top.read("budget_usd_per_day", base.budget_usd_per_day, 0, 1e9);
  top.read("budget_window_ms", base.budget_window_ms, 1000, 31 * 86400000.0);
  if (!top.error.empty()) return make_failure(errc::invalid_config, top.error);
  if (auto err = check_review_mode(base.review, "review"); !err.empty()) return make_failure(errc::invalid_config, err);
  // The same policy shape for generators (restart) and for the node's services (service_restart).
  for (auto [key, target] :
       {std::pair{"restart", &base.restart}, std::pair{"service_restart", &base.service_restart}}) {
    auto r = doc.find(key);
    if (r == doc.end()) continue;
    if (!r->is_object()) return make_failure(errc::invalid_config, std::string{key} + ": expected an object");
    reader sub{*r, std::string{key} + ".", ""};
    sub.only({"intensity", "period_ms", "backoff_base_ms", "backoff_max_ms", "jitter"});
    sub.read("intensity", target->intensity, 0, 1000);
    sub.read("period_ms", target->period_ms, 1, 86400000);
    sub.read("backoff_base_ms", target->backoff_base_ms, 0, 600000);
    sub.read("backoff_max_ms", target->backoff_max_ms, 0, 600000);
    sub.read("jitter", target->jitter, 0, 10);
    if (!sub.error.empty()) return make_failure(errc::invalid_config, sub.error);
  }
  if (auto c = doc.find("cluster"); c != doc.end()) {
    if (!c->is_object()) return make_failure(errc::invalid_config, "cluster: expected an object");
    reader sub{*c, "cluster.", ""};
    sub.only({"heartbeat_interval_ms", "connection_timeout_ms", "local_capacity", "capacity", "certificate", "key",
              "ca_file"});
    auto& k = base.cluster;
    sub.read("heartbeat_interval_ms", k.heartbeat_interval_ms, 10, 600000);
    sub.read("connection_timeout_ms", k.connection_timeout_ms, 50, 3600000);
    sub.read("local_capacity", k.local_capacity, 0, 100000);
    sub.read("capacity", k.capacity, 1, 100000);
    sub.read("certificate", k.certificate);
    sub.read("key", k.key);
    sub.read("ca_file", k.ca_file);
    if (!sub.error.empty()) return make_failure(errc::invalid_config, sub.error);
    if (k.connection_timeout_ms <= k.heartbeat_interval_ms) {
      return make_failure(errc::invalid_config,
                          "cluster.connection_timeout_ms must be longer than cluster.heartbeat_interval_ms");
    }
  }
  if (auto e = doc.find("embeddings"); e != doc.end()) {
    if (!e->is_object()) return make_failure(errc::invalid_config, "embeddings: expected an object");
    reader sub{*e, "embeddings.", ""};
    sub.only({"type", "model", "base_url", "api_key_env", "ca_file", "timeout_ms", "min_similarity"});
    auto& k = base.embeddings;
    sub.read("type", k.type);
    sub.read("model", k.model);
    sub.read("base_url", k.base_url);
    sub.read("api_key_env", k.api_key_env);
    sub.read("ca_file", k.ca_file);
    sub.read("timeout_ms", k.timeout_ms, 1, 10000);
    sub.read("min_similarity", k.min_similarity, -1, 1);
    if (!sub.error.empty()) return make_failure(errc::invalid_config, sub.error);
    if (k.type != "openai" && k.type != "ollama") {
      return make_failure(errc::invalid_config,
                          "embeddings.type: \"" + k.type + "\" is not an embeddings format (openai, ollama)");
    }
    if (k.model.empty()) k.model = k.type == "openai" ? "text-embedding-3-small" : "nomic-embed-text";
  }
  base.models.providers.try_emplace("builtin", provider_settings{});
  if (auto err = read_models(doc, base.models); !err.empty()) return make_failure(errc::invalid_config, err);
  return base;
}

messages::result<settings> load_settings(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    return make_failure(errc::invalid_config, "cannot read config file " + path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto res = apply_settings(buf.str(), defaults());
  if (!res) {
    return make_failure(errc::invalid_config, path + ": " + res.error().message);
  }
  return res;
}

} // namespace grove::config
