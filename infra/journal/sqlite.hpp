#pragma once

// The workspace's SQLite stores (the job journal, the lessons): a prepared
// statement that keeps its first error, and an error that names the store.

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "messages/errors.hpp"

namespace grove::journal::detail {

// Prepared statements kept per connection and SQL text: compiling one costs
// more than running it (sqlite3_prepare_v2 was 6% of a 200-component build,
// a prepare for every journal write). Emptied by close_store().
class statement_cache final {
public:
  static statement_cache& of() {
    static auto* cache = new statement_cache; // outlives static destruction order
    return *cache;
  }
  sqlite3_stmt* take(sqlite3* db, const char* sql) {
    std::lock_guard<std::mutex> guard{lock_};
    auto it = idle_.find({db, sql});
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto* stmt = it->second.back();
    it->second.pop_back();
    return stmt;
  }
  void give_back(sqlite3* db, const char* sql, sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    std::lock_guard<std::mutex> guard{lock_};
    idle_[{db, sql}].push_back(stmt);
  }
  void forget(sqlite3* db) {
    std::lock_guard<std::mutex> guard{lock_};
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (it->first.first == db) {
        for (auto* stmt : it->second) sqlite3_finalize(stmt);
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }

private:
  std::mutex lock_;
  std::map<std::pair<sqlite3*, std::string>, std::vector<sqlite3_stmt*>> idle_;
};

// A prepared statement (from the connection's cache), given back reset on scope exit.
class statement final {
public:
  statement(sqlite3* db, const char* sql) : db_(db), sql_(sql) {
    stmt_ = statement_cache::of().take(db, sql);
    rc_ = stmt_ != nullptr ? SQLITE_OK : sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  }
  ~statement() {
    if (stmt_ == nullptr) return;
    // Only a statement that compiled is kept; one that failed a bind is reset like any other.
    statement_cache::of().give_back(db_, sql_, stmt_);
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  // A failed prepare or bind is kept: step() then answers it instead of running.
  statement& bind(int i, const std::string& v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind(int i, int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  statement& bind_real(int i, double v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  statement& bind_blob(int i, const void* data, size_t bytes) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_blob(stmt_, i, data, static_cast<int>(bytes), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }

  /// Steps through every row with `row`; false (and the error on the
  /// database) when the read ended on anything but its last row: a busy,
  /// locked or failing database never passes for an empty or short answer.
  template <class F>
  bool each(F&& row) {
    int rc;
    while ((rc = step()) == SQLITE_ROW) row();
    return rc == SQLITE_DONE;
  }
  std::string text(int col) {
    auto p = sqlite3_column_text(stmt_, col);
    return p != nullptr
             ? std::string{reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))}
             : std::string{};
  }
  int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
  double real(int col) { return sqlite3_column_double(stmt_, col); }
  std::string blob(int col) {
    auto p = sqlite3_column_blob(stmt_, col);
    return p != nullptr
             ? std::string{static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))}
             : std::string{};
  }

private:
  sqlite3* db_;
  const char* sql_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

inline messages::failure sql_failure(sqlite3* db, const std::string& what, const char* store = "journal") {
  std::string why = sqlite3_errmsg(db);
  auto code = sqlite3_errcode(db);
  auto hint = code == SQLITE_FULL       ? " (the disk is full)"
              : code == SQLITE_READONLY ? " (the workspace is read-only)"
                                        : "";
  return messages::make_failure(messages::errc::io, std::string{store} + ": " + what + ": " + why + hint);
}

/// Runs `sql` (one or more statements); an error names the store and what SQLite said.
inline messages::status exec_sql(sqlite3* db, const std::string& sql, const char* store) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    auto f = sql_failure(db, "exec", store);
    f.message += " [" + why + "]";
    return f;
  }
  return messages::ok();
}

/// Finalises the connection's cached statements and closes it.
inline void close_store(sqlite3* db) {
  statement_cache::of().forget(db);
  sqlite3_close(db);
}

/// Opens (creating) `<repo>/.grove/<file>` without following a link, with a
/// busy timeout, and runs each of `setup` (pragmas, the schema). On failure
/// nothing stays open.
inline messages::result<sqlite3*> open_store(const std::filesystem::path& repo, const char* file, const char* store,
                                             std::initializer_list<const char*> pragmas, const char* schema) {
  std::error_code ec;
  std::filesystem::create_directories(repo / ".grove", ec);
  auto path = repo / ".grove" / file;
  sqlite3* db = nullptr;
  int rc =
    sqlite3_open_v2(path.c_str(), &db,
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    auto f = sql_failure(db, "open " + path.string(), store);
    sqlite3_close(db);
    return f;
  }
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : pragmas) {
    if (auto s = exec_sql(db, sql, store); !s) {
      sqlite3_close(db);
      return s.error();
    }
  }
  // The schema's statements in one transaction: one commit (and sync) instead of one each.
  auto made = exec_sql(db, "BEGIN IMMEDIATE;", store);
  if (made) made = exec_sql(db, schema, store);
  if (made) made = exec_sql(db, "COMMIT;", store);
  if (!made) {
    if (sqlite3_get_autocommit(db) == 0) (void)exec_sql(db, "ROLLBACK;", store);
    sqlite3_close(db);
    return made.error();
  }
  return db;
}

} // namespace grove::journal::detail
