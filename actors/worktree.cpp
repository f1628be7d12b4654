#include "actors/worktree.hpp"

#include <optional>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "infra/git/component_merge.hpp"
#include "infra/git/git.hpp"
#include "logic/library.hpp"
#include "messages/secrets.hpp"

namespace grove::actors {

struct worktree_state {
  std::shared_ptr<git::repository_pool> pool;
  std::optional<git::worktree_info> info;
  std::string component;
  uint32_t lane = 0;
  static inline const char* name = "worktree";

  ~worktree_state() {
    if (!pool || !info) return;
    // Best effort on the way out: whatever stays is removed by the next start's remove_stale.
    if (auto repo = pool->acquire()) (void)git::remove_worktree(**repo, component, lane);
  }
};

namespace {

// "Job:" and "Instruction:" lines: a later rebase of another job reads them
// (git::find_change_origin) to name this job and hand its instruction to a resolver.
std::string trailers(const std::string& job, const std::string& instruction) {
  std::string out;
  if (!job.empty()) out += "\nJob: " + job;
  if (!instruction.empty()) {
    auto one_line = messages::redact(instruction);
    for (auto& c : one_line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    out += "\nInstruction: " + one_line;
  }
  return out.empty() ? out : "\n" + out;
}

std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

worktree_actor::behavior_type worktree(worktree_actor::stateful_pointer<worktree_state> self,
                                       std::filesystem::path repo, std::string component, uint32_t lane) {
  // A handle is borrowed per message: one per thread at a time, with warm caches.
  self->state.pool = git::repository_pool::of(repo);
  self->state.component = component;
  self->state.lane = lane;
  return {
    [self](const messages::worktree_open& req) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.info) return st.info->base_commit;
      auto repo = st.pool->acquire();
      if (!repo) return to_caf(repo.error());
      auto info =
        git::add_worktree(**repo, st.component, {git::component_path(st.component)}, req.base_commit, st.lane);
      if (!info) return to_caf(info.error());
      st.info = std::move(*info);
      return st.info->base_commit;
    },
    [self](const messages::worktree_commit& req) -> caf::result<std::string> {
      auto& st = self->state;
      if (!st.info) return make_caf_error(messages::errc::workspace, "commit before the worktree was opened");
      auto repo = st.pool->acquire();
      if (!repo) return to_caf(repo.error());
      std::string msg;
      if (!req.onto.empty()) {
        msg = "grove: rebase " + st.component + " onto " + short_id(req.onto) +
              (req.resolved_by.empty() ? "" : " (conflict resolved by " + req.resolved_by + ")");
      } else {
        msg = "grove: " + std::string{req.instruction.empty() ? "generate " : "edit "} + st.component + " (attempt " +
              std::to_string(req.attempt) + ")";
      }
      msg += trailers(req.job, req.instruction);
      auto id =
        git::commit_in_worktree(**repo, *st.info, {{git::component_path(st.component), req.artifact}}, msg, req.onto);
      if (!id) return to_caf(id.error());
      return *id;
    },
    [self](const messages::worktree_rebase& req) -> caf::result<messages::rebase_outcome> {
      auto& st = self->state;
      if (!st.info) return make_caf_error(messages::errc::workspace, "rebase before the worktree was opened");
      auto pooled = st.pool->acquire();
      if (!pooled) return to_caf(pooled.error());
      auto& repo = **pooled;
      auto path = git::component_path(st.component);
      messages::rebase_outcome out;
      auto onto = repo.main_head();
      if (!onto) return to_caf(onto.error());
      out.onto = *onto;
      auto head = git::branch_head(repo, *st.info);
      if (!head) return to_caf(head.error());
      auto ours = git::read_file_at(repo, *head, path);
      if (!ours) return to_caf(ours.error());
      auto theirs = git::read_file_at(repo, out.onto, path);
      if (!theirs) {
        return make_caf_error(messages::errc::git, "main no longer holds " + path + ": nothing to rebase onto");
      }
      // A component new at the base (two creates of one name) merges from an empty one.
      auto base = git::read_file_at(repo, st.info->base_commit, path);
      out.base = base ? *base : std::string{"{}"};
      out.ours = std::move(*ours);
      out.theirs = std::move(*theirs);
      auto origin = git::find_change_origin(repo, st.info->base_commit, out.onto, path);
      out.their_job = origin.job;
      out.their_instruction = origin.instruction;
      auto merged = git::merge_component(out.base, out.ours, out.theirs);
      if (!merged) return to_caf(merged.error());
      out.kept_both_insertions = merged->kept_both_insertions;
      out.conflicts = merged->conflicts;
      if (!merged->clean()) return out;
      // The merged change lands as the version after main's.
      out.merged = logic::library::with_version(merged->text, logic::library::version_of(out.theirs) + 1);
      std::string body;
      if (!out.their_job.empty()) body = "Merged with the change of job " + out.their_job + ".";
      if (out.kept_both_insertions) body += std::string{body.empty() ? "" : " "} + "Both sides' insertions kept.";
      auto msg = "grove: rebase " + st.component + " onto " + short_id(out.onto) + (body.empty() ? "" : "\n\n" + body) +
                 trailers(req.job, req.instruction);
      auto id = git::commit_in_worktree(repo, *st.info, {{path, out.merged}}, msg, out.onto);
      if (!id) return to_caf(id.error());
      out.commit = *id;
      out.clean = true;
      return out;
    },
    [self](const messages::worktree_remove&) -> caf::result<bool> {
      auto& st = self->state;
      st.info.reset();
      self->quit();
      auto repo = st.pool->acquire();
      if (!repo) return to_caf(repo.error());
      auto removed = git::remove_worktree(**repo, st.component, st.lane);
      if (!removed) return to_caf(removed.error());
      return true;
    },
  };
}

} // namespace

worktree_actor spawn_worktree(caf::local_actor* parent, std::filesystem::path repo, std::string component,
                              uint32_t lane) {
  // Linked: if the job supervisor dies abnormally, the worktree actor goes too and its state removes the worktree.
  return parent->spawn<caf::linked>(worktree, std::move(repo), std::move(component), lane);
}

} // namespace grove::actors
