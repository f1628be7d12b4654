#pragma once

#include <filesystem>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// The lesson store of a workspace on its own thread (SQLite, detached): answers
/// the lessons for a new generation, learns, and records outcomes. A store that
/// cannot be opened quits the actor; jobs then generate without lessons.
lessons_actor spawn_lessons(caf::actor_system& sys, std::filesystem::path repo);

} // namespace grove::actors
