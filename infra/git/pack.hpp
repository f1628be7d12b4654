#pragma once

// Packing the workspace's loose objects with libgit2's packbuilder, then
// removing their loose copies (what git's prune-packed does), so the
// repository stays small and `git gc --auto` has nothing to do. Safe beside
// writers: only objects listed before packing are removed, and only after
// the pack holding them is on disk (fsynced) under its final name.

#include <cstddef>
#include <filesystem>

#include "infra/git/git.hpp"

namespace grove::git {

/// What one packing did.
struct pack_result {
  size_t loose_before = 0; ///< loose objects found
  size_t packed = 0;       ///< objects written into the new pack (0: nothing to do)
  size_t removed = 0;      ///< loose copies removed
  size_t rolled = 0;       ///< smaller packs rolled into the new pack and removed
  size_t packs = 0;        ///< packs in the repository afterwards
};

/// Loose objects in `.git/objects/xx/` (exact: one readdir per fan-out folder).
size_t count_loose_objects(const std::filesystem::path& gitdir);

/// Packs every loose object when there are at least `threshold` of them,
/// rolling the smallest packs into the same pack while each is under twice
/// what is gathered (geometric, as `git repack --geometric=2`): O(log n)
/// packs, each object rewritten O(log n) times. Rolled packs are removed once
/// the new pack is durable and holds all their objects; other handles on the
/// repository go on working (libgit2 rescans the pack folder on a miss).
result<pack_result> pack_loose_objects(repository& repo, size_t threshold);

/// Packs that make a start consolidate them, just below git gc --auto's limit (50). Geometric
/// packing keeps far fewer; this catches packs written by something else (an older grove, git).
inline constexpr size_t max_packs = 48;

/// Packs in the repository (`.git/objects/pack/*.pack`).
size_t count_packs(const std::filesystem::path& gitdir);

/// Everything reachable from a ref into one pack, then the older packs (and
/// the unreachable objects only they held) removed. Only while no other
/// handle on the repository works (at start): another handle could still
/// be reading an old pack.
result<pack_result> repack_all(repository& repo, unsigned threads = 1);

/// Removes the temporary files a killed packer leaves in `.git/objects/pack/`
/// (libgit2's `pack_git2_*` and git's `tmp_pack_*`, `tmp_idx_*`); how many.
size_t remove_stale_pack_files(const std::filesystem::path& gitdir);

} // namespace grove::git
