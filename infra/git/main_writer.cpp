#include <optional>
#include <set>

#include "infra/git/files.hpp"
#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "logic/merge_plan.hpp"

namespace grove::git {

using messages::errc;
using messages::make_failure;
using namespace detail;

int detail::advance_main(git_repository* repo, const git_oid& from, const git_oid& to, const std::string& log) {
  // Written as git writes it; libgit2's update (config snapshots for the
  // reflog and the signature, packed-refs checked) cost ~100 us per batch.
  if (int rc = move_logged_ref(repo, main_ref, to, from, log); rc != GIT_PASSTHROUGH) return rc;
  git_reference* ref = nullptr;
  int rc = git_reference_create_matching(&ref, repo, main_ref, &to, 1, &from, log.c_str());
  if (rc == 0) git_reference_free(ref);
  return rc;
}

namespace {

// After main moved, write the changed files into the main worktree and its index,
// so `git status` stays clean. Only paths that differ between the trees are touched.
status sync_checkout(git_repository* repo, const git_oid& old_commit, const git_oid& new_commit, bool write_index) {
  // A link planted in place of grove's folders since the start must not be written through.
  if (auto s = require_real_folders(git_repository_workdir(repo), {"output", "output/components"}); !s) return s;
  git_commit *oc = nullptr, *nc = nullptr;
  if (auto s = check(git_commit_lookup(&oc, repo, &old_commit), "lookup old main"); !s) return s;
  commit_ptr og{oc};
  if (auto s = check(git_commit_lookup(&nc, repo, &new_commit), "lookup new main"); !s) return s;
  commit_ptr ng{nc};
  git_tree *ot = nullptr, *nt = nullptr;
  if (auto s = check(git_commit_tree(&ot, oc), "old tree"); !s) return s;
  tree_ptr otg{ot};
  if (auto s = check(git_commit_tree(&nt, nc), "new tree"); !s) return s;
  tree_ptr ntg{nt};
  auto changes = tree_changes(repo, ot, nt);
  if (!changes) return changes.error();
  std::vector<std::string> paths;
  for (auto& c : *changes) paths.push_back(std::move(c.path));
  if (paths.empty()) return messages::ok();
  // Nor a link planted in place of a fan-out folder.
  if (auto s = require_real_parents(git_repository_workdir(repo), paths); !s) return s;
  std::vector<char*> raw;
  for (auto& p : paths) raw.push_back(p.data());
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
  // Deferred: the next checkout finds the index in memory still (libgit2
  // rereads it only when its file changed), and write_index() saves it.
  if (!write_index) opts.checkout_strategy |= GIT_CHECKOUT_DONT_WRITE_INDEX;
  opts.baseline = ot;
  opts.paths.strings = raw.data();
  opts.paths.count = raw.size();
  return check(git_checkout_tree(repo, reinterpret_cast<git_object*>(nt), &opts),
               "update main worktree (local changes in the workspace?)");
}

// The paths `theirs` changed since its base (added or modified files only),
// as tree updates; empty when it cannot be applied as they are: a path also
// changed on main since the base (`cur`), or already taken in this batch.
// Then merging is writing those paths onto main's tree: O(paths) instead of
// git_merge_commits' O(files on main).

} // namespace

main_writer::main_writer(repository repo) : repo_(std::move(repo)) {
  // The index the start read, if its file is unchanged: not parsed a second time.
  if (repo_.raw() != nullptr) (void)adopt_offered_index(repo_.raw());
}

main_writer::~main_writer() {
  if (repo_.raw() != nullptr) write_index();
}

void main_writer::write_index() {
  if (!index_behind_) return;
  index_behind_ = false;
  git_index* index = nullptr;
  auto s = check(git_repository_index(&index, repo_.raw()), "open main's index");
  if (s) {
    index_ptr guard{index};
    s = check(git_index_write(index), "write main's index");
  }
  if (!s) {
    last_sync_error_ = s.error().message; // the record stays: the next update resyncs, the next start repairs
    return;
  }
  end_checkout(repo_.raw());
}

void main_writer::sync(const git_oid& from, const git_oid& to) {
  auto pending = pending_checkout(repo_.raw());
  // A deferred index keeps the record of its first sync's start; main has moved on from there.
  bool in_step = pending && (git_oid_equal(&*pending, &from) || index_behind_);
  if (last_sync_error_.empty() && in_step) {
    auto synced = sync_checkout(repo_.raw(), from, to, !defer_index_);
    if (synced) {
      if (!defer_index_) {
        end_checkout(repo_.raw());
      } else {
        index_behind_ = true;
      }
      return;
    }
    last_sync_error_ = synced.error().message;
  }
  // The worktree is not at `from` (a full disk, an edit under output/): bring
  // grove's own paths of output/ to main, never the user's. If that fails
  // too, the next update tries again.
  (void)resync();
}

result<std::vector<std::string>> main_writer::recover() {
  std::vector<std::string> done;
  auto gitdir = repo_.gitdir();
  // Worktree admin folders and packed-refs are not the writer's: worktree actors may hold them now.
  for (auto rel : {"index.lock", "HEAD.lock", "refs/heads/main.lock"}) {
    std::error_code ec;
    if (std::filesystem::remove(gitdir / rel, ec)) done.push_back(std::string{"removed stale lock "} + rel);
    if (ec) return make_failure(errc::workspace, "cannot remove " + (gitdir / rel).string() + ": " + ec.message());
  }
  if (auto s = resync(); !s) return s.error();
  return done;
}

status main_writer::resync() {
  index_behind_ = false; // inspect_output rereads the index file; what lags is put back through the record
  auto restored = restore_output(repo_.raw(), false);
  if (!restored) {
    last_sync_error_ = restored.error().message;
    return restored.error();
  }
  last_sync_error_.clear();
  return messages::ok();
}

result<std::string> main_writer::commit_files(const std::string& message,
                                              const std::vector<std::pair<std::string, std::string>>& files,
                                              const std::vector<std::string>& removed) {
  git_repository* repo = repo_.raw();
  auto sig = signature(repo);
  if (!sig) return sig.error();
  for (int round = 0; round < max_ref_retries; ++round) {
    auto base = main_commit(repo);
    if (!base) return base.error();
    git_oid base_id = *git_commit_id(base->get());
    git_tree* base_tree = nullptr;
    if (auto s = check(git_commit_tree(&base_tree, base->get()), "read main tree"); !s) return s.error();
    tree_ptr base_tree_guard{base_tree};
    fresh_writes fresh;
    auto tree_id = tree_with_files(repo, base_tree, files, removed);
    if (!tree_id) return tree_id.error();
    if (git_oid_equal(&*tree_id, git_tree_id(base_tree))) return std::string{};
    git_tree* tree = nullptr;
    if (auto s = check(git_tree_lookup(&tree, repo, &*tree_id), "lookup tree"); !s) return s.error();
    tree_ptr tree_guard{tree};
    auto made = create_commit(repo, sig->get(), message, tree, {base->get()});
    if (!made) return make_failure(made.error().code, "commit on main: " + made.error().message);
    git_oid id = *made;
    std::vector<std::string> paths;
    for (auto& f : files) paths.push_back(f.first);
    if (auto s = verify_stored(repo, id, paths); !s) return s.error();
    if (auto s = begin_checkout(repo, base_id); !s) return s.error();
    int rc = advance_main(repo, base_id, id, message);
    if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED) continue;
    if (auto s = check(rc, "update main"); !s) return s.error();
    sync(base_id, id);
    return to_hex(id);
  }
  return make_failure(errc::git, "main kept moving during the commit; gave up after retries");
}

} // namespace grove::git
