#pragma once

#include <filesystem>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// The only writer of `main`. Merge requests that arrive together are landed
/// as one batch (octopus merge commits, one ref update); the main worktree is
/// kept checked out and clean. Runs detached: libgit2 work blocks. A
/// `restarted` integrator first recovers main from its predecessor
/// (`main_writer::recover`); it quits when the repository cannot be opened
/// or recovered, and its supervisor decides what next.
integrator_actor spawn_integrator(caf::actor_system& sys, std::filesystem::path repo, telemetry_actor telemetry,
                                  bool restarted = false);

} // namespace grove::actors
