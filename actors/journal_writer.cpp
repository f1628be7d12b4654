#include "actors/journal_writer.hpp"

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/telemetry.hpp"
#include "infra/journal/journal.hpp"

namespace grove::actors {

namespace {

struct journal_state {
  std::unique_ptr<journal::journal> db;
  std::vector<std::pair<messages::journal_entry, caf::typed_response_promise<bool>>> queue;
  bool flush_pending = false;
  ~journal_state() {
    for (auto& [_, rp] : queue) answer_service_down(rp, name);
  }
  static inline const char* name = "journal";
};

messages::status apply(journal::journal& db, const messages::journal_entry& e, int64_t now) {
  using messages::journal_record;
  switch (e.kind) {
    case journal_record::begin: return db.begin_job(e.job, e.text, now);
    case journal_record::plan: return db.set_plan(e.job, e.text, e.names, now);
    case journal_record::state: return db.set_job_state(e.job, e.state, now);
    case journal_record::finish: return db.finish_job(e.job, e.state, e.text, now);
    case journal_record::component:
      if (e.names.empty()) break;
      return db.set_component({e.job, e.names[0], e.state, e.attempts, e.commit}, now);
  }
  return messages::make_failure(messages::errc::io,
                                std::string{"journal: a "} + messages::to_string(e.kind) + " entry without its fields");
}

journal_actor::behavior_type journal_writer(journal_actor::stateful_pointer<journal_state> self,
                                            std::filesystem::path repo) {
  auto opened = journal::journal::open(repo);
  if (!opened) {
    self->quit(to_caf(opened.error()));
    return journal_actor::behavior_type::make_empty_behavior();
  }
  self->state.db = std::move(*opened);
  return {
    [self](messages::journal_entry& e) {
      // Group commit: the writes already in the mailbox are queued too before
      // the flush runs, and all of them share one transaction and one fsync.
      // Each is acknowledged only once that transaction is on disk.
      auto rp = self->make_response_promise<bool>();
      self->state.queue.emplace_back(std::move(e), rp);
      if (!self->state.flush_pending) {
        self->state.flush_pending = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_pending = false;
      auto batch = std::move(st.queue);
      st.queue.clear();
      if (batch.empty()) return;
      auto now = now_ms();
      std::vector<messages::status> results;
      auto began = st.db->begin_batch();
      for (auto& [e, _] : batch) results.push_back(began ? apply(*st.db, e, now) : began);
      if (began) {
        if (auto committed = st.db->commit_batch(); !committed) {
          for (auto& r : results) r = committed;
        }
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        if (results[i])
          batch[i].second.deliver(true);
        else
          batch[i].second.deliver(to_caf(results[i].error()));
      }
    },
  };
}

} // namespace

journal_actor spawn_journal(caf::actor_system& sys, std::filesystem::path repo) {
  return sys.spawn<caf::detached>(journal_writer, std::move(repo));
}

} // namespace grove::actors
