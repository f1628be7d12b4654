#pragma once

#include <filesystem>
#include <string>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Owns `worktrees/temp_<component>` on `feat/<component>_gen` with its own
/// repository handle. Decides nothing: creates, commits, removes. If it
/// terminates with its worktree still present (its supervisor died), it
/// removes it on the way out. Quits after `worktree_remove`. `lane` (from
/// the component's lease) picks its worktree and branch (git::worktree_for).
/// On `worktree_rebase` it merges its branch's change with main's since its
/// base (git::merge_component) and, when clean, commits the result on top of main.
worktree_actor spawn_worktree(caf::local_actor* parent, std::filesystem::path repo, std::string component,
                              uint32_t lane = 0);

} // namespace grove::actors
