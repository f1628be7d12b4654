#include "actors/worktree.hpp"

#include <optional>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "infra/git/git.hpp"

namespace grove::actors {

struct worktree_state {
  std::shared_ptr<git::repository_pool> pool;
  std::optional<git::worktree_info> info;
  std::string component;
  static inline const char* name = "worktree";

  ~worktree_state() {
    if (!pool || !info) return;
    // Best effort on the way out: whatever stays is removed by the next start's remove_stale.
    if (auto repo = pool->acquire()) (void)git::remove_worktree(**repo, component);
  }
};

namespace {

worktree_actor::behavior_type worktree(worktree_actor::stateful_pointer<worktree_state> self,
                                       std::filesystem::path repo, std::string component) {
  // A handle is borrowed per message: one per thread at a time, with warm caches.
  self->state.pool = git::repository_pool::of(repo);
  self->state.component = component;
  return {
    [self](const messages::worktree_open& req) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.info) return st.info->base_commit;
      auto repo = st.pool->acquire();
      if (!repo) return to_caf(repo.error());
      auto info = git::add_worktree(**repo, st.component, {git::component_path(st.component)}, req.base_commit);
      if (!info) return to_caf(info.error());
      st.info = std::move(*info);
      return st.info->base_commit;
    },
    [self](const messages::worktree_commit& req) -> caf::result<std::string> {
      auto& st = self->state;
      if (!st.info) return make_caf_error(messages::errc::workspace, "commit before the worktree was opened");
      auto repo = st.pool->acquire();
      if (!repo) return to_caf(repo.error());
      auto msg = "grove: generate " + st.component + " (attempt " + std::to_string(req.attempt) + ")";
      auto id = git::commit_in_worktree(**repo, *st.info, {{git::component_path(st.component), req.artifact}}, msg);
      if (!id) return to_caf(id.error());
      return *id;
    },
    [self](const messages::worktree_remove&) -> caf::result<bool> {
      auto& st = self->state;
      st.info.reset();
      self->quit();
      auto repo = st.pool->acquire();
      if (!repo) return to_caf(repo.error());
      auto removed = git::remove_worktree(**repo, st.component);
      if (!removed) return to_caf(removed.error());
      return true;
    },
  };
}

} // namespace

worktree_actor spawn_worktree(caf::local_actor* parent, std::filesystem::path repo, std::string component) {
  // Linked: if the job supervisor dies abnormally, the worktree actor goes too and its state removes the worktree.
  return parent->spawn<caf::linked>(worktree, std::move(repo), std::move(component));
}

} // namespace grove::actors
