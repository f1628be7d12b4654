#include "infra/journal/lessons.hpp"

#include <algorithm>
#include <cctype>

#include <sqlite3.h>

#include "infra/journal/sqlite.hpp"

namespace grove::journal {

using detail::statement;

namespace {

messages::failure failure(sqlite3* db, const std::string& what) {
  return detail::sql_failure(db, what, "lessons");
}

const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS lessons (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  what TEXT NOT NULL,
  advice TEXT NOT NULL,
  strength INTEGER NOT NULL DEFAULT 0,
  retired INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE(kind, code)
);
CREATE VIRTUAL TABLE IF NOT EXISTS lessons_fts USING fts5(kind, code, what, advice, content='lessons', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS lessons_ai AFTER INSERT ON lessons BEGIN
  INSERT INTO lessons_fts(rowid, kind, code, what, advice) VALUES (new.id, new.kind, new.code, new.what, new.advice);
END;
CREATE TRIGGER IF NOT EXISTS lessons_au AFTER UPDATE OF kind, code, what, advice ON lessons BEGIN
  INSERT INTO lessons_fts(lessons_fts, rowid, kind, code, what, advice) VALUES ('delete', old.id, old.kind, old.code, old.what, old.advice);
  INSERT INTO lessons_fts(rowid, kind, code, what, advice) VALUES (new.id, new.kind, new.code, new.what, new.advice);
END;
)sql";

// The words of a text as an FTS5 query: each quoted (no operator a user's
// text could inject), OR-ed; at most 24 words of at most 40 bytes.
std::string match_query(const std::string& text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text + " ") {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || u >= 0x80) {
      cur += static_cast<char>(std::tolower(u));
    } else if (!cur.empty()) {
      if (cur.size() > 1 && cur.size() <= 40 && std::find(words.begin(), words.end(), cur) == words.end()) {
        words.push_back(cur);
      }
      cur.clear();
    }
    if (words.size() == 24) break;
  }
  std::string q;
  for (auto& w : words) q += (q.empty() ? "\"" : " OR \"") + w + "\"";
  return q;
}

messages::lesson row(statement& st) {
  return {st.integer(0), st.text(1), st.text(2), st.text(3), st.text(4), st.integer(5), st.integer(6) != 0};
}

} // namespace

std::string kind_of(const std::string& component) {
  std::string out = component;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

messages::result<std::unique_ptr<lesson_store>> lesson_store::open(const std::filesystem::path& repo) {
  auto db = detail::open_store(repo, "lessons.db", "lessons",
                               {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;", schema});
  if (!db) return db.error();
  return std::unique_ptr<lesson_store>{new lesson_store(*db)};
}

lesson_store::~lesson_store() {
  sqlite3_close(db_);
}

messages::status lesson_store::learn(const std::string& kind, const std::string& code, const std::string& what,
                                     const std::string& advice, int64_t now_ms) {
  // Learned again: the newest wording, and a retired lesson gets another chance.
  statement st{db_,
               "INSERT INTO lessons(kind, code, what, advice, created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?5) "
               "ON CONFLICT(kind, code) DO UPDATE SET what = ?3, advice = ?4, updated_ms = ?5, "
               "retired = 0, strength = MAX(strength, 0)"};
  if (st.bind(1, kind).bind(2, code).bind(3, what).bind(4, advice).bind(5, now_ms).step() != SQLITE_DONE) {
    return failure(db_, "learn");
  }
  return messages::ok();
}

messages::result<std::vector<messages::lesson>> lesson_store::recall(const messages::component_spec& spec,
                                                                     size_t limit) {
  std::vector<messages::lesson> out;
  auto q = match_query(kind_of(spec.name) + " " + spec.description);
  if (q.empty() || limit == 0) return out;
  statement st{db_,
               "SELECT l.id, l.kind, l.code, l.what, l.advice, l.strength, l.retired FROM lessons_fts f "
               "JOIN lessons l ON l.id = f.rowid WHERE lessons_fts MATCH ?1 AND l.retired = 0 "
               "ORDER BY bm25(lessons_fts), l.strength DESC LIMIT ?2"};
  st.bind(1, q).bind(2, static_cast<int64_t>(limit));
  if (!st.each([&] { out.push_back(row(st)); })) return failure(db_, "recall");
  return out;
}

messages::status lesson_store::outcome(const std::vector<int64_t>& ids, bool passed_first, int64_t now_ms) {
  for (auto id : ids) {
    statement st{db_, passed_first ? "UPDATE lessons SET strength = strength + 1, updated_ms = ?2 WHERE id = ?1"
                                   : "UPDATE lessons SET strength = strength - 1, updated_ms = ?2, "
                                     "retired = CASE WHEN strength - 1 <= ?3 THEN 1 ELSE retired END WHERE id = ?1"};
    st.bind(1, id).bind(2, now_ms);
    if (!passed_first) st.bind(3, retire_at);
    if (st.step() != SQLITE_DONE) return failure(db_, "outcome");
  }
  return messages::ok();
}

messages::result<std::vector<messages::lesson>> lesson_store::all() {
  std::vector<messages::lesson> out;
  statement st{db_,
               "SELECT id, kind, code, what, advice, strength, retired FROM lessons "
               "ORDER BY retired, strength DESC, id"};
  if (!st.each([&] { out.push_back(row(st)); })) return failure(db_, "list");
  return out;
}

} // namespace grove::journal
