#include "app/progress.hpp"

#include <optional>

#include <caf/all.hpp>

namespace grove::app {

bool progress_table::apply(const messages::telemetry_event& ev) {
  using messages::stage;
  auto quiet = messages::is_model_call(ev.stage) || ev.stage == stage::worktree_opened ||
               ev.stage == stage::worktree_removed || ev.stage == stage::merged;
  auto before = js_.components.size();
  messages::apply_event(js_, ev);
  if (js_.components.size() > before) order_.push_back(ev.component);
  if (quiet) return false;
  if (ev.component.empty())
    job_line_ = std::string{messages::to_string(ev.stage)} + (ev.detail.empty() ? "" : ": " + ev.detail);
  return true;
}

std::string progress_table::line(const std::string& component) const {
  using messages::stage;
  const messages::component_status* r = nullptr;
  for (auto& c : js_.components) {
    if (c.name == component) r = &c;
  }
  if (r == nullptr) return component;
  char head[160];
  std::snprintf(head, sizeof(head), "%-24.24s %-11s attempt %u%s", component.c_str(), messages::to_string(r->stage),
                r->attempt, r->cache_hit ? "  cache hit" : "");
  std::string out = head;
  if (r->restarts > 0) out += "  restarts " + std::to_string(r->restarts);
  auto& d = r->detail;
  if (!d.empty() && (r->stage == stage::rejected || r->stage == stage::dropped || r->stage == stage::crashed ||
                     r->stage == stage::restarting || r->stage == stage::rebasing || r->stage == stage::conflict ||
                     r->stage == stage::resolved)) {
    out += "  " + (d.size() > 90 ? d.substr(0, 87) + "..." : d);
  }
  return out;
}

void progress_view::on_event(const messages::telemetry_event& ev) {
  if (!table_.apply(ev)) return;
  if (!tty_) {
    std::fprintf(out_, "%s\n",
                 ev.component.empty() ? ("job " + table_.job_line()).c_str() : table_.line(ev.component).c_str());
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

} // namespace grove::app
