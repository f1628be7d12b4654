#include "config/settings.hpp"

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

  void only(std::initializer_list<const char*> keys) {
    for (auto& [k, _] : obj.items()) {
      bool known = false;
      for (auto* key : keys) known = known || k == key;
      if (!known && error.empty()) error = prefix + k + ": unknown setting";
    }
  }
};

} // namespace

messages::result<settings> apply_settings(const std::string& text, settings base) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return make_failure(errc::invalid_config, std::string{"config is not valid JSON: "} + e.what());
  }
  if (!doc.is_object()) {
    return make_failure(errc::invalid_config, "config must be a JSON object");
  }
  reader top{doc, "", ""};
  top.only({"max_attempts", "parallel", "threads", "generator_timeout_ms", "provider", "restart"});
  top.read("max_attempts", base.max_attempts, 1, 20);
  top.read("parallel", base.parallel, 1, 10000);
  top.read("threads", base.threads, 0, 256);
  top.read("generator_timeout_ms", base.generator_timeout_ms, 1, 3600000);
  top.read("provider", base.provider);
  if (!top.error.empty()) return make_failure(errc::invalid_config, top.error);
  if (auto r = doc.find("restart"); r != doc.end()) {
    if (!r->is_object()) return make_failure(errc::invalid_config, "restart: expected an object");
    reader sub{*r, "restart.", ""};
    sub.only({"intensity", "period_ms", "backoff_base_ms", "backoff_max_ms", "jitter"});
    sub.read("intensity", base.restart.intensity, 0, 1000);
    sub.read("period_ms", base.restart.period_ms, 1, 86400000);
    sub.read("backoff_base_ms", base.restart.backoff_base_ms, 0, 600000);
    sub.read("backoff_max_ms", base.restart.backoff_max_ms, 0, 600000);
    sub.read("jitter", base.restart.jitter, 0, 10);
    if (!sub.error.empty()) return make_failure(errc::invalid_config, sub.error);
  }
  if (base.provider != "builtin") {
    return make_failure(errc::invalid_config,
                        "provider: \"" + base.provider + "\" is not available (known: builtin)");
  }
  return base;
}

messages::result<settings> load_settings(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    return make_failure(errc::invalid_config, "cannot read config file " + path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto res = apply_settings(buf.str(), settings{});
  if (!res) {
    return make_failure(errc::invalid_config, path + ": " + res.error().message);
  }
  return res;
}

} // namespace grove::config
