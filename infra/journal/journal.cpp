#include "infra/journal/journal.hpp"

#include <sqlite3.h>

#include "infra/journal/sqlite.hpp"
#include "messages/vocabulary.hpp"

namespace grove::journal {

using messages::errc;
using messages::make_failure;

namespace {

using detail::sql_failure;
using detail::statement;

const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  request TEXT NOT NULL,
  plan TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  report TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS components (
  job TEXT NOT NULL REFERENCES jobs(id),
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  commit_id TEXT NOT NULL DEFAULT '',
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (job, name)
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state);
)sql";

job_row read_job(statement& st) {
  return job_row{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.integer(5), st.integer(6)};
}

} // namespace

bool is_final(const std::string& state) {
  return messages::is_final_state(state);
}

namespace {

// The final states as an SQL list, from the one definition in messages/.
std::string final_states_sql() {
  std::string out;
  for (auto s : {messages::job_state::queued, messages::job_state::planning, messages::job_state::running,
                 messages::job_state::composing, messages::job_state::done, messages::job_state::partial,
                 messages::job_state::failed, messages::job_state::cancelled}) {
    if (!messages::is_final(s)) continue;
    out += std::string{out.empty() ? "" : ", "} + "'" + messages::to_string(s) + "'";
  }
  return out;
}

} // namespace

messages::result<std::unique_ptr<journal>> journal::open(const std::filesystem::path& repo) {
  // WAL survives a killed process with synchronous=NORMAL; FULL also survives power loss.
  auto db =
    detail::open_store(repo, "journal.db", "journal",
                       {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;", "PRAGMA foreign_keys=ON;"}, schema);
  if (!db) return db.error();
  return std::unique_ptr<journal>{new journal(*db)};
}

journal::~journal() {
  detail::close_store(db_);
}

messages::status journal::exec(const std::string& sql) {
  return detail::exec_sql(db_, sql, "journal");
}

messages::status journal::begin_job(const std::string& id, const std::string& request, int64_t now_ms) {
  statement st{db_,
               "INSERT INTO jobs(id, request, state, created_ms, updated_ms) VALUES(?1, ?2, 'planning', ?3, ?3) "
               "ON CONFLICT(id) DO UPDATE SET updated_ms = ?3"};
  if (!st.ok() || st.bind(1, id).bind(2, request).bind(3, now_ms).step() != SQLITE_DONE)
    return sql_failure(db_, "begin job");
  return messages::ok();
}

messages::status journal::begin_batch() {
  return exec("BEGIN IMMEDIATE;");
}

messages::status journal::commit_batch() {
  auto s = exec("COMMIT;");
  if (!s && sqlite3_get_autocommit(db_) == 0) {
    if (auto r = exec("ROLLBACK;"); !r) {
      return messages::make_failure(s.error().code,
                                    s.error().message + "; and the rollback failed: " + r.error().message);
    }
  }
  return s;
}

messages::status journal::set_plan(const std::string& id, const std::string& plan_json,
                                   const std::vector<std::string>& components, int64_t now_ms) {
  // A savepoint: its own transaction, or a part of the batch it runs in.
  if (auto s = exec("SAVEPOINT plan;"); !s) return s;
  statement st{db_, "UPDATE jobs SET plan = ?2, state = 'running', updated_ms = ?3 WHERE id = ?1"};
  bool ok = st.ok() && st.bind(1, id).bind(2, plan_json).bind(3, now_ms).step() == SQLITE_DONE;
  for (auto& name : components) {
    if (!ok) break;
    statement c{db_,
                "INSERT INTO components(job, name, state, updated_ms) VALUES(?1, ?2, 'pending', ?3) "
                "ON CONFLICT(job, name) DO NOTHING"};
    ok = c.ok() && c.bind(1, id).bind(2, name).bind(3, now_ms).step() == SQLITE_DONE;
  }
  if (!ok) {
    auto f = sql_failure(db_, "record plan");
    auto undone = exec("ROLLBACK TO plan;");
    if (undone) undone = exec("RELEASE plan;");
    if (!undone) f.message += "; and undoing it failed: " + undone.error().message;
    return f;
  }
  return exec("RELEASE plan;");
}

messages::status journal::set_job_state(const std::string& id, const std::string& state, int64_t now_ms) {
  statement st{db_, "UPDATE jobs SET state = ?2, updated_ms = ?3 WHERE id = ?1"};
  if (!st.ok() || st.bind(1, id).bind(2, state).bind(3, now_ms).step() != SQLITE_DONE)
    return sql_failure(db_, "job state");
  return messages::ok();
}

messages::status journal::finish_job(const std::string& id, const std::string& state, const std::string& report_json,
                                     int64_t now_ms) {
  statement st{db_, "UPDATE jobs SET state = ?2, report = ?3, updated_ms = ?4 WHERE id = ?1"};
  if (!st.ok() || st.bind(1, id).bind(2, state).bind(3, report_json).bind(4, now_ms).step() != SQLITE_DONE) {
    return sql_failure(db_, "finish job");
  }
  return messages::ok();
}

messages::status journal::set_component(const component_row& row, int64_t now_ms) {
  statement st{
    db_,
    "INSERT INTO components(job, name, state, attempts, commit_id, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT(job, name) DO UPDATE SET state = ?3, attempts = ?4, "
    "commit_id = CASE WHEN ?5 = '' THEN commit_id ELSE ?5 END, updated_ms = ?6"};
  if (!st.ok() || st.bind(1, row.job)
                      .bind(2, row.name)
                      .bind(3, row.state)
                      .bind(4, static_cast<int64_t>(row.attempts))
                      .bind(5, row.commit)
                      .bind(6, now_ms)
                      .step() != SQLITE_DONE) {
    return sql_failure(db_, "component state");
  }
  return messages::ok();
}

messages::result<std::vector<job_row>> journal::unfinished() {
  static const std::string sql =
    "SELECT id, request, plan, state, report, created_ms, updated_ms FROM jobs "
    "WHERE state NOT IN (" +
    final_states_sql() + ") ORDER BY created_ms";
  statement st{db_, sql.c_str()};
  if (!st.ok()) return sql_failure(db_, "list unfinished jobs");
  std::vector<job_row> out;
  if (!st.each([&] { out.push_back(read_job(st)); })) return sql_failure(db_, "list unfinished jobs");
  return out;
}

messages::result<std::vector<job_row>> journal::recent(size_t limit) {
  statement st{
    db_, "SELECT id, request, plan, state, report, created_ms, updated_ms FROM jobs ORDER BY created_ms DESC LIMIT ?1"};
  if (!st.ok()) return sql_failure(db_, "list jobs");
  st.bind(1, static_cast<int64_t>(limit));
  std::vector<job_row> out;
  if (!st.each([&] { out.push_back(read_job(st)); })) return sql_failure(db_, "list jobs");
  return out;
}

messages::result<job_row> journal::job(const std::string& id) {
  statement st{db_, "SELECT id, request, plan, state, report, created_ms, updated_ms FROM jobs WHERE id = ?1"};
  if (!st.ok()) return sql_failure(db_, "read job");
  st.bind(1, id);
  auto rc = st.step();
  if (rc == SQLITE_DONE) return make_failure(errc::not_found, "unknown job " + id);
  if (rc != SQLITE_ROW) return sql_failure(db_, "read job");
  return read_job(st);
}

messages::result<std::vector<component_row>> journal::components(const std::string& id) {
  statement st{db_, "SELECT job, name, state, attempts, commit_id FROM components WHERE job = ?1 ORDER BY rowid"};
  if (!st.ok()) return sql_failure(db_, "read components");
  st.bind(1, id);
  std::vector<component_row> out;
  bool complete = st.each([&] {
    out.push_back({st.text(0), st.text(1), st.text(2), static_cast<uint32_t>(st.integer(3)), st.text(4)});
  });
  if (!complete) return sql_failure(db_, "read components");
  return out;
}

} // namespace grove::journal
