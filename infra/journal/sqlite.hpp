#pragma once

// The workspace's SQLite stores (the job journal, the lessons): a prepared
// statement that keeps its first error, and an error that names the store.

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>

#include <sqlite3.h>

#include "messages/errors.hpp"

namespace grove::journal::detail {

// A prepared statement, finalised on scope exit.
class statement final {
public:
  statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~statement() { sqlite3_finalize(stmt_); }
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
    return p != nullptr ? std::string{static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))}
                        : std::string{};
  }

private:
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

/// Opens (creating) `<repo>/.grove/<file>` without following a link, with a
/// busy timeout, and runs each of `setup` (pragmas, the schema). On failure
/// nothing stays open.
inline messages::result<sqlite3*> open_store(const std::filesystem::path& repo, const char* file, const char* store,
                                             std::initializer_list<const char*> setup) {
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
  for (const char* sql : setup) {
    if (auto s = exec_sql(db, sql, store); !s) {
      sqlite3_close(db);
      return s.error();
    }
  }
  return db;
}

} // namespace grove::journal::detail
