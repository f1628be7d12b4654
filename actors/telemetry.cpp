#include "actors/telemetry.hpp"

#include <chrono>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
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
  int log = -1;           ///< .grove/telemetry.jsonl, opened without following links
  uint64_t log_bytes = 0; ///< its size so far
  std::filesystem::path log_path;
  telemetry_log_limits limits;
  std::string pending; ///< lines not yet written: a burst of events is one write
  ~telemetry_state();
  static inline const char* name = "telemetry";
};

namespace {

constexpr size_t max_pending = 64 * 1024;

// Opens (or creates) the log; its folder (.grove) is made if missing and
// neither it nor the file may be a link.
void open_log(telemetry_state& st) {
  auto& log = st.log_path;
  auto rel = (log.parent_path().filename() / log.filename()).string();
  if (auto fd = git::open_append_under(log.parent_path().parent_path(), rel)) {
    st.log = *fd;
    struct stat info {};
    st.log_bytes = ::fstat(st.log, &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
  }
}

// The log is full: shift `<log>.k` to `<log>.k+1` (the oldest goes), the log
// to `<log>.1`, and begin a new one. Renames inside .grove, which grove owns;
// a rename moves a link itself, never what it points at.
void rotate_log(telemetry_state& st) {
  ::close(st.log);
  st.log = -1;
  auto name = [&](uint32_t k) {
    return k == 0 ? st.log_path.string() : st.log_path.string() + "." + std::to_string(k);
  };
  if (st.limits.keep == 0) {
    ::unlink(name(0).c_str());
  } else {
    ::unlink(name(st.limits.keep).c_str());
    for (uint32_t k = st.limits.keep; k > 0; --k) ::rename(name(k - 1).c_str(), name(k).c_str());
  }
  open_log(st);
}

// Writes the lines held back (O_APPEND, one write): a full disk loses them,
// never the actor; past the size bound the log is rotated.
void flush_log(telemetry_state& st) {
  if (st.pending.empty() || st.log < 0) return;
  if (::write(st.log, st.pending.data(), st.pending.size()) < 0) {
    ::close(st.log);
    st.log = -1;
  } else if ((st.log_bytes += st.pending.size()) >= st.limits.max_bytes) {
    rotate_log(st);
  }
  st.pending.clear();
}

telemetry_actor::behavior_type telemetry(telemetry_actor::stateful_pointer<telemetry_state> self,
                                         std::filesystem::path log, std::shared_ptr<telemetry_book> book,
                                         telemetry_log_limits limits) {
  self->state.book = std::move(book);
  self->state.limits = limits;
  if (!log.empty()) {
    self->state.log_path = std::move(log);
    open_log(self->state);
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
          line["cost_usd"] = ev.cost_usd;
        }
        if (ev.latency_ms != 0) line["latency_ms"] = ev.latency_ms;
        if (!ev.node.empty()) line["node"] = ev.node;
        auto& st = self->state;
        st.pending += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        st.pending += '\n';
        // Held back only while more events wait in the mailbox: the log is
        // current whenever the bus is idle, and a burst costs one write. The
        // line that fills the file ends a batch, so files rotate as before.
        if (st.pending.size() >= max_pending || st.log_bytes + st.pending.size() >= st.limits.max_bytes ||
            self->mailbox().empty()) {
          flush_log(st);
        }
      }
      for (auto& sink : self->state.book->sinks) self->send(sink, ev);
    },
    [self](subscribe_atom, event_sink_actor sink) { self->state.book->sinks.push_back(std::move(sink)); },
    [self](stats_atom) {
      flush_log(self->state); // whoever asks the bus finds the log up to date
      auto& c = self->state.book->counts;
      return messages::telemetry_stats{c.events, c.errors,     c.landed,   c.dropped,
                                       c.cached, c.rejections, c.restarts, c.service_restarts};
    },
    [self](metrics_atom) {
      flush_log(self->state);
      return self->state.book->prom.render();
    },
  };
}

} // namespace

telemetry_state::~telemetry_state() {
  flush_log(*this);
  if (log >= 0) ::close(log);
}

telemetry_actor spawn_telemetry(caf::actor_system& sys, std::filesystem::path log, std::shared_ptr<telemetry_book> book,
                                telemetry_log_limits limits) {
  return sys.spawn(telemetry, std::move(log), book ? std::move(book) : make_telemetry_book(), limits);
}

} // namespace grove::actors
