#include "messages/codec.hpp"

#include <random>

#include <nlohmann/json.hpp>

#include "messages/names.hpp"
#include "messages/schema.hpp"
#include "messages/secrets.hpp"

namespace grove::messages {

using json = nlohmann::json;

namespace {

std::string join_errors(const std::vector<std::string>& errs) {
  std::string out;
  for (auto& e : errs) {
    if (!out.empty()) out += "; ";
    out += e;
  }
  return out;
}

json plan_json(const plan& p) {
  json comps = json::array();
  for (auto& c : p.components) {
    json comp = {{"name", c.name}, {"description", c.description}, {"action", c.action}};
    if (!c.instruction.empty()) comp["instruction"] = c.instruction;
    comps.push_back(std::move(comp));
  }
  return {{"session_id", p.session_id}, {"request", p.request}, {"components", comps}};
}

} // namespace

std::string new_session_id() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  auto x = gen();
  std::string out(16, '0');
  for (auto& c : out) {
    c = digits[x & 0xF];
    x >>= 4;
  }
  return out;
}

result<plan> parse_plan(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) { // parse errors, and numbers out of range (1e999)
    return make_failure(errc::invalid_json, std::string{"plan is not valid JSON: "} + e.what());
  }
  if (!doc.is_object()) {
    return make_failure(errc::invalid_plan, "plan must be a JSON object");
  }
  if (!doc.contains("session_id")) {
    doc["session_id"] = new_session_id();
  }
  if (!doc.contains("request")) {
    doc["request"] = "";
  }
  if (auto comps = doc.find("components"); comps != doc.end() && comps->is_array()) {
    for (size_t i = 0; i < comps->size(); ++i) {
      auto& c = (*comps)[i];
      if (c.is_object() && c.contains("name") && c["name"].is_string()) {
        auto name = normalise_name(c["name"].get<std::string>());
        if (!name) {
          return make_failure(errc::invalid_name, "/components/" + std::to_string(i) + ": " + name.error().message);
        }
        c["name"] = *name;
      }
    }
  }
  if (auto errs = validate(doc, schema_id::plan); !errs.empty()) {
    return make_failure(errc::invalid_plan, "plan violates plan.schema.json: " + join_errors(errs));
  }
  plan out;
  out.session_id = doc["session_id"].get<std::string>();
  out.request = doc["request"].get<std::string>();
  for (auto& c : doc["components"]) {
    out.components.push_back({c["name"].get<std::string>(), c.value("description", ""), c.value("action", "create"),
                              c.value("instruction", "")});
  }
  return out;
}

status validate_plan(const plan& p) {
  if (auto errs = validate(plan_json(p), schema_id::plan); !errs.empty()) {
    return make_failure(errc::invalid_plan, "plan violates plan.schema.json: " + join_errors(errs));
  }
  return ok();
}

std::string plan_to_text(const plan& p) {
  return plan_json(p).dump(2);
}

result<nlohmann::json> parse_component(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) { // parse errors, and numbers out of range (1e999)
    return make_failure(errc::invalid_json, std::string{"component is not valid JSON: "} + e.what());
  }
  if (auto errs = validate(doc, schema_id::component); !errs.empty()) {
    return make_failure(errc::schema_violation, "component violates component.schema.json: " + join_errors(errs));
  }
  return doc;
}

std::string component_to_text(const nlohmann::json& doc) {
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

job_report report_from_json(const nlohmann::json& r) {
  job_report out;
  if (!r.is_object()) return out;
  out.job = r.value("job", "");
  out.request = r.value("request", "");
  out.status = r.value("status", "failed");
  out.output = r.value("output", "");
  out.error = r.value("error", "");
  out.elapsed_ms = r.value("elapsed_ms", int64_t{0});
  out.composition_commit = r.value("composition_commit", "");
  for (auto& c : r.value("components", json::array())) {
    component_report cr;
    cr.name = c.value("name", "");
    cr.status = c.value("status", "");
    cr.attempts = c.value("attempts", 0u);
    cr.restarts = c.value("restarts", 0u);
    cr.corrections = c.value("corrections", 0u);
    cr.cache_hit = c.value("cache_hit", false);
    cr.commit = c.value("commit", "");
    cr.error = c.value("error", "");
    cr.action = c.value("action", "create");
    cr.version = c.value("version", 0u);
    cr.rebases = c.value("rebases", 0u);
    cr.conflict = c.value("conflict", "");
    cr.resolved_by = c.value("resolved_by", "");
    for (auto& f : c.value("findings", json::array())) {
      if (f.is_object()) {
        cr.findings.push_back(
          {f.value("code", ""), f.value("severity", ""), f.value("message", ""), f.value("advice", "")});
      }
    }
    for (auto& n : c.value("nodes", json::array()))
      if (n.is_string()) cr.nodes.push_back(n.get<std::string>());
    for (auto& v : c.value("violations", json::array()))
      cr.violations.push_back({v.value("code", ""), v.value("message", "")});
    out.components.push_back(cr);
  }
  auto read_usage = [](const json& u, usage& x) {
    x.requests = u.value("requests", uint64_t{0});
    x.failures = u.value("failures", uint64_t{0});
    x.tokens_in = u.value("tokens_in", uint64_t{0});
    x.tokens_out = u.value("tokens_out", uint64_t{0});
    x.cost_usd = u.value("cost_usd", 0.0);
  };
  if (auto u = r.find("usage"); u != r.end() && u->is_object()) {
    read_usage(*u, out.model_usage.total);
    auto by_provider = u->value("by_provider", json::object()); // a copy: items() of a temporary dangles
    for (auto& [name, pu] : by_provider.items()) {
      usage x;
      x.provider = name;
      read_usage(pu, x);
      out.model_usage.by_provider.push_back(x);
    }
  }
  return out;
}

nlohmann::json report_to_json(const job_report& r) {
  json comps = json::array();
  for (auto& c : r.components) {
    json v = json::array();
    for (auto& x : c.violations) {
      v.push_back({{"code", x.code}, {"message", redact(x.message)}});
    }
    json findings = json::array();
    for (auto& x : c.findings) {
      findings.push_back(
        {{"code", x.code}, {"severity", x.severity}, {"message", redact(x.message)}, {"advice", redact(x.advice)}});
    }
    comps.push_back({{"name", c.name},
                     {"status", c.status},
                     {"attempts", c.attempts},
                     {"restarts", c.restarts},
                     {"corrections", c.corrections},
                     {"cache_hit", c.cache_hit},
                     {"commit", c.commit},
                     {"violations", v},
                     {"error", redact(c.error)},
                     {"nodes", c.nodes},
                     {"action", c.action},
                     {"version", c.version},
                     {"rebases", c.rebases},
                     {"conflict", redact(c.conflict)},
                     {"resolved_by", c.resolved_by},
                     {"findings", findings}});
  }
  auto usage_json = [](const usage& u) {
    return json{{"requests", u.requests},
                {"failures", u.failures},
                {"tokens_in", u.tokens_in},
                {"tokens_out", u.tokens_out},
                {"cost_usd", u.cost_usd}};
  };
  json by_provider = json::object();
  for (auto& u : r.model_usage.by_provider) by_provider[u.provider] = usage_json(u);
  json model_usage = usage_json(r.model_usage.total);
  model_usage["by_provider"] = by_provider;
  return {{"job", r.job},
          {"usage", model_usage},
          {"request", redact(r.request)},
          {"status", r.status},
          {"components", comps},
          {"output", r.output},
          {"composition_commit", r.composition_commit},
          {"elapsed_ms", r.elapsed_ms},
          {"error", redact(r.error)}};
}

} // namespace grove::messages
