#include <fstream>
#include <mutex>

#include "messages/names.hpp"
#include "runtime/git/git.hpp"
#include "runtime/git/raii.hpp"

namespace fs = std::filesystem;

namespace grove::git {

using messages::errc;
using messages::make_failure;
using namespace detail;

namespace {

// Adding and pruning worktrees edits the shared admin folder .git/worktrees/ and
// libgit2 reads every worktree's HEAD to refuse double checkouts: concurrent
// adds see each other half-written ("reference is already checked out").
// Serialise them in this process; commits inside worktrees stay parallel.
std::mutex& admin_mutex() {
  static std::mutex m;
  return m;
}

// Worktree names double as folder names and ref names: refuse anything else.
status require_valid(std::string_view component) {
  if (!messages::is_valid_name(component)) {
    return make_failure(errc::invalid_name,
                        "refusing git work for invalid component name \"" + messages::printable(component) + "\"");
  }
  return messages::ok();
}

void remove_tree(const fs::path& p, std::vector<std::string>* removed) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(p, ec))) {
    fs::remove_all(p, ec);
    if (removed != nullptr && !ec) removed->push_back(p.string());
  }
}

status delete_branch(git_repository* repo, const std::string& branch) {
  git_reference* ref = nullptr;
  int rc = git_branch_lookup(&ref, repo, branch.c_str(), GIT_BRANCH_LOCAL);
  if (rc == GIT_ENOTFOUND) return messages::ok();
  if (auto s = check(rc, "lookup branch " + branch); !s) return s;
  reference_ptr guard{ref};
  return check(git_branch_delete(ref), "delete branch " + branch);
}

// Prunes a registered worktree, or clears the debris of a half-created one.
status remove_worktree_by_name(repository& repo, const std::string& name,
                               std::vector<std::string>* removed_dirs) {
  git_worktree* wt = nullptr;
  if (git_worktree_lookup(&wt, repo.raw(), name.c_str()) == 0) {
    worktree_ptr guard{wt};
    git_worktree_prune_options opts = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
    opts.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED | GIT_WORKTREE_PRUNE_WORKING_TREE;
    if (auto s = check(git_worktree_prune(wt, &opts), "prune worktree " + name); !s) return s;
  }
  // A failed git_worktree_add leaves both folders behind and lookup fails: remove them ourselves.
  remove_tree(repo.gitdir() / "worktrees" / name, removed_dirs);
  remove_tree(repo.workdir() / "worktrees" / name, removed_dirs);
  return messages::ok();
}

} // namespace

result<worktree_info> add_worktree(repository& repo, std::string_view component,
                                   const std::vector<std::string>& checkout_paths,
                                   const std::string& base_commit) {
  if (auto s = require_valid(component); !s) return s.error();
  worktree_info info;
  info.component = std::string{component};
  info.name = worktree_for(component);
  info.branch = branch_for(component);
  info.dir = repo.workdir() / "worktrees" / info.name;

  std::lock_guard<std::mutex> guard{admin_mutex()};
  std::error_code ec;
  fs::create_directories(repo.workdir() / "worktrees", ec);
  if (ec) {
    return make_failure(errc::workspace, "cannot create worktrees/: " + ec.message());
  }
  git_commit* base = nullptr;
  if (base_commit.empty()) {
    auto head = main_commit(repo.raw());
    if (!head) return head.error();
    base = head->release();
  } else {
    auto id = from_hex(base_commit);
    if (!id) return id.error();
    if (auto s = check(git_commit_lookup(&base, repo.raw(), &*id), "lookup base commit"); !s) return s.error();
  }
  commit_ptr base_guard{base};
  info.base_commit = to_hex(*git_commit_id(base));

  git_reference* branch = nullptr;
  if (auto s = check(git_branch_create(&branch, repo.raw(), info.branch.c_str(), base, 0),
                     "create branch " + info.branch);
      !s) {
    return s.error();
  }
  reference_ptr branch_guard{branch};

  std::vector<char*> paths;
  for (auto& p : checkout_paths) paths.push_back(const_cast<char*>(p.c_str()));
  git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
  opts.ref = branch;
  opts.checkout_options.checkout_strategy = GIT_CHECKOUT_FORCE;
  // Only the component's own file: checking out a large main costs ~0.3 ms per file.
  opts.checkout_options.paths.strings = paths.data();
  opts.checkout_options.paths.count = paths.size();
  if (paths.empty()) {
    opts.checkout_options.checkout_strategy = GIT_CHECKOUT_NONE;
  }
  git_worktree* wt = nullptr;
  int rc = git_worktree_add(&wt, repo.raw(), info.name.c_str(), info.dir.c_str(), &opts);
  if (rc < 0) {
    auto err = git_failure(rc, "add worktree " + info.name);
    branch_guard.reset();
    remove_worktree_by_name(repo, info.name, nullptr);
    delete_branch(repo.raw(), info.branch);
    return err;
  }
  git_worktree_free(wt);
  return info;
}

result<std::string> commit_in_worktree(const worktree_info& wt,
                                       const std::vector<std::pair<std::string, std::string>>& files,
                                       const std::string& message) {
  git_repository* raw = nullptr;
  if (auto s = check(git_repository_open(&raw, wt.dir.c_str()), "open worktree " + wt.name); !s) {
    return s.error();
  }
  repo_ptr repo{raw};
  for (auto& [path, content] : files) {
    auto target = wt.dir / path;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out{target, std::ios::binary | std::ios::trunc};
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (ec || !out) {
      return make_failure(errc::io, "cannot write " + target.string());
    }
  }
  git_oid head_id;
  if (auto s = check(git_reference_name_to_id(&head_id, raw, "HEAD"), "resolve worktree HEAD"); !s) {
    return s.error();
  }
  git_commit* parent = nullptr;
  if (auto s = check(git_commit_lookup(&parent, raw, &head_id), "lookup worktree HEAD"); !s) {
    return s.error();
  }
  commit_ptr parent_guard{parent};
  git_tree* base_tree = nullptr;
  if (auto s = check(git_commit_tree(&base_tree, parent), "read worktree tree"); !s) return s.error();
  tree_ptr base_guard{base_tree};
  auto tree_id = tree_with_files(raw, base_tree, files);
  if (!tree_id) return tree_id.error();
  git_tree* tree = nullptr;
  if (auto s = check(git_tree_lookup(&tree, raw, &*tree_id), "lookup new tree"); !s) return s.error();
  tree_ptr tree_guard{tree};
  auto sig = signature(raw);
  if (!sig) return sig.error();
  const git_commit* parents[] = {parent};
  git_oid commit_id;
  if (auto s = check(git_commit_create(&commit_id, raw, "HEAD", sig->get(), sig->get(), nullptr,
                                       message.c_str(), tree, 1, parents),
                     "commit in " + wt.name);
      !s) {
    return s.error();
  }
  // Keep the worktree's index in step with its branch, so `git status` there is truthful.
  git_index* index = nullptr;
  if (git_repository_index(&index, raw) == 0) {
    index_ptr index_guard{index};
    if (git_index_read_tree(index, tree) == 0) git_index_write(index);
  }
  return to_hex(commit_id);
}

status remove_worktree(repository& repo, std::string_view component) {
  if (auto s = require_valid(component); !s) return s;
  std::lock_guard<std::mutex> guard{admin_mutex()};
  if (auto s = remove_worktree_by_name(repo, worktree_for(component), nullptr); !s) return s;
  return delete_branch(repo.raw(), branch_for(component));
}

result<cleanup_report> remove_stale(repository& repo) {
  std::lock_guard<std::mutex> guard{admin_mutex()};
  cleanup_report report;
  git_strarray names{};
  if (auto s = check(git_worktree_list(&names, repo.raw()), "list worktrees"); !s) return s.error();
  std::vector<std::string> registered(names.strings, names.strings + names.count);
  git_strarray_dispose(&names);
  for (auto& name : registered) {
    if (name.rfind("temp_", 0) == 0) {
      if (auto s = remove_worktree_by_name(repo, name, nullptr); !s) return s.error();
      report.worktrees.push_back(name);
    }
  }
  // Half-created worktrees: folders that no registered worktree owns.
  for (auto base : {repo.workdir() / "worktrees", repo.gitdir() / "worktrees"}) {
    std::error_code ec;
    if (!fs::is_directory(base, ec)) continue;
    for (auto& entry : fs::directory_iterator{base, ec}) {
      auto name = entry.path().filename().string();
      if (name.rfind("temp_", 0) == 0) remove_tree(entry.path(), &report.directories);
    }
  }
  git_branch_iterator* it = nullptr;
  if (auto s = check(git_branch_iterator_new(&it, repo.raw(), GIT_BRANCH_LOCAL), "list branches"); !s) {
    return s.error();
  }
  branch_iterator_ptr it_guard{it};
  std::vector<std::string> stale;
  git_reference* ref = nullptr;
  git_branch_t type;
  while (git_branch_next(&ref, &type, it) == 0) {
    reference_ptr guard{ref};
    const char* name = nullptr;
    if (git_branch_name(&name, ref) == 0) {
      std::string_view n{name};
      if (n.rfind("feat/", 0) == 0 && n.size() > 9 && n.substr(n.size() - 4) == "_gen") {
        stale.emplace_back(n);
      }
    }
  }
  for (auto& b : stale) {
    if (auto s = delete_branch(repo.raw(), b); !s) return s.error();
    report.branches.push_back(b);
  }
  return report;
}

} // namespace grove::git
