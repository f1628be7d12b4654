#include "infra/journal/spend.hpp"

#include <sqlite3.h>

#include "infra/journal/sqlite.hpp"

namespace grove::journal {

using detail::statement;

namespace {

constexpr const char* schema =
  "CREATE TABLE IF NOT EXISTS spend (ts INTEGER NOT NULL, job TEXT NOT NULL, "
  "provider TEXT NOT NULL, usd REAL NOT NULL);"
  "CREATE INDEX IF NOT EXISTS spend_ts ON spend (ts);";

} // namespace

messages::result<std::shared_ptr<spend_ledger>> spend_ledger::open(const std::filesystem::path& repo, double limit_usd,
                                                                   int64_t window_ms, int64_t now_ms) {
  auto db =
    detail::open_store(repo, "spend.db", "spend", {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;"}, schema);
  if (!db) return db.error();
  std::shared_ptr<spend_ledger> ledger{new spend_ledger(*db, limit_usd, window_ms)};
  // Rows that left the window are history nobody reads: the store stays the size of one window.
  statement prune{*db, "DELETE FROM spend WHERE ts <= ?"};
  prune.bind(1, now_ms - window_ms);
  if (prune.step() != SQLITE_DONE) return detail::sql_failure(*db, "prune", "spend");
  statement load{*db, "SELECT ts, provider, usd FROM spend ORDER BY ts"};
  bool read = load.each([&] {
    ledger->window_entries_.push_back({load.integer(0), load.text(1), load.real(2)});
    ledger->sum_ += ledger->window_entries_.back().usd;
  });
  if (!read) return detail::sql_failure(*db, "load", "spend");
  return ledger;
}

spend_ledger::~spend_ledger() {
  detail::close_store(db_);
}

void spend_ledger::expire(int64_t now_ms) {
  while (!window_entries_.empty() && window_entries_.front().ts <= now_ms - window_) {
    sum_ -= window_entries_.front().usd;
    window_entries_.pop_front();
  }
  if (window_entries_.empty()) sum_ = 0; // no drift from rounding
}

double spend_ledger::spent(int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mu_};
  expire(now_ms);
  return sum_;
}

std::map<std::string, double> spend_ledger::spent_by_provider(int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mu_};
  expire(now_ms);
  std::map<std::string, double> out;
  for (auto& e : window_entries_) out[e.provider] += e.usd;
  return out;
}

int64_t spend_ledger::frees_at(int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mu_};
  expire(now_ms);
  return window_entries_.empty() ? 0 : window_entries_.front().ts + window_;
}

messages::status spend_ledger::add(int64_t ts_ms, const std::string& job, const std::string& provider, double usd) {
  if (!(usd > 0)) return messages::ok();
  std::lock_guard<std::mutex> guard{mu_};
  // Kept in order of time, whatever order the calls end in.
  auto at = window_entries_.end();
  while (at != window_entries_.begin() && std::prev(at)->ts > ts_ms) --at;
  window_entries_.insert(at, {ts_ms, provider, usd});
  sum_ += usd;
  statement ins{db_, "INSERT INTO spend (ts, job, provider, usd) VALUES (?, ?, ?, ?)"};
  ins.bind(1, ts_ms).bind(2, job).bind(3, provider).bind_real(4, usd);
  if (ins.step() != SQLITE_DONE) return detail::sql_failure(db_, "record", "spend");
  return messages::ok();
}

} // namespace grove::journal
