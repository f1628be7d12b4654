#pragma once

#include <filesystem>
#include <string>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Owns `worktrees/temp_<component>` on `feat/<component>_gen` with its own
/// repository handle. Decides nothing: creates, commits, removes. If it
/// terminates with its worktree still present (its supervisor died), it
/// removes it on the way out. Quits after `worktree_remove`.
worktree_actor spawn_worktree(caf::local_actor* parent, std::filesystem::path repo, std::string component);

} // namespace grove::actors
