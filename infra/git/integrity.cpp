// Keeping the workspace consistent: commits read back before a ref may name
// them, and output/ put back in step with main after a crash or a full disk.

#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include <sys/stat.h>

#include <git2/sys/repository.h>

#include "infra/git/files.hpp"
#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"

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
    forget_recent_objects(repo); // so that writing it again writes it
    return messages::make_failure(errc::io, "the object database lost " + what + " " + to_hex(id) +
                                              " as it was written (No space left on device?)");
  };
  const fresh_writes* fresh = fresh_writes::current();
  auto on_disk = [&](const git_oid& id) { return (fresh != nullptr && fresh->has(id)) || stored_on_disk(odb, id); };
  if (!on_disk(commit_id)) return missing(commit_id, "commit");
  git_commit* c = nullptr;
  if (auto s = check(git_commit_lookup(&c, repo, &commit_id), "read back commit"); !s) return s;
  commit_ptr cg{c};
  const git_oid* tree_id = git_commit_tree_id(c);
  if (!on_disk(*tree_id)) return missing(*tree_id, "tree");
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
      if (git_tree_entry_bypath(&e, root, prefix.c_str()) != 0)
        return missing(*tree_id, "the path " + prefix + " in tree");
      git_oid id = *git_tree_entry_id(e);
      git_tree_entry_free(e);
      if (!on_disk(id)) return missing(id, prefix);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  return messages::ok();
}

} // namespace detail

using namespace detail;

namespace {

constexpr const char* intent_file = ".grove/checkout";

fs::path workdir_of(git_repository* repo) {
  const char* w = git_repository_workdir(repo);
  return w == nullptr ? fs::path{} : fs::path{w};
}

// The blob id at `path` in `tree`, if the tree has a file there.
std::optional<git_oid> blob_at(git_tree* tree, const std::string& path) {
  if (tree == nullptr) return std::nullopt;
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, tree, path.c_str()) != 0) return std::nullopt;
  std::optional<git_oid> out;
  if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) out = *git_tree_entry_id(e);
  git_tree_entry_free(e);
  return out;
}

bool one_of(const git_oid& id, std::initializer_list<std::optional<git_oid>> ids) {
  for (auto& x : ids) {
    if (x && git_oid_equal(&id, &*x)) return true;
  }
  return false;
}

// Whether `content` is a strict beginning of blob `id`: what an interrupted
// write of that blob leaves (libgit2 writes a checked-out file in place).
bool prefix_of_blob(git_repository* repo, const std::string& content, const std::optional<git_oid>& id) {
  if (!id) return false;
  git_blob* blob = nullptr;
  if (git_blob_lookup(&blob, repo, &*id) != 0) return false;
  auto size = static_cast<size_t>(git_blob_rawsize(blob));
  bool prefix = content.size() < size && std::memcmp(git_blob_rawcontent(blob), content.data(), content.size()) == 0;
  git_blob_free(blob);
  return prefix;
}

} // namespace

status detail::begin_checkout(git_repository* repo, const git_oid& from) {
  auto root = workdir_of(repo);
  if (pending_checkout(repo)) return messages::ok(); // an older start point stays: output/ may lag from there
  // Not fsynced: for a process that is killed the page cache keeps the order,
  // and libgit2's own ref writes, which move main, are not fsynced either; an
  // fsync here would cost one disk flush per update of main.
  return write_file_under(root, intent_file, to_hex(from) + "\n");
}

void detail::end_checkout(git_repository* repo) {
  std::error_code ec;
  fs::remove(workdir_of(repo) / intent_file, ec);
}

std::optional<git_oid> detail::pending_checkout(git_repository* repo) {
  std::ifstream in{workdir_of(repo) / intent_file};
  std::string hex;
  if (!(in >> hex)) return std::nullopt;
  auto id = from_hex(hex);
  if (!id) return std::nullopt;
  return *id;
}

result<output_drift> detail::inspect_output(git_repository* repo, bool hand_over) {
  output_drift out;
  // Judge by the index on disk: a checkout whose index write failed (full disk,
  // lock held) leaves the repository's in-memory index ahead of the file.
  // Read once, fresh from the file, and made the repository's index for the status below
  // (git_repository_index then a forced git_index_read parsed and hashed it twice).
  git_index* index = nullptr;
  auto index_file = std::string{git_repository_path(repo)} + "index";
  struct stat before {};
  bool stated = ::stat(index_file.c_str(), &before) == 0; // before the read: a newer file is then never taken for it
  if (auto s = check(git_index_open(&index, index_file.c_str()), "read the index"); !s) return s.error();
  index_ptr index_guard{index};
  if (auto s = check(git_repository_set_index(repo, index), "use the index"); !s) return s.error();
  // As libgit2 sets up a repository's own index: core.ignorecase, core.filemode, core.symlinks.
  if (auto s = check(git_index_set_caps(index, GIT_INDEX_CAPABILITY_FROM_OWNER), "configure the index"); !s) {
    return s.error();
  }
  auto head = main_commit(repo);
  if (!head) return head.error();
  git_tree* main_tree = nullptr;
  if (auto s = check(git_commit_tree(&main_tree, head->get()), "read main's tree"); !s) return s.error();
  tree_ptr main_guard{main_tree};
  // The common start: nothing to sort, proven in a stat per file instead of a full status.
  if (!pending_checkout(repo) && output_in_step(repo, index, main_tree)) {
    if (hand_over && stated) {
      git_repository_set_index(repo, nullptr); // ours alone from here: it moves to another thread's handle
      offer_index(index_file, before, index_guard.release());
    }
    return out;
  }
  git_status_options so = GIT_STATUS_OPTIONS_INIT;
  so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  // UPDATE_INDEX: files written in the same second as the index (every merge)
  // are racily clean and would be hashed again at every start; refreshing
  // their stat data once makes the next look a stat per file.
  so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS | GIT_STATUS_OPT_UPDATE_INDEX;
  char path_spec[] = "output/*";
  char* paths[] = {path_spec};
  so.pathspec.strings = paths;
  so.pathspec.count = 1;
  git_status_list* list = nullptr;
  if (auto s = check(git_status_list_new(&list, repo, &so), "read workspace status"); !s) return s.error();
  std::unique_ptr<git_status_list, freer<git_status_list, git_status_list_free>> list_guard{list};
  auto n = git_status_list_entrycount(list);
  if (n == 0) return out;
  // Paths grove may have left half way: those main changed since the pending checkout's start.
  std::set<std::string> unfinished;
  tree_ptr from_guard;
  git_tree* from_tree = nullptr;
  if (auto from = pending_checkout(repo)) {
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo, &*from) == 0) {
      commit_ptr cg{c};
      if (git_commit_tree(&from_tree, c) == 0) from_guard.reset(from_tree);
    }
    if (from_tree != nullptr) {
      if (auto changes = tree_changes(repo, from_tree, main_tree)) {
        for (auto& c : *changes) unfinished.insert(c.path);
      }
    }
  }
  auto root = workdir_of(repo);
  std::set<std::string> seen;
  for (size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list, i);
    const git_diff_delta* d = e->index_to_workdir != nullptr ? e->index_to_workdir : e->head_to_index;
    std::string path = d->new_file.path != nullptr ? d->new_file.path : d->old_file.path;
    if (!seen.insert(path).second) continue;
    bool grove_path = unfinished.count(path) != 0;
    auto at_main = blob_at(main_tree, path);
    auto at_from = grove_path ? blob_at(from_tree, path) : std::nullopt;
    // The index: absent, main's, or (for a path grove was updating) the old version.
    std::string kind;
    size_t pos = 0;
    if (git_index_find(&pos, index, path.c_str()) == 0) {
      const git_index_entry* ie = git_index_get_byindex(index, pos);
      if (!one_of(ie->id, {at_main, at_from})) kind = "staged";
    }
    // The file: absent (restoring loses nothing), main's, the old version, or a
    // half-written copy of main's where grove was writing it.
    struct stat st {};
    if (kind.empty() && ::lstat((root / path).c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) {
        kind = S_ISLNK(st.st_mode) ? "symbolic link" : "not a regular file";
      } else {
        std::ifstream in{root / path, std::ios::binary};
        std::string content{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
        git_oid id;
        git_odb_hash(&id, content.data(), content.size(), GIT_OBJECT_BLOB);
        bool ours = one_of(id, {at_main, at_from}) || (grove_path && prefix_of_blob(repo, content, at_main));
        if (!ours) kind = at_main ? "modified" : "untracked";
      }
    }
    if (kind.empty()) {
      out.grove.push_back(path);
    } else {
      out.user.push_back(path + " (" + kind + ")");
    }
  }
  return out;
}

std::string detail::describe_user_changes(const std::vector<std::string>& user) {
  std::string list;
  for (size_t i = 0; i < user.size() && i < 10; ++i) list += (i ? ", " : "") + user[i];
  if (user.size() > 10) list += " and " + std::to_string(user.size() - 10) + " more";
  return "output/ has changes grove did not make: " + list +
         ". grove never overwrites them. Commit them (git add output && git commit), or move them out of "
         "output/, then run grove again";
}

result<size_t> detail::restore_output(git_repository* repo, bool refuse_user_changes, bool hand_over) {
  auto root = workdir_of(repo);
  if (auto s = require_real_folders(root, {"output", "output/components"}); !s) return s.error();
  auto drift = inspect_output(repo, hand_over);
  if (!drift) return drift.error();
  if (refuse_user_changes && !drift->user.empty()) {
    return make_failure(errc::workspace, describe_user_changes(drift->user));
  }
  if (!drift->grove.empty()) {
    if (auto s = require_real_parents(root, drift->grove); !s) return s.error();
    auto head = main_commit(repo);
    if (!head) return head.error();
    std::vector<char*> raw;
    for (auto& p : drift->grove) raw.push_back(p.data());
    git_strarray paths{raw.data(), raw.size()};
    // Index entries first (a kill between the ref update and the checkout
    // leaves them behind main), then the files; only grove's own paths.
    if (auto s = check(git_reset_default(repo, reinterpret_cast<git_object*>(head->get()), &paths),
                       "reset the index for output/");
        !s) {
      return s.error();
    }
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
    co.paths = paths;
    if (auto s = check(git_checkout_head(repo, &co), "restore output/ from main"); !s) return s.error();
  }
  end_checkout(repo);
  if (!drift->user.empty()) return make_failure(errc::workspace, describe_user_changes(drift->user));
  return drift->grove.size();
}

result<std::vector<std::string>> repair_workspace(repository& repo, bool after_run) {
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
    for (auto it = fs::recursive_directory_iterator{dir, ec}; !ec && it != fs::recursive_directory_iterator{};
         it.increment(ec)) {
      if (it->path().extension() == ".lock") locks.push_back(it->path());
    }
  }
  for (auto& lock : locks) {
    std::error_code ec;
    fs::remove(lock, ec);
    if (!ec) done.push_back("removed stale lock " + fs::relative(lock, gitdir, ec).string());
  }
  // Grove's own folders must be folders: a link there would send writes out of the workspace.
  if (auto s = require_real_folders(repo.workdir(), {".grove", "output", "output/components", "worktrees"}); !s) {
    return s.error();
  }
  if (after_run && !pending_checkout(repo.raw())) return done;
  // At a start, the integrator opens main next: it takes the index read here.
  auto restored = restore_output(repo.raw(), true, !after_run);
  if (!restored) return restored.error();
  if (*restored > 0) done.push_back("restored " + std::to_string(*restored) + " file(s) under output/ to main");
  return done;
}

} // namespace grove::git
