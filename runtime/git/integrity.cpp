// Keeping the workspace consistent: commits read back before a ref may name
// them, and output/ put back in step with main after a crash or a full disk.

#include "runtime/git/git.hpp"
#include "runtime/git/raii.hpp"

namespace fs = std::filesystem;

namespace grove::git {

using messages::errc;
using messages::make_failure;

namespace detail {

messages::status verify_stored(git_repository* repo, const git_oid& commit_id, const std::vector<std::string>& paths) {
  git_odb* odb = nullptr;
  if (auto s = check(git_repository_odb(&odb, repo), "open the object database"); !s) return s;
  std::unique_ptr<git_odb, freer<git_odb, git_odb_free>> odb_guard{odb};
  auto missing = [&](const git_oid& id, const std::string& what) {
    return messages::make_failure(errc::io, "the object database lost " + what + " " + to_hex(id) +
                                            " as it was written (No space left on device?)");
  };
  if (git_odb_exists(odb, &commit_id) == 0) return missing(commit_id, "commit");
  git_commit* c = nullptr;
  if (auto s = check(git_commit_lookup(&c, repo, &commit_id), "read back commit"); !s) return s;
  commit_ptr cg{c};
  const git_oid* tree_id = git_commit_tree_id(c);
  if (git_odb_exists(odb, tree_id) == 0) return missing(*tree_id, "tree");
  git_tree* root = nullptr;
  if (auto s = check(git_commit_tree(&root, c), "read back tree"); !s) return s;
  tree_ptr rg{root};
  for (auto& path : paths) {
    // Every tree on the way down and the file itself: what the write created.
    std::string prefix;
    size_t start = 0;
    while (true) {
      auto slash = path.find('/', start);
      prefix = path.substr(0, slash);
      git_tree_entry* e = nullptr;
      if (git_tree_entry_bypath(&e, root, prefix.c_str()) != 0) return missing(*tree_id, "the path " + prefix + " in tree");
      git_oid id = *git_tree_entry_id(e);
      git_tree_entry_free(e);
      if (git_odb_exists(odb, &id) == 0) return missing(id, prefix);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  return messages::ok();
}

} // namespace detail

using namespace detail;

result<size_t> detail::restore_output(git_repository* repo) {
  // Judge by the index on disk: a checkout whose index write failed (full disk,
  // lock held) leaves the repository's in-memory index ahead of the file.
  git_index* index = nullptr;
  if (auto s = check(git_repository_index(&index, repo), "open the index"); !s) return s.error();
  index_ptr index_guard{index};
  if (auto s = check(git_index_read(index, 1), "read the index"); !s) return s.error();
  git_status_options so = GIT_STATUS_OPTIONS_INIT;
  so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  char path_spec[] = "output/*";
  char* paths[] = {path_spec};
  so.pathspec.strings = paths;
  so.pathspec.count = 1;
  git_status_list* list = nullptr;
  if (auto s = check(git_status_list_new(&list, repo, &so), "read workspace status"); !s) return s.error();
  auto dirty = git_status_list_entrycount(list);
  git_status_list_free(list);
  if (dirty == 0) return size_t{0};
  // A kill between the ref update and the checkout leaves the index behind main:
  // reset the index entries first (like `git reset -- output`), then the files.
  auto head = main_commit(repo);
  if (!head) return head.error();
  char reset_spec[] = "output";
  char* reset_paths[] = {reset_spec};
  git_strarray reset_array{reset_paths, 1};
  if (auto s = check(git_reset_default(repo, reinterpret_cast<git_object*>(head->get()), &reset_array),
                     "reset the index for output/");
      !s) {
    return s.error();
  }
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
  co.paths.strings = paths;
  co.paths.count = 1;
  if (auto s = check(git_checkout_head(repo, &co), "restore output/ from main"); !s) return s.error();
  return dirty;
}

result<std::vector<std::string>> repair_workspace(repository& repo) {
  std::vector<std::string> done;
  // Lock files of a killed writer: the index, HEAD, packed-refs, any ref, and the
  // same inside worktree admin folders. We hold the workspace lock: no grove writes now.
  auto gitdir = repo.gitdir();
  std::vector<fs::path> locks;
  for (auto top : {gitdir / "index.lock", gitdir / "HEAD.lock", gitdir / "packed-refs.lock", gitdir / "config.lock"}) {
    std::error_code ec;
    if (fs::exists(top, ec)) locks.push_back(top);
  }
  for (auto dir : {gitdir / "refs", gitdir / "worktrees", gitdir / "logs"}) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator{dir, ec}; !ec && it != fs::recursive_directory_iterator{}; it.increment(ec)) {
      if (it->path().extension() == ".lock") locks.push_back(it->path());
    }
  }
  for (auto& lock : locks) {
    std::error_code ec;
    fs::remove(lock, ec);
    if (!ec) done.push_back("removed stale lock " + fs::relative(lock, gitdir, ec).string());
  }
  auto restored = restore_output(repo.raw());
  if (!restored) return restored.error();
  if (*restored > 0) done.push_back("restored " + std::to_string(*restored) + " file(s) under output/ to main");
  return done;
}

} // namespace grove::git
