#include "logic/routing.hpp"

#include <algorithm>

#include "logic/budget.hpp"
#include "logic/supervision.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "logic/templates.hpp"
#include "messages/codec.hpp"
#include "messages/names.hpp"
#include "messages/schema.hpp"

namespace grove::logic::routing {

std::string difficulty(const messages::model_request& req) {
  if (req.role != "generate") return "hard";
  if (req.attempt >= 2) return "hard";
  for (const char* heavy : {"dashboard", "table", "chart", "pricing", "graph", "grid"}) {
    if (req.spec.name.find(heavy) != std::string::npos) return "hard";
  }
  if (!builtin::has_template(req.spec.name)) return "hard";
  if (req.spec.description.size() > 160) return "hard";
  return "simple";
}

bool breaker::failure(clock::time_point now, uint32_t threshold, std::chrono::milliseconds cooldown) {
  ++failures_;
  if (failures_ >= threshold && allow(now)) {
    open_until_ = now + cooldown;
    failures_ = 0;
    return true;
  }
  return false;
}

int64_t parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.empty()) return -1;
  std::string s{value};
  char* end = nullptr;
  double seconds = std::strtod(s.c_str(), &end);
  while (end != nullptr && *end == ' ') ++end;
  if (end == s.c_str() || (end != nullptr && *end != '\0') || seconds < 0) return -1;
  return static_cast<int64_t>(seconds * 1000.0);
}

std::string extract_json(std::string_view text) {
  auto open = text.find('{');
  auto close = text.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::string{text};
  return std::string{text.substr(open, close - open + 1)};
}

std::string check_answer(const messages::model_request& req, std::string_view json_text) {
  if (req.role == "plan") {
    auto p = messages::parse_plan(json_text);
    return p ? std::string{} : p.error().message;
  }
  if (req.role == "review") {
    auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) return "the verdict is not valid JSON";
    auto errors = messages::validate(doc, messages::schema_id::review);
    return errors.empty() ? std::string{} : errors.front();
  }
  if (req.role == "generate" || req.role == "edit" || req.role == "resolve") {
    auto c = messages::parse_component(json_text);
    if (!c) return c.error().message;
    auto name = (*c)["component"].get<std::string>();
    if (name != req.spec.name) return "\"component\" is \"" + name + "\"; it must be \"" + req.spec.name + "\"";
  }
  return {};
}

void account(messages::usage& u, uint64_t tokens_in, uint64_t tokens_out, double price_in_per_mtok,
             double price_out_per_mtok, bool failed) {
  ++u.requests;
  if (failed) ++u.failures;
  u.tokens_in += tokens_in;
  u.tokens_out += tokens_out;
  u.cost_usd += budget::cost_of(tokens_in, tokens_out, price_in_per_mtok, price_out_per_mtok);
}

void merge_usage(messages::job_usage& into, const messages::job_usage& from, const std::string& node) {
  auto add = [](messages::usage& a, const messages::usage& b) {
    a.requests += b.requests;
    a.failures += b.failures;
    a.tokens_in += b.tokens_in;
    a.tokens_out += b.tokens_out;
    a.cost_usd += b.cost_usd;
  };
  add(into.total, from.total);
  for (auto u : from.by_provider) {
    if (!node.empty()) u.provider += "@" + node;
    auto row = std::find_if(into.by_provider.begin(), into.by_provider.end(),
                            [&](const messages::usage& x) { return x.provider == u.provider; });
    if (row == into.by_provider.end()) {
      into.by_provider.push_back(std::move(u));
    } else {
      add(*row, u);
    }
  }
}

std::chrono::milliseconds retry_delay(std::chrono::milliseconds base, std::chrono::milliseconds max, uint32_t retry,
                                      int64_t retry_after_ms, double rand01) {
  supervision::backoff_policy policy{base, max, retry_jitter};
  auto delay = supervision::backoff_delay(policy, retry > 0 ? retry - 1 : 0, rand01);
  if (retry_after_ms > delay.count()) delay = std::min(std::chrono::milliseconds{retry_after_ms}, retry_after_cap);
  return delay;
}

} // namespace grove::logic::routing
