#pragma once

#include <filesystem>
#include <memory>

#include "actors/interfaces.hpp"

namespace grove::models {
class embedder;
} // namespace grove::models

namespace grove::actors {

/// How lessons are recalled.
struct lessons_options {
  /// Recall by meaning through this endpoint; null: by words (SQLite FTS5).
  /// Whenever it fails, words are used for that recall.
  std::shared_ptr<const models::embedder> embedder;
  double min_similarity = 0.4; ///< cosine below this is no match
};

/// The lesson store of a workspace on its own thread (SQLite, detached): answers
/// the lessons for a new generation, learns, and records outcomes. A store that
/// cannot be opened quits the actor; jobs then generate without lessons.
lessons_actor spawn_lessons(caf::actor_system& sys, std::filesystem::path repo, lessons_options opts = {});

} // namespace grove::actors
