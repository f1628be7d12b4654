#include "actors/journal_writer.hpp"

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/telemetry.hpp"
#include "runtime/journal/journal.hpp"

namespace grove::actors {

namespace {

struct journal_state {
  std::unique_ptr<journal::journal> db;
  static inline const char* name = "journal";
};

journal_actor::behavior_type journal_writer(journal_actor::stateful_pointer<journal_state> self, std::filesystem::path repo) {
  auto opened = journal::journal::open(repo);
  if (!opened) {
    self->quit(to_caf(opened.error()));
    return journal_actor::behavior_type::make_empty_behavior();
  }
  self->state.db = std::move(*opened);
  return {
    [self](const messages::journal_entry& e) -> caf::result<bool> {
      auto& db = *self->state.db;
      auto now = now_ms();
      messages::status s = messages::ok();
      if (e.kind == "begin") s = db.begin_job(e.job, e.text, now);
      else if (e.kind == "plan") s = db.set_plan(e.job, e.text, e.names, now);
      else if (e.kind == "state") s = db.set_job_state(e.job, e.state, now);
      else if (e.kind == "finish") s = db.finish_job(e.job, e.state, e.text, now);
      else if (e.kind == "component" && !e.names.empty()) s = db.set_component({e.job, e.names[0], e.state, e.attempts, e.commit}, now);
      else s = messages::make_failure(messages::errc::io, "journal: unknown entry kind " + e.kind);
      if (!s) return to_caf(s.error());
      return true;
    },
  };
}

} // namespace

journal_actor spawn_journal(caf::actor_system& sys, std::filesystem::path repo) {
  return sys.spawn<caf::detached>(journal_writer, std::move(repo));
}

} // namespace grove::actors
