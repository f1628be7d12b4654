#include "runtime/progress.hpp"

#include <optional>

#include <caf/all.hpp>

namespace grove::runtime {

bool progress_table::apply(const messages::telemetry_event& ev) {
  static const char* quiet[] = {"model", "model_failed", "model_retry", "model_cooldown", "model_skipped",
                                "worktree_opened", "worktree_removed", "merged"};
  for (auto* q : quiet) {
    if (ev.stage == q) return false;
  }
  if (ev.component.empty()) {
    job_line_ = ev.stage + (ev.detail.empty() ? "" : ": " + ev.detail);
    return true;
  }
  auto [it, fresh] = rows_.try_emplace(ev.component);
  if (fresh) order_.push_back(ev.component);
  auto& r = it->second;
  if (ev.stage == "crashed") ++r.restarts;
  r.stage = ev.stage;
  r.attempt = ev.attempt;
  r.cache_hit = r.cache_hit || ev.cache_hit;
  if (ev.stage == "cache_rejected") r.cache_hit = false;
  r.detail = ev.detail;
  return true;
}

std::string progress_table::line(const std::string& component) const {
  auto it = rows_.find(component);
  if (it == rows_.end()) return component;
  auto& r = it->second;
  char head[160];
  std::snprintf(head, sizeof(head), "%-24.24s %-11s attempt %u%s", component.c_str(), r.stage.c_str(), r.attempt,
                r.cache_hit ? "  cache hit" : "");
  std::string out = head;
  if (r.restarts > 0) out += "  restarts " + std::to_string(r.restarts);
  if (!r.detail.empty() && (r.stage == "rejected" || r.stage == "dropped" || r.stage == "crashed" || r.stage == "restarting")) {
    out += "  " + (r.detail.size() > 90 ? r.detail.substr(0, 87) + "..." : r.detail);
  }
  return out;
}

void progress_view::on_event(const messages::telemetry_event& ev) {
  if (!table_.apply(ev)) return;
  if (!tty_) {
    std::fprintf(out_, "%s\n", ev.component.empty() ? ("job " + table_.job_line()).c_str() : table_.line(ev.component).c_str());
    std::fflush(out_);
    return;
  }
  // Move up over the previous drawing and repaint every line.
  if (drawn_ > 0) std::fprintf(out_, "\x1b[%zuA", drawn_);
  std::fprintf(out_, "\r\x1b[2Kjob %s\n", table_.job_line().c_str());
  for (auto& c : table_.order()) std::fprintf(out_, "\r\x1b[2K%s\n", table_.line(c).c_str());
  drawn_ = table_.order().size() + 1;
  std::fflush(out_);
}

namespace {

struct progress_state {
  std::optional<progress_view> view;
  static inline const char* name = "progress_printer";
};

actors::event_sink_actor::behavior_type progress_printer(
  actors::event_sink_actor::stateful_pointer<progress_state> self, FILE* out, bool tty) {
  self->state.view.emplace(out, tty);
  return {
    [self](const messages::telemetry_event& ev) { self->state.view->on_event(ev); },
  };
}

} // namespace

actors::event_sink_actor spawn_progress_printer(caf::actor_system& sys, FILE* out, bool tty) {
  return sys.spawn(progress_printer, out, tty);
}

} // namespace grove::runtime
