#include "logic/metrics.hpp"

#include <charconv>
#include <cstdio>

#include "messages/names.hpp"

namespace grove::logic {

namespace {

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The shortest text that reads back as `x` (0.005, not 0.0050000000000000001).
std::string number(double x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  if (ec != std::errc{}) return "NaN";
  return std::string(buf, end);
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, double value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ' + number(value) + '\n';
}

// A metric with one unlabelled sample.
void scalar(std::string& out, const char* name, const char* type, const char* help, double value) {
  header(out, name, type, help);
  sample(out, name, "", value);
}

void render_histogram(std::string& out, const char* name, const std::string& labels, const metrics::histogram& h) {
  uint64_t cumulative = 0;
  auto prefix = labels.empty() ? std::string{} : labels + ",";
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.buckets[i];
    sample(out, std::string{name} + "_bucket", prefix + "le=\"" + number(h.bounds[i]) + "\"",
           static_cast<double>(cumulative));
  }
  sample(out, std::string{name} + "_bucket", prefix + "le=\"+Inf\"", static_cast<double>(h.count));
  sample(out, std::string{name} + "_sum", labels, h.sum);
  sample(out, std::string{name} + "_count", labels, static_cast<double>(h.count));
}

} // namespace

void metrics::histogram::add(double seconds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) {
      ++buckets[i];
      break;
    }
  }
  ++count;
  sum += seconds;
}

void metrics::observe(const messages::telemetry_event& ev) {
  using messages::stage;
  counts_.add(ev);
  auto s = ev.stage;
  if (ev.component.empty()) {
    if (s == stage::started) ++jobs_in_flight_;
    if (auto end = messages::final_state_of(s)) {
      ++jobs_[*end];
      --jobs_in_flight_;
    }
  }
  if (s == stage::merged) {
    merge_latency_.add(static_cast<double>(ev.latency_ms) / 1000.0);
    merged_components_ += ev.attempt;
    return;
  }
  if (ev.component.empty()) return;
  if (s == stage::service_restarted) ++service_restarts_[ev.component];
  if (s == stage::service_failed) ++service_failures_[ev.component];
  if (messages::is_node_event(s)) return;
  auto key = std::make_pair(ev.job, ev.component);
  if (s == stage::rebasing) ++rebases_;
  if (s == stage::lessons_given) lessons_given_ += messages::split(ev.detail, ';').size();
  if (s == stage::landed && ev.attempt == 1 && !ev.cache_hit) ++landed_first_attempt_;
  if (s == stage::reviewed) {
    ++review_verdicts_[ev.detail.empty() ? "clean" : "findings"];
    for (auto& item : messages::split(ev.detail, ',')) {
      auto colon = item.rfind(':');
      if (colon != std::string::npos) ++review_findings_[{item.substr(0, colon), item.substr(colon + 1)}];
    }
  }
  if (s == stage::conflict) open_conflicts_.try_emplace(key);
  if (s == stage::resolved) {
    if (auto i = open_conflicts_.find(key); i != open_conflicts_.end()) i->second = ev.provider;
  }
  if (s == stage::landed || s == stage::dropped) {
    if (auto i = open_conflicts_.find(key); i != open_conflicts_.end()) {
      // Dropped after a resolution: the resolution failed (QA, or the job); either way not resolved.
      if (s == stage::landed) {
        ++conflicts_[{"resolved", i->second}];
      } else {
        ++conflicts_[{"dropped", ""}];
      }
      open_conflicts_.erase(i);
    }
  }
  if (s == stage::worktree_opened) ++worktrees_in_flight_;
  if (s == stage::worktree_removed) --worktrees_in_flight_;
  if (s == stage::model || s == stage::model_failed) {
    auto outcome = s == stage::model ? std::string{"ok"} : "error";
    ++model_requests_[{ev.provider, outcome}];
    model_latency_[ev.provider].add(static_cast<double>(ev.latency_ms) / 1000.0);
    tokens_[{ev.provider, "in"}] += ev.tokens_in;
    tokens_[{ev.provider, "out"}] += ev.tokens_out;
    cost_[ev.provider] += ev.cost_usd;
  }
}

std::string metrics::render() const {
  std::string out;
  header(out, "grove_jobs_total", "counter", "Jobs finished, by final status.");
  for (auto status : {messages::job_state::done, messages::job_state::partial, messages::job_state::failed,
                      messages::job_state::cancelled}) {
    auto i = jobs_.find(status);
    sample(out, "grove_jobs_total", "status=\"" + std::string{messages::to_string(status)} + "\"",
           i == jobs_.end() ? 0.0 : static_cast<double>(i->second));
  }
  scalar(out, "grove_jobs_in_flight", "gauge", "Jobs running now.", static_cast<double>(jobs_in_flight_));
  header(out, "grove_components_total", "counter", "Components finished, by result.");
  sample(out, "grove_components_total", "result=\"landed\"", static_cast<double>(counts_.landed));
  sample(out, "grove_components_total", "result=\"cached\"", static_cast<double>(counts_.cached));
  sample(out, "grove_components_total", "result=\"dropped\"", static_cast<double>(counts_.dropped));
  scalar(out, "grove_generation_attempts_total", "counter", "Generator attempts started (QA attempts and restarts).",
         static_cast<double>(counts_.attempts));
  scalar(out, "grove_qa_rejections_total", "counter", "Attempts rejected (by the QA gate, or timed out).",
         static_cast<double>(counts_.rejections));
  scalar(out, "grove_generator_restarts_total", "counter",
         "Generator crashes (restarted or, past the limit, not): the report's restarts.",
         static_cast<double>(counts_.restarts));
  scalar(out, "grove_rebases_total", "counter",
         "Component branches rebased onto a main that another job's change of the same component reached first.",
         static_cast<double>(rebases_));
  scalar(out, "grove_lessons_given_total", "counter", "Lessons of past mistakes put into generation prompts.",
         static_cast<double>(lessons_given_));
  scalar(out, "grove_components_landed_first_attempt_total", "counter",
         "Components that landed on their first attempt (the first-attempt pass rate over result=landed).",
         static_cast<double>(landed_first_attempt_));
  header(out, "grove_review_verdicts_total", "counter",
         "Reviewer verdicts on attempts that passed the rules: clean, or with findings (blocking or not).");
  for (auto& [verdict, n] : review_verdicts_) {
    sample(out, "grove_review_verdicts_total", "verdict=\"" + verdict + "\"", static_cast<double>(n));
  }
  header(out, "grove_review_findings_total", "counter", "Reviewer findings, by code and severity.");
  for (auto& [k, n] : review_findings_) {
    sample(out, "grove_review_findings_total", "code=\"" + escape(k.first) + "\",severity=\"" + escape(k.second) + "\"",
           static_cast<double>(n));
  }
  header(out, "grove_conflicts_total", "counter",
         "Rebase conflicts, by how they ended: resolved (by resolver: builtin, memory or a provider) or dropped.");
  for (auto& [k, n] : conflicts_) {
    auto labels = "outcome=\"" + k.first + "\"" + (k.second.empty() ? "" : ",resolver=\"" + escape(k.second) + "\"");
    sample(out, "grove_conflicts_total", labels, static_cast<double>(n));
  }
  header(out, "grove_node_restarts_total", "counter", "Node services restarted by the node supervisor, by service.");
  for (auto& [service, n] : service_restarts_) {
    sample(out, "grove_node_restarts_total", "actor=\"" + escape(service) + "\"", static_cast<double>(n));
  }
  header(out, "grove_node_service_failures_total", "counter",
         "Node services given up past their restart limit (the node stops), by service.");
  for (auto& [service, n] : service_failures_) {
    sample(out, "grove_node_service_failures_total", "actor=\"" + escape(service) + "\"", static_cast<double>(n));
  }
  scalar(out, "grove_self_corrections_total", "counter", "Model answers re-asked after invalid JSON or schema errors.",
         static_cast<double>(counts_.corrections));
  header(out, "grove_model_requests_total", "counter", "Model requests by provider and outcome.");
  for (auto& [key, n] : model_requests_) {
    sample(out, "grove_model_requests_total", "provider=\"" + escape(key.first) + "\",outcome=\"" + key.second + "\"",
           static_cast<double>(n));
  }
  header(out, "grove_model_latency_seconds", "histogram", "Model request latency by provider.");
  for (auto& [provider, h] : model_latency_) {
    render_histogram(out, "grove_model_latency_seconds", "provider=\"" + escape(provider) + "\"", h);
  }
  header(out, "grove_model_tokens_total", "counter", "Model tokens by provider and direction.");
  for (auto& [key, n] : tokens_) {
    sample(out, "grove_model_tokens_total", "provider=\"" + escape(key.first) + "\",direction=\"" + key.second + "\"",
           static_cast<double>(n));
  }
  header(out, "grove_model_cost_usd_total", "counter",
         "Model spend in US dollars at the providers' prices, by provider.");
  for (auto& [provider, usd] : cost_) {
    sample(out, "grove_model_cost_usd_total", "provider=\"" + escape(provider) + "\"", usd);
  }
  header(out, "grove_merge_latency_seconds", "histogram", "Time to land one merge batch on main.");
  render_histogram(out, "grove_merge_latency_seconds", "", merge_latency_);
  scalar(out, "grove_merged_components_total", "counter", "Components merged into main.",
         static_cast<double>(merged_components_));
  scalar(out, "grove_worktrees_in_flight", "gauge", "Component worktrees that exist now.",
         static_cast<double>(worktrees_in_flight_));
  scalar(out, "grove_telemetry_events_total", "counter", "Telemetry events seen.", static_cast<double>(counts_.events));
  return out;
}

std::string metrics::render_budget(double limit_usd, int64_t window_ms, const std::map<std::string, double>& spent) {
  std::string out;
  double total = 0;
  for (auto& [_, usd] : spent) total += usd;
  scalar(out, "grove_budget_limit_usd", "gauge", "The server's model spend allowed within its rolling window.",
         limit_usd);
  scalar(out, "grove_budget_window_seconds", "gauge", "The length of the budget's rolling window.",
         static_cast<double>(window_ms) / 1000.0);
  scalar(out, "grove_budget_spent_usd", "gauge", "Model spend within the rolling window.", total);
  header(out, "grove_budget_spent_by_provider_usd", "gauge", "Model spend within the rolling window, by provider.");
  for (auto& [provider, usd] : spent)
    sample(out, "grove_budget_spent_by_provider_usd", "provider=\"" + escape(provider) + "\"", usd);
  return out;
}

std::string metrics::render_nodes(const std::vector<messages::node_info>& nodes) {
  std::string out;
  auto each = [&](const char* name, const char* type, const char* help, auto value) {
    header(out, name, type, help);
    for (auto& n : nodes) sample(out, name, "node=\"" + escape(n.name) + "\"", static_cast<double>(value(n)));
  };
  each("grove_node_up", "gauge", "1 while the cluster node is connected, else 0.",
       [](const messages::node_info& n) { return n.up ? 1 : 0; });
  each("grove_node_capacity", "gauge", "Concurrent generations the node takes.",
       [](const messages::node_info& n) { return n.capacity; });
  each("grove_node_generations_in_flight", "gauge", "Generators running on the node now.",
       [](const messages::node_info& n) { return n.in_flight; });
  each("grove_node_generations_placed_total", "counter", "Generators placed on the node.",
       [](const messages::node_info& n) { return n.placed; });
  each("grove_node_losses_total", "counter", "Times the node was lost (killed, frozen, cut off).",
       [](const messages::node_info& n) { return n.lost; });
  each("grove_node_last_seen_seconds", "gauge", "When the node last answered (Unix time).",
       [](const messages::node_info& n) { return static_cast<double>(n.last_seen_ms) / 1000.0; });
  return out;
}

} // namespace grove::logic
