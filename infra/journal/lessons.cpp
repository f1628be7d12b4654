#include "infra/journal/lessons.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include <sqlite3.h>

#include "infra/journal/sqlite.hpp"
#include "logic/similarity.hpp"

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
  embed_model TEXT,
  embedding BLOB,
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
  return {st.integer(0), st.text(1), st.text(2), st.text(3), st.text(4), st.integer(5), st.integer(6) != 0, {}};
}

} // namespace

std::string lesson_text(const std::string& kind, const std::string& code, const std::string& what,
                        const std::string& advice) {
  return kind + " (" + code + "): " + what + ". Advice: " + advice;
}

std::string query_text(const messages::component_spec& spec) {
  return kind_of(spec.name) + ": " + spec.description;
}

std::string kind_of(const std::string& component) {
  std::string out = component;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

messages::result<std::unique_ptr<lesson_store>> lesson_store::open(const std::filesystem::path& repo) {
  auto db = detail::open_store(repo, "lessons.db", "lessons",
                               {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;"}, schema);
  if (!db) return db.error();
  // A store of an earlier version has no embedding columns yet.
  if (!statement{*db, "SELECT embed_model, embedding FROM lessons LIMIT 0"}.ok()) {
    auto added = detail::exec_sql(*db, "ALTER TABLE lessons ADD COLUMN embed_model TEXT;"
                                       "ALTER TABLE lessons ADD COLUMN embedding BLOB;", "lessons");
    if (!added) {
      detail::close_store(*db);
      return added.error();
    }
  }
  return std::unique_ptr<lesson_store>{new lesson_store(*db)};
}

lesson_store::~lesson_store() {
  detail::close_store(db_);
}

messages::status lesson_store::learn(const std::string& kind, const std::string& code, const std::string& what,
                                     const std::string& advice, int64_t now_ms) {
  // Learned again: the newest wording, and a retired lesson gets another chance.
  statement st{db_,
               "INSERT INTO lessons(kind, code, what, advice, created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?5) "
               "ON CONFLICT(kind, code) DO UPDATE SET what = ?3, advice = ?4, updated_ms = ?5, "
               "retired = 0, strength = MAX(strength, 0), "
               "embedding = CASE WHEN what = ?3 AND advice = ?4 THEN embedding END"};
  if (st.bind(1, kind).bind(2, code).bind(3, what).bind(4, advice).bind(5, now_ms).step() != SQLITE_DONE) {
    return failure(db_, "learn");
  }
  return messages::ok();
}

messages::result<std::vector<messages::lesson>> lesson_store::recall(const messages::component_spec& spec,
                                                                     size_t limit) {
  std::vector<messages::lesson> out;
  auto q = match_query(query_text(spec));
  if (q.empty() || limit == 0) return out;
  statement st{db_,
               "SELECT l.id, l.kind, l.code, l.what, l.advice, l.strength, l.retired FROM lessons_fts f "
               "JOIN lessons l ON l.id = f.rowid WHERE lessons_fts MATCH ?1 AND l.retired = 0 "
               "ORDER BY bm25(lessons_fts), l.strength DESC LIMIT ?2"};
  st.bind(1, q).bind(2, static_cast<int64_t>(limit));
  if (!st.each([&] {
        out.push_back(row(st));
        out.back().matched = "words";
      })) {
    return failure(db_, "recall");
  }
  return out;
}

messages::result<std::vector<lesson_store::unembedded>> lesson_store::without_embedding(const std::string& model,
                                                                                         size_t limit) {
  std::vector<unembedded> out;
  statement st{db_,
               "SELECT id, kind, code, what, advice FROM lessons WHERE retired = 0 AND "
               "(embedding IS NULL OR embed_model IS NOT ?1) ORDER BY id LIMIT ?2"};
  st.bind(1, model).bind(2, static_cast<int64_t>(limit));
  if (!st.each([&] { out.push_back({st.integer(0), lesson_text(st.text(1), st.text(2), st.text(3), st.text(4))}); })) {
    return failure(db_, "unembedded");
  }
  return out;
}

messages::status lesson_store::set_embedding(int64_t id, const std::string& model, const std::vector<float>& vec) {
  statement st{db_, "UPDATE lessons SET embed_model = ?2, embedding = ?3 WHERE id = ?1"};
  st.bind(1, id).bind(2, model).bind_blob(3, vec.data(), vec.size() * sizeof(float));
  if (st.step() != SQLITE_DONE) return failure(db_, "embedding");
  return messages::ok();
}

messages::result<std::vector<messages::lesson>> lesson_store::recall_near(const std::vector<float>& query,
                                                                          const std::string& model, size_t limit,
                                                                          double min_similarity) {
  std::vector<messages::lesson> live;
  std::vector<std::vector<float>> vectors;
  statement st{db_,
               "SELECT id, kind, code, what, advice, strength, retired, embedding FROM lessons "
               "WHERE retired = 0 AND embed_model IS ?1 AND embedding IS NOT NULL ORDER BY strength DESC, id"};
  st.bind(1, model);
  if (!st.each([&] {
        live.push_back(row(st));
        auto bytes = st.blob(7);
        std::vector<float> v(bytes.size() / sizeof(float));
        std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
        vectors.push_back(std::move(v));
      })) {
    return failure(db_, "recall by embedding");
  }
  std::vector<messages::lesson> out;
  for (auto& hit : logic::similarity::nearest(query, vectors, limit, min_similarity)) {
    char score[32];
    std::snprintf(score, sizeof score, "embeddings %.2f", hit.score);
    out.push_back(std::move(live[hit.index]));
    out.back().matched = score;
  }
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
