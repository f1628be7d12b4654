#pragma once

// Internal to runtime/git: owning pointers over libgit2 objects and the one
// helper that turns a libgit2 return code into a failure.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <git2.h>
#include <sys/stat.h>

#include "messages/errors.hpp"

namespace grove::git::detail {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};

template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, freer<T, Free>>;

using repo_ptr = owned<git_repository, git_repository_free>;
using commit_ptr = owned<git_commit, git_commit_free>;
using tree_ptr = owned<git_tree, git_tree_free>;
using index_ptr = owned<git_index, git_index_free>;
using reference_ptr = owned<git_reference, git_reference_free>;
using signature_ptr = owned<git_signature, git_signature_free>;
using worktree_ptr = owned<git_worktree, git_worktree_free>;
using branch_iterator_ptr = owned<git_branch_iterator, git_branch_iterator_free>;
using diff_ptr = owned<git_diff, git_diff_free>;

/// Turns a libgit2 return code into a status, with git_error_last()'s text.
messages::status check(int rc, std::string_view what);

/// The failure for `rc`, for callers that must inspect the code first.
messages::failure git_failure(int rc, std::string_view what);

/// An oid as 40 hex digits.
std::string to_hex(const git_oid& id);

/// Parses 40 hex digits.
messages::result<git_oid> from_hex(std::string_view hex);

/// The repository's configured signature, or "grove <grove@localhost>".
messages::result<signature_ptr> signature(git_repository* repo);

/// Writes the handle's new loose objects uncompressed and lets its pack
/// backend skip rescanning objects/pack/ while the folder is unchanged
/// (odb_tuning.cpp). What cannot be tuned is left as libgit2 made it.
void tune_odb(git_repository* repo);

/// Stores an object (its id computed here) through the handle's writer,
/// skipping the existence checks git_odb_write makes first (odb_tuning.cpp).
messages::result<git_oid> store_object(git_repository* repo, git_object_t type, const void* data, size_t len);

/// Whether `id` is in a file of the object database (a loose object or a
/// pack), not only in the memory of recent writes.
bool stored_on_disk(git_odb* odb, const git_oid& id);

/// `base` with each update applied (GIT_TREE_UPDATE_UPSERT or _REMOVE),
/// as git_tree_create_updated, writing only the trees that change (tree_splice.cpp).
messages::result<git_oid> splice_tree(git_repository* repo, const git_tree* base,
                                      const std::vector<git_tree_update>& updates);

/// A commit of `tree` with `parents` by `sig`, stored with store_object.
messages::result<git_oid> create_commit(git_repository* repo, const git_signature* sig, const std::string& message,
                                        const git_tree* tree, const std::vector<const git_commit*>& parents);

/// Forgets the objects this process wrote to `repo` lately (tune_odb keeps
/// them in memory for reads): before anything removes objects from it.
void forget_recent_objects(git_repository* repo);

/// A component branch's ref (`name` is "refs/heads/feat/..."), written as
/// git writes a loose ref (lock file, compare, rename) and without a reflog
/// (branch_refs.cpp); a ref that is packed or symbolic goes through libgit2.
messages::status create_branch_ref(git_repository* repo, const std::string& name, const git_oid& target);
/// Moves it from `from` to `to`: 0, GIT_EMODIFIED (it was elsewhere), GIT_ELOCKED, or libgit2's error.
int move_branch_ref(git_repository* repo, const std::string& name, const git_oid& to, const git_oid& from,
                    const std::string& log);

/// Moves a loose ref with reflogs (main) from `from` to `to` as git does:
/// under `<ref>.lock`, the old value compared, a line appended to the ref's
/// reflog and to HEAD's when HEAD names the ref, then the lock renamed over
/// the ref. GIT_PASSTHROUGH, with nothing changed, when the ref is not a
/// plain loose ref or a reflog to append to is missing (libgit2 then does
/// it); GIT_EMODIFIED / GIT_ELOCKED as libgit2 (branch_refs.cpp).
int move_logged_ref(git_repository* repo, const std::string& name, const git_oid& to, const git_oid& from,
                    const std::string& log);
messages::result<git_oid> read_branch_ref(git_repository* repo, const std::string& name);
/// Deletes it and any reflog it has; a branch already gone is no error.
messages::status delete_branch_ref(git_repository* repo, const std::string& name);

/// Looks up the commit `refs/heads/main` points to.
messages::result<commit_ptr> main_commit(git_repository* repo);

/// One file that differs between two trees: absent on a side is mode 0.
struct tree_change {
  std::string path;
  git_oid old_id{};
  git_oid new_id{};
  git_filemode_t old_mode = GIT_FILEMODE_UNREADABLE;
  git_filemode_t new_mode = GIT_FILEMODE_UNREADABLE;
  bool added() const { return old_mode == GIT_FILEMODE_UNREADABLE; }
  bool deleted() const { return new_mode == GIT_FILEMODE_UNREADABLE; }
};

/// The files that differ between `from` and `to` (either may be null: an
/// empty tree), in git's order; folders with equal ids are not read
/// (tree_diff.cpp).
messages::result<std::vector<tree_change>> tree_changes(git_repository* repo, git_tree* from, git_tree* to);

/// A worktree's index for `tree` in git's sparse-index format: the files at
/// `present` (paths; those the tree lacks are simply absent) checked out,
/// every other file skip-worktree, every folder off their way one collapsed
/// entry (sparse_index.cpp).
messages::result<std::string> sparse_index_bytes(git_repository* repo, git_tree* tree,
                                                 const std::vector<std::string>& present);

/// The worktree's `info/sparse-checkout` in cone mode for `present`: what
/// git needs (with core.sparseCheckout, core.sparseCheckoutCone and
/// index.sparse set) to keep the index sparse instead of expanding it.
std::string cone_patterns(const std::vector<std::string>& present);

/// Writes sparse_index_bytes() to `index_file` (through a lock file renamed over it).
messages::status write_sparse_index(git_repository* repo, const std::filesystem::path& index_file, git_tree* tree,
                                    const std::vector<std::string>& present);

/// How often a writer redoes its update when main moved under it.
inline constexpr int max_ref_retries = 8;

/// Moves main from `from` to `to` only if it still points at `from`; libgit2's return code.
int advance_main(git_repository* repo, const git_oid& from, const git_oid& to, const std::string& log);

/// A tree equal to `base` with each file replaced or added (blobs written)
/// and each of `removed` taken out.
messages::result<git_oid> tree_with_files(git_repository* repo, git_tree* base,
                                          const std::vector<std::pair<std::string, std::string>>& files,
                                          const std::vector<std::string>& removed = {});

/// While one lives, the ids this thread's writes through store_object put
/// on disk (a file written, closed and renamed into place, each checked)
/// are noted, up to `max_ids`: verify_stored then trusts those and looks on
/// disk only for the objects it did not write (from memory, or older).
/// Scopes nest; without one everything is looked for, as before.
class fresh_writes final {
public:
  static constexpr size_t max_ids = 4096;
  fresh_writes();
  ~fresh_writes();
  fresh_writes(const fresh_writes&) = delete;
  fresh_writes& operator=(const fresh_writes&) = delete;
  /// The innermost scope of this thread, or null.
  static fresh_writes* current();
  void note(const git_oid& id);
  bool has(const git_oid& id) const;

private:
  fresh_writes* outer_;
  std::vector<git_oid> ids_;
};

/// Checks that a commit just written is really in the object database, with
/// its tree and every tree and blob on `paths`, before a ref may point at it.
/// libgit2 1.5 can report a loose object written when the disk filled up
/// under it (seen with a full tmpfs: ENOSPC on the object's write, success
/// returned), which would leave a ref or reflog naming a missing object.
/// Inside a fresh_writes scope, what the scope wrote is trusted.
messages::status verify_stored(git_repository* repo, const git_oid& commit_id, const std::vector<std::string>& paths);

/// Records in `.grove/checkout` that output/ may lag main from
/// commit `from` on, before main moves past it; an older record is kept.
/// While it exists, the paths main changed since `from` are grove's own
/// unfinished writes.
messages::status begin_checkout(git_repository* repo, const git_oid& from);

/// output/ is in step with main again: the record goes.
void end_checkout(git_repository* repo);

/// The start of an unfinished checkout, if one is recorded.
std::optional<git_oid> pending_checkout(git_repository* repo);

/// What differs under output/ between the main worktree and main.
struct output_drift {
  std::vector<std::string> grove; ///< grove's own (interrupted or lagging) writes: put back without loss
  std::vector<std::string> user;  ///< "output/x (modified)": changes grove did not make, never touched
};

/// Whether output/ is proven in step with main without libgit2's status:
/// the index lists exactly main's files there, and each file's stat data
/// match its entry (content hashed only where they cannot prove it), with no
/// other file, folder or link (output_scan.cpp). false is "not proven", not "differs".
bool output_in_step(git_repository* repo, git_index* index, git_tree* main_tree);

/// Sorts every difference under output/: a path is grove's when its index
/// entry and file each hold main's version, the version before an
/// unfinished checkout, a half-written copy of main's version (only where
/// that checkout was writing), or nothing; anything else is the user's.
/// With `hand_over`, an index proven in step is offered to the next
/// repository handle that opens main (offer_index).
messages::result<output_drift> inspect_output(git_repository* repo, bool hand_over = false);

/// Keeps `index` (a reference the caller gives up), read from `file` whose
/// stat data were `before` the read, for adopt_offered_index (index_handoff.cpp).
void offer_index(const std::string& file, const struct stat& before, git_index* index);

/// Makes the offered index `repo`'s own if it was read from `repo`'s index
/// file and that file has not changed since; true when it did. An offer for
/// another workspace stays; one for `repo`'s is gone either way.
bool adopt_offered_index(git_repository* repo);

/// The message that names the user's changes and how to proceed.
std::string describe_user_changes(const std::vector<std::string>& user);

/// Puts grove's own paths under output/ (files and index entries) back to
/// main and clears the checkout record. The user's changes are never
/// touched: with `refuse_user_changes` nothing is done when there are any;
/// either way they come back as an errc::workspace failure naming them.
/// Returns how many paths were put back.
messages::result<size_t> restore_output(git_repository* repo, bool refuse_user_changes, bool hand_over = false);

} // namespace grove::git::detail
