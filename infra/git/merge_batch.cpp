// main_writer::merge_batch: a batch of component branches lands on main in
// one ref update; logic::merge::plan_batch decides which land together as
// octopus merges and which need a three-way merge.

#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "logic/merge_plan.hpp"

namespace grove::git {

using namespace detail;

namespace {

// One branch of a batch as the writer sees it: its commit, what it changed
// since its base (for logic::merge::plan_batch), and the tree updates an
// octopus merge applies for it.
struct batch_branch {
  commit_ptr commit{nullptr};
  logic::merge::branch_diff diff;
  std::vector<std::string> paths; ///< storage the updates' paths point into
  std::vector<git_tree_update> updates;
  std::vector<git_oid> base_ids; ///< each path's blob at the branch's base (zero: it had none)
};

// Reads what `b.commit` changed since `base_hex` (its merge base with main
// when empty), each file checked against `main_tree`. A diff that cannot be
// read leaves the branch to a three-way merge.
void describe_branch(git_repository* repo, git_tree* main_tree, git_commit* main, const std::string& base_hex,
                     batch_branch& b) {
  b.diff.readable = false;
  git_oid base_id;
  if (base_hex.empty() || git_oid_fromstrn(&base_id, base_hex.data(), base_hex.size()) < 0) {
    if (git_merge_base(&base_id, repo, git_commit_id(main), git_commit_id(b.commit.get())) < 0) return;
  }
  git_commit* base = nullptr;
  if (git_commit_lookup(&base, repo, &base_id) < 0) return;
  commit_ptr base_guard{base};
  git_tree *base_tree = nullptr, *their_tree = nullptr;
  if (git_commit_tree(&base_tree, base) < 0) return;
  tree_ptr bt{base_tree};
  if (git_commit_tree(&their_tree, b.commit.get()) < 0) return;
  tree_ptr tt{their_tree};
  auto changes = tree_changes(repo, base_tree, their_tree);
  if (!changes) return;
  for (auto& c : *changes) {
    logic::merge::changed_file f;
    f.path = c.path;
    f.added_or_modified = !c.deleted();
    git_tree_entry* entry = nullptr;
    int rc = git_tree_entry_bypath(&entry, main_tree, c.path.c_str());
    if (rc == GIT_ENOTFOUND) {
      f.main_unchanged = c.added();
    } else if (rc < 0) {
      return;
    } else {
      f.main_unchanged = !c.added() && !c.deleted() && git_oid_equal(git_tree_entry_id(entry), &c.old_id);
      git_tree_entry_free(entry);
    }
    b.diff.files.push_back(f);
    b.paths.push_back(f.path);
    b.base_ids.push_back(c.old_id);
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_UPSERT;
    u.id = c.new_id;
    u.filemode = c.new_mode;
    b.updates.push_back(u);
  }
  for (size_t i = 0; i < b.updates.size(); ++i) b.updates[i].path = b.paths[i].c_str();
  b.diff.readable = true;
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
  auto changes = tree_changes(repo, a, b);
  if (!changes) return out;
  for (auto& c : *changes) {
    if (!c.deleted()) out.push_back(std::move(c.path));
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

std::vector<merge_outcome> failed_all(const std::vector<merge_item>& items, const std::string& why) {
  std::vector<merge_outcome> out;
  for (auto& it : items) out.push_back({it.component, "", why});
  return out;
}

// One attempt at landing a batch on the main it starts from: merge commits
// are chained on top of `base`; main itself moves only in publish.
class batch_round final {
public:
  batch_round(git_repository* repo, const git_signature* sig, const std::vector<merge_item>& items, git_commit* base)
    : repo_(repo), sig_(sig), items_(items), cur_(base), out_(items.size()), branches_(items.size()) {
    for (size_t i = 0; i < items.size(); ++i) out_[i].component = items[i].component;
  }

  // Looks every branch up and reads what it changed against main's tree.
  status read_branches() {
    git_tree* main_tree = nullptr;
    if (auto s = check(git_commit_tree(&main_tree, cur_), "read main tree"); !s) return s;
    tree_ptr guard{main_tree};
    for (size_t i = 0; i < items_.size(); ++i) {
      auto& b = branches_[i];
      b.diff.readable = false;
      auto id = from_hex(items_[i].commit);
      if (!id) {
        out_[i].error = id.error().message;
        continue;
      }
      git_commit* c = nullptr;
      if (auto s = check(git_commit_lookup(&c, repo_, &*id), "lookup " + items_[i].component); !s) {
        out_[i].error = s.error().message;
        continue;
      }
      b.commit.reset(c);
      describe_branch(repo_, main_tree, cur_, items_[i].base, b);
    }
    return messages::ok();
  }

  std::vector<logic::merge::branch_diff> diffs() const {
    std::vector<logic::merge::branch_diff> out;
    for (auto& b : branches_) out.push_back(b.diff);
    return out;
  }

  // One octopus merge commit for `group`: their files written into main's tree at once.
  status land_octopus(const std::vector<size_t>& group) {
    std::vector<git_tree_update> all;
    std::vector<std::string> names, paths;
    std::vector<const git_commit*> parents{cur_};
    for (auto i : group) {
      auto& b = branches_[i];
      all.insert(all.end(), b.updates.begin(), b.updates.end());
      paths.insert(paths.end(), b.paths.begin(), b.paths.end());
      parents.push_back(b.commit.get());
      names.push_back(items_[i].component);
    }
    git_tree* cur_tree = nullptr;
    if (auto s = check(git_commit_tree(&cur_tree, cur_), "read main tree"); !s) return s;
    tree_ptr cur_tree_guard{cur_tree};
    auto tree_id = splice_tree(repo_, cur_tree, all);
    if (!tree_id) return messages::make_failure(tree_id.error().code, "write merged tree: " + tree_id.error().message);
    auto id = commit_merge(parents, *tree_id, merge_message(names), paths);
    for (auto i : group) {
      if (id) {
        out_[i].merge_commit = *id;
      } else {
        out_[i].error = id.error().message;
      }
    }
    return messages::ok();
  }

  // Which of the branch's files main (as landed so far) holds at another
  // version than the branch's base did; empty when none or unknown.
  std::string changed_on_main(const batch_branch& b) {
    if (!b.diff.readable) return {};
    git_tree* tree = nullptr;
    if (git_commit_tree(&tree, cur_) < 0) return {};
    tree_ptr guard{tree};
    for (size_t k = 0; k < b.paths.size(); ++k) {
      git_tree_entry* e = nullptr;
      bool had = !git_oid_is_zero(&b.base_ids[k]);
      int rc = git_tree_entry_bypath(&e, tree, b.paths[k].c_str());
      bool has = rc == 0;
      bool same = has == had && (!has || git_oid_equal(git_tree_entry_id(e), &b.base_ids[k]));
      if (has) git_tree_entry_free(e);
      if (!same) return b.paths[k];
    }
    return {};
  }

  // A three-way merge of one branch on top; a conflict is refused. A branch
  // whose file main changed since its base is refused as stale, never merged
  // by git's text merge: its worktree actor rebases it (a structural merge of
  // the component) and the QA gate checks the result before it lands.
  void land_three_way(size_t i) {
    auto& b = branches_[i];
    if (!b.commit) return; // its lookup failed: the outcome says why
    if (auto path = changed_on_main(b); !path.empty()) {
      out_[i].stale = true;
      out_[i].error = "main changed " + path + " since the branch of " + items_[i].component + " started";
      return;
    }
    git_merge_options mopts = GIT_MERGE_OPTIONS_INIT;
    mopts.flags = GIT_MERGE_FAIL_ON_CONFLICT;
    git_index* idx = nullptr;
    int rc = git_merge_commits(&idx, repo_, cur_, b.commit.get(), &mopts);
    if (rc == GIT_EMERGECONFLICT) {
      out_[i].error = "merge conflict with main for " + items_[i].component;
      return;
    }
    if (auto s = check(rc, "merge " + items_[i].component); !s) {
      out_[i].error = s.error().message;
      return;
    }
    index_ptr idx_guard{idx};
    git_oid tree_id;
    if (auto s = check(git_index_write_tree_to(&tree_id, idx, repo_), "write merged tree"); !s) {
      out_[i].error = s.error().message;
      return;
    }
    auto id = commit_merge({cur_, b.commit.get()}, tree_id, merge_message({items_[i].component}),
                           changed_paths(repo_, cur_, tree_id));
    if (id) {
      out_[i].merge_commit = *id;
    } else {
      out_[i].error = id.error().message;
    }
  }

  git_commit* head() const { return cur_; }
  std::vector<merge_outcome>& outcomes() { return out_; }

private:
  // Makes a merge commit of `parents` (main first) with `tree_id`, verified on disk; it becomes the head.
  result<std::string> commit_merge(std::vector<const git_commit*> parents, const git_oid& tree_id,
                                   const std::string& msg, const std::vector<std::string>& paths) {
    git_tree* tree = nullptr;
    if (auto s = check(git_tree_lookup(&tree, repo_, &tree_id), "lookup merged tree"); !s) return s.error();
    tree_ptr tree_guard{tree};
    auto made = create_commit(repo_, sig_, msg, tree, parents);
    if (!made) return messages::make_failure(made.error().code, "create merge commit: " + made.error().message);
    git_oid merge_id = *made;
    if (auto s = verify_stored(repo_, merge_id, paths); !s) return s.error();
    git_commit* next = nullptr;
    if (auto s = check(git_commit_lookup(&next, repo_, &merge_id), "lookup merge commit"); !s) return s.error();
    head_.reset(next);
    cur_ = next;
    return to_hex(merge_id);
  }

  git_repository* repo_;
  const git_signature* sig_;
  const std::vector<merge_item>& items_;
  git_commit* cur_;
  commit_ptr head_{nullptr};
  std::vector<merge_outcome> out_;
  std::vector<batch_branch> branches_;
};

} // namespace

// Branches that only add or change their own files (every component branch,
// unless main changed the same file since the branch started) land together (logic::merge::plan_batch decides which)
// as octopus merge commits (`git merge a b c`): one tree write per group
// instead of one per branch. Any other branch gets its own git_merge_commits
// merge on top. One ref update for the whole batch.
std::vector<merge_outcome> main_writer::merge_batch(const std::vector<merge_item>& items) {
  if (repo_.outdated()) {
    if (auto fresh = repository::open(repo_.workdir())) repo_ = std::move(*fresh);
  }
  git_repository* repo = repo_.raw();
  auto sig = signature(repo);
  if (!sig) return failed_all(items, sig.error().message);
  for (int attempt = 0; attempt < max_ref_retries; ++attempt) {
    auto base = main_commit(repo);
    if (!base) return failed_all(items, base.error().message);
    git_oid base_id = *git_commit_id(base->get());
    fresh_writes written; // the round's new trees and commits: verify_stored looks on disk for the rest
    batch_round round{repo, sig->get(), items, base->get()};
    if (auto s = round.read_branches(); !s) return failed_all(items, s.error().message);
    auto plan = logic::merge::plan_batch(round.diffs(), max_octopus_parents);
    for (auto& group : plan.octopus) {
      if (auto s = round.land_octopus(group); !s) return failed_all(items, s.error().message);
    }
    for (auto i : plan.three_way) round.land_three_way(i);
    if (round.head() == base->get()) return std::move(round.outcomes());
    git_oid new_id = *git_commit_id(round.head());
    // On disk before main moves: what output/ lags from, so a crash is told from a user's edit.
    if (auto s = begin_checkout(repo, base_id); !s) return failed_all(items, s.error().message);
    int rc = advance_main(repo, base_id, new_id, "grove: merge " + std::to_string(items.size()) + " component(s)");
    if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED) continue; // main moved: redo on the new main
    if (auto s = check(rc, "update main"); !s) return failed_all(items, s.error().message);
    // main holds the merges whatever happens next; a lagging checkout is reported apart.
    sync(base_id, new_id);
    return std::move(round.outcomes());
  }
  return failed_all(items, "main kept moving during the merge; gave up after retries");
}

} // namespace grove::git
