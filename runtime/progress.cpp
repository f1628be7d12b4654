#include "runtime/progress.hpp"

#include <caf/all.hpp>

namespace grove::runtime {

bool progress_table::apply(const messages::telemetry_event& ev) {
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

namespace {

struct progress_state {
  progress_table table;
  size_t drawn = 0; // lines on screen from the last redraw
  static inline const char* name = "progress_printer";
};

} // namespace

namespace {

actors::event_sink_actor::behavior_type progress_printer(
  actors::event_sink_actor::stateful_pointer<progress_state> self, FILE* out, bool tty) {
  return {
    [self, out, tty](const messages::telemetry_event& ev) {
      auto& st = self->state;
      st.table.apply(ev);
      if (!tty) {
        std::fprintf(out, "%s\n", ev.component.empty() ? ("job " + st.table.job_line()).c_str()
                                                       : st.table.line(ev.component).c_str());
        std::fflush(out);
        return;
      }
      // Move up over the previous drawing and repaint every line.
      if (st.drawn > 0) std::fprintf(out, "\x1b[%zuA", st.drawn);
      std::fprintf(out, "\r\x1b[2Kjob %s\n", st.table.job_line().c_str());
      for (auto& c : st.table.order()) std::fprintf(out, "\r\x1b[2K%s\n", st.table.line(c).c_str());
      st.drawn = st.table.order().size() + 1;
      std::fflush(out);
    },
  };
}

} // namespace

actors::event_sink_actor spawn_progress_printer(caf::actor_system& sys, FILE* out, bool tty) {
  return sys.spawn(progress_printer, out, tty);
}

} // namespace grove::runtime
