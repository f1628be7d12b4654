#include "messages/vocabulary.hpp"

#include <array>

#include "messages/report.hpp"

namespace grove::messages {

namespace {

constexpr std::array<const char*, static_cast<size_t>(stage::unknown) + 1> stage_names{"queued",
                                                                                       "started",
                                                                                       "planning",
                                                                                       "planned",
                                                                                       "composing",
                                                                                       "error",
                                                                                       "done",
                                                                                       "partial",
                                                                                       "failed",
                                                                                       "cancelled",
                                                                                       "generating",
                                                                                       "generated",
                                                                                       "worktree_opened",
                                                                                       "committing",
                                                                                       "qa",
                                                                                       "reviewed", "lessons_given",
                                                                                       "rejected",
                                                                                       "timed_out",
                                                                                       "crashed",
                                                                                       "restarting",
                                                                                       "cache_rejected",
                                                                                       "merging",
                                                                                       "merged",
                                                                                       "rebasing",
                                                                                       "conflict",
                                                                                       "resolved",
                                                                                       "worktree_removed",
                                                                                       "landed",
                                                                                       "cached",
                                                                                       "dropped",
                                                                                       "model",
                                                                                       "model_failed",
                                                                                       "model_retry",
                                                                                       "model_skipped",
                                                                                       "model_cooldown",
                                                                                       "correcting",
                                                                                       "service_restarted",
                                                                                       "service_failed",
                                                                                       "node_joined",
                                                                                       "node_lost",
                                                                                       "node_status",
                                                                                       "unknown"};

constexpr std::array<const char*, 8> state_names{"queued", "planning", "running", "composing",
                                                 "done",   "partial",  "failed",  "cancelled"};

} // namespace

const char* to_string(stage x) {
  auto i = static_cast<size_t>(x);
  return i < stage_names.size() ? stage_names[i] : "unknown";
}

stage stage_from_string(std::string_view text) {
  for (size_t i = 0; i < stage_names.size(); ++i) {
    if (text == stage_names[i]) return static_cast<stage>(i);
  }
  return stage::unknown;
}

const char* to_string(job_state x) {
  auto i = static_cast<size_t>(x);
  return i < state_names.size() ? state_names[i] : "unknown";
}

std::optional<job_state> job_state_from_string(std::string_view text) {
  for (size_t i = 0; i < state_names.size(); ++i) {
    if (text == state_names[i]) return static_cast<job_state>(i);
  }
  return std::nullopt;
}

bool is_final(job_state x) {
  return x == job_state::done || x == job_state::partial || x == job_state::failed || x == job_state::cancelled;
}

bool is_final_state(std::string_view text) {
  auto s = job_state_from_string(text);
  return s && is_final(*s);
}

std::optional<job_state> final_state_of(stage x) {
  switch (x) {
    case stage::done: return job_state::done;
    case stage::partial: return job_state::partial;
    case stage::failed: return job_state::failed;
    case stage::cancelled: return job_state::cancelled;
    default: return std::nullopt;
  }
}

const char* to_string(journal_record x) {
  switch (x) {
    case journal_record::begin: return "begin";
    case journal_record::plan: return "plan";
    case journal_record::state: return "state";
    case journal_record::finish: return "finish";
    case journal_record::component: return "component";
  }
  return "unknown";
}

bool is_node_event(stage x) {
  return x == stage::service_restarted || x == stage::service_failed || x == stage::node_joined ||
         x == stage::node_lost || x == stage::node_status;
}

bool is_component_outcome(stage x) {
  return x == stage::landed || x == stage::cached || x == stage::dropped;
}

bool is_model_call(stage x) {
  return x == stage::model || x == stage::model_failed || x == stage::model_retry || x == stage::model_skipped ||
         x == stage::model_cooldown;
}

void apply_event(job_status& js, const telemetry_event& ev) {
  if (is_node_event(ev.stage)) return; // no job's row
  js.updated_ms = ev.ts_ms;
  if (ev.component.empty()) {
    if (ev.stage == stage::queued) js.state = job_state::queued;
    if (ev.stage == stage::planning) js.state = job_state::planning;
    if (ev.stage == stage::planned) js.state = job_state::running;
    if (ev.stage == stage::composing) js.state = job_state::composing;
    if (ev.stage == stage::error && !ev.detail.empty()) js.errors.push_back(ev.detail);
    return;
  }
  component_status* cs = nullptr;
  for (auto& c : js.components) {
    if (c.name == ev.component) cs = &c;
  }
  if (cs == nullptr) {
    js.components.push_back({});
    cs = &js.components.back();
    cs->name = ev.component;
    cs->started_ms = ev.ts_ms;
    cs->node = ev.node.empty() ? "local" : ev.node;
  }
  cs->updated_ms = ev.ts_ms;
  if (ev.stage == stage::model || ev.stage == stage::model_failed) {
    js.tokens_in += ev.tokens_in;
    js.tokens_out += ev.tokens_out;
    cs->tokens_in += ev.tokens_in;
    cs->tokens_out += ev.tokens_out;
    js.cost_usd += ev.cost_usd;
    cs->cost_usd += ev.cost_usd;
  }
  if (is_model_call(ev.stage) || ev.stage == stage::merged) return; // not a step of the component
  if (ev.stage == stage::crashed) ++cs->restarts;
  cs->stage = ev.stage;
  cs->attempt = ev.attempt;
  cs->cache_hit = (cs->cache_hit || ev.cache_hit) && ev.stage != stage::cache_rejected;
  cs->detail = ev.detail;
  if (ev.stage == stage::dropped || ev.stage == stage::crashed || ev.stage == stage::rejected) {
    js.errors.push_back(ev.component + ": " + ev.detail);
  }
  if (js.errors.size() > 20) js.errors.erase(js.errors.begin(), js.errors.end() - 20);
}

void event_counts::add(const telemetry_event& ev) {
  ++events;
  switch (ev.stage) {
    case stage::generating: ++attempts; break;
    case stage::landed: ++landed; break;
    case stage::cached: ++cached; break;
    case stage::dropped:
      ++dropped;
      ++errors;
      break;
    case stage::rejected: ++rejections; break;
    case stage::crashed:
      ++restarts;
      ++errors;
      break;
    case stage::correcting: ++corrections; break;
    case stage::error: ++errors; break;
    case stage::service_restarted:
      ++service_restarts;
      ++errors;
      break;
    case stage::service_failed: ++errors; break;
    case stage::failed:
      if (ev.component.empty()) ++errors;
      break;
    default: break;
  }
}

} // namespace grove::messages
