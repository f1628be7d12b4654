#include "actors/integrator.hpp"

#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/composer.hpp"
#include "actors/packer.hpp"
#include "infra/git/git.hpp"

namespace grove::actors {

struct integrator_state {
  std::optional<git::main_writer> writer;
  std::vector<std::pair<messages::merge_request, caf::typed_response_promise<messages::merge_result>>> queue;
  bool flush_pending = false;
  uint32_t syncs_unwritten = 0; ///< updates of main since its index file was last written
  packer_actor packer;
  ~integrator_state() {
    for (auto& [_, rp] : queue) answer_service_down(rp, name);
  }
  static inline const char* name = "integrator";
};

namespace {

/// Bounds how far main's index file lags under a steady stream of merges.
constexpr uint32_t max_syncs_unwritten = 8;

integrator_actor::behavior_type integrator(integrator_actor::stateful_pointer<integrator_state> self,
                                           std::filesystem::path repo, telemetry_actor telemetry, bool restarted) {
  auto opened = git::repository::open(repo);
  if (!opened) {
    self->quit(to_caf(opened.error()));
    return integrator_actor::behavior_type::make_empty_behavior();
  }
  self->state.writer.emplace(std::move(*opened));
  // main's index (1 MB at 10,000 components, rewritten and hashed whole) is
  // written once a run of merge batches ends, not after each: see settle_index.
  self->state.writer->defer_index_writes(true);
  // Packs loose objects beside the merges, on its own thread and repository handle; dies with us.
  self->state.packer = spawn_packer(self, repo);
  // A restarted integrator finds main as its predecessor left it: put that right before taking merges.
  if (restarted) {
    auto repaired = self->state.writer->recover();
    if (!repaired) {
      self->quit(to_caf(repaired.error()));
      return integrator_actor::behavior_type::make_empty_behavior();
    }
    for (auto& line : *repaired) {
      messages::telemetry_event ev;
      ev.stage = messages::stage::error;
      ev.detail = "integrator recovery: " + line;
      self->send(telemetry, std::move(ev));
    }
  }
  // main's index file catches up with what landed when `now` or when nothing
  // else waits; else the next batch goes first.
  auto settle_index = [self](bool now) {
    if (now || self->mailbox().empty()) {
      self->state.writer->write_index();
      self->state.syncs_unwritten = 0;
    }
  };
  auto report_sync = [self, telemetry, settle_index] {
    // Nor does it lag for long when merges do not pause.
    settle_index(++self->state.syncs_unwritten >= max_syncs_unwritten);
    auto& why = self->state.writer->last_sync_error();
    if (!why.empty()) {
      messages::telemetry_event ev;
      ev.stage = messages::stage::error;
      ev.detail = "main worktree out of step: " + why;
      self->send(telemetry, std::move(ev));
    }
  };
  return {
    [self](messages::merge_request& req) {
      auto rp = self->make_response_promise<messages::merge_result>();
      self->state.queue.emplace_back(std::move(req), rp);
      // The flush is queued behind every merge request already in the mailbox: they land together.
      if (!self->state.flush_pending) {
        self->state.flush_pending = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [self, report_sync, telemetry](flush_atom) {
      auto& st = self->state;
      st.flush_pending = false;
      auto batch = std::move(st.queue);
      st.queue.clear();
      if (batch.empty()) return;
      std::vector<git::merge_item> items;
      for (auto& [req, _] : batch) items.push_back({req.component, req.commit, req.base});
      auto t0 = std::chrono::steady_clock::now();
      auto outcomes = st.writer->merge_batch(items);
      messages::telemetry_event ev;
      ev.stage = messages::stage::merged;
      ev.detail = "batch of " + std::to_string(items.size());
      ev.latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      ev.attempt = static_cast<uint32_t>(items.size());
      self->send(telemetry, std::move(ev));
      report_sync();
      self->send(st.packer, pack_atom::value); // cheap when there is little to pack
      for (size_t i = 0; i < batch.size(); ++i) {
        auto& rp = batch[i].second;
        if (outcomes[i].ok()) {
          rp.deliver(messages::merge_result{outcomes[i].component, outcomes[i].merge_commit,
                                            static_cast<uint32_t>(batch.size())});
        } else {
          rp.deliver(
            make_caf_error(outcomes[i].stale ? messages::errc::stale_base : messages::errc::git, outcomes[i].error));
        }
      }
    },
    [self, report_sync,
     settle_index](const messages::commit_files_request& req) -> caf::result<messages::commit_files_result> {
      std::vector<std::pair<std::string, std::string>> files;
      for (auto& f : req.files) files.emplace_back(f.path, f.content);
      auto id = self->state.writer->commit_files(req.message, files);
      // A job's composition is its last step: main's index is current when its report goes out.
      settle_index(true);
      if (!id) return to_caf(id.error());
      report_sync();
      if (id->empty()) {
        // Unchanged: main already holds these files; name the commit that does.
        auto head = self->state.writer->repo().main_head();
        return messages::commit_files_result{head ? *head : std::string{}, false};
      }
      return messages::commit_files_result{*id, true};
    },
    [self, settle_index](const messages::page_request& req) -> caf::result<std::string> {
      settle_index(false); // a read may be all that was left
      auto page = git::read_file_at(self->state.writer->repo(), req.commit, page_path);
      if (!page) return make_caf_error(messages::errc::not_found, page.error().message);
      return std::move(*page);
    },
  };
}

} // namespace

integrator_actor spawn_integrator(caf::actor_system& sys, std::filesystem::path repo, telemetry_actor telemetry,
                                  bool restarted) {
  return sys.spawn<caf::detached>(integrator, std::move(repo), std::move(telemetry), restarted);
}

} // namespace grove::actors
