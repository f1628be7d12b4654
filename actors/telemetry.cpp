#include "actors/telemetry.hpp"

#include <chrono>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "logic/metrics.hpp"
#include "messages/secrets.hpp"
#include "infra/git/files.hpp"

namespace grove::actors {

struct telemetry_book {
  messages::event_counts counts;
  logic::metrics prom;
  std::vector<event_sink_actor> sinks;
};

std::shared_ptr<telemetry_book> make_telemetry_book() {
  return std::make_shared<telemetry_book>();
}

struct telemetry_state {
  std::shared_ptr<telemetry_book> book;
  int log = -1; ///< .grove/telemetry.jsonl, opened without following links
  ~telemetry_state() {
    if (log >= 0) ::close(log);
  }
  static inline const char* name = "telemetry";
};

namespace {

telemetry_actor::behavior_type telemetry(telemetry_actor::stateful_pointer<telemetry_state> self,
                                         std::filesystem::path log, std::shared_ptr<telemetry_book> book) {
  self->state.book = std::move(book);
  if (!log.empty()) {
    // Its folder (.grove) is made if missing; neither it nor the file may be a link.
    auto rel = (log.parent_path().filename() / log.filename()).string();
    if (auto fd = git::open_append_under(log.parent_path().parent_path(), rel)) self->state.log = *fd;
  }
  return {
    [self](messages::telemetry_event& ev) {
      if (ev.ts_ms == 0) ev.ts_ms = now_ms();
      // Provider text reaches details (errors, model answers): no key leaves from here.
      ev.detail = messages::redact(ev.detail);
      self->state.book->prom.observe(ev);
      self->state.book->counts.add(ev);
      if (self->state.log >= 0) {
        nlohmann::json line = {{"ts_ms", ev.ts_ms},         {"job", ev.job},
                               {"component", ev.component}, {"stage", messages::to_string(ev.stage)},
                               {"attempt", ev.attempt},     {"cache_hit", ev.cache_hit},
                               {"detail", ev.detail}};
        if (!ev.provider.empty()) {
          line["provider"] = ev.provider;
          line["http_status"] = ev.http_status;
          line["tokens_in"] = ev.tokens_in;
          line["tokens_out"] = ev.tokens_out;
        }
        if (ev.latency_ms != 0) line["latency_ms"] = ev.latency_ms;
        if (!ev.node.empty()) line["node"] = ev.node;
        auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
        // One write per line (O_APPEND): a full disk loses lines, never the actor.
        if (::write(self->state.log, text.data(), text.size()) < 0) {
          ::close(self->state.log);
          self->state.log = -1;
        }
      }
      for (auto& sink : self->state.book->sinks) self->send(sink, ev);
    },
    [self](subscribe_atom, event_sink_actor sink) { self->state.book->sinks.push_back(std::move(sink)); },
    [self](stats_atom) {
      auto& c = self->state.book->counts;
      return messages::telemetry_stats{c.events, c.errors,     c.landed,   c.dropped,
                                       c.cached, c.rejections, c.restarts, c.service_restarts};
    },
    [self](metrics_atom) { return self->state.book->prom.render(); },
  };
}

} // namespace

telemetry_actor spawn_telemetry(caf::actor_system& sys, std::filesystem::path log,
                                std::shared_ptr<telemetry_book> book) {
  return sys.spawn(telemetry, std::move(log), book ? std::move(book) : make_telemetry_book());
}

} // namespace grove::actors
