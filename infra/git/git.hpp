#pragma once

// RAII layer over libgit2 for grove's workspace: the repository, one
// worktree per component, and the single writer of `main`. No CAF here.
// One `repository` per actor: libgit2 handles are never shared across threads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/errors.hpp"

struct git_repository;
struct git_oid;

namespace grove::git {

using messages::result;
using messages::status;

inline constexpr const char* main_ref = "refs/heads/main";

/// `feat/<name>_gen` for a valid component name; lane n > 0 (a parallel
/// edit, actors/leases.hpp): `feat/<name>_gen-<n>`. A component name has no
/// '-', so no lane's branch is another component's.
std::string branch_for(std::string_view component, uint32_t lane = 0);

/// `temp_<name>` (the worktree's name and folder under `worktrees/`); lane
/// n > 0: `temp_<name>-<n>`.
std::string worktree_for(std::string_view component, uint32_t lane = 0);

/// `output/components/<xx>/<name>.json` (xx: its fan-out folder, logic/library.hpp),
/// the component's file in the repository.
std::string component_path(std::string_view component);

/// An open repository handle; move-only, freed on destruction.
class repository final {
public:
  /// Opens an existing repository rooted exactly at `dir`.
  static result<repository> open(const std::filesystem::path& dir);

  /// Opens the workspace at `dir`, creating it (and an initial commit on
  /// `main`) if needed; ensures HEAD is on `main` and that `worktrees/` and
  /// `.grove/` are listed in `.git/info/exclude`.
  static result<repository> open_or_init(const std::filesystem::path& dir);

  repository(repository&& other) noexcept;
  repository& operator=(repository&& other) noexcept;
  repository(const repository&) = delete;
  repository& operator=(const repository&) = delete;
  ~repository();

  git_repository* raw() const { return repo_; }

  /// The main worktree's folder.
  const std::filesystem::path& workdir() const { return workdir_; }

  /// The common git folder (`.git`).
  std::filesystem::path gitdir() const;

  /// The commit `main` points to, as hex.
  result<std::string> main_head() const;

  /// Whether a packing removed packs since this handle was opened: libgit2
  /// keeps a removed pack in a handle's list (skipped on every lookup that
  /// misses), so long-lived holders open a fresh handle.
  bool outdated() const;

private:
  repository(git_repository* repo, std::filesystem::path workdir);

  git_repository* repo_ = nullptr;
  std::filesystem::path workdir_;
  std::uint64_t packs_generation_ = 0;
};

/// Called by whoever removes pack files of a repository in this process (pack.hpp).
void note_packs_removed();

/// Repository handles on one workspace, lent to one user at a time: each
/// handle is still used by one thread at a time, but actors that live for one
/// component no longer open (and parse the config of) a repository each, and
/// borrow a handle whose object cache already holds main's trees.
class repository_pool final {
public:
  explicit repository_pool(std::filesystem::path dir);
  ~repository_pool();
  repository_pool(const repository_pool&) = delete;
  repository_pool& operator=(const repository_pool&) = delete;

  /// A handle lent until the lease is destroyed.
  class lease final {
  public:
    lease(repository_pool* pool, repository repo) : pool_(pool), repo_(std::move(repo)) {}
    lease(lease&& other) noexcept : pool_(other.pool_), repo_(std::move(other.repo_)) { other.repo_.reset(); }
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease();
    repository& operator*() { return *repo_; }
    repository* operator->() { return &*repo_; }

  private:
    repository_pool* pool_;
    std::optional<repository> repo_;
  };

  /// Lends an idle handle, or opens a new one.
  result<lease> acquire();

  /// The pool for the workspace at `dir` (one per folder, for the process).
  static std::shared_ptr<repository_pool> of(const std::filesystem::path& dir);

private:
  void give_back(repository repo);

  std::filesystem::path dir_;
  std::unique_ptr<struct repository_pool_state> state_;
};

/// The content of `path` in `commit` (hex), read from the object database.
result<std::string> read_file_at(repository& repo, const std::string& commit, const std::string& path);

/// Undoes what a process killed mid-write leaves in the main worktree: stale
/// lock files (index.lock, the main ref's lock) are removed and grove's own
/// folder `output/` is put back to what `main` holds (files half written by
/// an interrupted checkout, or missing). Call under the workspace lock.
/// Returns a line per thing repaired. With `after_run`, output/ is looked at
/// only when a checkout of main did not finish (the run's own writes were
/// checked as they were made): no status of the whole library.
result<std::vector<std::string>> repair_workspace(repository& repo, bool after_run = false);

/// Moves a library in the flat layout of earlier versions
/// (output/components/<name>.json on main) into its fan-out folders as one
/// commit on main; the files in output/ follow, files grove did not write
/// stay. Returns how many moved (0: nothing to move). Call under the
/// workspace lock, after repair_workspace.
result<size_t> migrate_flat_library(repository& repo);

/// What remove_stale found and removed.
struct cleanup_report {
  std::vector<std::string> worktrees;
  std::vector<std::string> branches;
  std::vector<std::string> directories;
  bool empty() const { return worktrees.empty() && branches.empty() && directories.empty(); }
};

/// Removes every `temp_*` worktree (registered or half-created) and every
/// `feat/*_gen` branch: what a crashed run leaves behind.
result<cleanup_report> remove_stale(repository& repo);

/// A component's worktree.
struct worktree_info {
  std::string component;
  uint32_t lane = 0;
  std::string name;   ///< temp_<component>
  std::string branch; ///< feat/<component>_gen
  std::filesystem::path dir;
  std::string base_commit;
};

/// Creates `feat/<component>_gen` at `main` (or `base_commit`) and its
/// worktree `worktrees/temp_<component>`, checking out only `checkout_paths`.
/// On failure nothing is left behind.
result<worktree_info> add_worktree(repository& repo, std::string_view component,
                                   const std::vector<std::string>& checkout_paths, const std::string& base_commit = {},
                                   uint32_t lane = 0);

/// Writes `files` into the worktree and commits them on its branch (through
/// `repo`, the calling actor's own handle: libgit2 handles are never shared
/// between threads), then brings the worktree's index in step. Returns the
/// new commit's id. With `onto` (a commit id) the commit's parent is `onto`
/// and its tree `onto`'s with `files`: the branch is rebased onto it (its
/// earlier commits stay reachable only through the reflog); `wt.base_commit`
/// becomes `onto`.
result<std::string> commit_in_worktree(repository& repo, worktree_info& wt,
                                       const std::vector<std::pair<std::string, std::string>>& files,
                                       const std::string& message, const std::string& onto = {});

/// The commit id `wt`'s branch points at.
result<std::string> branch_head(repository& repo, const worktree_info& wt);

/// The job and instruction recorded in the message of the commit that
/// brought `path`'s version at `to` into main's first-parent history since
/// `from` ("Job:" and "Instruction:" lines, written by the worktree actor);
/// empty fields when not found.
struct change_origin {
  std::string job;
  std::string instruction;
};
change_origin find_change_origin(repository& repo, const std::string& from, const std::string& to,
                                 const std::string& path);

/// Prunes the component's worktree (folder included) and deletes its branch;
/// tolerates parts already gone.
status remove_worktree(repository& repo, std::string_view component, uint32_t lane = 0);

/// One branch commit to land.
struct merge_item {
  std::string component;
  std::string commit;
  std::string base = {}; ///< the main commit the branch started from; empty: computed
};

/// What became of one merge_item: the merge commit, or an error.
struct merge_outcome {
  std::string component;
  std::string merge_commit;
  std::string error;
  bool stale = false; ///< main changed the branch's files since its base: refused, the branch is to be rebased
  bool ok() const { return error.empty(); }
};

/// The one writer of `main`: merges in memory, one ref update per batch,
/// then brings the main worktree's files and index in step with `main`.
class main_writer final {
public:
  explicit main_writer(repository repo);

  /// Merges every item into `main`: items that only add or change their own
  /// paths as octopus merge commits (up to 48 branches each), any other as a
  /// three-way merge of its own; one ref update for the whole batch (retried
  /// if `main` moved meanwhile). Each outcome names the commit that merged it.
  std::vector<merge_outcome> merge_batch(const std::vector<merge_item>& items);

  /// Commits `files` on `main` (and takes `removed` out of it); returns the
  /// commit id, or an empty id when `main` already holds exactly that.
  result<std::string> commit_files(const std::string& message,
                                   const std::vector<std::pair<std::string, std::string>>& files,
                                   const std::vector<std::string>& removed = {});

  repository& repo() { return repo_; }

  /// Why the main worktree could not be brought in step after the last
  /// update of `main` (local edits in the workspace, a full disk), or empty.
  /// The next update of `main`, or resync(), tries again for all of output/.
  const std::string& last_sync_error() const { return last_sync_error_; }

  /// Brings output/ of the main worktree (files and index) to `main`.
  status resync();

  /// With `on`, a sync updates the index in memory and leaves writing its
  /// file (1 MB at 10,000 files, hashed whole) to write_index(): the files
  /// under output/ are written at once, `.grove/checkout` stays until the
  /// index is, so a kill meanwhile is repaired at the next start. For the
  /// integrator, which writes the index once its mailbox is empty.
  void defer_index_writes(bool on) { defer_index_ = on; }

  /// Whether the index file lags the index in memory.
  bool index_behind() const { return index_behind_; }

  /// Writes the index file if it lags, then clears `.grove/checkout`; a
  /// failure is kept in last_sync_error() (the next start repairs it).
  void write_index();

  ~main_writer();
  main_writer(main_writer&&) = default;

  /// What a new writer does before its first update when an earlier writer
  /// of this process died (a restarted integrator): removes the lock files
  /// only the writer of `main` takes (the main index, HEAD, main's ref),
  /// left if it died mid-write, then resyncs output/ (never the user's
  /// files). Returns a line per thing repaired.
  result<std::vector<std::string>> recover();

private:
  void sync(const git_oid& from, const git_oid& to);

  repository repo_;
  std::string last_sync_error_;
  bool defer_index_ = false;
  bool index_behind_ = false;
};

} // namespace grove::git
