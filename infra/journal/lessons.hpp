#pragma once

// The memory of past mistakes (issue 14): every rejection (a QA rule or the
// reviewer) that a later attempt of the same component got past is distilled
// into a lesson — the component's kind, the violation code, what went wrong
// and the advice — kept in the workspace (`.grove/lessons.db`, SQLite with
// FTS5) and given to new generations that look alike. A lesson's strength
// rises when a generation given it passes on its first attempt and falls
// when it fails anyway; a lesson that keeps failing is retired.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "messages/plan.hpp"

struct sqlite3;

namespace grove::journal {

class lesson_store final {
public:
  /// A lesson retires when its strength falls to this.
  static constexpr int64_t retire_at = -2;

  /// Opens (creating) `<repo>/.grove/lessons.db`.
  static messages::result<std::unique_ptr<lesson_store>> open(const std::filesystem::path& repo);
  ~lesson_store();
  lesson_store(const lesson_store&) = delete;
  lesson_store& operator=(const lesson_store&) = delete;

  /// Learns (or refreshes) the lesson of `code` for components of `kind`.
  messages::status learn(const std::string& kind, const std::string& code, const std::string& what,
                         const std::string& advice, int64_t now_ms);

  /// At most `limit` live lessons for a component, best first: FTS5 (bm25)
  /// over kind, code, what and advice with the words of its name and
  /// description; ties by strength.
  messages::result<std::vector<messages::lesson>> recall(const messages::component_spec& spec, size_t limit);

  /// A generation given `ids` passed on its first attempt (strength + 1) or not (- 1; retired at retire_at).
  messages::status outcome(const std::vector<int64_t>& ids, bool passed_first, int64_t now_ms);

  /// Every lesson, live first, strongest first.
  messages::result<std::vector<messages::lesson>> all();

  // Recall by meaning: each live lesson's text embedded once per model,
  // kept beside it (float32), compared by cosine with the new component's.

  /// A live lesson that has no embedding by `model` yet, and the text to embed.
  struct unembedded {
    int64_t id = 0;
    std::string text;
  };
  /// At most `limit` of them, oldest first.
  messages::result<std::vector<unembedded>> without_embedding(const std::string& model, size_t limit);

  /// Keeps `vec` as lesson `id`'s embedding by `model`.
  messages::status set_embedding(int64_t id, const std::string& model, const std::vector<float>& vec);

  /// At most `limit` live lessons whose embedding by `model` is nearest
  /// `query` (cosine at least `min_similarity`), best first; each lesson's
  /// `matched` says the score.
  messages::result<std::vector<messages::lesson>> recall_near(const std::vector<float>& query,
                                                              const std::string& model, size_t limit,
                                                              double min_similarity);

private:
  explicit lesson_store(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

/// The kind of a component, for lessons: its name's words (login_form -> "login form").
std::string kind_of(const std::string& component);

/// The text a lesson is embedded by: its kind, code, what and advice.
std::string lesson_text(const std::string& kind, const std::string& code, const std::string& what,
                        const std::string& advice);

/// The text a new component is matched by: its kind and description.
std::string query_text(const messages::component_spec& spec);

} // namespace grove::journal
