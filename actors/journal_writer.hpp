#pragma once

#include <filesystem>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// The journal actor: owns the SQLite journal of a workspace (detached:
/// SQLite blocks) and answers each entry once it is on disk, or with an
/// `io` error (disk full, read-only workspace) that the caller must honour.
journal_actor spawn_journal(caf::actor_system& sys, std::filesystem::path repo);

} // namespace grove::actors
