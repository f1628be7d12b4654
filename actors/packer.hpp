#pragma once

#include <cstddef>
#include <filesystem>

#include "actors/interfaces.hpp"

namespace grove::actors {

using pack_atom = caf::atom_constant<caf::atom("pack")>;

/// Packs the workspace's loose objects in the background (git/pack.hpp).
using packer_actor = caf::typed_actor<caf::reacts_to<pack_atom>>; // pack if enough loose objects wait

/// Loose objects that make a pack worth writing (estimated from four fan-out folders): a few
/// thousand, so a pack's delta search (libgit2's packbuilder: a window of 10 per object) runs
/// once per ~600 components rather than every ~70, and under git gc --auto's 6,700.
inline constexpr size_t pack_threshold = 4096;

/// A packer for the workspace at `repo`, linked to `parent` (it stops with
/// it): detached, with its own repository handle, so merges never wait for
/// it. A poke costs four directory reads unless about `threshold` loose
/// objects wait; then they are packed and their loose copies removed.
packer_actor spawn_packer(caf::local_actor* parent, std::filesystem::path repo, size_t threshold = pack_threshold);

} // namespace grove::actors
