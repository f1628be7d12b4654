#include "actors/telemetry.hpp"

#include <chrono>
#include <fstream>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/metrics.hpp"

namespace grove::actors {

struct telemetry_state {
  messages::telemetry_stats stats;
  actors::metrics prom;
  std::vector<event_sink_actor> sinks;
  std::ofstream log;
  static inline const char* name = "telemetry";
};

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

telemetry_actor::behavior_type telemetry(telemetry_actor::stateful_pointer<telemetry_state> self,
                                         std::filesystem::path log) {
  if (!log.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(log.parent_path(), ec);
    self->state.log.open(log, std::ios::app);
  }
  return {
    [self](messages::telemetry_event& ev) {
      if (ev.ts_ms == 0) ev.ts_ms = now_ms();
      auto& s = self->state.stats;
      self->state.prom.observe(ev);
      ++s.events;
      if (ev.stage == "landed") ++s.landed;
      if (ev.stage == "cached") ++s.cache_hits;
      if (ev.stage == "dropped") ++s.dropped;
      if (ev.stage == "rejected") ++s.qa_retries;
      if (ev.stage == "restarting") ++s.restarts;
      if (ev.stage == "dropped" || ev.stage == "error" || ev.stage == "crashed" ||
          (ev.component.empty() && ev.stage == "failed")) {
        ++s.errors;
      }
      if (self->state.log.is_open()) {
        nlohmann::json line = {{"ts_ms", ev.ts_ms}, {"job", ev.job}, {"component", ev.component},
                               {"stage", ev.stage}, {"attempt", ev.attempt}, {"cache_hit", ev.cache_hit},
                               {"detail", ev.detail}};
        if (!ev.provider.empty()) {
          line["provider"] = ev.provider;
          line["http_status"] = ev.http_status;
          line["tokens_in"] = ev.tokens_in;
          line["tokens_out"] = ev.tokens_out;
        }
        if (ev.latency_ms != 0) line["latency_ms"] = ev.latency_ms;
        self->state.log << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        self->state.log.flush();
      }
      for (auto& sink : self->state.sinks) self->send(sink, ev);
    },
    [self](subscribe_atom, event_sink_actor sink) { self->state.sinks.push_back(std::move(sink)); },
    [self](stats_atom) { return self->state.stats; },
    [self](metrics_atom) { return self->state.prom.render(); },
  };
}

} // namespace

telemetry_actor spawn_telemetry(caf::actor_system& sys, std::filesystem::path log) {
  return sys.spawn(telemetry, std::move(log));
}

} // namespace grove::actors
