#include <optional>
#include <set>

#include "infra/git/files.hpp"
#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"

namespace grove::git {

using messages::errc;
using messages::make_failure;
using namespace detail;

namespace {

constexpr int max_ref_retries = 8;

// Moves main from `from` to `to` only if it still points at `from`.
int advance_main(git_repository* repo, const git_oid& from, const git_oid& to, const std::string& log) {
  git_reference* ref = nullptr;
  int rc = git_reference_create_matching(&ref, repo, main_ref, &to, 1, &from, log.c_str());
  if (rc == 0) git_reference_free(ref);
  return rc;
}

// After main moved, write the changed files into the main worktree and its index,
// so `git status` stays clean. Only paths that differ between the trees are touched.
status sync_checkout(git_repository* repo, const git_oid& old_commit, const git_oid& new_commit) {
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
  git_diff* diff = nullptr;
  if (auto s = check(git_diff_tree_to_tree(&diff, repo, ot, nt, nullptr), "diff main"); !s) return s;
  diff_ptr dg{diff};
  std::vector<std::string> paths;
  for (size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    paths.emplace_back(d->new_file.path);
    if (std::string_view{d->old_file.path} != d->new_file.path) paths.emplace_back(d->old_file.path);
  }
  if (paths.empty()) return messages::ok();
  std::vector<char*> raw;
  for (auto& p : paths) raw.push_back(p.data());
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
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
struct branch_updates {
  std::vector<std::string> paths;
  std::vector<git_tree_update> updates;
};

std::optional<branch_updates> trivial_updates(git_repository* repo, git_tree* cur_tree, git_commit* cur,
                                              git_commit* theirs, const std::string& base_hex,
                                              const std::set<std::string>& taken) {
  git_oid base_id;
  if (base_hex.empty() || git_oid_fromstrn(&base_id, base_hex.data(), base_hex.size()) < 0) {
    if (git_merge_base(&base_id, repo, git_commit_id(cur), git_commit_id(theirs)) < 0) return std::nullopt;
  }
  git_commit* base = nullptr;
  if (git_commit_lookup(&base, repo, &base_id) < 0) return std::nullopt;
  commit_ptr base_guard{base};
  git_tree *base_tree = nullptr, *their_tree = nullptr;
  if (git_commit_tree(&base_tree, base) < 0) return std::nullopt;
  tree_ptr bt{base_tree};
  if (git_commit_tree(&their_tree, theirs) < 0) return std::nullopt;
  tree_ptr tt{their_tree};
  git_diff* diff = nullptr;
  if (git_diff_tree_to_tree(&diff, repo, base_tree, their_tree, nullptr) < 0) return std::nullopt;
  diff_ptr dg{diff};
  branch_updates out;
  out.paths.reserve(git_diff_num_deltas(diff));
  for (size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED) return std::nullopt;
    if (taken.count(d->new_file.path) != 0) return std::nullopt;
    git_tree_entry* entry = nullptr;
    int rc = git_tree_entry_bypath(&entry, cur_tree, d->new_file.path);
    bool same;
    if (rc == GIT_ENOTFOUND) {
      same = d->status == GIT_DELTA_ADDED;
    } else if (rc < 0) {
      return std::nullopt;
    } else {
      same = d->status == GIT_DELTA_MODIFIED && git_oid_equal(git_tree_entry_id(entry), &d->old_file.id);
      git_tree_entry_free(entry);
    }
    if (!same) return std::nullopt; // main changed it too: a real merge
    out.paths.emplace_back(d->new_file.path);
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_UPSERT;
    u.id = d->new_file.id;
    u.filemode = static_cast<git_filemode_t>(d->new_file.mode);
    out.updates.push_back(u);
  }
  for (size_t i = 0; i < out.updates.size(); ++i) out.updates[i].path = out.paths[i].c_str();
  return out;
}

// The files (added or changed) between `from`'s tree and `to`; empty on error
// (then only the commit and its root tree are checked).
std::vector<std::string> changed_paths(git_repository* repo, git_commit* from, const git_oid& to) {
  std::vector<std::string> out;
  git_tree *a = nullptr, *b = nullptr;
  if (git_commit_tree(&a, from) < 0) return out;
  tree_ptr ag{a};
  if (git_tree_lookup(&b, repo, &to) < 0) return out;
  tree_ptr bg{b};
  git_diff* diff = nullptr;
  if (git_diff_tree_to_tree(&diff, repo, a, b, nullptr) < 0) return out;
  diff_ptr dg{diff};
  for (size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    if (d->status != GIT_DELTA_DELETED) out.emplace_back(d->new_file.path);
  }
  return out;
}

// "grove: merge <name>" for one branch; for several, a subject naming the
// count and one "grove: merge <name>" line per branch (what `git log --grep`
// and the crash tests look for).
std::string merge_message(const std::vector<std::string>& names) {
  if (names.size() == 1) return "grove: merge " + names[0];
  std::string msg = "grove: merge " + std::to_string(names.size()) + " components\n";
  for (auto& n : names) msg += "\ngrove: merge " + n;
  return msg;
}

// Branches per octopus merge commit: git has no limit, but history viewers
// draw every parent; longer batches become a chain of such commits.
constexpr size_t max_octopus_parents = 48;

} // namespace

main_writer::main_writer(repository repo) : repo_(std::move(repo)) {}

// Branches that only add or change their own files (every component branch,
// unless main changed the same file since the branch started) land together
// as octopus merge commits (`git merge a b c`): one tree write per group
// instead of one per branch. Any other branch gets its own git_merge_commits
// merge on top. One ref update for the whole batch.
std::vector<merge_outcome> main_writer::merge_batch(const std::vector<merge_item>& items) {
  git_repository* repo = repo_.raw();
  std::vector<merge_outcome> out;
  auto fail_all = [&](const std::string& why) {
    out.clear();
    for (auto& it : items) out.push_back({it.component, "", why});
    return out;
  };
  auto sig = signature(repo);
  if (!sig) return fail_all(sig.error().message);
  for (int round = 0; round < max_ref_retries; ++round) {
    out.assign(items.size(), merge_outcome{});
    for (size_t i = 0; i < items.size(); ++i) out[i].component = items[i].component;
    auto base = main_commit(repo);
    if (!base) return fail_all(base.error().message);
    git_oid base_id = *git_commit_id(base->get());
    commit_ptr current{nullptr};
    git_commit* cur = base->get();
    // Makes a merge commit of `parents` (main first) with `tree_id`; it becomes main.
    auto commit_merge = [&](std::vector<const git_commit*> parents, const git_oid& tree_id, const std::string& msg,
                            const std::vector<std::string>& paths) -> result<std::string> {
      git_tree* tree = nullptr;
      if (auto s = check(git_tree_lookup(&tree, repo, &tree_id), "lookup merged tree"); !s) return s.error();
      tree_ptr tree_guard{tree};
      git_oid merge_id;
      if (auto s = check(git_commit_create(&merge_id, repo, nullptr, sig->get(), sig->get(), nullptr, msg.c_str(), tree,
                                           parents.size(), parents.data()),
                         "create merge commit");
          !s) {
        return s.error();
      }
      if (auto s = verify_stored(repo, merge_id, paths); !s) return s.error();
      git_commit* next = nullptr;
      if (auto s = check(git_commit_lookup(&next, repo, &merge_id), "lookup merge commit"); !s) return s.error();
      current.reset(next);
      cur = next;
      return to_hex(merge_id);
    };

    std::vector<commit_ptr> theirs(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      auto id = from_hex(items[i].commit);
      if (!id) {
        out[i].error = id.error().message;
        continue;
      }
      git_commit* c = nullptr;
      if (auto s = check(git_commit_lookup(&c, repo, &*id), "lookup " + items[i].component); !s) {
        out[i].error = s.error().message;
        continue;
      }
      theirs[i].reset(c);
    }

    // 1. The branches that apply as they are, in groups of octopus merges.
    git_tree* main_tree = nullptr;
    if (auto s = check(git_commit_tree(&main_tree, cur), "read main tree"); !s) return fail_all(s.error().message);
    tree_ptr main_tree_guard{main_tree};
    std::set<std::string> taken;
    std::vector<size_t> group, rest;
    std::vector<branch_updates> group_updates;
    auto land_group = [&]() -> status {
      if (group.empty()) return messages::ok();
      std::vector<git_tree_update> all;
      for (auto& g : group_updates) all.insert(all.end(), g.updates.begin(), g.updates.end());
      git_tree* cur_tree = nullptr;
      if (auto s = check(git_commit_tree(&cur_tree, cur), "read main tree"); !s) return s;
      tree_ptr cur_tree_guard{cur_tree};
      git_oid tree_id;
      if (auto s =
            check(git_tree_create_updated(&tree_id, repo, cur_tree, all.size(), all.data()), "write merged tree");
          !s) {
        return s;
      }
      std::vector<const git_commit*> parents{cur};
      std::vector<std::string> names, paths;
      for (auto i : group) {
        parents.push_back(theirs[i].get());
        names.push_back(items[i].component);
      }
      for (auto& g : group_updates) paths.insert(paths.end(), g.paths.begin(), g.paths.end());
      auto id = commit_merge(parents, tree_id, merge_message(names), paths);
      for (auto i : group) {
        if (id)
          out[i].merge_commit = *id;
        else
          out[i].error = id.error().message;
      }
      group.clear();
      group_updates.clear();
      return messages::ok();
    };
    for (size_t i = 0; i < items.size(); ++i) {
      if (!theirs[i]) continue;
      auto ups = trivial_updates(repo, main_tree, cur, theirs[i].get(), items[i].base, taken);
      if (!ups) {
        rest.push_back(i);
        continue;
      }
      for (auto& p : ups->paths) taken.insert(p);
      group.push_back(i);
      group_updates.push_back(std::move(*ups));
      if (group.size() == max_octopus_parents) {
        if (auto s = land_group(); !s) return fail_all(s.error().message);
      }
    }
    if (auto s = land_group(); !s) return fail_all(s.error().message);

    // 2. The others, each merged on its own on top (conflicts refused).
    for (auto i : rest) {
      git_merge_options mopts = GIT_MERGE_OPTIONS_INIT;
      mopts.flags = GIT_MERGE_FAIL_ON_CONFLICT;
      git_index* idx = nullptr;
      int rc = git_merge_commits(&idx, repo, cur, theirs[i].get(), &mopts);
      if (rc == GIT_EMERGECONFLICT) {
        out[i].error = "merge conflict with main for " + items[i].component;
        continue;
      }
      if (auto s = check(rc, "merge " + items[i].component); !s) {
        out[i].error = s.error().message;
        continue;
      }
      index_ptr idx_guard{idx};
      git_oid tree_id;
      if (auto s = check(git_index_write_tree_to(&tree_id, idx, repo), "write merged tree"); !s) {
        out[i].error = s.error().message;
        continue;
      }
      auto id = commit_merge({cur, theirs[i].get()}, tree_id, merge_message({items[i].component}),
                             changed_paths(repo, cur, tree_id));
      if (id)
        out[i].merge_commit = *id;
      else
        out[i].error = id.error().message;
    }
    if (cur == base->get()) return out;
    git_oid new_id = *git_commit_id(cur);
    auto log = "grove: merge " + std::to_string(items.size()) + " component(s)";
    // On disk before main moves: what output/ lags from, so a crash is told from a user's edit.
    if (auto s = begin_checkout(repo, base_id); !s) return fail_all(s.error().message);
    int rc = advance_main(repo, base_id, new_id, log);
    if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED) continue; // main moved: redo on the new main
    if (auto s = check(rc, "update main"); !s) return fail_all(s.error().message);
    // main holds the merges whatever happens next; a lagging checkout is reported apart.
    sync(base_id, new_id);
    return out;
  }
  return fail_all("main kept moving during the merge; gave up after retries");
}

void main_writer::sync(const git_oid& from, const git_oid& to) {
  auto pending = pending_checkout(repo_.raw());
  if (last_sync_error_.empty() && pending && git_oid_equal(&*pending, &from)) {
    auto synced = sync_checkout(repo_.raw(), from, to);
    if (synced) {
      end_checkout(repo_.raw());
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
  auto restored = restore_output(repo_.raw(), false);
  if (!restored) {
    last_sync_error_ = restored.error().message;
    return restored.error();
  }
  last_sync_error_.clear();
  return messages::ok();
}

result<std::string> main_writer::commit_files(const std::string& message,
                                              const std::vector<std::pair<std::string, std::string>>& files) {
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
    auto tree_id = tree_with_files(repo, base_tree, files);
    if (!tree_id) return tree_id.error();
    if (git_oid_equal(&*tree_id, git_tree_id(base_tree))) return std::string{};
    git_tree* tree = nullptr;
    if (auto s = check(git_tree_lookup(&tree, repo, &*tree_id), "lookup tree"); !s) return s.error();
    tree_ptr tree_guard{tree};
    const git_commit* parents[] = {base->get()};
    git_oid id;
    if (auto s = check(
          git_commit_create(&id, repo, nullptr, sig->get(), sig->get(), nullptr, message.c_str(), tree, 1, parents),
          "commit on main");
        !s) {
      return s.error();
    }
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
