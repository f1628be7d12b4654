#pragma once

// The job journal: an SQLite database (WAL) under the workspace's .grove/,
// written before each state change takes effect, so a killed process can
// resume its jobs. No CAF here; the journal actor owns one instance.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "messages/errors.hpp"

struct sqlite3;

namespace grove::journal {

/// One job as the journal knows it.
struct job_row {
  std::string id;
  std::string request;
  std::string plan_json;   ///< empty until planned
  std::string state;       ///< planning, running, composing, done, partial, failed, cancelled
  std::string report_json; ///< set when finished
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

/// One component of a job.
struct component_row {
  std::string job;
  std::string name;
  std::string state; ///< pending, generating, committing, merging, landed, cached, dropped
  uint32_t attempts = 0;
  std::string commit; ///< the branch commit being merged, then the merge commit
};

/// Whether a job state is final.
bool is_final(const std::string& state);

class journal final {
public:
  /// Opens (creating) `<repo>/.grove/journal.db` in WAL mode.
  static messages::result<std::unique_ptr<journal>> open(const std::filesystem::path& repo);
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  messages::status begin_job(const std::string& id, const std::string& request, int64_t now_ms);
  messages::status set_plan(const std::string& id, const std::string& plan_json,
                            const std::vector<std::string>& components, int64_t now_ms);
  messages::status set_job_state(const std::string& id, const std::string& state, int64_t now_ms);
  messages::status finish_job(const std::string& id, const std::string& state, const std::string& report_json,
                              int64_t now_ms);
  messages::status set_component(const component_row& row, int64_t now_ms);

  /// Group commit: the writes between begin_batch() and commit_batch() are one
  /// transaction (one fsync). A failed commit rolls back every write of it.
  messages::status begin_batch();
  messages::status commit_batch();

  /// Jobs not in a final state, oldest first.
  messages::result<std::vector<job_row>> unfinished();
  /// The newest `limit` jobs, newest first.
  messages::result<std::vector<job_row>> recent(size_t limit);
  messages::result<job_row> job(const std::string& id);
  messages::result<std::vector<component_row>> components(const std::string& id);

private:
  explicit journal(sqlite3* db) : db_(db) {}
  messages::status exec(const std::string& sql);
  sqlite3* db_;
};

} // namespace grove::journal
